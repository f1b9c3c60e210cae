import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { projectRoot, tempDir } from "./helpers.js";
import { parseAllowList } from "../scripts/test-skips/check.js";

// The CI's skip gate end to end: a real node:test run writes its skips with
// scripts/test-skips/reporter.mjs, and check.ts fails on one not allowed.

const reporter = path.join(projectRoot, "scripts", "test-skips", "reporter.mjs");
const checker = path.join(projectRoot, "scripts", "test-skips", "check.ts");

/**
 * Node with TypeScript, in `cwd` (tsx resolved from here: the scratch directory has no node_modules).
 * Without NODE_TEST_CONTEXT, which would make an inner `node --test` report to this run instead of its reporters.
 */
function node(args: string[], cwd: string) {
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  const p = spawnSync(process.execPath, ["--import", import.meta.resolve("tsx"), ...args], {
    cwd,
    env,
    encoding: "utf8",
  });
  return { code: p.status, stdout: p.stdout, stderr: p.stderr };
}

/** Runs a test file with one conditional skip, one skip without a reason and one test that runs; returns the report. */
function skipReport(dir: string): string {
  fs.writeFileSync(
    path.join(dir, "probe.test.ts"),
    [
      'import { describe, it, test } from "node:test";',
      'test("runs the frobnicator", { skip: "the frobnicator is not installed" }, () => {});',
      'describe("a suite", () => { it("decides at run time", (t) => { t.skip(); }); });',
      'test("runs", () => {});',
    ].join("\n"),
  );
  const report = path.join(dir, "skips.jsonl");
  const run = node(
    ["--test", `--test-reporter=${reporter}`, `--test-reporter-destination=${report}`, "probe.test.ts"],
    dir,
  );
  assert.equal(run.code, 0, run.stderr);
  return report;
}

test("a skipped test not on the allow-list fails the check, naming the test and its reason", () => {
  const dir = tempDir();
  const report = skipReport(dir);
  const allow = path.join(dir, "allowed-skips");
  fs.writeFileSync(allow, "# nothing may skip\n");
  const r = node([checker, report, allow], dir);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(
    r.stderr,
    /skipped, NOT on .*allowed-skips: probe\.test\.ts \| runs the frobnicator — the frobnicator is not installed\n/,
  );
  assert.match(r.stderr, /probe\.test\.ts \| decides at run time — no reason given\n/);
  assert.match(r.stderr, /2 test\(s\) skipped that must run here/);
});

test("skips on the allow-list pass the check and are reported with the listed reason", () => {
  const dir = tempDir();
  const report = skipReport(dir);
  const allow = path.join(dir, "allowed-skips");
  fs.writeFileSync(
    allow,
    [
      "probe.test.ts | runs the frobnicator | no frobnicator package for this distribution",
      "probe.test.ts | decides at run time | needs a GPU",
      "probe.test.ts | a test that ran | kept for another host",
    ].join("\n"),
  );
  const r = node([checker, report, allow], dir);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(
    r.stdout,
    /skipped, allowed \(.*allowed-skips:1\): probe\.test\.ts \| runs the frobnicator — no frobnicator package/,
  );
  assert.match(
    r.stdout,
    /note: .*allowed-skips:3 allows a skip that did not happen: probe\.test\.ts \| a test that ran/,
  );
  assert.match(r.stdout, /skip check: 2 skipped test\(s\), all on /);
});

test("an allow-list line without its reason is refused with the file and line", () => {
  const dir = tempDir();
  const report = skipReport(dir);
  const allow = path.join(dir, "allowed-skips");
  fs.writeFileSync(allow, "# header\nprobe.test.ts | runs the frobnicator\n");
  const r = node([checker, report, allow], dir);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /allowed-skips:2: expected "test file \| test name \| why it may skip on CI"/);
});

test("every entry of .ci/allowed-skips names a test that exists, with a reason", () => {
  const file = path.join(projectRoot, ".ci", "allowed-skips");
  const entries = parseAllowList(fs.readFileSync(file, "utf8"), file);
  assert.ok(entries.length > 0 && entries.length <= 5, "the allow-list stays short");
  for (const e of entries) {
    const source = fs.readFileSync(path.join(projectRoot, e.file), "utf8");
    assert.ok(source.includes(JSON.stringify(e.name)), `${e.file} has no test named ${JSON.stringify(e.name)}`);
  }
});
