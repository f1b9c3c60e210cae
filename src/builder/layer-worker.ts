/**
 * A worker thread that writes layers into a store (see worker-pool.ts). The
 * tar encoding, both digests and zstd's synchronous stream calls are all
 * JavaScript-thread work, so one process writing several layers is limited
 * to one core unless each layer gets a thread of its own.
 */
import { parentPort } from "node:worker_threads";
import { writeLayer } from "../image/layer/writer.js";
import { OciStore } from "../image/layout/store.js";
import type { LayerTask, WorkerReply } from "./worker-pool.js";

const stores = new Map<string, Promise<OciStore>>();
/** Progress at most every 4 MB of payload: thousands of small files would flood the channel. */
const PROGRESS_STEP = 4 << 20;

function post(reply: WorkerReply): void {
  parentPort!.postMessage(reply);
}

parentPort!.on("message", (task: LayerTask) => {
  void (async () => {
    try {
      let store = stores.get(task.storeDir);
      if (!store) stores.set(task.storeDir, (store = OciStore.open(task.storeDir, { create: false })));
      let archived = 0;
      let reported = 0;
      const result = await writeLayer(await store, task.spec, {
        compression: task.compression,
        ...(task.level !== undefined ? { level: task.level } : {}),
        mtime: new Date(task.mtimeMs),
        cacheKey: task.cacheKey,
        annotations: task.annotations,
        onWarning: (message) => post({ id: task.id, type: "warning", message }),
        onEntry: (entry) => {
          archived += entry.size;
          if (archived - reported >= PROGRESS_STEP || reported === 0) {
            reported = Math.max(archived, 1);
            post({ id: task.id, type: "progress", bytes: archived });
          }
        },
      });
      post({ id: task.id, type: "done", result });
    } catch (e) {
      const err = e as Error;
      post({ id: task.id, type: "error", name: err.name, message: err.message });
    }
  })();
});
