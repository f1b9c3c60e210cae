/**
 * An exclusive lock file guarding read-modify-write of the store's index.json
 * (and gc). Created with O_EXCL; the file records who holds it so a lock left
 * by a killed process can be recognised and broken:
 *  - same host, holder pid not running → stale at once;
 *  - otherwise stale when its mtime is older than `staleMs`. A live holder
 *    touches the file every staleMs/3, so a long gc keeps its lock.
 * Breaking renames the stale file to a unique name first, so only one of
 * several waiters can break it; if the renamed file turns out to be a fresh
 * lock (taken between our read and our rename), it is linked back.
 */
import { link, open, readFile, rename, rm, stat, utimes } from "node:fs/promises";
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
    const info: LockInfo = { host: thisHost(), pid: process.pid, acquired: new Date().toISOString(), token };
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
        const timer = setInterval(() => {
          const now = new Date();
          utimes(path, now, now).catch(() => undefined);
        }, Math.max(1000, Math.floor(staleMs / 3)));
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
        const who = holder?.info ? `pid ${holder.info.pid} on ${holder.info.host} since ${holder.info.acquired}` : "another process";
        throw new TantalusError(`${path}: store is locked by ${who}; gave up after ${Math.round(timeoutMs / 1000)} s`);
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
  if (holder.info && holder.info.host === thisHost() && !processAlive(holder.info.pid)) return true;
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
