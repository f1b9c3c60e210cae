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

test("resolve graphs drawn on the worker thread and on this one are the drawings renderGraphSvg makes, by workflow", async () => {
  const graphs = Array.from({ length: 12 }, (_, i) => chain(`workflow${i}`, 3 + i));
  const drawing = drawGraphsAside(graphs);
  // Let the worker draw some (it starts slowly under tsx); this thread takes what is left.
  while (drawing.drawnAside() < 2) await new Promise((r) => setTimeout(r, 10));
  const svgs = await drawing.finish();
  assert.ok(drawing.drawnAside() >= 2);
  assert.deepEqual(
    [...svgs.keys()],
    graphs.map((g) => g.workflow),
  );
  for (const g of graphs) assert.equal(svgs.get(g.workflow), renderGraphSvg(g), g.workflow);
});

test("with nothing to draw, an empty result; finished at once, the same drawings", async () => {
  assert.deepEqual(await drawGraphsAside([]).finish(), new Map());
  const graphs = [chain("layout", 4), chain("empty", 0)];
  const svgs = await drawGraphsAside(graphs).finish();
  for (const g of graphs) assert.equal(svgs.get(g.workflow), renderGraphSvg(g), g.workflow);
});
