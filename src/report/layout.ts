/**
 * Work done on a worker thread while the main thread plans and audits the
 * workflows, both CPU work of a few hundred milliseconds on the large studio
 * that a build host's second core can take:
 *
 *  - first, the ELF headers of the shown workflows' package files, read in
 *    the order the audits need them and handed over as the audits start
 *    (LinkerOptions.sharedFacts), so the main thread mostly finds them read;
 *  - then the resolve graphs. The two threads share the drawing: the worker
 *    draws from the first graph on, and once the main thread is done with its
 *    own work it draws the ones not yet started from the last back (each
 *    graph claimed once through shared memory), so neither waits while a
 *    graph is undrawn.
 *
 * Where the worker cannot run, everything is done on the main thread, the
 * same way (the audits read what they need; the graphs are drawn here).
 */
import { MessageChannel, receiveMessageOnPort, type MessagePort, type Worker } from "node:worker_threads";
import type { FileFacts } from "../linker/linker.js";
import type { ResolveGraph } from "./data.js";
import { renderGraphSvg } from "./graph.js";
import { startWorker } from "../util/worker.js";

/** What layout-worker.ts is given. */
export interface LayoutWork {
  /** Host folders whose regular files' facts to read, in this order (package roots). */
  roots: readonly string[];
  /** Where the facts of each root go, as one Map (host path → facts) per root. */
  facts: MessagePort;
  graphs: readonly ResolveGraph[];
  /** One claim per graph: 0 free, 1 the worker's, 2 the main thread's. */
  claims: Int32Array;
}

export interface AsideWork {
  /** Adds the file facts the worker has read so far to `into` (never replacing one there). */
  takeFacts(into: Map<string, FileFacts>): void;
  /** Finishes the drawing (this thread takes the graphs not yet started); each workflow's SVG, as renderGraphSvg draws it. */
  finish(): Promise<Map<string, string>>;
  /** How many graphs the worker has drawn so far. */
  drawnAside(): number;
}

/** Starts reading `roots` and drawing `graphs` on a worker thread. */
export function startAside(roots: readonly string[], graphs: readonly ResolveGraph[]): AsideWork {
  const n = graphs.length;
  const svgs: (string | undefined)[] = new Array<string | undefined>(n);
  const claims = new Int32Array(new SharedArrayBuffer(4 * Math.max(1, n)));
  const channel = new MessageChannel();
  let worker: Worker | undefined;
  let gone = false;
  let wake: (() => void) | undefined;
  let aside = 0;
  if (n > 0 || roots.length > 0) {
    try {
      worker = startWorker(new URL("./layout-worker.js", import.meta.url), {
        workerData: { roots, facts: channel.port2, graphs, claims } satisfies LayoutWork,
        transferList: [channel.port2],
      });
      worker.on("message", (m: { index: number; svg: string }) => {
        svgs[m.index] = m.svg;
        aside++;
        wake?.();
      });
      // A worker that fails (no threads, a broken install) costs time, not the report: its work is done here.
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
  const takeFacts = (into: Map<string, FileFacts>) => {
    for (let m = receiveMessageOnPort(channel.port1); m; m = receiveMessageOnPort(channel.port1)) {
      for (const [host, facts] of m.message as Map<string, FileFacts>) if (!into.has(host)) into.set(host, facts);
    }
  };
  const finish = async () => {
    for (let i = n - 1; i >= 0; i--) {
      if (Atomics.compareExchange(claims, i, 0, 2) === 0) svgs[i] = renderGraphSvg(graphs[i]!);
    }
    while (!gone && svgs.some((s) => s === undefined)) await new Promise<void>((r) => (wake = r));
    void worker?.terminate();
    channel.port1.close();
    return new Map(graphs.map((g, i) => [g.workflow, svgs[i] ?? renderGraphSvg(g)]));
  };
  return { takeFacts, finish, drawnAside: () => aside };
}
