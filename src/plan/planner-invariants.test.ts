import { test } from "node:test";
import assert from "node:assert/strict";
import { planLayers, syntheticStudio, type PlanInput } from "./index.js";
import { assertSharedPlanInvariants } from "../../test/plan-invariants.js";

function shuffled<T>(xs: readonly T[], seed: number): T[] {
  const out = [...xs];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

for (const seed of [1, 7, 42]) {
  for (const budget of [10, 20, 100]) {
    test(`synthetic studio seed ${seed}, budget ${budget}: the plan keeps every invariant`, () => {
      const input = { ...syntheticStudio({ seed, workflows: 24, variants: 900 }), budget };
      const plan = planLayers(input);
      assertSharedPlanInvariants(input, plan);
      if (budget <= 20) {
        // The tight budgets must actually force merging, or this test would prove nothing.
        assert.ok(input.images.some((i) => i.variants.length + i.baseLayers + 1 > budget));
        assert.ok(
          plan.layers.some((l) => l.variants.length > 1 && new Set(l.variants.map((id) => id.split("-")[0])).size > 1),
        );
      }
    });
  }
}

test("images with different base layer counts each stay within the budget", () => {
  const base = syntheticStudio({ seed: 3, workflows: 12, variants: 500 });
  const input: PlanInput = { ...base, budget: 16, images: base.images.map((i, n) => ({ ...i, baseLayers: n % 4 })) };
  assertSharedPlanInvariants(input, planLayers(input));
});

test("the plan depends on the studio, not on the order images and variants are listed in", () => {
  const input = { ...syntheticStudio({ seed: 5, workflows: 16, variants: 600 }), budget: 14 };
  const reference = JSON.stringify(planLayers(input));
  for (const seed of [11, 12]) {
    const permuted: PlanInput = {
      ...input,
      images: shuffled(input.images, seed).map((i) => ({ ...i, variants: shuffled(i.variants, seed + 1) })),
    };
    assert.equal(JSON.stringify(planLayers(permuted)), reference);
  }
});

test("images that resolve the same platform share the same platform layers as a common prefix", () => {
  const input = { ...syntheticStudio({ seed: 9, workflows: 20, variants: 800 }), budget: 20 };
  const plan = planLayers(input);
  const tierOf = new Map(plan.layers.map((l) => [l.key, l.tier]));
  const platformOf = (name: string): string =>
    JSON.stringify(
      input.images
        .find((i) => i.name === name)!
        .variants.filter((v) => v.tier === "platform")
        .map((v) => v.id)
        .sort(),
    );
  let pairs = 0;
  for (const a of plan.images) {
    for (const b of plan.images) {
      if (a.name >= b.name || platformOf(a.name) !== platformOf(b.name)) continue;
      pairs++;
      const prefix = (keys: string[]): string[] => keys.filter((k) => tierOf.get(k) === "platform");
      assert.deepEqual(prefix(a.layers), prefix(b.layers));
      assert.deepEqual(a.layers.slice(0, prefix(a.layers).length), prefix(a.layers), "platform layers come first");
    }
  }
  assert.ok(pairs > 0, "the synthetic studio has shows sharing a platform");
});
