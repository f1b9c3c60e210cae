// The promises of the studio layer plan, checked on any input and plan.
import assert from "node:assert/strict";
import { studioReport, type LayerPlan, type PlanInput } from "../src/plan/index.js";

/** Checks every promise the studio plan makes; returns nothing, fails loudly. */
export function assertSharedPlanInvariants(input: PlanInput, plan: LayerPlan): void {
  const budget = input.budget ?? 100;
  const layers = new Map(plan.layers.map((l) => [l.key, l]));
  assert.equal(layers.size, plan.layers.length, "layer keys are unique");
  const tierOf = new Map(input.images.flatMap((i) => i.variants.map((v) => [v.id, v.tier] as const)));

  // A variant lives in exactly one layer studio-wide.
  const home = new Map<string, string>();
  for (const l of plan.layers) {
    for (const id of l.variants) {
      assert.ok(!home.has(id), `variant ${id} is in layers ${home.get(id)} and ${l.key}`);
      home.set(id, l.key);
    }
    const tiers = new Set(l.variants.map((id) => tierOf.get(id)));
    assert.equal(tiers.size, 1, `layer ${l.key} mixes tiers ${[...tiers].join(",")}`);
    assert.equal(l.tier, [...tiers][0]);
  }
  assert.equal(home.size, tierOf.size, "every variant of the studio is planned");

  const globalOrder = plan.layers.map((l) => l.key);
  for (const image of input.images) {
    const planned = plan.images.find((p) => p.name === image.name)!;
    // Every variant of the image is in exactly one of its layers.
    const carried = new Map<string, number>();
    for (const key of planned.layers)
      for (const id of layers.get(key)!.variants) carried.set(id, (carried.get(id) ?? 0) + 1);
    for (const v of image.variants) assert.equal(carried.get(v.id), 1, `${image.name}: variant ${v.id}`);
    // It carries no layer it does not need.
    for (const key of planned.layers) {
      assert.ok(
        layers.get(key)!.variants.some((id) => image.variants.some((v) => v.id === id)),
        `${image.name} carries ${key} for nothing`,
      );
      assert.ok(layers.get(key)!.images.includes(image.name));
    }
    assert.ok(
      image.baseLayers + planned.layers.length + planned.topLayers <= budget,
      `${image.name} has too many layers`,
    );
    // Its order is the global order restricted to it.
    assert.deepEqual(
      planned.layers,
      globalOrder.filter((k) => planned.layers.includes(k)),
      `${image.name} follows the global order`,
    );
  }
  for (const l of plan.layers) {
    assert.deepEqual(
      l.images,
      plan.images.filter((i) => i.layers.includes(l.key)).map((i) => i.name),
    );
  }
  const report = studioReport(plan);
  assert.equal(report.uniqueBytes, report.packageBytes, "each package's bytes are stored once");
}
