/**
 * Small results remembered in the store by the digest of everything they
 * depend on: audit outcomes (audit-cache.ts) and the captured environment of
 * an image (build.ts). One JSON file per entry under .tantalus/<name>/,
 * written atomically; an unreadable or foreign entry is a miss.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { canonicalJson } from "../image/canonical-json.js";
import { digestHex, sha256, type Digest } from "../image/digest.js";
import { writeFileAtomic } from "../image/layout/fsutil.js";
import type { PrivateArea } from "../image/layout/interfaces.js";
import { VERSION } from "../version.js";
import { makeDirs } from "../util/dirs.js";

/** The key of a memo entry: the Tantalus version and every input, canonically serialised. */
export function memoKey(kind: string, inputs: unknown): Digest {
  return sha256(canonicalJson({ kind, tool: VERSION, inputs }));
}

export class StoreMemo<T> {
  private readonly dir: string;

  constructor(
    private readonly store: PrivateArea,
    name: string,
  ) {
    this.dir = join(store.metaDir, name);
  }

  async get(key: Digest): Promise<T | undefined> {
    try {
      const entry = JSON.parse(await readFile(this.file(key), "utf8")) as { key?: string; value?: T };
      return entry.key === key ? entry.value : undefined;
    } catch {
      return undefined;
    }
  }

  async put(key: Digest, value: T): Promise<void> {
    if (this.store.readOnly) return;
    await makeDirs(this.dir);
    // Not fsynced: an entry that is unreadable or names another key is a miss (get).
    await writeFileAtomic(this.file(key), canonicalJson({ key, value }), this.store.tmpDir, { durable: false });
  }

  private file(key: Digest): string {
    return join(this.dir, `${digestHex(key)}.json`);
  }
}
