import fs from "node:fs";
import path from "node:path";
import { checkUtf8Names } from "../util/file-names.js";

export interface RootSize {
  bytes: number;
  files: number;
  /** False when the root does not exist (a package with no payload). */
  exists: boolean;
}

/**
 * Bytes and regular files under a variant root, as its layer will hold them:
 * symbolic links are not followed, and a file hard-linked several times counts once.
 * Results are cached per root for the life of the measurer (one planning run).
 */
export class RootMeasurer {
  private readonly cache = new Map<string, RootSize>();

  measure(root: string): RootSize {
    let size = this.cache.get(root);
    if (!size) {
      size = measureTree(root);
      this.cache.set(root, size);
    }
    return size;
  }
}

function measureTree(root: string): RootSize {
  let top: fs.Stats;
  try {
    top = fs.lstatSync(root);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { bytes: 0, files: 0, exists: false };
    throw err;
  }
  if (top.isFile()) return { bytes: top.size, files: 1, exists: true };
  if (!top.isDirectory()) return { bytes: 0, files: 0, exists: true };
  let bytes = 0;
  let files = 0;
  const inodes = new Set<string>();
  const stack = [root];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    const entries = fs.readdirSync(dir, { withFileTypes: true });
    for (const entry of entries) {
      if (entry.name.includes("\uFFFD")) checkUtf8Names(dir, [entry.name]);
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) stack.push(p);
      else if (entry.isFile()) {
        const st = fs.lstatSync(p);
        if (st.nlink > 1) {
          const id = `${st.dev}:${st.ino}`;
          if (inodes.has(id)) continue;
          inodes.add(id);
        }
        bytes += st.size;
        files++;
      }
    }
  }
  return { bytes, files, exists: true };
}
