/**
 * `context verify` and `build --context` agree (issue 16, item 14): a lock
 * that the build refuses is never reported "current". Two such locks: a
 * failed resolve, and a version the lock's own search paths now hide (a
 * Rez `.ignore` file: definition and install root untouched).
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import { looksLikeStackTrace, runCliBounded, tempDir, tinyRepository } from "./helpers.js";

let dir: string;
let studio: string;

before(() => {
  dir = tempDir("tantalus-ctxverify-");
  studio = path.join(dir, "studio");
  tinyRepository(path.join(studio, "packages"), 1);
  fs.mkdirSync(path.join(studio, "packages", "fam0000", "2.0"));
  fs.writeFileSync(
    path.join(studio, "packages", "fam0000", "2.0", "package.py"),
    "name = 'fam0000'\nversion = '2.0'\n",
  );
  fs.writeFileSync(
    path.join(studio, "tantalus.yaml"),
    "packages_path: [packages]\nimplicit_packages: []\nbase:\n  image: demo\nworkflows:\n  one:\n    request: [fam0000]\n",
  );
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function verifyAndBuild(lock: string): {
  verify: ReturnType<typeof runCliBounded>;
  build: ReturnType<typeof runCliBounded>;
} {
  const verify = runCliBounded(["context", "verify", lock], { cwd: studio });
  const build = runCliBounded(
    ["build", "one", "--context", lock, "--store", path.join(dir, "store"), "--no-progress"],
    { cwd: studio, timeoutMs: 120_000 },
  );
  assert.ok(!looksLikeStackTrace(verify.stderr + build.stderr), verify.stderr + build.stderr);
  return { verify, build };
}

test("a lock of a failed resolve is not current", () => {
  const lock = path.join(dir, "failed.json");
  runCliBounded(["resolve", "no_such_package", "-o", lock], { cwd: studio });
  assert.ok(fs.existsSync(lock), "resolve -o writes the failed context");
  const { verify, build } = verifyAndBuild(lock);
  assert.equal(build.code, 1, build.stderr);
  assert.equal(verify.code, 1, verify.stdout + verify.stderr);
  assert.doesNotMatch(verify.stdout, /current/);
  assert.match(verify.stderr, /a failed resolve/);
});

test("a version the lock's search paths now hide (.ignore) is not current, as build --context refuses it", () => {
  const lock = path.join(dir, "hidden.json");
  const resolved = runCliBounded(["resolve", "fam0000", "-o", lock], { cwd: studio });
  assert.equal(resolved.code, 0, resolved.stderr);
  assert.equal(runCliBounded(["context", "verify", lock], { cwd: studio }).code, 0, "current while nothing moved");
  fs.writeFileSync(path.join(studio, "packages", "fam0000", ".ignore2.0"), "");
  const { verify, build } = verifyAndBuild(lock);
  assert.equal(build.code, 1, build.stderr);
  assert.match(build.stderr, /fam0000-2\.0/);
  assert.equal(verify.code, 1, verify.stdout + verify.stderr);
  assert.match(verify.stderr, /^fam0000-2\.0\[\]: context variant fam0000-2\.0\[\] is not in the package paths/m);
});
