/**
 * Build one layer into the store in a single pass:
 *   plan → tar chunks → sha256 (diff_id) → compressor → sha256 + temp file → rename to blobs/sha256/<hex>
 * With a cache key, an earlier identical layer is reused without walking,
 * reading or compressing anything.
 *
 * The pass is a plain loop over 1 MiB chunks rather than a stream pipeline:
 * chunks are reused (ChunkPool), the compressed pieces are written to the
 * temporary file at once, and an uncompressed layer is hashed once (its
 * digest is its diff_id). Per megabyte, what remains is the compressor, two
 * digests and the reads.
 */
import { createHash } from "node:crypto";
import { once } from "node:events";
import type { Digest } from "../digest.js";
import type { BlobIngester, BlobReader, PrivateArea } from "../layout/interfaces.js";
import { layerMediaType, type LayerCompression, type LayerDescriptor } from "../types.js";
import { LayerCache } from "./cache.js";
import { DEFAULT_LEVEL, createChunkCompressor, type ChunkCompressor } from "./compress.js";
import { planLayer, type PlannedEntry } from "./plan.js";
import type { LayerSpec } from "./spec.js";
import { ChunkPool, DEFAULT_LAYER_MTIME, tarChunks } from "./tar.js";

export interface LayerOptions {
  /** Default "gzip". */
  compression?: LayerCompression;
  /** Default: gzip 6, zstd 3 (see compress.ts for why). */
  level?: number;
  /** mtime of every member; default 1970-01-01T00:00:01Z. */
  mtime?: Date;
  /**
   * Enables the layer cache: a key that changes whenever the sources'
   * content may have changed (e.g. `await fingerprintLayerSpec(spec)`).
   */
  cacheKey?: string;
  /** Annotations copied onto the layer descriptor (e.g. which Rez variants it holds). */
  annotations?: Record<string, string>;
  onEntry?: (entry: PlannedEntry) => void;
  onWarning?: (message: string) => void;
  /** Size of the tar chunks handed to the digest and compressor (tests make it small). */
  chunkBytes?: number;
}

export interface LayerResult {
  descriptor: LayerDescriptor;
  /** True when the layer came from the cache (nothing was read or compressed). */
  cached: boolean;
  /** Tar members (from the cache entry on a hit). */
  entries: number;
  /** Bytes of the uncompressed tar. */
  uncompressedSize: number;
  warnings: string[];
}

export async function writeLayer(
  store: BlobReader & BlobIngester & PrivateArea,
  spec: LayerSpec,
  opts: LayerOptions = {},
): Promise<LayerResult> {
  const compression = opts.compression ?? "gzip";
  const level = opts.level ?? DEFAULT_LEVEL[compression];
  const mtime = opts.mtime ?? DEFAULT_LAYER_MTIME;
  const cache = opts.cacheKey !== undefined ? new LayerCache(store) : undefined;
  const cacheParts = { key: opts.cacheKey ?? "", compression, level, mtime };

  if (cache) {
    const hit = await cache.get(cacheParts);
    if (hit) {
      const descriptor: LayerDescriptor = {
        mediaType: hit.mediaType,
        digest: hit.digest,
        size: hit.size,
        diffId: hit.diffId,
      };
      if (opts.annotations && Object.keys(opts.annotations).length > 0)
        descriptor.annotations = { ...opts.annotations };
      return { descriptor, cached: true, entries: hit.entries, uncompressedSize: hit.uncompressedSize, warnings: [] };
    }
  }

  const plan = planLayer(spec, opts.onWarning);
  const writer = await store.createBlobWriter();
  let failure: Error | undefined;
  let compressor: ChunkCompressor | undefined;
  try {
    const file = writer.stream;
    // gzip hands its output over from zlib's callbacks, where a throw would escape: keep the first failure for the loop.
    const out = (piece: Buffer) => {
      if (failure) return;
      try {
        file.writeSync(piece);
      } catch (e) {
        failure = e as Error;
      }
    };
    compressor = createChunkCompressor(compression, level, out);
    const diff = compressor ? createHash("sha256") : undefined;
    const pool = new ChunkPool(opts.chunkBytes);
    let tarBytes = 0;
    for (const chunk of tarChunks(plan, { mtime, pool, ...(opts.onEntry ? { onEntry: opts.onEntry } : {}) })) {
      tarBytes += chunk.length;
      if (!compressor) {
        file.writeSync(chunk);
        pool.give(chunk);
        continue;
      }
      diff!.update(chunk);
      const wait = compressor.write(chunk, () => pool.give(chunk));
      if (wait) await wait;
      if (failure) throw failure;
    }
    await compressor?.end();
    if (failure) throw failure;
    file.end();
    await once(file, "finish");
    const { digest, size } = await writer.commit();
    const diffId: Digest = diff ? `sha256:${diff.digest("hex")}` : digest;
    const descriptor: LayerDescriptor = { mediaType: layerMediaType(compression), digest, size, diffId };
    if (opts.annotations && Object.keys(opts.annotations).length > 0) descriptor.annotations = { ...opts.annotations };
    const stats = { entries: plan.entries.length, uncompressedSize: tarBytes };
    if (cache) await cache.put(cacheParts, descriptor, stats);
    return { descriptor, cached: false, ...stats, warnings: plan.warnings };
  } catch (e) {
    failure ??= e as Error;
    compressor?.abort();
    await writer.abort();
    throw e;
  }
}
