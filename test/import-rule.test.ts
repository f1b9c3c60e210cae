/**
 * The import rule (.dependency-cruiser.cjs, docs/ARCHITECTURE.md) on a small
 * tree of its own: `npm run check:imports` passing on src/ only means
 * something if the rules refuse what they should. A typo in a path pattern
 * would make a rule match nothing and pass everything; here every rule must
 * fire on exactly the imports that break it, and stay quiet on the allowed
 * ones next to them.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { projectRoot } from "./helpers.js";

/** file -> the modules it imports (relative specifiers as the code writes them; "type:" marks `import type`). */
const TREE: Record<string, string[]> = {
  "src/errors.ts": [],
  "src/util/atomic.ts": ["../errors.js"],
  "src/rez/package.ts": ["../util/atomic.js"],
  "src/solver/solve.ts": ["../rez/package.js"],
  "src/rex/interpret.ts": ["../solver/solve.js", "../context/context.js"],
  "src/context/context.ts": ["../rez/package.js"],
  // core importing a stage
  "src/rez/upward.ts": ["../builder/build.js"],
  "src/linker/elf.ts": ["../errors.js"],
  "src/image/demo-base.ts": ["../linker/elf.js"],
  // linker sits below image
  "src/linker/backward.ts": ["../image/demo-base.js"],
  "src/config/load.ts": ["../image/demo-base.js", "../solver/solve.js"],
  "src/workflow/resolve.ts": ["../solver/solve.js", "../config/load.js"],
  // the workflow stage imports no stage
  "src/workflow/sideways.ts": ["../plan/plan.js"],
  "src/plan/plan.ts": ["../workflow/resolve.js", "../rex/interpret.js"],
  // plan is below builder
  "src/plan/upward.ts": ["../builder/stored.js"],
  "src/plan/plan.test.ts": ["../builder/stored.js"],
  "src/audit/gate.ts": ["../workflow/resolve.js", "../linker/elf.js"],
  // the audit may not import the build that runs it
  "src/audit/demo.ts": ["../builder/stored.js"],
  // a cycle made of type-only imports (reported once)
  "src/audit/findings.ts": ["type:./report.js"],
  "src/audit/report.ts": ["type:./findings.js"],
  "src/builder/build.ts": ["../plan/plan.js", "../audit/gate.js", "../workflow/resolve.js", "../image/demo-base.js"],
  "src/builder/stored.ts": ["../image/demo-base.js"],
  "src/run/image.ts": ["../workflow/resolve.js", "../image/demo-base.js"],
  // run reaches the build through a seam, never by import
  "src/run/ensure.ts": ["../builder/stored.js"],
  // and nothing below the CLI imports it
  "src/run/settings.ts": ["../cli/common.js"],
  "src/farm/task.ts": ["../run/image.js", "../builder/stored.js"],
  "src/studio/generate.ts": ["../util/atomic.js"],
  "src/cli/common.ts": ["../farm/task.js", "../studio/generate.js", "../builder/build.js"],
  "src/index.ts": ["./cli/common.js"],
  // a folder the rules do not know
  "src/mystery/thing.ts": [],
  "src/plan/unknown.ts": ["../mystery/thing.js"],
};

const EXPECTED = [
  "core:linker src/linker/backward.ts -> src/image/demo-base.ts",
  "core:rez src/rez/upward.ts -> src/builder/build.ts",
  "known-modules src/plan/unknown.ts -> src/mystery/thing.ts",
  "no-circular src/audit/findings.ts -> src/audit/report.ts",
  "stage:audit src/audit/demo.ts -> src/builder/stored.ts",
  "stage:plan src/plan/upward.ts -> src/builder/stored.ts",
  "stage:run src/run/ensure.ts -> src/builder/stored.ts",
  "stage:run src/run/settings.ts -> src/cli/common.ts",
  "cli-is-the-top src/run/settings.ts -> src/cli/common.ts",
  "stage:workflow src/workflow/sideways.ts -> src/plan/plan.ts",
].sort();

function writeTree(root: string): void {
  for (const [file, imports] of Object.entries(TREE)) {
    const lines = imports.map((spec, i) =>
      spec.startsWith("type:")
        ? `import type { T as T${i} } from "${spec.slice(5)}";\nexport type U${i} = T${i};`
        : `import * as m${i} from "${spec}";\nexport const v${i} = m${i};`,
    );
    const p = path.join(root, file);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, [...lines, "export type T = { tag: string };", "export const here = 1;", ""].join("\n"));
  }
  fs.writeFileSync(
    path.join(root, "tsconfig.check.json"),
    JSON.stringify({
      compilerOptions: { module: "NodeNext", moduleResolution: "NodeNext", strict: true, noEmit: true },
      include: ["src/**/*.ts"],
    }),
  );
}

interface Cruise {
  summary: { violations: { from: string; to: string; rule: { name: string } }[] };
}

test("the import rule refuses each import up the pipeline, sideways between stages, into the CLI or an unknown folder, and every cycle, and nothing else", () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "tantalus-import-rule-"));
  try {
    writeTree(root);
    const depcruise = (...args: string[]) =>
      spawnSync(
        path.join(projectRoot, "node_modules", ".bin", "depcruise"),
        ["--config", path.join(projectRoot, ".dependency-cruiser.cjs"), ...args, "src"],
        { cwd: root, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 },
      );
    const json = depcruise("--output-type", "json");
    assert.equal(json.error, undefined);
    const report = JSON.parse(json.stdout) as Cruise;
    const found = report.summary.violations.map((v) => `${v.rule.name} ${v.from} -> ${v.to}`).sort();
    assert.deepEqual(found, EXPECTED);
    // What `npm run check:imports` runs: its exit status is what fails CI.
    const check = depcruise();
    assert.notEqual(check.status, 0, "violations fail the command");
    assert.match(check.stdout, /10 dependency violations/);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
