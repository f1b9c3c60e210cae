/**
 * Resolve graphs drawn on a worker thread while the main thread audits the
 * workflows: both are CPU work of a few hundred milliseconds on the large
 * studio, independent of each other, and a build host has more than one
 * core. The two threads share the work: the worker draws graphs from the
 * first on, and when the main thread is done with its own work it draws the
 * ones the worker has not started, from the last back (each graph claimed
 * once through shared memory), so neither waits while a graph is undrawn.
 * Where the worker cannot run, every graph is drawn here, the same way.
 */
import type { Worker } from "node:worker_threads";
import type { ResolveGraph } from "./data.js";
import { renderGraphSvg } from "./graph.js";
import { startWorker } from "../util/worker.js";

/** What layout-worker.ts is given: the graphs, and one claim per graph (0 free, 1 the worker's, 2 the main thread's). */
export interface LayoutWork {
  graphs: readonly ResolveGraph[];
  claims: Int32Array;
}

export interface GraphDrawing {
  /** Finishes the drawing (this thread takes the graphs not yet started); each workflow's SVG, as renderGraphSvg draws it. */
  finish(): Promise<Map<string, string>>;
  /** How many graphs the worker has drawn so far. */
  drawnAside(): number;
}

/** Starts drawing `graphs` on a worker thread. */
export function drawGraphsAside(graphs: readonly ResolveGraph[]): GraphDrawing {
  const n = graphs.length;
  const svgs: (string | undefined)[] = new Array<string | undefined>(n);
  const claims = new Int32Array(new SharedArrayBuffer(4 * Math.max(1, n)));
  let worker: Worker | undefined;
  let gone = false;
  let wake: (() => void) | undefined;
  let aside = 0;
  if (n > 0) {
    try {
      worker = startWorker(new URL("./layout-worker.js", import.meta.url), {
        workerData: { graphs, claims } satisfies LayoutWork,
      });
      worker.on("message", (m: { index: number; svg: string }) => {
        svgs[m.index] = m.svg;
        aside++;
        wake?.();
      });
      // A worker that fails (no threads, a broken install) costs time, not the report: its graphs are drawn here.
      const end = () => {
        gone = true;
        wake?.();
      };
      worker.once("error", end);
      worker.once("exit", end);
    } catch {
      gone = true;
    }
  }
  const finish = async () => {
    for (let i = n - 1; i >= 0; i--) {
      if (Atomics.compareExchange(claims, i, 0, 2) === 0) svgs[i] = renderGraphSvg(graphs[i]!);
    }
    while (!gone && svgs.some((s) => s === undefined)) await new Promise<void>((r) => (wake = r));
    void worker?.terminate();
    return new Map(graphs.map((g, i) => [g.workflow, svgs[i] ?? renderGraphSvg(g)]));
  };
  return { finish, drawnAside: () => aside };
}
