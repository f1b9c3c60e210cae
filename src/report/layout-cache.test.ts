import { after, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { ResolveGraph } from "./data.js";
import { renderGraphSvg } from "./graph.js";
import { GraphLayoutCache } from "./layout-cache.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tantalus-layout-cache-"));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const graph = (workflow: string, requirement = "python-3.11"): ResolveGraph => ({
  workflow,
  request: ["usd"],
  nodes: [
    { id: "usd-24.08[0]", family: "usd", version: "24.08", planId: "a", requested: true },
    { id: "python-3.11.13[0]", family: "python", version: "3.11.13", planId: "b", requested: false },
  ],
  edges: [{ from: "usd-24.08[0]", to: "python-3.11.13[0]", requirement }],
});

test("a drawing kept by one report is the next one's while the graph is the same, and only then", () => {
  const file = path.join(dir, "a", "graph-layouts.json");
  const first = GraphLayoutCache.open(file);
  const layout = graph("layout");
  assert.equal(first.get(layout), undefined);
  first.set(layout, renderGraphSvg(layout));
  assert.equal(first.save(), true);
  assert.equal(first.save(), false, "nothing new: nothing written");

  const next = GraphLayoutCache.open(file);
  assert.equal(next.get(layout), renderGraphSvg(layout));
  // Another requirement drawn on the edge, or another workflow: not this drawing.
  assert.equal(next.get(graph("layout", "python-3")), undefined);
  assert.equal(next.get(graph("lighting")), undefined);
});

test("a damaged or altered cache is a miss, never an error", () => {
  const file = path.join(dir, "b", "graph-layouts.json");
  const layout = graph("layout");
  const cache = GraphLayoutCache.open(file);
  cache.set(layout, renderGraphSvg(layout));
  cache.save();
  // The drawing's bytes changed on disk: its digest no longer matches.
  const text = fs.readFileSync(file, "utf8");
  fs.writeFileSync(file, text.replace("<title", '<title data-x=\\"1\\"'));
  assert.notEqual(fs.readFileSync(file, "utf8"), text);
  assert.equal(GraphLayoutCache.open(file).get(layout), undefined);
  // Not JSON at all.
  fs.writeFileSync(file, "{ not json");
  assert.equal(GraphLayoutCache.open(file).get(layout), undefined);
  // Written by another drawing code (another dagre, another graph.ts).
  fs.writeFileSync(
    file,
    JSON.stringify({ drawing: "0000", workflows: (JSON.parse(text) as { workflows: unknown }).workflows }),
  );
  assert.equal(GraphLayoutCache.open(file).get(layout), undefined);
  // A cache folder that cannot be made: the report goes on without it.
  const blocked = path.join(dir, "file-not-dir");
  fs.writeFileSync(blocked, "");
  const unwritable = GraphLayoutCache.open(path.join(blocked, "graph-layouts.json"));
  unwritable.set(layout, renderGraphSvg(layout));
  assert.equal(unwritable.save(), false);
});
