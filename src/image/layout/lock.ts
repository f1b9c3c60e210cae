/**
 * An exclusive lock file guarding read-modify-write of the store's index.json
 * (and gc). Created with O_EXCL; the file records who holds it: host, pid and
 * the process's start time (so a recycled pid is not taken for the holder).
 *
 * A lock is broken only when its holder is known to be gone:
 *  - same host: the holder's pid is not running, or runs a process started at
 *    another time. A live holder is never broken however long it holds the
 *    lock: a gc suspended with Ctrl-Z keeps it, and waiters time out naming
 *    it (and saying it is stopped) instead of stealing it, because the
 *    suspended gc would later write the index it read before the theft.
 *  - another host (a store on a shared file system): we cannot see its
 *    processes, so the holder touches the file every staleMs/3 and a lock
 *    untouched for `staleMs` is stale.
 * Why not a kernel lock (flock): Node's fs has none, the npm packages that
 * add it are native addons, and flock over NFS is not reliable either; the
 * liveness check covers the same-host case exactly. Index updates are also
 * compare-and-swap (store.ts), so even a lock broken across hosts cannot make
 * a writer overwrite a tag it did not read.
 *
 * Breaking renames the stale file to a unique name first, so only one of
 * several waiters can break it; if the renamed file turns out to be a fresh
 * lock (taken between our read and our rename), it is linked back.
 */
import { link, open, readFile, rename, rm, stat, utimes } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { TantalusError } from "../../errors.js";
import { isErrno, processAlive, sleep, tempName, thisHost } from "./fsutil.js";

export interface LockOptions {
  /** Give up after this long (default 120 s). */
  timeoutMs?: number;
  /** A lock whose holder cannot be checked is stale after this long without a touch (default 60 s). */
  staleMs?: number;
}

interface LockInfo {
  host: string;
  pid: number;
  /** The holder's start time in clock ticks since boot (/proc/PID/stat field 22); absent where there is no /proc. */
  started?: string;
  /** What the holder runs, for the message a waiter gives up with. */
  command?: string;
  acquired: string;
  token: string;
}

export class StoreLock {
  private constructor(
    private readonly path: string,
    private readonly token: string,
    private readonly timer: NodeJS.Timeout,
  ) {}

  static async acquire(path: string, tmpDir: string, opts: LockOptions = {}): Promise<StoreLock> {
    const timeoutMs = opts.timeoutMs ?? 120_000;
    const staleMs = opts.staleMs ?? 60_000;
    const token = tempName();
    const started = processStartTime(process.pid);
    // The subcommand only: enough to tell a gc from a build, and no argument can leak through the lock file.
    const command = ["tantalus", ...process.argv.slice(2, 3)].join(" ");
    const info: LockInfo = {
      host: thisHost(),
      pid: process.pid,
      ...(started ? { started } : {}),
      command,
      acquired: new Date().toISOString(),
      token,
    };
    const deadline = Date.now() + timeoutMs;
    let delay = 5;
    for (;;) {
      try {
        const fh = await open(path, "wx", 0o644);
        try {
          await fh.writeFile(JSON.stringify(info));
        } finally {
          await fh.close();
        }
        const timer = setInterval(
          () => {
            const now = new Date();
            utimes(path, now, now).catch(() => undefined);
          },
          Math.max(1000, Math.floor(staleMs / 3)),
        );
        timer.unref();
        return new StoreLock(path, token, timer);
      } catch (e) {
        if (!isErrno(e, "EEXIST")) throw e;
      }
      const holder = await readHolder(path);
      if (holder && (await isStale(path, holder, staleMs))) {
        await breakLock(path, holder, tmpDir);
        continue;
      }
      if (Date.now() > deadline) {
        throw new TantalusError(
          `${path}: store is locked by ${describeHolder(holder)}; gave up after ${Math.round(timeoutMs / 1000)} s`,
        );
      }
      await sleep(delay + Math.floor(Math.random() * delay));
      delay = Math.min(delay * 2, 200);
    }
  }

  async release(): Promise<void> {
    clearInterval(this.timer);
    // Only remove the file if it is still ours (it could have been broken as stale).
    const holder = await readHolder(this.path);
    if (holder?.info?.token === this.token) await rm(this.path, { force: true });
  }
}

interface Holder {
  raw: string;
  info: LockInfo | undefined;
}

async function readHolder(path: string): Promise<Holder | undefined> {
  let raw: string;
  try {
    raw = await readFile(path, "utf8");
  } catch (e) {
    if (isErrno(e, "ENOENT")) return undefined;
    throw e;
  }
  try {
    return { raw, info: JSON.parse(raw) as LockInfo };
  } catch {
    // Holder is between create and write, or crashed in between.
    return { raw, info: undefined };
  }
}

async function isStale(path: string, holder: Holder, staleMs: number): Promise<boolean> {
  // On this host the holder's liveness decides, never the file's age: a
  // stopped or busy process does not touch its lock, yet still owns it.
  if (holder.info && holder.info.host === thisHost()) return !holderAlive(holder.info);
  try {
    const st = await stat(path);
    return Date.now() - st.mtimeMs > staleMs;
  } catch (e) {
    if (isErrno(e, "ENOENT")) return false;
    throw e;
  }
}

async function breakLock(path: string, holder: Holder, tmpDir: string): Promise<void> {
  const aside = join(tmpDir, tempName(".stale-lock"));
  try {
    await rename(path, aside);
  } catch (e) {
    if (isErrno(e, "ENOENT")) return; // someone else broke or released it
    throw e;
  }
  const moved = await readFile(aside, "utf8").catch(() => "");
  if (moved !== holder.raw) {
    // We moved a lock that was taken after our staleness check: put it back.
    await link(aside, path).catch(() => undefined);
  }
  await rm(aside, { force: true });
}

/** The holder still runs: its pid exists and (where /proc tells) was started when the lock was taken. */
function holderAlive(info: LockInfo): boolean {
  if (!processAlive(info.pid)) return false;
  if (info.started === undefined) return true;
  const now = processStartTime(info.pid);
  return now === undefined || now === info.started;
}

/** Field 22 of /proc/PID/stat (start time in clock ticks since boot), or undefined without /proc. */
export function processStartTime(pid: number): string | undefined {
  const stat = procStat(pid);
  // Fields after the command name, which is in parentheses and may hold spaces or ')'.
  return stat?.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
}

function processState(pid: number): string | undefined {
  const stat = procStat(pid);
  return stat?.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
}

function procStat(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
}

function describeHolder(holder: Holder | undefined): string {
  const info = holder?.info;
  if (!info) return "another process";
  const what = info.command ? ` (${info.command})` : "";
  let state = "";
  if (info.host === thisHost()) {
    const st = processState(info.pid);
    if (st === "T" || st === "t") state = ", which is stopped: resume it (fg) or end it, then try again";
  }
  return `pid ${info.pid}${what} on ${info.host} since ${info.acquired}${state}`;
}
