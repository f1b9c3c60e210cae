/**
 * File-system helpers for the store: temporary names that identify their
 * writer (so a later run can tell a dead writer's leftovers from a live
 * writer's work in progress), atomic replace, and liveness checks.
 */
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { join } from "node:path";
import { writeFileAtomicAsync } from "../../util/atomic.js";

const HOST = hostname().replace(/[^A-Za-z0-9_.-]/g, "_");

/** `<host>~<pid>~<random><suffix>`: the owner can be recovered from the name. */
export function tempName(suffix = ""): string {
  return `${HOST}~${process.pid}~${randomBytes(6).toString("hex")}${suffix}`;
}

export interface TempOwner {
  host: string;
  pid: number;
}

export function parseTempName(name: string): TempOwner | undefined {
  const m = /^(.+)~(\d+)~[0-9a-f]+/.exec(name);
  return m ? { host: m[1]!, pid: Number(m[2]) } : undefined;
}

export function thisHost(): string {
  return HOST;
}

/** True when `pid` is a running process on this host (EPERM means it exists but is not ours). */
export function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Whether a temp file left by `owner` can be removed: its writer is a dead process on this host. */
export function ownerIsGone(owner: TempOwner): boolean {
  return owner.host === HOST && !processAlive(owner.pid);
}

/**
 * Write `data` to `dest` atomically through the one atomic writer
 * (src/util/atomic.ts), with a temp name in `tmpDir` that identifies this
 * writer. `durable: false` skips the fsync, for entries that are checked
 * when read (a torn one after a power loss is a miss, never a wrong answer):
 * a build writes one per layer, and waiting on the disk for each cost more
 * than compressing a small layer.
 */
export function writeFileAtomic(
  dest: string,
  data: Buffer | string,
  tmpDir: string,
  opts: { durable?: boolean } = {},
): Promise<void> {
  return writeFileAtomicAsync(dest, data, { tmpPath: join(tmpDir, tempName(".write")), durable: opts.durable });
}

export function isErrno(e: unknown, code: string): boolean {
  return typeof e === "object" && e !== null && (e as NodeJS.ErrnoException).code === code;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
