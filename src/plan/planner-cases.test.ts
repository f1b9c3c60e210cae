import { test } from "node:test";
import assert from "node:assert/strict";
import { TantalusError } from "../errors.js";
import { layerKey, planLayers, studioReport, type PlanInput, type PlanVariant } from "./index.js";

const v = (id: string, tier: string, bytes: number): PlanVariant => ({ id, family: id, tier, bytes });
const py = v("py", "platform", 100);
const qt = v("qt", "platform", 300);
const maya = v("maya", "apps", 1000);
const nuke = v("nuke", "apps", 800);
const t = [1, 2, 4, 8, 16].map((b, i) => v(`t${i + 1}`, "rest", b));

/** Three images, 6 layers each at most (1 base + 4 planned + 1 top). */
const small: PlanInput = {
  tiers: ["platform", "apps", "rest"],
  budget: 6,
  images: [
    { name: "A", baseLayers: 1, variants: [py, qt, maya, t[0]!, t[1]!, t[2]!] },
    { name: "B", baseLayers: 1, variants: [py, qt, nuke, t[0]!, t[3]!] },
    { name: "C", baseLayers: 1, variants: [py, maya, t[1]!, t[4]!] },
  ],
};

test("a small studio gets exactly the plan worked out by hand", () => {
  // A has 6 usage groups for 4 slots, B 5, C 4. The cheapest relief per over-budget
  // image is always in the tools: t1+t2 (costs 3 bytes), then +t3 (8), then +t4 (16);
  // merging py with qt would cost 300 bytes in C.
  const plan = planLayers(small);
  const tools = ["t1", "t2", "t3", "t4"];
  assert.deepEqual(
    plan.layers.map((l) => [l.tier, l.variants, l.bytes, l.images]),
    [
      ["platform", ["py"], 100, ["A", "B", "C"]],
      ["platform", ["qt"], 300, ["A", "B"]],
      ["apps", ["maya"], 1000, ["A", "C"]],
      ["apps", ["nuke"], 800, ["B"]],
      ["rest", tools, 15, ["A", "B", "C"]],
      ["rest", ["t5"], 16, ["C"]],
    ],
  );
  const key = (ids: string[]): string => layerKey(ids);
  assert.deepEqual(
    plan.images.map((i) => [i.name, i.layers]),
    [
      ["A", [key(["py"]), key(["qt"]), key(["maya"]), key(tools)]],
      ["B", [key(["py"]), key(["qt"]), key(["nuke"]), key(tools)]],
      ["C", [key(["py"]), key(["maya"]), key(tools), key(["t5"])]],
    ],
  );
  const report = studioReport(plan);
  assert.deepEqual(
    report.images.map((i) => [i.name, i.layers, i.bytes, i.packageBytes]),
    [
      ["A", 6, 1415, 1407],
      ["B", 6, 1215, 1209],
      ["C", 6, 1131, 1118],
    ],
  );
  assert.equal(report.uniqueBytes, 2231);
  assert.equal(report.packageBytes, 2231);
  assert.equal(report.ratio, 1);
  assert.equal(report.sharedLayers, 4);
});

test("with room for every group, nothing is merged", () => {
  const plan = planLayers({ ...small, budget: 100 });
  // Variants used by the same images still share a layer: t? none here, so one per variant.
  assert.equal(plan.layers.length, 9);
  assert.ok(plan.layers.every((l) => l.variants.length === 1));
});

test("packages always used together share one layer", () => {
  const plan = planLayers({
    tiers: ["rest"],
    images: [
      { name: "a", baseLayers: 0, variants: [v("x", "rest", 1), v("y", "rest", 2), v("z", "rest", 3)] },
      { name: "b", baseLayers: 0, variants: [v("x", "rest", 1), v("y", "rest", 2)] },
    ],
  });
  assert.deepEqual(
    plan.layers.map((l) => l.variants),
    [["x", "y"], ["z"]],
  );
});

test("a big layer stays alone while a merge of small layers can fit the image", () => {
  const dcc = v("maya", "apps", 1000);
  const plugin = v("plugin", "apps", 20);
  const tool = v("tool", "apps", 10);
  const input: PlanInput = {
    tiers: ["apps"],
    budget: 4,
    images: [
      { name: "X", baseLayers: 1, variants: [dcc, plugin, tool] },
      { name: "Y", baseLayers: 1, variants: [dcc, plugin] },
    ],
  };
  // maya and plugin are used by the same images: merging them costs no bytes, but then
  // every plugin release would re-ship the DCC. Above the threshold maya is protected.
  assert.deepEqual(
    planLayers({ ...input, bigLayerBytes: 500 }).layers.map((l) => l.variants),
    [["maya"], ["plugin", "tool"]],
  );
  // Without the protection the byte-cheapest merge wins.
  assert.deepEqual(
    planLayers({ ...input, bigLayerBytes: 1e12 }).layers.map((l) => l.variants),
    [["maya", "plugin"], ["tool"]],
  );
});

test("a budget above dockerd's 125 layers is refused with the reason", () => {
  assert.throws(
    () => planLayers({ ...small, budget: 126 }),
    (err: unknown) => {
      assert.ok(err instanceof TantalusError);
      assert.match(err.message, /layer budget 126 is above 125/);
      assert.match(err.message, /max depth exceeded/);
      return true;
    },
  );
  assert.throws(() => planLayers({ ...small, budget: 0 }), /invalid layer budget 0/);
  assert.equal(planLayers({ ...small, budget: 125 }).budget, 125);
});

test("an image whose tiers cannot fit the budget is refused, naming it", () => {
  assert.throws(
    () => planLayers({ ...small, budget: 4 }),
    /image 'A' cannot fit in 4 layers: 1 base \+ 1 top leave 2, but its packages span 3 tier/,
  );
});

test("inconsistent input is refused", () => {
  assert.throws(
    () => planLayers({ tiers: ["rest"], images: [{ name: "a", baseLayers: 0, variants: [v("x", "apps", 1)] }] }),
    /variant 'x' of image 'a' is in tier 'apps', which is not one of the tiers \(rest\)/,
  );
  assert.throws(
    () =>
      planLayers({
        tiers: ["rest"],
        images: [
          { name: "a", baseLayers: 0, variants: [v("x", "rest", 1)] },
          { name: "b", baseLayers: 0, variants: [v("x", "rest", 2)] },
        ],
      }),
    /variant 'x' is described differently in two images/,
  );
  assert.throws(
    () =>
      planLayers({
        tiers: ["rest"],
        images: [{ name: "a", baseLayers: 0, variants: [{ ...v("x", "rest", 1), requires: ["y"] }] }],
      }),
    /requires 'y', which is not in that image/,
  );
});
