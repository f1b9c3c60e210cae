/**
 * A worker thread that draws resolve graphs (layout.ts starts it): dagre's
 * layout is the report's second largest cost after the audit, and needs
 * nothing the audit computes, so the two run on two cores. Graphs are taken
 * from the first on, each only if the main thread has not taken it.
 */
import { parentPort, workerData } from "node:worker_threads";
import { renderGraphSvg } from "./graph.js";
import type { LayoutWork } from "./layout.js";

const { graphs, claims } = workerData as LayoutWork;
for (let i = 0; i < graphs.length; i++) {
  if (Atomics.compareExchange(claims, i, 0, 1) === 0)
    parentPort!.postMessage({ index: i, svg: renderGraphSvg(graphs[i]!) });
}
