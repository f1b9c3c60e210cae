/**
 * A Writable that streams into a temporary file while hashing; the store
 * renames the file into blobs/sha256/<hex> once the digest is known. The
 * data is fsynced before close so a committed blob survives a crash.
 */
import { createHash } from "node:crypto";
import type { FileHandle } from "node:fs/promises";
import { Writable } from "node:stream";
import type { Digest } from "../digest.js";

export class HashingFileSink extends Writable {
  private readonly hash = createHash("sha256");
  private digest_: Digest | undefined;
  size = 0;

  constructor(private readonly fh: FileHandle) {
    super({ highWaterMark: 1 << 20 });
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    this.fh.write(chunk).then(() => cb(), cb);
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, cb: (e?: Error | null) => void): void {
    const bufs = chunks.map((c) => c.chunk);
    for (const b of bufs) {
      this.hash.update(b);
      this.size += b.length;
    }
    this.fh.writev(bufs).then(() => cb(), cb);
  }

  override _final(cb: (e?: Error | null) => void): void {
    this.fh.sync().then(() => this.fh.close()).then(() => cb(), cb);
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    // close() is idempotent enough: a second close rejects, which we ignore.
    this.fh.close().catch(() => undefined).finally(() => cb(err));
  }

  /** The sha256 of everything written; valid once the stream has finished. */
  digest(): Digest {
    if (this.digest_ === undefined) this.digest_ = `sha256:${this.hash.digest("hex")}`;
    return this.digest_;
  }
}
