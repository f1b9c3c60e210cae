import { after, test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { runCli } from "./helpers.js";
import { fixtureStudio, removeFixtures } from "./plan-fixture.js";

after(removeFixtures);

/** The part of `plan --json` these tests read. */
interface PlanJson {
  budget: number;
  images: { name: string; layers: string[] }[];
  layers: { key: string; images: string[] }[];
  reports: Record<"shared" | "per-tier", { ratio: number; uniqueBytes: number; packageBytes: number }>;
}

test("plan shows each image's layers with tiers, sizes and sharing, then the studio comparison", () => {
  const { dir } = fixtureStudio();
  const r = runCli(["plan", "--budget", "6", "--config", path.join(dir, "tantalus.yaml")]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /at most 6 layers each/);
  // Base, one layer per tier, the top layer, and room for the repair layer the build reserves beside it.
  assert.match(r.stdout, /^layout: 5 layers \(\+1 reserved for a repair layer\)/m);
  // Two images share the platform and rest layers, maya's layer is layout's alone.
  assert.match(r.stdout, /platform\s+\S+ \S+\s+2\/2\s+[0-9a-f]{12}\s+python-3\.11\[\] usd-24\.08\[\]/);
  assert.match(r.stdout, /apps\s+\S+ \S+\s+1\/2\s+[0-9a-f]{12}\s+maya-2025\[\]/);
  assert.match(r.stdout, /top\s+environment, entrypoint, context/);
  assert.match(r.stdout, /studio plan \(shared\).*1\.000x/);
  assert.match(r.stdout, /one layer per tier/);
  assert.match(r.stdout, /Nix popularity, per image/);
  assert.match(r.stderr, /warning: .*tantalus.layer 'nowhere'/);
});

test("plan WORKFLOW shows that image only, planned with the whole studio; --json gives the data", () => {
  const { dir } = fixtureStudio();
  const config = path.join(dir, "tantalus.yaml");
  const human = runCli(["plan", "comp", "--budget", "6", "--config", config]);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /^comp: /m);
  assert.doesNotMatch(human.stdout, /^layout: /m);
  assert.match(human.stdout, /2 images/);

  const json = runCli(["plan", "comp", "--json", "--budget", "6", "--config", config]);
  assert.equal(json.code, 0, json.stderr);
  const data = JSON.parse(json.stdout) as PlanJson;
  assert.equal(data.budget, 6);
  assert.deepEqual(
    data.images.map((i) => i.name),
    ["comp"],
  );
  assert.equal(data.reports.shared.ratio, 1);
  assert.equal(data.reports.shared.uniqueBytes, data.reports.shared.packageBytes);
  assert.ok(data.reports["per-tier"].uniqueBytes > data.reports.shared.uniqueBytes);
  const layers = new Map(data.layers.map((l) => [l.key, l]));
  for (const key of data.images[0]!.layers) assert.ok(layers.has(key));
});

test("plan refuses a budget above 125 and unknown workflows as usage errors", () => {
  const { dir } = fixtureStudio();
  const config = path.join(dir, "tantalus.yaml");
  const big = runCli(["plan", "--budget", "126", "--config", config]);
  assert.equal(big.code, 2);
  assert.match(big.stderr, /invalid --budget '126'.*dockerd cannot stack more than 125 layers/);
  const unknown = runCli(["plan", "nope", "--config", config]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /no workflow 'nope' in .*tantalus\.yaml; known: comp, layout/);
  const both = runCli(["plan", "comp", "--all", "--config", config]);
  assert.equal(both.code, 2);
});
