/**
 * Encode a LayerPlan as a reproducible tar, synchronously, into large chunks:
 *  - ustar headers; a PAX record (header name "PaxHeader", no pid) only when
 *    a name does not fit ustar's name/prefix fields or is not ASCII, or a
 *    link target is longer than 100 bytes;
 *  - uid/gid 0, empty uname/gname, one fixed mtime for every member, no
 *    atime/ctime records, no xattrs;
 *  - permission bits kept as on the host (including setuid/setgid/sticky);
 *    symlinks 0777; directories end with "/".
 * The bytes are exactly those tar-stream's packer writes for the same
 * members (test/image/tar-encoding.test.ts compares them), so layers keep
 * their digests. Written by hand because tar-stream is a stream per member
 * with a callback per write: on a package tree of small files its
 * bookkeeping, and a thread-pool round trip for each open/read/fstat/close,
 * cost more than compressing the bytes. Here each host file is read with
 * synchronous calls straight into the chunk being filled (no copy), and only
 * whole chunks travel on to the digest and the compressor. The layer writers
 * run on worker threads, so blocking one of them on a read blocks nothing
 * else.
 *
 * A host file is read for exactly the planned number of bytes and checked
 * against its planned size and mtime afterwards (fstat of the open file), so
 * a file that changes meanwhile is an error, never a torn member.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { TantalusError } from "../../errors.js";
import type { LayerPlan, PlannedEntry } from "./plan.js";

/** 1970-01-01T00:00:01Z, as Nix and Jib use: some tools treat an mtime of 0 as "unset". */
export const DEFAULT_LAYER_MTIME = new Date(1000);

/** Bytes handed on at a time: big enough that per-chunk costs vanish, small enough to stay in cache-friendly memory. */
export const TAR_CHUNK_BYTES = 1 << 20;

export interface TarOptions {
  mtime?: Date;
  /** Where chunks come from: give each one back once consumed and it is filled again (default: a fresh pool). */
  pool?: ChunkPool;
  /** Called before each member is written (tests count archive work with it). */
  onEntry?: (entry: PlannedEntry) => void;
}

/**
 * Chunks of one size, reused: a fresh 1 MiB buffer per chunk costs the
 * kernel a page fault per 4 KiB, more than reading the file into it.
 */
export class ChunkPool {
  private readonly free: Buffer[] = [];

  constructor(readonly size = TAR_CHUNK_BYTES) {}

  take(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafeSlow(this.size);
  }

  /** Hand back a chunk from take() (or a view of its start) that nobody reads any more. */
  give(chunk: Buffer): void {
    if (chunk.byteOffset === 0 && chunk.buffer.byteLength === this.size)
      this.free.push(Buffer.from(chunk.buffer, 0, this.size));
  }
}

/** The tar of `plan`, as a sequence of chunks from the pool (the last one may be shorter). */
export function* tarChunks(plan: LayerPlan, opts: TarOptions = {}): Generator<Buffer, void, undefined> {
  const seconds = Math.trunc((opts.mtime ?? DEFAULT_LAYER_MTIME).getTime() / 1000);
  const out = new ChunkFiller(opts.pool ?? new ChunkPool());
  for (const e of plan.entries) {
    opts.onEntry?.(e);
    writeHeader(out, memberHeader(e, seconds));
    if (e.kind === "file") {
      if (e.content !== undefined) out.bytes(e.content);
      else yield* readHostFile(out, e);
      out.zeros(padding(e.size));
    }
    yield* out.takeFull();
  }
  out.zeros(1024);
  yield* out.takeAll();
}

interface MemberHeader {
  name: string;
  /** Permission bits. */
  mode: number;
  size: number;
  mtime: number;
  typeflag: number;
  linkname: string;
}

const TYPEFLAG = { file: 0, link: 1, symlink: 2, directory: 5, pax: 72 } as const;

function memberHeader(e: PlannedEntry, mtime: number): MemberHeader {
  switch (e.kind) {
    case "directory":
      return { name: `${e.name}/`, mode: e.mode, size: 0, mtime, typeflag: TYPEFLAG.directory, linkname: "" };
    case "file":
      return { name: e.name, mode: e.mode, size: e.size, mtime, typeflag: TYPEFLAG.file, linkname: "" };
    case "symlink":
      return { name: e.name, mode: 0o777, size: 0, mtime, typeflag: TYPEFLAG.symlink, linkname: e.linkTarget! };
    case "link":
      return { name: e.name, mode: e.mode, size: 0, mtime, typeflag: TYPEFLAG.link, linkname: e.linkTarget! };
  }
}

const USTAR_MAGIC = Buffer.from("ustar\u000000", "latin1");

function writeHeader(out: ChunkFiller, h: MemberHeader): void {
  const block = Buffer.alloc(512);
  if (encodeUstar(block, h)) {
    out.bytes(block);
    return;
  }
  // The member's name or link target in a PAX extended header; the ustar headers around it carry placeholders.
  let records = paxRecord("path", h.name);
  if (h.linkname) records += paxRecord("linkpath", h.linkname);
  const pax = Buffer.from(records, "utf8");
  const placeholder = h.linkname ? "PaxHeader" : "";
  encodeUstar(block, { ...h, name: "PaxHeader", size: pax.length, typeflag: TYPEFLAG.pax, linkname: placeholder });
  out.bytes(block);
  out.bytes(pax);
  out.zeros(padding(pax.length));
  block.fill(0);
  encodeUstar(block, { ...h, name: "PaxHeader", linkname: placeholder });
  out.bytes(block);
}

/** Fill a zeroed 512-byte ustar header; false when the name or link target does not fit (PAX is needed). */
function encodeUstar(block: Buffer, h: MemberHeader): boolean {
  let name = h.name;
  if (Buffer.byteLength(name) !== name.length) return false;
  let prefix = "";
  while (name.length > 100) {
    const i = name.indexOf("/");
    if (i === -1) return false;
    prefix += prefix ? `/${name.slice(0, i)}` : name.slice(0, i);
    name = name.slice(i + 1);
  }
  if (prefix.length > 155 || Buffer.byteLength(h.linkname) > 100) return false;
  block.write(name, 0, "utf8");
  block.write(octal(h.mode & 0o7777, 6), 100, "latin1");
  block.write(octal(0, 6), 108, "latin1");
  block.write(octal(0, 6), 116, "latin1");
  if (h.size.toString(8).length > 11) {
    // base-256 for sizes of 8 GiB and more
    block[124] = 0x80;
    let n = h.size;
    for (let i = 11; i > 0; i--) {
      block[124 + i] = n & 0xff;
      n = Math.floor(n / 0x100);
    }
  } else {
    block.write(octal(h.size, 11), 124, "latin1");
  }
  block.write(octal(h.mtime, 11), 136, "latin1");
  block[156] = 0x30 + h.typeflag;
  if (h.linkname) block.write(h.linkname, 157, "utf8");
  USTAR_MAGIC.copy(block, 257);
  block.write(octal(0, 6), 329, "latin1");
  block.write(octal(0, 6), 337, "latin1");
  if (prefix) block.write(prefix, 345, "latin1");
  let sum = 8 * 32;
  for (let i = 0; i < 148; i++) sum += block[i]!;
  for (let i = 156; i < 512; i++) sum += block[i]!;
  block.write(octal(sum, 6), 148, "latin1");
  return true;
}

/** `width` octal digits and a space; all sevens when the value does not fit. */
function octal(value: number, width: number): string {
  const s = value.toString(8);
  return s.length > width ? `${"7".repeat(width)} ` : `${s.padStart(width, "0")} `;
}

/** "<length> <key>=<value>\n", the length counting its own digits. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const len = Buffer.byteLength(body);
  let digits = String(len).length;
  if (len + digits >= 10 ** digits) digits++;
  return `${len + digits}${body}`;
}

function padding(size: number): number {
  const rest = size & 511;
  return rest === 0 ? 0 : 512 - rest;
}

/** Read a host file into the chunks, handing each on as it fills: a big file never sits in memory whole. */
function* readHostFile(out: ChunkFiller, e: PlannedEntry): Generator<Buffer, void, undefined> {
  const path = e.hostPath!;
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (err) {
    throw new TantalusError(`cannot read ${path}: ${(err as Error).message}`);
  }
  try {
    let done = 0;
    while (done < e.size) {
      const n = out.readFrom(fd, done, e.size - done, path);
      if (n === 0) throw changed(path, e.size, done);
      done += n;
      yield* out.takeFull();
    }
    let st;
    try {
      st = fstatSync(fd);
    } catch (err) {
      throw new TantalusError(`cannot read ${path}: ${(err as Error).message}`);
    }
    if (st.size !== e.size || st.mtimeMs !== e.mtimeMs) throw changed(path, e.size, st.size);
  } finally {
    closeSync(fd);
  }
}

function changed(path: string, planned: number, actual: number): TantalusError {
  return new TantalusError(
    `${path} changed while it was being archived (size ${planned} when listed, ${actual} now); rebuild the layer`,
  );
}

/** Chunks of the pool filled in place; full ones wait to be taken. */
class ChunkFiller {
  private chunk: Buffer;
  private readonly size: number;
  private used = 0;
  private full: Buffer[] = [];

  constructor(private readonly pool: ChunkPool) {
    this.size = pool.size;
    this.chunk = pool.take();
  }

  bytes(src: Buffer): void {
    let off = 0;
    while (off < src.length) {
      const n = Math.min(src.length - off, this.size - this.used);
      src.copy(this.chunk, this.used, off, off + n);
      off += n;
      this.advance(n);
    }
  }

  zeros(count: number): void {
    while (count > 0) {
      const n = Math.min(count, this.size - this.used);
      this.chunk.fill(0, this.used, this.used + n);
      count -= n;
      this.advance(n);
    }
  }

  /** One read(2) at `position` into the free part of the chunk, at most `max` bytes; returns the bytes read. */
  readFrom(fd: number, position: number, max: number, path: string): number {
    let n: number;
    try {
      n = readSync(fd, this.chunk, this.used, Math.min(max, this.size - this.used), position);
    } catch (err) {
      throw new TantalusError(`cannot read ${path}: ${(err as Error).message}`);
    }
    this.advance(n);
    return n;
  }

  *takeFull(): Generator<Buffer, void, undefined> {
    while (this.full.length > 0) yield this.full.shift()!;
  }

  *takeAll(): Generator<Buffer, void, undefined> {
    yield* this.takeFull();
    if (this.used > 0) {
      const last = this.chunk.subarray(0, this.used);
      this.used = 0;
      yield last;
    }
  }

  private advance(n: number): void {
    this.used += n;
    if (this.used === this.size) {
      this.full.push(this.chunk);
      this.chunk = this.pool.take();
      this.used = 0;
    }
  }
}
