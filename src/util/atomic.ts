/**
 * The one owner of whole-file writes. Readers see the old content or the new,
 * never half of it: the bytes go to a temporary name in the same directory
 * (or a given temp directory on the same file system), every byte is written
 * (write(2) may write fewer bytes than asked, e.g. on a nearly full file
 * system: we loop, and a write that makes no progress is an error), flushed,
 * and only then renamed over the target. On any failure the temporary file
 * is removed, the old file is untouched, and the error is one sentence naming
 * the file and the cause ("no space left on device").
 *
 * Both forms share the same steps; the synchronous one serves the CLI's small
 * outputs (contexts, scripts, stamps, caches), the asynchronous one the store.
 */
import fs from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { open, rename, rm } from "node:fs/promises";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { TantalusError, systemErrorText } from "../errors.js";
import { makeDirs, makeDirsSync } from "./dirs.js";

export interface AtomicWriteOptions {
  /** Permission bits of a new file (default 0o644). */
  mode?: number;
  /** Where the temporary file goes (default: the target's directory); must be on the same file system. */
  tmpDir?: string;
  /** Full temporary path (overrides tmpDir), for callers whose temp names identify their writer. */
  tmpPath?: string;
  /**
   * fsync before the rename (default true). `false` for entries that are
   * checked when read, where a torn one after a power loss is a miss.
   */
  durable?: boolean;
  /** Create the target's directory first (default true for the synchronous form). */
  mkdir?: boolean;
}

const HOST = hostname().replace(/[^A-Za-z0-9_.-]/g, "_");

function tempPathFor(file: string, opts: AtomicWriteOptions): string {
  if (opts.tmpPath !== undefined) return opts.tmpPath;
  const dir = opts.tmpDir ?? path.dirname(file);
  // <host>~<pid>~<random>: the store's temp cleaner recognises dead writers' leftovers by this shape.
  return path.join(dir, `.${path.basename(file)}.${HOST}~${process.pid}~${randomBytes(6).toString("hex")}.tmp`);
}

function toBytes(data: string | Uint8Array): Uint8Array {
  return typeof data === "string" ? Buffer.from(data, "utf8") : data;
}

/**
 * The cause of a failed file operation in words: `ENOSPC` → "no space left on
 * device (ENOSPC)", as every other file error is said (systemErrorText); a
 * missing folder is worded for the file being written.
 */
export function describeFsError(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err?.code === "ENOENT") return "its directory does not exist (ENOENT)";
  if (err?.code === "EXDEV") return "the temporary file is on another file system (EXDEV)";
  return systemErrorText(e);
}

/** An error that says which file could not be written and why. */
export class WriteError extends TantalusError {
  /** `what` replaces the path in the message when the path means nothing to a user (a store's temporary file). */
  constructor(
    readonly file: string,
    cause: unknown,
    what: string = file,
  ) {
    super(`cannot write ${what}: ${describeFsError(cause)}`);
    this.cause = cause;
  }
}

/** Raised when write(2) returns 0 for a non-empty buffer: looping again would never end. */
function noProgress(): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error("write made no progress");
  // A regular file only stops accepting bytes without an error when it is out of room.
  e.code = "ENOSPC";
  return e;
}

/** write(2) until every byte of `bytes` is written, from the current position. */
export function writeAllSync(fd: number, bytes: Uint8Array): void {
  for (let off = 0; off < bytes.length;) {
    const n = fs.writeSync(fd, bytes, off, bytes.length - off);
    if (n <= 0) throw noProgress();
    off += n;
  }
}

/** write(2) until every byte of `bytes` is written, from the current position. */
export async function writeAll(fh: FileHandle, bytes: Uint8Array): Promise<void> {
  for (let off = 0; off < bytes.length;) {
    const { bytesWritten } = await fh.write(bytes, off, bytes.length - off);
    if (bytesWritten <= 0) throw noProgress();
    off += bytesWritten;
  }
}

/** writev(2) until every byte of every buffer is written. */
export async function writevAll(fh: FileHandle, bufs: readonly Uint8Array[]): Promise<void> {
  let rest = [...bufs];
  while (rest.length > 0) {
    const total = rest.reduce((n, b) => n + b.length, 0);
    const { bytesWritten } = await fh.writev(rest);
    if (bytesWritten === total) return;
    if (bytesWritten <= 0) throw noProgress();
    let skip = bytesWritten;
    const next: Uint8Array[] = [];
    for (const b of rest) {
      if (skip >= b.length) {
        skip -= b.length;
        continue;
      }
      next.push(skip > 0 ? b.subarray(skip) : b);
      skip = 0;
    }
    rest = next;
  }
}

/** Write `data` to `file` atomically (see the module comment). Throws WriteError. */
export function writeFileAtomic(
  file: string,
  data: string | Uint8Array,
  modeOrOptions?: number | AtomicWriteOptions,
): void {
  const opts: AtomicWriteOptions = typeof modeOrOptions === "number" ? { mode: modeOrOptions } : (modeOrOptions ?? {});
  const tmp = tempPathFor(file, opts);
  try {
    if (opts.mkdir !== false) makeDirsSync(path.dirname(file));
    const fd = fs.openSync(tmp, "wx", opts.mode ?? 0o644);
    try {
      writeAllSync(fd, toBytes(data));
      if (opts.durable !== false) fs.fsyncSync(fd);
    } finally {
      // A close error (NFS reports some write errors only here) fails the write too.
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (e) {
    // Best effort: where the folder refused the write it may refuse this too, and the write's error is the one to report.
    try {
      fs.rmSync(tmp, { force: true });
    } catch {
      // nothing was left, or nothing can be done
    }
    throw e instanceof TantalusError ? e : new WriteError(file, e);
  }
}

/** The asynchronous form of writeFileAtomic (same steps, same errors). */
export async function writeFileAtomicAsync(
  file: string,
  data: string | Uint8Array,
  opts: AtomicWriteOptions = {},
): Promise<void> {
  const tmp = tempPathFor(file, opts);
  try {
    if (opts.mkdir === true) await makeDirs(path.dirname(file));
    const fh = await open(tmp, "wx", opts.mode ?? 0o644);
    try {
      await writeAll(fh, toBytes(data));
      if (opts.durable !== false) await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw e instanceof TantalusError ? e : new WriteError(file, e);
  }
}
