/**
 * Layers written on worker threads, one layer per worker at a time (see
 * layer-worker.ts for why). Workers start only when a layer actually has to
 * be written, so a rebuild that finds everything in the cache never pays for
 * them. Where workers cannot start, layers are written on the main thread.
 */
import type { Worker } from "node:worker_threads";
import { TantalusError } from "../errors.js";
import { startWorker } from "../util/worker.js";
import type { LayerSpec } from "../image/layer/spec.js";
import type { LayerResult } from "../image/layer/writer.js";
import type { LayerCompression } from "../image/types.js";

export interface LayerTask {
  id: number;
  storeDir: string;
  spec: LayerSpec;
  compression: LayerCompression;
  level?: number;
  mtimeMs: number;
  cacheKey: string;
  annotations: Record<string, string>;
}

export type WorkerReply =
  | { id: number; type: "progress"; bytes: number }
  | { id: number; type: "warning"; message: string }
  | { id: number; type: "done"; result: LayerResult }
  | { id: number; type: "error"; name: string; message: string };

interface Pending {
  resolve: (r: LayerResult) => void;
  reject: (e: Error) => void;
  onProgress: (bytes: number) => void;
  onWarning: (message: string) => void;
}

interface Slot {
  worker: Worker;
  busy: boolean;
}

export class LayerWorkerPool {
  private readonly slots: Slot[] = [];
  private readonly pending = new Map<number, Pending>();
  private readonly waiting: (() => void)[] = [];
  private nextId = 1;
  private closed = false;

  constructor(private readonly size: number) {}

  /** Write one layer on a free worker (waits for one). */
  async run(
    task: Omit<LayerTask, "id">,
    onProgress: (bytes: number) => void,
    onWarning: (message: string) => void,
  ): Promise<LayerResult> {
    const slot = await this.acquire();
    const id = this.nextId++;
    try {
      return await new Promise<LayerResult>((resolve, reject) => {
        this.pending.set(id, { resolve, reject, onProgress, onWarning });
        slot.worker.postMessage({ ...task, id } satisfies LayerTask);
      });
    } finally {
      this.pending.delete(id);
      slot.busy = false;
      this.waiting.shift()?.();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    this.slots.length = 0;
  }

  private async acquire(): Promise<Slot> {
    for (;;) {
      if (this.closed) throw new TantalusError("layer worker pool is closed");
      const free = this.slots.find((s) => !s.busy);
      if (free) {
        free.busy = true;
        return free;
      }
      if (this.slots.length < this.size) {
        const slot: Slot = { worker: this.spawn(), busy: true };
        this.slots.push(slot);
        return slot;
      }
      await new Promise<void>((r) => this.waiting.push(r));
    }
  }

  private spawn(): Worker {
    const worker = workerThread();
    worker.on("message", (reply: WorkerReply) => {
      const p = this.pending.get(reply.id);
      if (!p) return;
      switch (reply.type) {
        case "progress":
          p.onProgress(reply.bytes);
          return;
        case "warning":
          p.onWarning(reply.message);
          return;
        case "done":
          p.resolve(reply.result);
          return;
        case "error":
          p.reject(new TantalusError(reply.message));
          return;
      }
    });
    worker.on("error", (err) => {
      for (const p of this.pending.values()) p.reject(err);
    });
    return worker;
  }
}

export { withoutModuleHooks } from "../util/worker.js";

/** The worker: the compiled JavaScript next to this file (its TypeScript source under tsx). */
function workerThread(): Worker {
  return startWorker(new URL("./layer-worker.js", import.meta.url));
}
