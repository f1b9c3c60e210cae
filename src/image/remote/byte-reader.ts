/**
 * Reads a blob stream in exact-length slices, so one source stream can feed
 * several upload chunks (each a request body of its own) without buffering a
 * chunk in memory.
 */
import type { Readable } from "node:stream";
import { TantalusError } from "../../errors.js";

/** The local blob is not what its size says: the store is at fault, retrying cannot help. */
export class BlobSourceError extends TantalusError {}

export class ByteReader {
  private readonly it: AsyncIterator<unknown>;
  private pending: Buffer | undefined;
  /** First failure of the source itself (as opposed to the network), kept for the uploader. */
  failure: Error | undefined;

  constructor(
    private readonly stream: Readable,
    private readonly what: string,
  ) {
    this.it = stream[Symbol.asyncIterator]();
  }

  private async next(): Promise<Buffer | undefined> {
    if (this.pending) {
      const p = this.pending;
      this.pending = undefined;
      return p;
    }
    let r: IteratorResult<unknown>;
    try {
      r = await this.it.next();
    } catch (err) {
      this.failure = new BlobSourceError(`${this.what}: reading the local blob failed: ${(err as Error).message}`);
      throw this.failure;
    }
    if (r.done) return undefined;
    return Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value as Uint8Array);
  }

  /** Yield exactly `n` bytes. */
  async *take(n: number, onBytes?: (count: number) => void): AsyncGenerator<Uint8Array> {
    let left = n;
    while (left > 0) {
      const chunk = await this.next();
      if (chunk === undefined) {
        this.failure = new BlobSourceError(`${this.what}: the local blob ended ${left} bytes early`);
        throw this.failure;
      }
      if (chunk.length > left) {
        this.pending = chunk.subarray(left);
        onBytes?.(left);
        yield chunk.subarray(0, left);
        left = 0;
      } else {
        left -= chunk.length;
        onBytes?.(chunk.length);
        yield chunk;
      }
    }
  }

  async readAll(n: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const c of this.take(n)) parts.push(Buffer.from(c));
    await this.expectEnd();
    return Buffer.concat(parts, n);
  }

  async skip(n: number): Promise<void> {
    for await (const _ of this.take(n)) {
      // discard
    }
  }

  /** The source must be exhausted now; a longer blob than its size means a corrupt store. */
  async expectEnd(): Promise<void> {
    const extra = await this.next();
    if (extra !== undefined && extra.length > 0) {
      this.failure = new BlobSourceError(`${this.what}: the local blob is longer than its recorded size`);
      throw this.failure;
    }
  }

  close(): void {
    this.stream.destroy();
  }
}
