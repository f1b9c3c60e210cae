/**
 * Random-access reads over a file or a buffer. The ELF reader and the
 * ld.so.cache reader only touch the pages they need, so auditing tens of
 * thousands of files never reads whole multi-megabyte libraries.
 */
import * as fs from "node:fs";

export interface ByteSource {
  /** Size in bytes. */
  readonly size: number;
  /** Bytes at [offset, offset+length) clipped to the end of the source. */
  read(offset: number, length: number): Uint8Array;
  close(): void;
}

export class BufferSource implements ByteSource {
  readonly size: number;
  constructor(private readonly buf: Uint8Array) {
    this.size = buf.length;
  }
  read(offset: number, length: number): Uint8Array {
    if (offset >= this.size || length <= 0) return new Uint8Array(0);
    return this.buf.subarray(offset, Math.min(this.size, offset + length));
  }
  close(): void {}
}

const PAGE = 4096;
/** Pages kept per file; header parsing touches a handful. */
const MAX_CACHED_PAGES = 64;

/**
 * A file descriptor read through a small page cache: every read is a
 * positioned `readSync`, and neighbouring header structures share pages.
 */
export class FileSource implements ByteSource {
  private readonly pages = new Map<number, Uint8Array>();
  private closed = false;
  private knownSize: number | undefined;

  private constructor(
    private readonly fd: number,
    private readonly ownsFd: boolean,
  ) {}

  /**
   * Opens `hostPath` read-only (non-blocking, so a FIFO cannot hang the
   * audit); throws the fs error (ENOENT, EACCES...). A directory fails on
   * the first read with EISDIR.
   */
  static open(hostPath: string): FileSource {
    return new FileSource(fs.openSync(hostPath, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK), true);
  }

  /** Wraps a descriptor the caller keeps ownership of. */
  static fromFd(fd: number): FileSource {
    return new FileSource(fd, false);
  }

  /** Taken with fstat on first use: rejecting a non-ELF file needs only its first page. */
  get size(): number {
    if (this.knownSize === undefined) this.knownSize = fs.fstatSync(this.fd).size;
    return this.knownSize;
  }

  private page(index: number): Uint8Array {
    let p = this.pages.get(index);
    if (p) return p;
    const start = index * PAGE;
    const buf = Buffer.allocUnsafe(PAGE);
    let got = 0;
    while (got < PAGE) {
      const n = fs.readSync(this.fd, buf, got, PAGE - got, start + got);
      if (n <= 0) break;
      got += n;
    }
    // A short first page tells the size without an fstat.
    if (index === 0 && got < PAGE) this.knownSize = got;
    p = got === PAGE ? buf : buf.subarray(0, got);
    if (this.pages.size >= MAX_CACHED_PAGES) this.pages.clear();
    this.pages.set(index, p);
    return p;
  }

  read(offset: number, length: number): Uint8Array {
    if (this.closed) throw new Error("read after close");
    if (length <= 0 || offset < 0) return new Uint8Array(0);
    // Reads inside the first page need no size: the page is clipped at end of file.
    if (offset + length <= PAGE) {
      const p = this.page(0);
      return p.subarray(Math.min(offset, p.length), Math.min(p.length, offset + length));
    }
    if (offset >= this.size) return new Uint8Array(0);
    const end = Math.min(this.size, offset + length);
    const first = Math.floor(offset / PAGE);
    const last = Math.floor((end - 1) / PAGE);
    if (first === last) {
      const p = this.page(first);
      return p.subarray(offset - first * PAGE, Math.min(p.length, end - first * PAGE));
    }
    // Large spans (a big dynamic section) bypass the page cache.
    if (last - first > 8) {
      const buf = Buffer.allocUnsafe(end - offset);
      let got = 0;
      while (got < buf.length) {
        const n = fs.readSync(this.fd, buf, got, buf.length - got, offset + got);
        if (n <= 0) break;
        got += n;
      }
      return buf.subarray(0, got);
    }
    const out = new Uint8Array(end - offset);
    let pos = 0;
    for (let i = first; i <= last; i++) {
      const p = this.page(i);
      const from = i === first ? offset - i * PAGE : 0;
      const to = Math.min(p.length, end - i * PAGE);
      if (to <= from) break;
      out.set(p.subarray(from, to), pos);
      pos += to - from;
      if (p.length < PAGE) break;
    }
    return pos === out.length ? out : out.subarray(0, pos);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pages.clear();
    if (this.ownsFd) fs.closeSync(this.fd);
  }
}
