/**
 * A Writable that streams into a temporary file while hashing; the store
 * renames the file into blobs/sha256/<hex> once the digest is known. The
 * data is fsynced before close so a committed blob survives a crash.
 */
import { createHash } from "node:crypto";
import { WriteError, writeAllSync, writevAll } from "../../util/atomic.js";
import type { FileHandle } from "node:fs/promises";
import { Writable } from "node:stream";
import type { Digest } from "../digest.js";

export class HashingFileSink extends Writable {
  private readonly hash = createHash("sha256");
  private digest_: Digest | undefined;
  // Tar output arrives as many small chunks (512-byte headers, padding);
  // gathering them into ~1 MiB writes saves thousands of thread-pool round trips.
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  size = 0;

  /** `file` is the temporary file's path; `what` names it in errors ("cannot write a blob into the store S: no space left on device"). */
  constructor(
    private readonly fh: FileHandle,
    private readonly file: string,
    private readonly what: string = file,
  ) {
    super({ highWaterMark: 1 << 20 });
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.take(chunk);
    if (this.pendingBytes >= FLUSH_BYTES) this.flush(cb);
    else cb();
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, cb: (e?: Error | null) => void): void {
    for (const c of chunks) this.take(c.chunk);
    if (this.pendingBytes >= FLUSH_BYTES) this.flush(cb);
    else cb();
  }

  override _final(cb: (e?: Error | null) => void): void {
    this.flush((err) => {
      if (err) return cb(err);
      this.fh
        .sync()
        .then(() => this.fh.close())
        .then(
          () => cb(),
          (e: unknown) => cb(this.failed(e)),
        );
    });
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    // close() is idempotent enough: a second close rejects, which we ignore.
    this.fh
      .close()
      .catch(() => undefined)
      .finally(() => cb(err));
  }

  /**
   * Write at once on this thread, bypassing the stream (the layer writers on
   * worker threads: the page cache takes the bytes faster than a thread-pool
   * round trip). Finish with end() as usual. Not to be mixed with write().
   */
  writeSync(chunk: Buffer): void {
    if (this.pendingBytes > 0) throw new Error("HashingFileSink.writeSync after buffered writes");
    this.hash.update(chunk);
    this.size += chunk.length;
    try {
      writeAllSync(this.fh.fd, chunk);
    } catch (e) {
      throw this.failed(e);
    }
  }

  /** The sha256 of everything written; valid once the stream has finished. */
  digest(): Digest {
    if (this.digest_ === undefined) this.digest_ = `sha256:${this.hash.digest("hex")}`;
    return this.digest_;
  }

  private failed(e: unknown): Error {
    return e instanceof WriteError ? e : new WriteError(this.file, e, this.what);
  }

  private take(chunk: Buffer): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
  }

  private flush(cb: (e?: Error | null) => void): void {
    if (this.pendingBytes === 0) return cb();
    const bufs = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    writevAll(this.fh, bufs).then(
      () => cb(),
      (e: unknown) => cb(this.failed(e)),
    );
  }
}

const FLUSH_BYTES = 1 << 20;
