import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { generateStudio } from "../studio/index.js";
import { loadConfig, type LoadedConfig } from "../config/index.js";
import { Repositories } from "../rez/repository/index.js";
import { planStudio, type StudioPlan } from "./studio.js";
import { resolveWorkflows } from "../workflow/resolve.js";
import { assertSharedPlanInvariants } from "../../test/plan-invariants.js";

// integration: generates the sample studio, whose ELF payloads gcc compiles

let scratch: string;
let config: LoadedConfig;
let repos: Repositories;

before(async () => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), "tantalus-plan-studio-"));
  const dir = path.join(scratch, "studio");
  await generateStudio(dir, { scale: "small" });
  config = loadConfig(path.join(dir, "tantalus.yaml"));
  repos = new Repositories(config.packagesPath);
});

after(() => fs.rmSync(scratch, { recursive: true, force: true }));

function platformPrefixesAgree(result: StudioPlan): number {
  const plan = result.strategies.shared.plan;
  const tierOf = new Map(plan.layers.map((l) => [l.key, l.tier]));
  const firstTier = plan.tiers[0]!;
  const platformOf = (name: string): string =>
    JSON.stringify(
      result.input.images
        .find((i) => i.name === name)!
        .variants.filter((v) => v.tier === firstTier)
        .map((v) => v.id)
        .sort(),
    );
  let pairs = 0;
  for (const a of plan.images) {
    const prefix = a.layers.filter((k) => tierOf.get(k) === firstTier);
    assert.deepEqual(a.layers.slice(0, prefix.length), prefix, `${a.name}: the ${firstTier} layers come first`);
    for (const b of plan.images) {
      if (a.name >= b.name || platformOf(a.name) !== platformOf(b.name)) continue;
      pairs++;
      assert.deepEqual(
        b.layers.slice(0, prefix.length),
        prefix,
        `${a.name} and ${b.name} resolve the same ${firstTier}: same leading layers`,
      );
    }
  }
  return pairs;
}

test("the sample studio: every workflow planned together stores each package once, with shared prefixes", () => {
  const result = planStudio(config, resolveWorkflows(config, undefined, { repos }));
  assert.deepEqual(
    result.input.images.map((i) => i.name),
    Object.keys(config.workflows).sort(),
  );
  assert.deepEqual(
    result.input.tiers,
    config.layers.tiers.map((t) => t.name),
  );
  assertSharedPlanInvariants(result.input, result.strategies.shared.plan);
  const report = result.strategies.shared.report;
  assert.ok(
    report.uniqueBytes <= 1.05 * report.packageBytes,
    `unique ${report.uniqueBytes} vs packages ${report.packageBytes}`,
  );
  assert.ok(report.sharedLayers > 0);
  assert.ok(platformPrefixesAgree(result) > 0, "some workflows share a platform");
  // The baselines store more: a per-tier layer differs as soon as one package does.
  assert.ok(result.strategies["per-tier"].report.uniqueBytes > report.uniqueBytes);
});

test("the sample studio under a tight budget still stores each package once and keeps every image within it", () => {
  const tiers = config.layers.tiers.length;
  const budget = 1 + tiers + 3 + 2; // base, one layer per tier, 3 spare, top and repair
  const result = planStudio(config, resolveWorkflows(config, undefined, { repos }), { budget });
  assert.ok(
    result.input.images.some((i) => i.variants.length + 2 > budget),
    "the budget forces merging",
  );
  assertSharedPlanInvariants(result.input, result.strategies.shared.plan);
  assert.equal(result.strategies.shared.report.ratio, 1);
  platformPrefixesAgree(result);
});
