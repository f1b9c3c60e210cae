/**
 * Encode a LayerPlan as a reproducible tar with tar-stream:
 *  - ustar headers; PAX (header name "PaxHeader", no pid) only when a name or
 *    link target is longer than ustar allows or is not ASCII;
 *  - uid/gid 0, empty uname/gname, one fixed mtime for every member, no
 *    atime/ctime records, no xattrs;
 *  - permission bits kept as on the host (including setuid/setgid/sticky);
 *    symlinks 0777; directories end with "/".
 * Small files are read whole (tar-stream is ~2× faster with one Buffer per
 * entry); large ones are streamed so memory stays flat, reading exactly the
 * planned number of bytes so a file that changes meanwhile is an error, not a
 * corrupt layer.
 */
import fs, { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import type { Header, Pack } from "tar-stream";

export type TarHeader = Partial<Header> & { name: string };
import { TantalusError } from "../../errors.js";
import type { LayerPlan, PlannedEntry } from "./plan.js";

/** 1970-01-01T00:00:01Z, as Nix and Jib use: some tools treat an mtime of 0 as "unset". */
export const DEFAULT_LAYER_MTIME = new Date(1000);

export interface TarOptions {
  mtime?: Date;
  /** Files up to this size are read into one Buffer (default 1 MiB). */
  smallFileThreshold?: number;
  /** Called before each member is written (tests count archive work with it). */
  onEntry?: (entry: PlannedEntry) => void;
}

// tar-stream replaces a falsy mode with a default, so pass the file-type bits
// too (masked away by the encoder): a file with mode 0000 stays 0000.
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

export function tarHeader(e: PlannedEntry, mtime: Date): TarHeader {
  const base = { uid: 0, gid: 0, uname: "", gname: "", mtime };
  switch (e.kind) {
    case "directory":
      return { ...base, name: `${e.name}/`, type: "directory", mode: S_IFDIR | e.mode };
    case "file":
      return { ...base, name: e.name, type: "file", mode: S_IFREG | e.mode, size: e.size };
    case "symlink":
      return { ...base, name: e.name, type: "symlink", mode: S_IFLNK | 0o777, linkname: e.linkTarget! };
    case "link":
      return { ...base, name: e.name, type: "link", mode: S_IFREG | e.mode, linkname: e.linkTarget! };
  }
}

/** Write every planned member into `pack` and finalize it; resolves when the last member has been accepted. */
export async function writeTarEntries(plan: LayerPlan, pack: Pack, opts: TarOptions = {}): Promise<void> {
  const mtime = opts.mtime ?? DEFAULT_LAYER_MTIME;
  const small = opts.smallFileThreshold ?? 1 << 20;
  const entries = plan.entries;
  // Read-ahead of small files so disk (or NFS) latency overlaps with compression.
  const AHEAD = 8;
  const pending = new Map<number, Promise<HostRead>>();
  const schedule = (from: number) => {
    for (let j = from; j < entries.length && j < from + AHEAD; j++) {
      const e = entries[j]!;
      if (e.kind === "file" && e.hostPath !== undefined && e.size <= small && !pending.has(j)) {
        const p = readHostFile(e.hostPath, e.size);
        p.catch(() => undefined); // surfaced when awaited
        pending.set(j, p);
      }
    }
  };
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    opts.onEntry?.(e);
    schedule(i);
    const header = tarHeader(e, mtime);
    if (e.kind !== "file") {
      await addEntry(pack, header);
      continue;
    }
    if (e.content !== undefined) {
      await addEntry(pack, header, e.content);
      continue;
    }
    const hostPath = e.hostPath!;
    if (e.size <= small) {
      let read: HostRead;
      try {
        read = await pending.get(i)!;
      } catch (err) {
        throw new TantalusError(`cannot read ${hostPath}: ${(err as Error).message}`);
      }
      pending.delete(i);
      if (read.buf.length !== e.size || read.size !== e.size || read.mtimeMs !== e.mtimeMs) throw changed(hostPath, e.size, read.size);
      await addEntry(pack, header, read.buf);
      continue;
    }
    await new Promise<void>((resolve, reject) => {
      let bytes = 0;
      const sink = pack.entry(header, (err) => (err ? reject(err.message === "Size mismatch" ? changed(hostPath, e.size, bytes) : err) : resolve()));
      const file = createReadStream(hostPath, { start: 0, end: e.size - 1, highWaterMark: 1 << 20 });
      file.on("data", (chunk) => {
        bytes += chunk.length;
      });
      pipeline(file, sink).catch((err: Error) => reject(err.message === "Size mismatch" ? changed(hostPath, e.size, bytes) : new TantalusError(`cannot read ${hostPath}: ${err.message}`)));
    });
    await checkUnchanged(e);
  }
  pack.finalize();
}

function addEntry(pack: Pack, header: TarHeader, body?: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const cb = (err?: Error | null) => (err ? reject(err) : resolve());
    if (body !== undefined) pack.entry(header, body, cb);
    else pack.entry(header, cb);
  });
}

interface HostRead {
  buf: Buffer;
  /** fstat of the open file after reading: the content read belongs to this size and mtime. */
  size: number;
  mtimeMs: number;
}

/**
 * open → read(size) → fstat → close with the callback API: about half the
 * CPU of fs/promises readFile + stat for the thousands of small files a
 * package holds, while still off the main thread (NFS latency overlaps).
 */
function readHostFile(path: string, size: number): Promise<HostRead> {
  return new Promise((resolve, reject) => {
    fs.open(path, "r", (err, fd) => {
      if (err) return reject(err);
      const buf = Buffer.allocUnsafe(size);
      const finish = (e: Error | null, result?: HostRead) => fs.close(fd, () => (e ? reject(e) : resolve(result!)));
      const readAt = (off: number) => {
        if (off === size) {
          fs.fstat(fd, (e3, st) => (e3 ? finish(e3) : finish(null, { buf, size: st.size, mtimeMs: st.mtimeMs })));
          return;
        }
        fs.read(fd, buf, off, size - off, off, (e2, n) => {
          if (e2) return finish(e2);
          if (n === 0) return fs.fstat(fd, (e3, st) => (e3 ? finish(e3) : finish(null, { buf: buf.subarray(0, off), size: st.size, mtimeMs: st.mtimeMs })));
          readAt(off + n);
        });
      };
      readAt(0);
    });
  });
}

/** A host file whose size or mtime moved since it was listed was (or may have been) read torn. */
async function checkUnchanged(e: PlannedEntry): Promise<void> {
  let st;
  try {
    st = await stat(e.hostPath!);
  } catch (err) {
    throw new TantalusError(`${e.hostPath} disappeared while it was being archived: ${(err as Error).message}`);
  }
  if (st.size !== e.size || st.mtimeMs !== e.mtimeMs) throw changed(e.hostPath!, e.size, st.size);
}

function changed(path: string, planned: number, actual: number): TantalusError {
  return new TantalusError(`${path} changed while it was being archived (size ${planned} when listed, ${actual} now); rebuild the layer`);
}
