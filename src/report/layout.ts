/**
 * Resolve graphs drawn on a worker thread while the main thread audits the
 * workflows: both are CPU work of a few hundred milliseconds on the large
 * studio, independent of each other, and a build host has more than one
 * core. Where the worker cannot run, the graphs are drawn here, the same way.
 */
import type { ResolveGraph } from "./data.js";
import { renderGraphSvg } from "./graph.js";
import { startWorker } from "../util/worker.js";

/** Starts drawing `graphs`; the promise gives each workflow's SVG (renderGraphSvg's). */
export function drawGraphsAside(graphs: readonly ResolveGraph[]): Promise<Map<string, string>> {
  const here = () => new Map(graphs.map((g) => [g.workflow, renderGraphSvg(g)]));
  if (graphs.length === 0) return Promise.resolve(new Map<string, string>());
  return new Promise((resolve) => {
    let settled = false;
    // Takes a thunk: the fallback draws only when nothing came from the worker first.
    const done = (svgs: () => Map<string, string>) => {
      if (settled) return;
      settled = true;
      resolve(svgs());
    };
    let worker: ReturnType<typeof startWorker>;
    try {
      worker = startWorker(new URL("./layout-worker.js", import.meta.url), { workerData: graphs });
    } catch {
      done(here);
      return;
    }
    worker.once("message", (svgs: string[]) => {
      done(() => new Map(graphs.map((g, i) => [g.workflow, svgs[i] ?? renderGraphSvg(g)])));
      void worker.terminate();
    });
    // A worker that fails (no threads, a broken install) costs time, not the report.
    worker.once("error", () => done(here));
    worker.once("exit", () => done(here));
  });
}
