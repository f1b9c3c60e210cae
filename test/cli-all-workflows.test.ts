/**
 * `--all` means every workflow (issue 16, item 13): one workflow that does
 * not resolve no longer stops `audit --all` or `build --all`. Both report
 * every workflow, build every one that can be built and exit 1 when any
 * failed, as `plan --all` plans the others and now also exits 1;
 * `--fail-fast` keeps the old stop-at-the-first behaviour.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import { looksLikeStackTrace, runCliBounded, tempDir, tinyRepository } from "./helpers.js";

let dir: string;
let studio: string;

before(() => {
  dir = tempDir("tantalus-all-");
  studio = path.join(dir, "studio");
  tinyRepository(path.join(studio, "packages"), 2);
  // "broken" sorts first: a stop at the first failure builds nothing.
  fs.writeFileSync(
    path.join(studio, "tantalus.yaml"),
    "packages_path: [packages]\nimplicit_packages: []\nbase:\n  image: demo\nworkflows:\n" +
      "  broken:\n    request: [no_such_package]\n  good_a:\n    request: [fam0000]\n  good_b:\n    request: [fam0001]\n",
  );
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function tags(store: string): string[] {
  const file = path.join(store, "index.json");
  if (!fs.existsSync(file)) return [];
  const index = JSON.parse(fs.readFileSync(file, "utf8")) as { manifests: { annotations?: Record<string, string> }[] };
  return index.manifests
    .map((m) => m.annotations?.["org.opencontainers.image.ref.name"] ?? "")
    .filter((t) => !t.includes(":"))
    .sort();
}

test("build --all builds every workflow that resolves, reports the one that does not, and exits 1", () => {
  const store = path.join(dir, "store");
  const r = runCliBounded(["build", "--all", "--store", store, "--no-progress"], { cwd: studio, timeoutMs: 180_000 });
  assert.ok(!looksLikeStackTrace(r.stderr), r.stderr);
  assert.equal(r.code, 1, r.stderr);
  assert.deepEqual(tags(store), ["good_a", "good_b"]);
  assert.match(r.stdout, /built 2 image\(s\)/);
  assert.match(r.stderr, /^tantalus: error: broken not built: .*no_such_package/m);
});

test("build --all --fail-fast stops at the first workflow that cannot be built", () => {
  const store = path.join(dir, "store-fail-fast");
  const r = runCliBounded(["build", "--all", "--fail-fast", "--store", store, "--no-progress"], {
    cwd: studio,
    timeoutMs: 180_000,
  });
  assert.equal(r.code, 1, r.stderr);
  assert.deepEqual(tags(store), []);
  assert.match(r.stderr, /no_such_package/);
});

test("audit --all audits every other workflow and reports the one that does not resolve; --fail-fast stops", () => {
  const r = runCliBounded(["audit", "--all", "--json"], { cwd: studio, timeoutMs: 180_000 });
  assert.ok(!looksLikeStackTrace(r.stderr), r.stderr);
  assert.equal(r.code, 1, r.stderr);
  const report = JSON.parse(r.stdout) as { workflows: { workflow: string }[]; failed: { workflow: string }[] };
  assert.deepEqual(report.workflows.map((w) => w.workflow).sort(), ["good_a", "good_b"]);
  assert.deepEqual(
    report.failed.map((f) => f.workflow),
    ["broken"],
  );
  assert.match(r.stderr, /^tantalus: error: broken not audited: .*no_such_package/m);

  const stop = runCliBounded(["audit", "--all", "--fail-fast", "--json"], { cwd: studio, timeoutMs: 180_000 });
  assert.equal(stop.code, 1, stop.stderr);
  assert.equal(stop.stdout, "");
});

test("plan --all plans every other workflow, warns about the one that does not resolve, and exits 1", () => {
  const r = runCliBounded(["plan", "--all"], { cwd: studio, timeoutMs: 180_000 });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /good_a/);
  assert.match(r.stdout, /good_b/);
  // The warning names where the workflow is defined, as every other workflow-resolve error does.
  assert.match(r.stderr, /warning: tantalus\.yaml:\d+:\d+: workflow broken does not resolve/);
});
