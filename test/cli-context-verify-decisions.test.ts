// `context verify` compares the decisions a lock recorded (package filter, orderers, variant select mode, system)
// with the current configuration's: a different decision is a warning naming both values and where the
// configuration sets it; verify fails only when the configuration resolves the lock's request to other variants.
// The studio is test/fixtures/context-decisions (a rezconfig.py hiding betas and lib 3, preferring lib 1.5).
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import test from "node:test";
import { projectRoot, runCliIsolated, tempDir } from "./helpers.js";

const ROOT = path.join(projectRoot, "test", "fixtures", "context-decisions");
const REPO = path.join(ROOT, "packages");
const REZCONFIG = path.join(ROOT, "rezconfig.py");

const cli = runCliIsolated;

function lockUnderRezconfig(dir: string): string {
  const lock = path.join(dir, "lock.json");
  const r = cli(dir, ["resolve", "tool", "--paths", REPO, "-o", lock], REZCONFIG);
  assert.equal(r.code, 0, r.stderr);
  return lock;
}

test("the configuration that made the lock: current, no warning", () => {
  const dir = tempDir("tantalus-verify-decisions-");
  const lock = lockUnderRezconfig(dir);
  const v = cli(dir, ["context", "verify", lock], REZCONFIG);
  assert.equal(v.code, 0, v.stderr);
  assert.equal(v.stdout, "context is current: nothing moved\n");
  assert.equal(v.stderr, "");
});

test("a configuration without the lock's filter and orderers warns of both and fails: it resolves other variants", () => {
  const dir = tempDir("tantalus-verify-decisions-");
  const lock = lockUnderRezconfig(dir);
  const v = cli(dir, ["context", "verify", lock]);
  assert.equal(v.code, 1, v.stdout + v.stderr);
  assert.match(
    v.stderr,
    /^warning: package filter: the lock's \[\{"excludes":\["glob\(\*\.beta\)","range\(lib-3\+\)"\]\}\], the configuration's none \(package_filter, default\)$/m,
  );
  assert.match(
    v.stderr,
    /^warning: package orderers: the lock's \[\{"type":"version_split",.*\}\], the configuration's none \(package_orderers, default\)$/m,
  );
  assert.doesNotMatch(v.stderr, /variant select mode|resolved for/);
  assert.match(
    v.stderr,
    /^\(context\): under the current configuration the request resolves to .*lib-3\.0\[\].* instead of .*lib-1\.5\[\]/m,
  );
  assert.equal(v.stdout, "");
  // --json: the drift list on stdout (the re-solve's difference in it), the warnings still on stderr.
  const j = cli(dir, ["context", "verify", "--json", lock]);
  assert.equal(j.code, 1);
  const drift = JSON.parse(j.stdout) as { variant: string; problem: string }[];
  assert.equal(drift.length, 1);
  assert.match(drift[0]!.problem, /^under the current configuration the request resolves to /);
  assert.match(j.stderr, /^warning: package filter: /m);
});

test("another variant select mode that picks the same variants is a warning naming tantalus.yaml's line, not a failure", () => {
  const dir = tempDir("tantalus-verify-decisions-");
  const lock = lockUnderRezconfig(dir);
  fs.writeFileSync(
    path.join(dir, "tantalus.yaml"),
    "implicit_packages: []\nvariant_select_mode: intersection_priority\n",
  );
  const v = cli(dir, ["context", "verify", lock], REZCONFIG);
  assert.equal(v.code, 0, v.stdout + v.stderr);
  const warnings = v.stderr.trim().split("\n");
  assert.equal(warnings.length, 2, v.stderr);
  assert.match(
    warnings[0]!,
    /^warning: variant select mode: the lock's version_priority, the configuration's intersection_priority \(variant_select_mode, \S*tantalus\.yaml:2\)$/,
  );
  // implicit_packages: [] names no system, where the lock's default implicits named this host's.
  assert.match(
    warnings[1]!,
    /^warning: resolved for: the lock's linux \S+ \S+, the configuration's the resolving host \(not named\) \(target, \S*tantalus\.yaml:1\)$/,
  );
  assert.equal(v.stdout, "context is current: nothing moved, and the configuration resolves the same variants\n");
});

test("a lock older than the recorded decisions says each is not recorded, and is current if the configuration resolves the same", () => {
  const dir = tempDir("tantalus-verify-decisions-");
  const lock = lockUnderRezconfig(dir);
  const ctx = JSON.parse(fs.readFileSync(lock, "utf8")) as Record<string, unknown>;
  for (const k of ["packageFilter", "packageOrderers", "variantSelectMode", "system"]) delete ctx[k];
  fs.writeFileSync(lock, JSON.stringify(ctx));
  const v = cli(dir, ["context", "verify", lock], REZCONFIG);
  assert.equal(v.code, 0, v.stdout + v.stderr);
  const warnings = v.stderr.trim().split("\n");
  assert.deepEqual(
    warnings.map((w) => /^warning: ([a-z ]+): the lock's not recorded, the configuration's /.exec(w)?.[1]),
    ["package filter", "package orderers", "variant select mode", "resolved for"],
  );
  assert.match(warnings[0]!, /\(package_filter, \S*rezconfig\.py:\d+\)$/);
});
