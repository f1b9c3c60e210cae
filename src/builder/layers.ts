/**
 * Writing the planned layers into the store. Each layer holds its variants'
 * install roots at their image paths; the layer cache key is the tree
 * fingerprint of those roots (metadata only: an untouched package is found
 * without reading or compressing a byte). Layers are written in parallel, one
 * compressor per layer, and every result lands in plan order whatever order
 * they finish in.
 */
import { availableParallelism } from "node:os";
import { DigestMismatchError, type Digest } from "../image/digest.js";
import type { BlobIngester, BlobReader, PrivateArea } from "../image/layout/interfaces.js";
import type { LayerSpec } from "../image/layer/spec.js";
import { LayerCache, type LayerCacheEntry } from "../image/layer/cache.js";
import { DEFAULT_LEVEL } from "../image/layer/compress.js";
import { writeLayer, type LayerResult } from "../image/layer/writer.js";
import type { LayerCompression, LayerDescriptor } from "../image/types.js";
import { existsSync } from "node:fs";
import { rootMapper } from "../context/root-map.js";
import type { BuildEventSink, LayerKind } from "./events.js";
import { fingerprintSpec, type FingerprintingMeasurer } from "./fingerprint.js";
import { Label } from "../image/contract.js";
import type { BuildLayer } from "./plan.js";
import { LayerWorkerPool } from "./worker-pool.js";

export interface LayerWriteOptions {
  compression: LayerCompression;
  level?: number;
  mtime: Date;
  /** Layers written at once (default: CPUs, at most 4). */
  jobs?: number;
  /** Write package layers on worker threads (default true; false writes them on this thread). */
  workers?: boolean;
  /**
   * Read back every layer taken from the cache and check its digest; a
   * corrupted blob is moved aside (the store quarantines it) and the layer is
   * written again from its sources.
   */
  verify?: boolean;
  onEvent: BuildEventSink;
  /** Stop handing out layers (those being written finish): the build failed elsewhere meanwhile. */
  signal?: AbortSignal;
}

/** What writePackageLayers found before writing: the counts a user sees should add up. */
export interface PackageLayerCounts {
  /** Layers the cache lacks: archived and compressed now. */
  toWrite: number;
  /** Layers the layer cache has. */
  reused: number;
  /** Planned layers none of whose variants has files: left out of the images. */
  empty: number;
}

export interface WrittenLayer {
  descriptor: LayerDescriptor;
  kind: LayerKind;
  cached: boolean;
  uncompressedSize: number;
  /** history[].comment: what is in the layer. */
  comment: string;
}

/** Cache keys of build layers carry this, so a change to how layers are laid out invalidates them. */
const KEY_PREFIX = "tantalus.build/v1";

export function defaultJobs(): number {
  return Math.max(1, Math.min(4, availableParallelism()));
}

/** The LayerSpec of a planned layer: each variant's root at its image path (roots that do not exist hold nothing). */
export function packageLayerSpec(layer: BuildLayer, rootMap: Readonly<Record<string, string>>): LayerSpec {
  const map = rootMapper(rootMap);
  return {
    entries: layer.variants
      .filter((v) => existsSync(v.root))
      .map((v) => ({ type: "tree" as const, source: v.root, path: map(v.root) })),
  };
}

/** The layer cache key of a spec: its kind and the fingerprint of its sources (see fingerprint.ts). */
export function layerCacheKey(kind: LayerKind, spec: LayerSpec, roots?: FingerprintingMeasurer): string {
  return `${KEY_PREFIX}:${kind}:${fingerprintSpec(spec, roots)}`;
}

export interface PreparedLayer {
  layer: BuildLayer;
  /** Null when none of its variants has files: the layer is left out. */
  spec: LayerSpec | null;
  cacheKey: string;
}

/** Specs and cache keys of planned layers: a walk of their roots (metadata only). */
export function preparePackageLayers(
  layers: readonly BuildLayer[],
  rootMap: Readonly<Record<string, string>>,
  roots?: FingerprintingMeasurer,
): Map<string, PreparedLayer> {
  const out = new Map<string, PreparedLayer>();
  for (const layer of layers) {
    const spec = packageLayerSpec(layer, rootMap);
    out.set(
      layer.key,
      spec.entries.length === 0
        ? { layer, spec: null, cacheKey: "" }
        : { layer, spec, cacheKey: layerCacheKey("packages", spec, roots) },
    );
  }
  return out;
}

/**
 * Write prepared layers; returns planner key → written layer, or null for a
 * layer whose variants have no files at all (it is left out).
 */
export async function writePackageLayers(
  store: BlobReader & BlobIngester & PrivateArea,
  prepared: ReadonlyMap<string, PreparedLayer>,
  opts: LayerWriteOptions & { onCounts?: (counts: PackageLayerCounts) => void },
): Promise<Map<string, WrittenLayer | null>> {
  const out = new Map<string, WrittenLayer | null>();
  // Biggest first, so a large DCC layer does not start last and hold up the build alone.
  const order = (a: PreparedLayer, b: PreparedLayer) =>
    b.layer.bytes - a.layer.bytes || (a.layer.key < b.layer.key ? -1 : 1);
  const queue = [...prepared.values()].sort(order);
  const jobs = opts.jobs ?? defaultJobs();
  // Workers pay off for real work only: starting one costs more than a few small layers.
  const misses: PreparedLayer[] = [];
  const found = new Map<string, LayerCacheEntry>();
  await mapLimit(queue, 8, async (p) => {
    if (!p.spec) return;
    const entry = await lookupCache(store, p.cacheKey, opts);
    if (entry) found.set(p.layer.key, entry);
    else misses.push(p);
  });
  opts.onCounts?.({ toWrite: misses.length, reused: found.size, empty: queue.length - misses.length - found.size });
  const missBytes = misses.reduce((s, p) => s + p.layer.bytes, 0);
  const useWorkers = opts.workers !== false && jobs > 1 && misses.length > 1 && missBytes >= WORKER_MIN_BYTES;
  const pool = useWorkers ? new LayerWorkerPool(Math.min(jobs, misses.length)) : undefined;
  try {
    await writeQueue(store, queue, jobs, pool, opts, found, out);
  } finally {
    await pool?.close();
  }
  return out;
}

async function writeQueue(
  store: BlobReader & BlobIngester & PrivateArea,
  queue: readonly PreparedLayer[],
  jobs: number,
  pool: LayerWorkerPool | undefined,
  opts: LayerWriteOptions,
  found: ReadonlyMap<string, LayerCacheEntry>,
  out: Map<string, WrittenLayer | null>,
): Promise<void> {
  // Cache lookups and small layers wait on the disk, not the CPU: more of them at once than workers.
  await mapLimit(queue, pool ? jobs * 2 : jobs, async ({ layer, spec, cacheKey }) => {
    if (opts.signal?.aborted) return;
    if (!spec) {
      out.set(layer.key, null);
      return;
    }
    const names = layer.variants.map((v) => v.qualifiedName);
    const written = await writeOneLayer(store, spec, {
      ...opts,
      cacheKey,
      cacheEntry: found.get(layer.key) ?? null,
      ...(pool ? { pool } : {}),
      id: layer.key,
      kind: "packages",
      label: `${layer.tier}: ${abbreviate(names)}`,
      expectedBytes: layer.bytes,
      annotations: {
        [Label.LayerKind]: "packages",
        [Label.LayerTier]: layer.tier,
        [Label.LayerVariants]: names.join(" "),
      },
      comment: `rez variants: ${names.join(" ")}`,
    });
    out.set(layer.key, written);
  });
}

export interface OneLayerOptions extends LayerWriteOptions {
  /** Precomputed layerCacheKey(kind, spec). */
  cacheKey?: string;
  /** Write on a worker thread of this pool (cache hits are still found on this thread). */
  pool?: LayerWorkerPool;
  /** The layer cache's entry when the caller already looked (null: it had none). */
  cacheEntry?: LayerCacheEntry | null;
  id: string;
  kind: LayerKind;
  label: string;
  expectedBytes: number;
  annotations: Record<string, string>;
  comment: string;
}

/** One layer through the cache, with progress events. */
export async function writeOneLayer(
  store: BlobReader & BlobIngester & PrivateArea,
  spec: LayerSpec,
  opts: OneLayerOptions,
): Promise<WrittenLayer> {
  const cacheKey = opts.cacheKey ?? layerCacheKey(opts.kind, spec);
  const first = await writeCached(store, spec, cacheKey, opts);
  if (!first.cached || !opts.verify || (await blobIsIntact(store, first.descriptor))) return first;
  opts.onEvent({
    type: "warning",
    message: `layer ${first.descriptor.digest} (${opts.label}) is corrupted in the store: moved aside, writing it again`,
  });
  const { cacheEntry: _stale, ...again } = opts;
  return writeCached(store, spec, cacheKey, again);
}

/**
 * Read a blob through the store's digest check. False when it does not match
 * (the store has then moved it to .tantalus/corrupt, so it is never used again).
 */
export async function blobIsIntact(store: BlobReader, d: { digest: Digest; size: number }): Promise<boolean> {
  try {
    const stream = await store.openBlob(d.digest, { size: d.size });
    for await (const _chunk of stream) {
      // reading is the check
    }
    return true;
  } catch (e) {
    if (e instanceof DigestMismatchError) return false;
    throw e;
  }
}

async function writeCached(
  store: BlobReader & BlobIngester & PrivateArea,
  spec: LayerSpec,
  cacheKey: string,
  opts: OneLayerOptions,
): Promise<WrittenLayer> {
  const t0 = performance.now();
  let started = false;
  let lastReport = 0;
  const progress = (archived: number) => {
    if (!started) {
      started = true;
      opts.onEvent({ type: "layer-start", id: opts.id, label: opts.label, kind: opts.kind, bytes: opts.expectedBytes });
    }
    // Events at most every 4 MB: thousands of small files would flood the display otherwise.
    if (archived - lastReport >= 4 << 20) {
      lastReport = archived;
      opts.onEvent({ type: "layer-progress", id: opts.id, bytes: archived });
    }
  };
  const onWarning = (message: string) => opts.onEvent({ type: "warning", message });
  let res: LayerResult;
  // A hit is looked up here unless the caller did; without a pool, writeLayer looks itself.
  const entry =
    opts.cacheEntry !== undefined ? opts.cacheEntry : opts.pool ? await lookupCache(store, cacheKey, opts) : undefined;
  if (entry) res = cachedResult(entry, opts.annotations);
  else if (opts.pool) {
    res = await opts.pool.run(
      {
        storeDir: store.dir,
        spec,
        compression: opts.compression,
        ...(opts.level !== undefined ? { level: opts.level } : {}),
        mtimeMs: opts.mtime.getTime(),
        cacheKey,
        annotations: opts.annotations,
      },
      progress,
      onWarning,
    );
  } else {
    let archived = 0;
    res = await writeLayer(store, spec, {
      compression: opts.compression,
      ...(opts.level !== undefined ? { level: opts.level } : {}),
      mtime: opts.mtime,
      cacheKey,
      annotations: opts.annotations,
      onWarning,
      onEntry: (entry) => progress((archived += entry.size)),
    });
  }
  opts.onEvent({
    type: "layer-done",
    id: opts.id,
    label: opts.label,
    kind: opts.kind,
    cached: res.cached,
    digest: res.descriptor.digest,
    uncompressedSize: res.uncompressedSize,
    size: res.descriptor.size,
    seconds: (performance.now() - t0) / 1000,
  });
  return {
    descriptor: res.descriptor,
    kind: opts.kind,
    cached: res.cached,
    uncompressedSize: res.uncompressedSize,
    comment: opts.comment,
  };
}

/** Below this many bytes to archive, layers are written on this thread. */
const WORKER_MIN_BYTES = 32 << 20;

async function lookupCache(
  store: BlobReader & BlobIngester & PrivateArea,
  key: string,
  opts: LayerWriteOptions,
): Promise<LayerCacheEntry | undefined> {
  return new LayerCache(store).get({
    key,
    compression: opts.compression,
    level: opts.level ?? DEFAULT_LEVEL[opts.compression],
    mtime: opts.mtime,
  });
}

function cachedResult(entry: LayerCacheEntry, annotations: Record<string, string>): LayerResult {
  const descriptor: LayerDescriptor = {
    mediaType: entry.mediaType,
    digest: entry.digest,
    size: entry.size,
    diffId: entry.diffId,
  };
  if (Object.keys(annotations).length > 0) descriptor.annotations = { ...annotations };
  return { descriptor, cached: true, entries: entry.entries, uncompressedSize: entry.uncompressedSize, warnings: [] };
}

function abbreviate(names: readonly string[]): string {
  if (names.length <= 3) return names.join(" ");
  return `${names.slice(0, 3).join(" ")} +${names.length - 3} more`;
}

/** Run `fn` over `items` with at most `limit` at once; the first failure rejects (after the others settle). */
export async function mapLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: unknown;
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (e) {
        failure ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  // eslint-disable-next-line @typescript-eslint/only-throw-error -- the first failure, rethrown as fn threw it
  if (failure !== undefined) throw failure;
}
