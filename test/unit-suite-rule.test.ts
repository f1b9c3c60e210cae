import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { projectRoot, tempDir } from "./helpers.js";
import { unitTests } from "../scripts/unit-tests.js";

// `npm run test:unit`: which files the rule picks (scripts/unit-tests.ts), and
// the guard that fails a unit test starting a process (scripts/unit-tests-guard.mjs).

function write(root: string, file: string, text: string): void {
  fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
  fs.writeFileSync(path.join(root, file), text);
}

test("unit tests are the tests beside the code whose test code starts no process and that are not marked integration", () => {
  const root = tempDir();
  write(
    root,
    "src/a/pure.test.ts",
    'import { thing } from "./thing.js";\nimport { fixture } from "../../test/fixture.js";\n',
  );
  write(root, "src/a/thing.ts", 'import { spawnSync } from "node:child_process";\nexport const thing = spawnSync;\n');
  write(root, "test/fixture.ts", "export const fixture = 1;\n");
  write(root, "src/b/spawns.test.ts", 'import { execFileSync } from "node:child_process";\n');
  write(root, "src/b/serves.test.ts", 'import http from "node:http";\n');
  write(root, "src/c/via-helper.test.ts", 'import { run } from "../../test/runner.js";\n');
  write(root, "test/runner.ts", 'import { spawn } from "child_process";\nexport const run = spawn;\n');
  write(root, "src/c/via-testkit.test.ts", 'import { gcc } from "./testkit/gcc.js";\n');
  write(root, "src/c/testkit/gcc.ts", 'export { execFile as gcc } from "node:child_process";\n');
  write(root, "src/d/marked.test.ts", "// integration: its code under test asks the host's gcc\nexport {};\n");
  write(root, "test/integration.test.ts", "export {};\n");
  const { unit, excluded } = unitTests(root);
  // The code under test may import child_process: what it runs is the guard's to catch.
  assert.deepEqual(unit, ["src/a/pure.test.ts"]);
  assert.deepEqual(Object.fromEntries(excluded.map((e) => [e.file, e.why])), {
    "src/b/serves.test.ts": "src/b/serves.test.ts imports node:http",
    "src/b/spawns.test.ts": "src/b/spawns.test.ts imports node:child_process",
    "src/c/via-helper.test.ts": "test/runner.ts imports child_process",
    "src/c/via-testkit.test.ts": "src/c/testkit/gcc.ts imports node:child_process",
    "src/d/marked.test.ts": "src/d/marked.test.ts says: integration: its code under test asks the host's gcc",
  });
});

test("the guard fails a unit test that starts a process, even when the code catches the refusal", () => {
  const dir = tempDir();
  fs.writeFileSync(
    path.join(dir, "probe.test.mjs"),
    [
      'import { test } from "node:test";',
      'import { spawnSync } from "node:child_process";',
      'test("pure", () => {});',
      'test("asks the host", () => { try { spawnSync("lsb_release", ["-a"]); } catch { /* falls back */ } });',
    ].join("\n"),
  );
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  const guard = path.join(projectRoot, "scripts", "unit-tests-guard.mjs");
  const run = (file: string) =>
    spawnSync(process.execPath, ["--import", guard, "--test", "--test-reporter=tap", file], {
      cwd: dir,
      env,
      encoding: "utf8",
    });
  const r = run("probe.test.mjs");
  assert.equal(r.status, 1, r.stdout);
  assert.match(
    r.stdout,
    /a unit test may not start a process \(lsb_release -a\): mark the test file "\/\/ integration: WHY"/,
  );

  fs.writeFileSync(path.join(dir, "pure.test.mjs"), 'import { test } from "node:test";\ntest("pure", () => {});\n');
  const pure = run("pure.test.mjs");
  assert.equal(pure.status, 0, pure.stdout + pure.stderr);
});
