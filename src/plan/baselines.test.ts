import { test } from "node:test";
import assert from "node:assert/strict";
import {
  compareStrategies,
  planByPopularity,
  planPerTier,
  popularityContest,
  syntheticStudio,
  type PlanInput,
  type PlanVariant,
} from "./index.js";

test("the popularity contest reproduces Nix's worked example", () => {
  // nixpkgs closure-graph.py: A→{B,G}, B→{C,E}, C→{D,E}, D→F, E→F.
  const ranking = popularityContest([
    { id: "A", requires: ["B", "G"] },
    { id: "B", requires: ["C", "E"] },
    { id: "C", requires: ["D", "E"] },
    { id: "D", requires: ["F"] },
    { id: "E", requires: ["F"] },
    { id: "F", requires: ["F"] },
    { id: "G", requires: [] },
  ]);
  assert.deepEqual(
    ranking.map((r) => `${r.id}:${r.popularity}`),
    ["F:9", "E:5", "D:4", "C:3", "B:2", "G:2", "A:1"],
  );
});

test("without requires, every variant is a root of popularity 1, ranked by id", () => {
  assert.deepEqual(
    popularityContest([
      { id: "b", requires: [] },
      { id: "a", requires: [] },
    ]).map((r) => [r.id, r.popularity]),
    [
      ["a", 1],
      ["b", 1],
    ],
  );
});

const node = (id: string, bytes: number, requires: string[] = []): PlanVariant => ({
  id,
  family: id,
  tier: "rest",
  bytes,
  requires,
});

test("popularity layering gives the most popular variants their own layers and merges the tail, image by image", () => {
  const libc = node("libc", 10);
  const input: PlanInput = {
    tiers: ["rest"],
    budget: 4, // 1 base + 1 top: 2 layers left, so 1 single + the merged rest
    images: [
      { name: "one", baseLayers: 1, variants: [libc, node("app1", 5, ["libc", "lib1"]), node("lib1", 3, ["libc"])] },
      { name: "two", baseLayers: 1, variants: [libc, node("app2", 7, ["libc"])] },
    ],
  };
  const plan = planByPopularity(input);
  const layersOf = (name: string): string[][] =>
    plan.images.find((i) => i.name === name)!.layers.map((k) => plan.layers.find((l) => l.key === k)!.variants);
  assert.deepEqual(layersOf("one"), [["libc"], ["app1", "lib1"]]);
  assert.deepEqual(layersOf("two"), [["libc"], ["app2"]]);
  assert.equal(plan.layers.find((l) => l.variants[0] === "libc")!.images.length, 2);
});

test("one layer per tier shares a tier's layer only between images with identical tier content", () => {
  const p = (id: string, tier: string): PlanVariant => ({ id, family: id, tier, bytes: 100 });
  const plan = planPerTier({
    tiers: ["platform", "rest"],
    images: [
      { name: "a", baseLayers: 1, variants: [p("py", "platform"), p("t1", "rest")] },
      { name: "b", baseLayers: 1, variants: [p("py", "platform"), p("t2", "rest")] },
      { name: "c", baseLayers: 1, variants: [p("py", "platform"), p("t1", "rest"), p("t2", "rest")] },
    ],
  });
  // Same tier, same share count, same size: the key decides, so compare the rest as a set.
  assert.deepEqual(
    plan.layers
      .map((l) => [l.tier, l.variants, l.images])
      .sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y))),
    [
      ["platform", ["py"], ["a", "b", "c"]],
      ["rest", ["t1", "t2"], ["c"]],
      ["rest", ["t1"], ["a"]],
      ["rest", ["t2"], ["b"]],
    ],
  );
  assert.equal(plan.layers[0]!.tier, "platform");
});

test("on a synthetic studio the shared plan stores each package once and the baselines store more", () => {
  const input = { ...syntheticStudio({ seed: 2, workflows: 20, variants: 800 }), budget: 40 };
  const r = compareStrategies(input);
  assert.equal(r.shared.report.ratio, 1);
  assert.ok(r["per-tier"].report.ratio > 1.2, `per-tier ratio ${r["per-tier"].report.ratio}`);
  assert.ok(r.popularity.report.ratio > 1.2, `popularity ratio ${r.popularity.report.ratio}`);
  for (const s of Object.values(r)) {
    assert.equal(s.report.packageBytes, r.shared.report.packageBytes);
    assert.ok(s.report.layersPerImage.max <= 40);
  }
  // Baselines never carry bytes an image does not use; the shared plan may, a little.
  assert.equal(r["per-tier"].report.imageOverhead, 1);
  assert.equal(r.popularity.report.imageOverhead, 1);
  assert.ok(r.shared.report.imageOverhead < 1.05, `shared overhead ${r.shared.report.imageOverhead}`);
});
