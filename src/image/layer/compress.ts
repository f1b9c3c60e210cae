/**
 * Layer compression. Defaults and why:
 *  - gzip level 6: what docker, buildah and go-containerregistry write, so
 *    sizes match what studios already see; about 10 % smaller than level 1
 *    but ~2× slower to write. Layers are cached by content, so the cost is
 *    paid once per package variant while the size is paid on every pull.
 *    Use level 1 for fast iteration.
 *  - zstd level 3, single-threaded (nbWorkers 0): a build compresses many
 *    layers at once on its layer workers, and libzstd's multi-threaded mode
 *    costs each stream its own thread and job buffers: on the sample studio's
 *    39 layers it took a third more CPU for the same bytes. The output
 *    depends on the mode (any worker count ≥ 1 gives other bytes than 0),
 *    so the mode is fixed, never derived from the machine's core count.
 * Reproducibility caveat: compressed bytes (hence the layer digest, not the
 * diff_id) depend on the zlib / libzstd build inside Node / zstd-napi. The
 * same Node and zstd-napi versions give bit-identical layers; a different
 * version may not. The layer cache keeps the blob it made, so rebuilding on
 * the same store never changes a digest.
 *
 * zstd is optional: zstd-napi is an optionalDependency because its install
 * fetches a prebuilt addon from GitHub or compiles it against Node's headers,
 * and an offline build host has only the npm registry. Without it gzip and
 * uncompressed layers work as before; asking for zstd (writing or reading)
 * says in one sentence what is missing. Node 22's zlib zstd is not used
 * instead: its frames are not guaranteed byte-identical to zstd-napi's, and
 * a layer's digest must not depend on which one wrote it.
 */
import { PassThrough, Transform, type TransformCallback } from "node:stream";
import { createRequire } from "node:module";
import { constants as zc, createGunzip, createGzip } from "node:zlib";
import { TantalusError } from "../../errors.js";
import type { LayerCompression } from "../types.js";

/**
 * The part of zstd-napi used here, declared locally so that type-checking
 * does not need the optional package either.
 */
interface ZstdCCtx {
  setParameter(param: number, value: number): void;
  reset(directive: number): void;
  compressStream2(
    out: Uint8Array,
    input: Uint8Array,
    op: number,
  ): [remaining: number, produced: number, consumed: number];
}
interface ZstdBinding {
  CCtx: new () => ZstdCCtx;
  cStreamOutSize(): number;
  CParameter: { compressionLevel: number; nbWorkers: number; checksumFlag: number };
  EndDirective: { continue: number; end: number };
  ResetDirective: { sessionOnly: number };
}
interface ZstdModule {
  DecompressStream: new () => Transform;
}

let zstdLoaded: { binding: ZstdBinding; module: ZstdModule } | Error | undefined;

/** zstd-napi, loaded on first use; a TantalusError saying what to do when it is not installed. */
function loadZstd(purpose: string): { binding: ZstdBinding; module: ZstdModule } {
  if (zstdLoaded === undefined) {
    const require = createRequire(import.meta.url);
    try {
      zstdLoaded = {
        binding: require("zstd-napi/binding.js") as ZstdBinding,
        module: require("zstd-napi") as ZstdModule,
      };
    } catch (e) {
      zstdLoaded = e as Error;
    }
  }
  if (zstdLoaded instanceof Error) {
    throw new TantalusError(
      `${purpose} needs zstd, and the optional package zstd-napi is not installed here (its native addon could not be fetched or built: ${firstLine(zstdLoaded.message)}); ` +
        "use gzip (the default) or none, or run `npm install zstd-napi` where GitHub or a C++ compiler and Node's headers are reachable",
    );
  }
  return zstdLoaded;
}

function firstLine(text: string): string {
  return text.split("\n")[0]!.trim();
}

/** Whether `compression` can be written and read here; throws the one-sentence explanation otherwise. */
export function checkCompressionAvailable(
  compression: LayerCompression,
  purpose = `${compression} layer compression`,
): void {
  if (compression === "zstd") loadZstd(purpose);
}

export const DEFAULT_LEVEL: Record<LayerCompression, number> = { gzip: 6, zstd: 3, none: 0 };

const LEVELS: Record<Exclude<LayerCompression, "none">, [number, number]> = { gzip: [1, 9], zstd: [1, 19] };

function checkLevel(compression: Exclude<LayerCompression, "none">, level: number): void {
  const [min, max] = LEVELS[compression];
  if (!Number.isInteger(level) || level < min || level > max)
    throw new TantalusError(`${compression} level must be ${min}..${max}, got ${level}`);
}

export function createCompressor(
  compression: LayerCompression,
  level = DEFAULT_LEVEL[compression],
): Transform | undefined {
  switch (compression) {
    case "none":
      return undefined;
    case "gzip":
      checkLevel(compression, level);
      // 256 KiB of output per call: a tenth less CPU than 64 KiB at level 1 on a 200 MB tar, same bytes.
      return createGzip({ level, chunkSize: 256 * 1024, strategy: zc.Z_DEFAULT_STRATEGY });
    case "zstd":
      // The layer writer's compressor behind a stream: one place sets zstd's parameters, so both write the same bytes.
      return new ChunkCompressorStream((out) => new ZstdChunks(level, out));
  }
}

/**
 * A compressor driven chunk by chunk by the layer writer, without stream
 * machinery: output pieces go to `out` as they are produced (a piece is only
 * valid during that call), and each input chunk is handed back through
 * `release` once the compressor no longer reads it, so the writer can fill
 * it again. zstd runs on the calling thread (a layer worker); gzip runs on
 * zlib's thread pool while the caller reads the next chunk.
 */
export interface ChunkCompressor {
  /** Take `chunk`; a returned promise asks the caller to wait before the next write. */
  write(chunk: Buffer, release: () => void): Promise<void> | undefined;
  /** Flush and end the compressed stream. */
  end(): Promise<void> | undefined;
  /** Stop: the layer failed, nothing more is written or handed out. */
  abort(): void;
}

/** The chunk compressor of `compression` (none for "none"): the same bytes createCompressor writes. */
export function createChunkCompressor(
  compression: LayerCompression,
  level: number,
  out: (piece: Buffer) => void,
): ChunkCompressor | undefined {
  switch (compression) {
    case "none":
      return undefined;
    case "gzip":
      return new GzipChunks(createCompressor("gzip", level)!, out);
    case "zstd":
      return new ZstdChunks(level, out);
  }
}

/**
 * zstd contexts of this thread kept for its next layer, by level: a new
 * context allocates and clears about 3 MB of tables on its first call, which
 * on a small layer cost more than compressing it. A reused context writes
 * the same frame as a fresh one (zstd invalidates the old tables by index,
 * not by content); the build's digest tests would see otherwise.
 */
const idleContexts = new Map<number, ZstdCCtx[]>();

function takeContext(level: number): ZstdCCtx {
  const idle = idleContexts.get(level)?.pop();
  if (idle) return idle;
  const zstd = loadZstd("writing a zstd layer").binding;
  const cctx = new zstd.CCtx();
  cctx.setParameter(zstd.CParameter.compressionLevel, level);
  cctx.setParameter(zstd.CParameter.nbWorkers, 0);
  cctx.setParameter(zstd.CParameter.checksumFlag, 1);
  return cctx;
}

function giveContext(level: number, cctx: ZstdCCtx): void {
  const zstd = loadZstd("writing a zstd layer").binding;
  cctx.reset(zstd.ResetDirective.sessionOnly); // parameters stay, any unfinished frame is dropped
  const idle = idleContexts.get(level) ?? [];
  idleContexts.set(level, idle);
  if (idle.length < 4) idle.push(cctx);
}

class ZstdChunks implements ChunkCompressor {
  private readonly zstd: ZstdBinding;
  private readonly cctx: ZstdCCtx;
  private readonly buf: Buffer;
  private done = false;

  constructor(
    private readonly level: number,
    private readonly out: (piece: Buffer) => void,
  ) {
    checkLevel("zstd", level);
    this.zstd = loadZstd("writing a zstd layer").binding;
    this.buf = Buffer.allocUnsafeSlow(this.zstd.cStreamOutSize());
    this.cctx = takeContext(level);
  }

  write(chunk: Buffer, release: () => void): undefined {
    this.run(chunk, this.zstd.EndDirective.continue);
    release();
    return undefined;
  }

  end(): undefined {
    this.run(Buffer.alloc(0), this.zstd.EndDirective.end);
    this.finish();
    return undefined;
  }

  abort(): void {
    this.finish();
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    giveContext(this.level, this.cctx);
  }

  private run(input: Buffer, op: number): void {
    for (;;) {
      const [remaining, produced, consumed] = this.cctx.compressStream2(this.buf, input, op);
      if (produced > 0) this.out(this.buf.subarray(0, produced));
      input = input.subarray(consumed);
      if (input.length === 0 && (op === this.zstd.EndDirective.continue || remaining === 0)) return;
    }
  }
}

/** A chunk compressor as a Transform stream, for callers that pipe (the root-file-system import). */
class ChunkCompressorStream extends Transform {
  private readonly compressor: ChunkCompressor;

  constructor(make: (out: (piece: Buffer) => void) => ChunkCompressor) {
    super();
    // A piece is only valid during the call: the stream keeps a copy.
    this.compressor = make((piece) => this.push(Buffer.from(piece)));
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    settle(() => this.compressor.write(chunk, () => undefined), callback);
  }

  override _flush(callback: TransformCallback): void {
    settle(() => this.compressor.end(), callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.compressor.abort();
    callback(error);
  }
}

function settle(step: () => Promise<void> | undefined, callback: TransformCallback): void {
  let pending: Promise<void> | undefined;
  try {
    pending = step();
  } catch (e) {
    callback(e as Error);
    return;
  }
  if (pending) pending.then(() => callback(), callback);
  else callback();
}

class GzipChunks implements ChunkCompressor {
  /** Chunks handed to zlib and not yet compressed, oldest first. */
  private readonly queued: Promise<void>[] = [];
  private readonly ended: Promise<void>;

  constructor(
    private readonly gzip: Transform,
    out: (piece: Buffer) => void,
  ) {
    gzip.on("data", out);
    this.ended = new Promise((resolve, reject) => {
      gzip.on("end", resolve);
      gzip.on("error", reject);
    });
    this.ended.catch(() => undefined); // surfaced by write() or end()
  }

  write(chunk: Buffer, release: () => void): Promise<void> | undefined {
    const done = new Promise<void>((resolve, reject) => {
      this.gzip.write(chunk, (err) => {
        if (err) return reject(err);
        release();
        resolve();
      });
    });
    done.catch(() => undefined); // a failure surfaces through whichever await meets it first
    this.queued.push(done);
    // One chunk compressing and one waiting: reading the next overlaps with deflate on the thread pool.
    return this.queued.length > 2 ? Promise.race([this.queued.shift()!, this.ended]) : undefined;
  }

  async end(): Promise<void> {
    this.gzip.end();
    await Promise.all([...this.queued, this.ended]);
  }

  abort(): void {
    this.gzip.removeAllListeners("data");
    this.gzip.destroy();
  }
}

export function createDecompressor(compression: LayerCompression): Transform {
  switch (compression) {
    case "none":
      return new PassThrough();
    case "gzip":
      return createGunzip();
    case "zstd":
      return new (loadZstd("reading a zstd-compressed layer").module.DecompressStream)();
  }
}

/** Identify compression from the first bytes of a blob (gzip 1f8b, zstd 28b52ffd). */
export function sniffCompression(head: Buffer): LayerCompression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return "gzip";
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return "zstd";
  return "none";
}
