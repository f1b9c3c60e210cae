/**
 * The report's worker thread (layout.ts starts it and says why): reads the
 * package files' facts the audits will need, root by root, then draws resolve
 * graphs from the first on, each only if the main thread has not taken it.
 */
import fs from "node:fs";
import path from "node:path";
import { parentPort, workerData } from "node:worker_threads";
import { FileSource } from "../linker/bytesource.js";
import { readFileFacts, type FileFacts } from "../linker/linker.js";
import { renderGraphSvg } from "./graph.js";
import type { LayoutWork } from "./layout.js";

const { roots, facts, graphs, claims } = workerData as LayoutWork;

/** Every regular file under `dir` (symbolic links are not followed: the audit reads their targets where they are). */
function read(dir: string, out: Map<string, FileFacts>): void {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) read(p, out);
    else if (e.isFile())
      out.set(
        p,
        readFileFacts(() => FileSource.open(p)),
      );
  }
}

for (const root of roots) {
  const out = new Map<string, FileFacts>();
  read(root, out);
  facts.postMessage(out);
}
facts.close();
for (let i = 0; i < graphs.length; i++) {
  if (Atomics.compareExchange(claims, i, 0, 1) === 0)
    parentPort!.postMessage({ index: i, svg: renderGraphSvg(graphs[i]!) });
}
