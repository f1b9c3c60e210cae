/**
 * Layer cache: caller key (a content fingerprint of the sources) + the
 * options that change the bytes → the layer blob already in the store.
 * One small JSON file per entry under <store>/.tantalus/layer-cache/, written
 * atomically, so concurrent builds need no lock. A hit is only trusted when
 * the blob is present with the recorded size; anything else is a miss and the
 * stale entry is dropped.
 */
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { canonicalJson } from "../canonical-json.js";
import { digestHex, isDigest, sha256, type Digest } from "../digest.js";
import { isErrno, writeFileAtomic } from "../layout/fsutil.js";
import type { BlobIngester, BlobReader, PrivateArea } from "../layout/interfaces.js";
import type { LayerCompression, LayerDescriptor } from "../types.js";
import { makeDirs } from "../../util/dirs.js";

/** Bump when the tar encoding changes, so old cache entries stop matching. */
export const LAYER_FORMAT_VERSION = 1;

export interface LayerCacheKeyParts {
  key: string;
  compression: LayerCompression;
  level: number;
  mtime: Date;
}

export interface LayerCacheEntry {
  key: string;
  diffId: Digest;
  digest: Digest;
  size: number;
  mediaType: string;
  entries: number;
  uncompressedSize: number;
}

export class LayerCache {
  private readonly dir: string;

  constructor(private readonly store: BlobReader & BlobIngester & PrivateArea) {
    this.dir = join(store.metaDir, "layer-cache");
  }

  static cacheId(parts: LayerCacheKeyParts): Digest {
    return sha256(
      canonicalJson({
        v: LAYER_FORMAT_VERSION,
        key: parts.key,
        compression: parts.compression,
        level: parts.compression === "none" ? 0 : parts.level,
        mtime: parts.mtime.toISOString(),
      }),
    );
  }

  async get(parts: LayerCacheKeyParts): Promise<LayerCacheEntry | undefined> {
    const file = join(this.dir, `${digestHex(LayerCache.cacheId(parts))}.json`);
    let entry: LayerCacheEntry;
    try {
      entry = JSON.parse(await readFile(file, "utf8")) as LayerCacheEntry;
    } catch (e) {
      if (isErrno(e, "ENOENT")) return undefined;
      await rm(file, { force: true }); // unreadable entry: treat as a miss
      return undefined;
    }
    if (
      entry.key !== parts.key ||
      !isDigest(entry.digest) ||
      !isDigest(entry.diffId) ||
      !(await this.store.hasBlob(entry.digest, entry.size))
    ) {
      await rm(file, { force: true });
      return undefined;
    }
    await this.store.touchBlob(entry.digest);
    return entry;
  }

  async put(
    parts: LayerCacheKeyParts,
    layer: LayerDescriptor,
    stats: { entries: number; uncompressedSize: number },
  ): Promise<void> {
    await makeDirs(this.dir);
    const entry: LayerCacheEntry = {
      key: parts.key,
      diffId: layer.diffId,
      digest: layer.digest,
      size: layer.size,
      mediaType: layer.mediaType,
      ...stats,
    };
    // Not fsynced: get() checks every entry against its key and its blob (the blob itself is durable).
    await writeFileAtomic(
      join(this.dir, `${digestHex(LayerCache.cacheId(parts))}.json`),
      canonicalJson(entry),
      this.store.tmpDir,
      { durable: false },
    );
  }
}
