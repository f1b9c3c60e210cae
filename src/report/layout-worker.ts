/**
 * A worker thread that draws resolve graphs (layout.ts starts it): dagre's
 * layout is the report's second largest cost after the audit, and needs
 * nothing the audit computes, so the two run on two cores.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { ResolveGraph } from "./data.js";
import { renderGraphSvg } from "./graph.js";

parentPort!.postMessage((workerData as ResolveGraph[]).map((g) => renderGraphSvg(g)));
