/**
 * Content digests ("sha256:<64 hex>") — the only algorithm we write. Other
 * algorithms registered by the OCI spec (sha512) are rejected on input rather
 * than silently trusted, because the store could not verify them.
 */
import { createHash, type Hash } from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";
import { TantalusError } from "../errors.js";

export type Digest = `sha256:${string}`;

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

export function isDigest(value: unknown): value is Digest {
  return typeof value === "string" && DIGEST_RE.test(value);
}

/** Validate a digest string; `what` names where it came from for the error message. */
export function parseDigest(value: unknown, what = "digest"): Digest {
  if (isDigest(value)) return value;
  throw new TantalusError(
    `${what}: expected "sha256:" followed by 64 lowercase hex digits, got ${JSON.stringify(value)}`,
  );
}

/** The 64-hex part of a digest, the blob's file name under blobs/sha256/. */
export function digestHex(d: Digest): string {
  return d.slice(7);
}

export function sha256(data: Buffer | Uint8Array | string): Digest {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

/** Hash a whole stream (consumes it). */
export async function sha256Stream(
  source: AsyncIterable<Buffer | Uint8Array>,
): Promise<{ digest: Digest; size: number }> {
  const h = createHash("sha256");
  let size = 0;
  for await (const chunk of source) {
    h.update(chunk);
    size += chunk.length;
  }
  return { digest: `sha256:${h.digest("hex")}`, size };
}

/**
 * Pass-through that hashes and counts what flows through it; read `digest()`
 * and `size` after the stream has finished.
 */
export class DigestingStream extends Transform {
  private readonly hash: Hash = createHash("sha256");
  private final_: Digest | undefined;
  size = 0;

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    cb(null, chunk);
  }

  digest(): Digest {
    if (this.final_ === undefined) this.final_ = `sha256:${this.hash.digest("hex")}`;
    return this.final_;
  }
}

/** A blob whose bytes do not match the digest it is stored or referenced under. */
export class DigestMismatchError extends TantalusError {
  constructor(
    readonly what: string,
    readonly expected: Digest,
    readonly actual: Digest,
    readonly expectedSize?: number,
    readonly actualSize?: number,
  ) {
    const sizes =
      expectedSize !== undefined && actualSize !== undefined && expectedSize !== actualSize
        ? ` (expected ${expectedSize} bytes, got ${actualSize})`
        : "";
    super(
      `${what}: content does not match its digest ${expected}: got ${actual}${sizes}; the blob is corrupted or truncated`,
    );
  }
}
