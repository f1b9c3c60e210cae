import { test } from "node:test";
import assert from "node:assert/strict";
import type { ResolveGraph } from "./data.js";
import { renderGraphSvg } from "./graph.js";
import { drawGraphsAside } from "./layout.js";

function chain(workflow: string, length: number): ResolveGraph {
  const ids = Array.from({ length }, (_, i) => `pkg${i}-1.${i}`);
  return {
    workflow,
    request: [ids[0]!],
    nodes: ids.map((id, i) => ({ id, family: `pkg${i}`, version: `1.${i}`, planId: id, requested: i === 0 })),
    edges: ids.slice(1).map((id, i) => ({ from: ids[i]!, to: id, requirement: id })),
  };
}

test("resolve graphs drawn on the worker thread are the drawings made here, by workflow", async () => {
  const graphs = [chain("layout", 4), chain("lighting", 7), chain("empty", 0)];
  const svgs = await drawGraphsAside(graphs);
  assert.deepEqual([...svgs.keys()], ["layout", "lighting", "empty"]);
  for (const g of graphs) assert.equal(svgs.get(g.workflow), renderGraphSvg(g), g.workflow);
  assert.deepEqual(await drawGraphsAside([]), new Map());
});
