/**
 * The blobs of the layout, `blobs/sha256/<hex>`: content-addressed bytes,
 * verified whenever they are read, written to a temporary name under
 * `.tantalus/tmp` and renamed into place once their digest is known (and,
 * when the caller knows it, checked). A blob that fails its check is moved
 * to `.tantalus/corrupt` so nothing reuses it. Implements `BlobReader` and
 * `BlobIngester` (./interfaces.ts) for `OciStore`.
 */
import { createReadStream } from "node:fs";
import { open, readFile, rename, rm, stat, utimes } from "node:fs/promises";
import { join } from "node:path";
import { pipeline as pipelineCb, Readable, Transform, type TransformCallback, type Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createHash } from "node:crypto";
import { TantalusError } from "../../errors.js";
import { canonicalJson } from "../canonical-json.js";
import { DigestMismatchError, digestHex, isDigest, sha256, type Digest } from "../digest.js";
import { MediaType, type Descriptor, type ImageIndex, type ImageManifest } from "../types.js";
import { makeDirs } from "../../util/dirs.js";
import { HashingFileSink } from "./blob-writer.js";
import { isErrno, tempName, writeFileAtomic } from "./fsutil.js";
import type { BlobInfo, BlobIngester, BlobReader, BlobSource, ExpectedBlob, PendingBlob } from "./interfaces.js";

export class BlobNotFoundError extends TantalusError {
  constructor(
    readonly digest: Digest,
    store: string,
  ) {
    super(`blob ${digest} is not in the store ${store}`);
  }
}

export class LayoutBlobs implements BlobReader, BlobIngester {
  readonly blobsDir: string;
  readonly tmpDir: string;

  constructor(
    readonly dir: string,
    readonly metaDir: string,
    readonly readOnly: boolean,
  ) {
    this.blobsDir = join(dir, "blobs", "sha256");
    this.tmpDir = join(metaDir, "tmp");
  }

  /** Every blob access goes through here, so a malformed digest from a foreign manifest can never name a path outside blobs/. */
  blobPath(digest: Digest): string {
    if (!isDigest(digest))
      throw new TantalusError(
        `${this.dir}: invalid blob digest ${JSON.stringify(digest)}: expected sha256:<64 lowercase hex>`,
      );
    return join(this.blobsDir, digestHex(digest));
  }

  async statBlob(digest: Digest): Promise<{ size: number; mtimeMs: number } | undefined> {
    try {
      const st = await stat(this.blobPath(digest));
      return { size: st.size, mtimeMs: st.mtimeMs };
    } catch (e) {
      if (isErrno(e, "ENOENT")) return undefined;
      throw e;
    }
  }

  async hasBlob(digest: Digest, size?: number): Promise<boolean> {
    const st = await this.statBlob(digest);
    return st !== undefined && (size === undefined || st.size === size);
  }

  /** The first of `blobs` the store lacks (or holds with another size); all are looked up at once. */
  async firstMissingBlob<T extends { digest: Digest; size: number }>(blobs: readonly T[]): Promise<T | undefined> {
    const present = await Promise.all(blobs.map((b) => this.hasBlob(b.digest, b.size)));
    return blobs.find((_, i) => !present[i]);
  }

  /**
   * Mark a blob as recently used so gc's age grace protects it while a build
   * that reuses it has not tagged its image yet.
   */
  async touchBlob(digest: Digest): Promise<void> {
    if (this.readOnly) return;
    const now = new Date();
    await utimes(this.blobPath(digest), now, now).catch((e: unknown) => {
      if (!isErrno(e, "ENOENT") && !isErrno(e, "EPERM") && !isErrno(e, "EACCES") && !isErrno(e, "EROFS")) throw e;
    });
  }

  /** Start writing a blob whose digest is not known yet (e.g. a compressed layer as it is produced). */
  async createBlobWriter(): Promise<BlobWriter> {
    this.assertWritable();
    const tmp = join(this.tmpDir, tempName(".blob"));
    const fh = await open(tmp, "wx", 0o644);
    return new BlobWriter(this, tmp, new HashingFileSink(fh, tmp, `a blob into the store ${this.dir}`));
  }

  /**
   * Store bytes. With `expected.digest` the content is verified; a stream
   * source is not read at all when that blob is already present (same size).
   */
  async putBlob(source: BlobSource, expected: ExpectedBlob = {}): Promise<BlobInfo> {
    this.assertWritable();
    const isBuffer = Buffer.isBuffer(source) || source instanceof Uint8Array;
    // Streams are not read when the blob is already there; buffers are cheap to check, so always are.
    if (expected.digest !== undefined && !isBuffer) {
      const st = await this.statBlob(expected.digest);
      if (st && (expected.size === undefined || st.size === expected.size)) {
        if (source instanceof Readable) source.destroy();
        await this.touchBlob(expected.digest);
        return { digest: expected.digest, size: st.size };
      }
    }
    if (isBuffer) {
      const buf = Buffer.isBuffer(source) ? source : Buffer.from(source.buffer, source.byteOffset, source.byteLength);
      const digest = sha256(buf);
      checkExpected("blob", expected, digest, buf.length);
      // A present blob is compared with the bytes in hand (manifests and
      // configs: a few KiB), so a build that re-tags an image repairs a
      // manifest or config corrupted on disk instead of keeping it.
      if (await this.hasBlob(digest, buf.length)) {
        if (await this.holdsBytes(digest, buf)) {
          await this.touchBlob(digest);
          return { digest, size: buf.length };
        }
        await this.quarantine(digest);
      }
      await writeFileAtomic(this.blobPath(digest), buf, this.tmpDir);
      return { digest, size: buf.length };
    }
    const writer = await this.createBlobWriter();
    try {
      await pipeline(source as AsyncIterable<Buffer>, writer.stream);
      return await writer.commit(expected);
    } catch (e) {
      await writer.abort();
      throw e;
    }
  }

  /**
   * Read a blob, verifying its digest (and size, when given) as it streams.
   * A mismatch destroys the stream with a DigestMismatchError naming the blob
   * and moves the blob to .tantalus/corrupt so it is never reused.
   */
  async openBlob(digest: Digest, opts: { size?: number } = {}): Promise<Readable> {
    const path = this.blobPath(digest);
    let st;
    try {
      st = await stat(path);
    } catch (e) {
      if (isErrno(e, "ENOENT")) throw new BlobNotFoundError(digest, this.dir);
      throw e;
    }
    if (!st.isFile()) throw notRegular(path);
    if (opts.size !== undefined && st.size !== opts.size) {
      await this.quarantine(digest);
      throw new DigestMismatchError(`blob ${path}`, digest, digest, opts.size, st.size);
    }
    const verify = new VerifyingStream(digest, path, (d) => this.quarantine(d));
    const file = createReadStream(path, { highWaterMark: 1 << 20 });
    // Linked both ways: a read error reaches the consumer, and a consumer that
    // stops early closes the file.
    pipelineCb(file, verify, () => undefined);
    return verify;
  }

  /** Read a whole (small) blob into memory, verified. */
  async readBlob(digest: Digest): Promise<Buffer> {
    const path = this.blobPath(digest);
    let buf: Buffer;
    try {
      // A blob of a layout Tantalus did not write may be anything: a FIFO would block the read forever.
      if (!(await stat(path)).isFile()) throw notRegular(path);
      buf = await readFile(path);
    } catch (e) {
      if (isErrno(e, "ENOENT")) throw new BlobNotFoundError(digest, this.dir);
      throw e;
    }
    const actual = sha256(buf);
    if (actual !== digest) {
      await this.quarantine(digest);
      throw new DigestMismatchError(`blob ${path}`, digest, actual);
    }
    return buf;
  }

  async readJsonBlob<T>(digest: Digest): Promise<T> {
    const buf = await this.readBlob(digest);
    try {
      return JSON.parse(buf.toString("utf8")) as T;
    } catch {
      throw new TantalusError(`blob ${this.blobPath(digest)}: not valid JSON`);
    }
  }

  /** Store a JSON document in canonical form and describe it. */
  async putJson(value: unknown, mediaType: string): Promise<Descriptor> {
    const bytes = Buffer.from(canonicalJson(value), "utf8");
    const { digest, size } = await this.putBlob(bytes);
    return { mediaType, digest, size };
  }

  async putManifest(manifest: ImageManifest | ImageIndex): Promise<Descriptor> {
    const mt = manifest.mediaType ?? ("layers" in manifest ? MediaType.ImageManifest : MediaType.ImageIndex);
    return this.putJson(manifest, mt);
  }

  /** Whether the stored blob `digest` is exactly `bytes` (false when it is missing or differs). */
  private async holdsBytes(digest: Digest, bytes: Buffer): Promise<boolean> {
    try {
      return (await readFile(this.blobPath(digest))).equals(bytes);
    } catch (e) {
      if (isErrno(e, "ENOENT")) return false;
      throw e;
    }
  }

  private async quarantine(digest: Digest): Promise<void> {
    if (this.readOnly) return;
    const dir = join(this.metaDir, "corrupt");
    await makeDirs(dir);
    await rename(this.blobPath(digest), join(dir, `${digestHex(digest)}.${Date.now()}`)).catch(() => undefined);
  }

  /** Internal: move a finished temp file into place. */
  async commitTemp(tmp: string, digest: Digest, size: number): Promise<void> {
    const st = await this.statBlob(digest);
    if (st && st.size === size) {
      await rm(tmp, { force: true });
      await this.touchBlob(digest);
      return;
    }
    await rename(tmp, this.blobPath(digest));
  }

  private assertWritable(): void {
    if (this.readOnly) throw new TantalusError(`${this.dir}: store opened read-only`);
  }
}

/** A blob being written: pipe bytes into `stream`, then `commit` (or `abort` on failure). */
export class BlobWriter implements PendingBlob {
  private done = false;

  constructor(
    private readonly store: Pick<LayoutBlobs, "commitTemp">,
    private readonly tmp: string,
    readonly stream: Writable & { digest(): Digest; size: number; writeSync(chunk: Buffer): void },
  ) {}

  /** The digest of what was written (valid once `stream` has finished). */
  get digest(): Digest {
    return this.stream.digest();
  }

  get size(): number {
    return this.stream.size;
  }

  async commit(expected: ExpectedBlob = {}): Promise<BlobInfo> {
    if (!this.stream.writableFinished) throw new TantalusError("BlobWriter.commit called before the stream finished");
    const digest = this.stream.digest();
    const size = this.stream.size;
    try {
      checkExpected("blob", expected, digest, size);
      await this.store.commitTemp(this.tmp, digest, size);
    } catch (e) {
      await this.abort();
      throw e;
    }
    this.done = true;
    return { digest, size };
  }

  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    this.stream.destroy();
    await rm(this.tmp, { force: true });
  }
}

class VerifyingStream extends Transform {
  private readonly hash = createHash("sha256");

  constructor(
    private readonly expected: Digest,
    private readonly path: string,
    private readonly onCorrupt: (d: Digest) => Promise<void>,
  ) {
    super({ highWaterMark: 1 << 20 });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    const actual: Digest = `sha256:${this.hash.digest("hex")}`;
    if (actual === this.expected) return cb();
    // The mismatch is the error to report, whether or not setting the blob aside worked.
    const fail = () => cb(new DigestMismatchError(`blob ${this.path}`, this.expected, actual));
    this.onCorrupt(this.expected).then(fail, fail);
  }
}

function notRegular(path: string): TantalusError {
  return new TantalusError(`blob ${path} is not a regular file; refusing to read it`);
}

function checkExpected(what: string, expected: ExpectedBlob, digest: Digest, size: number): void {
  if (
    (expected.digest !== undefined && expected.digest !== digest) ||
    (expected.size !== undefined && expected.size !== size)
  ) {
    throw new DigestMismatchError(what, expected.digest ?? digest, digest, expected.size, size);
  }
}
