/**
 * No user sees a stack trace (issue 16, item 15): a YAML alias bomb is refused
 * at its file and line; a full disk, a directory or a forbidden folder where
 * an output file goes is one sentence naming the file; a reader that closes
 * the pipe early (`| head`) ends the command quietly with 141, the status a
 * shell shows for a program killed by SIGPIPE.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import { looksLikeStackTrace, projectRoot, runCliBounded, tempDir, tinyRepository } from "./helpers.js";

let dir: string;
before(() => {
  dir = tempDir("tantalus-sentences-");
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Nine levels of nine aliases: 9^9 values once expanded. */
function aliasBomb(indent: string): string {
  const lines = [`${indent}a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]`];
  let prev = "a";
  for (const n of "bcdefghi") {
    lines.push(`${indent}${n}: &${n} [${Array(9).fill(`*${prev}`).join(", ")}]`);
    prev = n;
  }
  return lines.join("\n") + "\n";
}

test("an alias bomb in tantalus.yaml is refused at its line, not as an internal ReferenceError", () => {
  const d = path.join(dir, "config-bomb");
  fs.mkdirSync(d);
  fs.writeFileSync(
    path.join(d, "tantalus.yaml"),
    `packages_path: [packages]\nworkflows:\n  w:\n    request: [foo]\nbomb:\n${aliasBomb("  ")}`,
  );
  const r = runCliBounded(["repo", "check"], { cwd: d });
  assert.equal(r.timedOut, false);
  assert.equal(r.code, 1, r.stderr);
  assert.ok(!looksLikeStackTrace(r.stderr), r.stderr);
  assert.match(r.stderr, /tantalus\.yaml:(7|8|9|1\d): aliases expand into too many values/);
});

test("an alias bomb in a package.yaml is that package's error with file:line; the load goes on", () => {
  const repo = tinyRepository(path.join(dir, "yaml-bomb"), 2);
  fs.mkdirSync(path.join(repo, "bomb", "1.0"), { recursive: true });
  fs.writeFileSync(
    path.join(repo, "bomb", "1.0", "package.yaml"),
    `name: bomb\nversion: "1.0"\nx:\n${aliasBomb("  ")}`,
  );
  const r = runCliBounded(["repo", "check", "--paths", repo]);
  assert.ok(!looksLikeStackTrace(r.stderr + r.stdout), r.stderr);
  assert.match(r.stdout + r.stderr, /bomb\/1\.0\/package\.yaml:\d+: error: aliases expand into too many values/);
  assert.match(r.stdout, /2 families/);
});

test("an output file that is a directory, or in a folder the user may not write, is named in one sentence", () => {
  const repo = tinyRepository(path.join(dir, "out-repo"), 1);
  const folder = path.join(dir, "a-folder");
  fs.mkdirSync(folder);
  const r = runCliBounded(["resolve", "--paths", repo, "--no-implicit", "fam0000", "-o", folder]);
  assert.equal(r.code, 1, r.stderr);
  assert.ok(!looksLikeStackTrace(r.stderr), r.stderr);
  assert.equal(r.stderr.trim(), `tantalus: error: cannot write ${folder}: is a directory (EISDIR)`);

  if (process.getuid?.() !== 0) return; // EACCES needs another user to be refused: run as nobody
  const locked = path.join(dir, "root-only");
  fs.mkdirSync(locked, { mode: 0o700 });
  fs.chmodSync(dir, 0o755);
  fs.chmodSync(repo, 0o755);
  const nobody = runCliBounded(
    ["env", "--paths", repo, "--no-implicit", "fam0000", "-o", path.join(locked, "env.sh")],
    {
      argv0: ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"],
      env: { HOME: "/nonexistent", XDG_CACHE_HOME: path.join(dir, "nobody-cache") },
    },
  );
  assert.equal(nobody.code, 1, nobody.stderr);
  assert.ok(!looksLikeStackTrace(nobody.stderr), nobody.stderr);
  assert.match(
    nobody.stderr,
    new RegExp(`^tantalus: error: cannot (open|write) ${locked}/\\S*env\\.sh\\S*: permission denied \\(EACCES\\)\\n$`),
  );
});

test("a full disk under the output is ENOSPC with the path, not a stack (a 64 KiB tmpfs)", (t) => {
  if (process.getuid?.() !== 0) return t.skip("mounting a tmpfs needs root");
  const mnt = path.join(dir, "tiny");
  fs.mkdirSync(mnt);
  if (spawnSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", mnt]).status !== 0)
    return t.skip("cannot mount a tmpfs here");
  try {
    const r = runCliBounded(["studio", "generate", path.join(mnt, "studio"), "--scale", "small"], {
      timeoutMs: 120_000,
    });
    assert.equal(r.timedOut, false);
    assert.equal(r.code, 1, r.stderr);
    assert.ok(!looksLikeStackTrace(r.stderr), r.stderr);
    assert.match(
      r.stderr,
      new RegExp(`^tantalus: error: cannot \\w+[^\\n]* ${mnt}/[^\\n]*: no space left on device \\(ENOSPC\\)`),
    );
  } finally {
    spawnSync("umount", [mnt]);
  }
});

test("a closed pipe (`| head`) ends the command quietly with status 141, like a program killed by SIGPIPE", () => {
  const repo = tinyRepository(path.join(dir, "pipe-repo"), 3000);
  const bin = path.join(projectRoot, "bin", "tantalus.js");
  for (const args of [
    `search --versions '*' --paths ${repo}`,
    `env --paths ${repo} --no-implicit fam0001`,
    `search '*' --json --paths ${repo}`,
  ]) {
    // `true` exits at once, long before node has started: every write meets a closed pipe.
    const p = spawnSync(
      "bash",
      ["-c", `"${process.execPath}" "${bin}" ${args} | true; echo "status=\${PIPESTATUS[0]}" >&2`],
      { encoding: "utf8", timeout: 60_000 },
    );
    assert.equal(p.stderr.trim(), "status=141", `${args}: ${p.stderr}`);
  }
});
