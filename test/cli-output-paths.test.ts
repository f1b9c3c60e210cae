/**
 * Output paths that are not what they seem (issue 16, item 17) each end in
 * one sentence, exit 1, never a stack trace and never a hang: a --store that
 * is a regular file or a dangling symlink, a store or export under /proc
 * (where Node's recursive mkdir spun forever at 100% CPU), `studio generate`
 * into /proc, another user's store, a package folder the user cannot list.
 * Every run is bounded in time, so a regression fails instead of hanging.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import { looksLikeStackTrace, runCliBounded, tempDir, tinyRepository } from "./helpers.js";

let dir: string;
let studio: string;
const asNobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"];

before(() => {
  dir = tempDir("tantalus-outpaths-");
  fs.chmodSync(dir, 0o755);
  studio = path.join(dir, "studio");
  tinyRepository(path.join(studio, "packages"), 2);
  fs.writeFileSync(
    path.join(studio, "tantalus.yaml"),
    "packages_path: [packages]\nimplicit_packages: []\nbase:\n  image: demo\nworkflows:\n  one:\n    request: [fam0000]\n",
  );
});
after(() => {
  fs.chmodSync(path.join(studio, "packages", "fam0001"), 0o755);
  fs.rmSync(dir, { recursive: true, force: true });
});

function oneLine(args: string[], message: RegExp, opts: { argv0?: string[]; cwd?: string } = {}): void {
  const r = runCliBounded(args, {
    cwd: opts.cwd ?? studio,
    timeoutMs: 60_000,
    ...(opts.argv0
      ? { argv0: opts.argv0, env: { HOME: "/nonexistent", XDG_CACHE_HOME: path.join(dir, "nobody-cache") } }
      : {}),
  });
  assert.equal(r.timedOut, false, `tantalus ${args.join(" ")} did not finish within 60 s`);
  assert.ok(!looksLikeStackTrace(r.stderr), r.stderr);
  assert.equal(r.code, 1, `tantalus ${args.join(" ")}: exit ${r.code}\n${r.stderr}`);
  assert.equal(r.stderr.split("\n").filter(Boolean).length, 1, r.stderr);
  assert.match(r.stderr, message);
}

test("a --store that is a regular file, or a dangling symlink, is named as such", () => {
  const file = path.join(dir, "a-file");
  fs.writeFileSync(file, "");
  oneLine(
    ["build", "one", "--store", file, "--no-progress"],
    new RegExp(`^tantalus: error: image store ${file} is not a directory$`, "m"),
  );
  const link = path.join(dir, "dangling");
  fs.symlinkSync(path.join(dir, "nowhere", "store"), link);
  oneLine(
    ["build", "one", "--store", link, "--no-progress"],
    new RegExp(`${link} is a symbolic link to ${dir}/nowhere/store, which does not exist`),
  );
});

test("a store, an export or a studio under /proc fails at once instead of spinning in mkdir", () => {
  oneLine(
    ["build", "one", "--store", "/proc/tantalus-nope", "--no-progress"],
    /^tantalus: error: cannot create directory \/proc\/tantalus-nope\/\S+: \/proc\/tantalus-nope: no such file or directory \(ENOENT\)$/m,
  );
  oneLine(
    ["build", "one", "--store", path.join(dir, "store"), "--output", "oci:/proc/tantalus-x", "--no-progress"],
    /cannot create directory \/proc\/tantalus-x\S*: \/proc\/tantalus-x: no such file or directory/,
  );
  oneLine(
    ["studio", "generate", "/proc/tantalus-x", "--scale", "small"],
    /^tantalus: error: cannot create the temporary directory \/proc\/tantalus-x\.tmp-\w+: no such file or directory \(ENOENT\)$/m,
  );
});

test("another user's store and a package folder the user cannot list are one sentence each", (t) => {
  if (process.getuid?.() !== 0) return t.skip("needs root to act as another user");
  const store = path.join(dir, "root-store");
  const built = runCliBounded(["build", "one", "--store", store, "--no-progress"], { cwd: studio });
  assert.equal(built.code, 0, built.stderr);
  fs.writeFileSync(path.join(studio, "packages", "fam0000", "1.0", "payload"), "changed, so the build has to write\n");
  fs.chmodSync(path.join(studio, "packages", "fam0000", "1.0", "payload"), 0o644);
  oneLine(
    ["build", "one", "--store", store, "--no-progress"],
    new RegExp(`^tantalus: error: ${store}: the image store is read-only for this user;`),
    { argv0: asNobody },
  );

  fs.chmodSync(path.join(studio, "packages"), 0o700);
  try {
    oneLine(
      ["search", "*", "--paths", path.join(studio, "packages")],
      new RegExp(
        `^tantalus: error: cannot list package repository ${studio}/packages: permission denied \\(EACCES\\)$`,
        "m",
      ),
      { argv0: asNobody, cwd: dir },
    );
  } finally {
    fs.chmodSync(path.join(studio, "packages"), 0o755);
  }
  fs.chmodSync(path.join(studio, "packages", "fam0001"), 0o700);
  oneLine(
    ["search", "*", "--paths", path.join(studio, "packages")],
    /^tantalus: error: cannot list package family \S*\/fam0001: permission denied \(EACCES\)$/m,
    { argv0: asNobody, cwd: dir },
  );
});
