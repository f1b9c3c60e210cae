/**
 * Reading and writing the outer tar of oci-archive / docker-archive files.
 * Input archives may themselves be gzip- or zstd-compressed (`docker save |
 * gzip`); the compression is detected from the first bytes.
 */
import { createReadStream, createWriteStream } from "node:fs";
import { open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { pipeline as pipelineCb, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import tar, { type Header, type Pack } from "tar-stream";
import { WriteError } from "../util/atomic.js";
import { TantalusError } from "../errors.js";
import { checkMemberName } from "./member-name.js";
import { createDecompressor, sniffCompression } from "./layer/compress.js";
import { tempName } from "./layout/fsutil.js";
import { DEFAULT_LAYER_MTIME } from "./layer/tar.js";

export async function readHead(file: string, n = 8): Promise<Buffer> {
  const fh = await open(file, "r");
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** The file's bytes, decompressed if it starts with a gzip or zstd magic number. */
export async function openMaybeCompressed(file: string): Promise<Readable> {
  let head: Buffer;
  try {
    head = await readHead(file);
  } catch (e) {
    throw new TantalusError(`cannot read ${file}: ${(e as Error).message}`);
  }
  const raw = createReadStream(file, { highWaterMark: 1 << 20 });
  const compression = sniffCompression(head);
  if (compression === "none") return raw;
  return pipelineCb(raw, createDecompressor(compression), () => undefined);
}

/**
 * Visit each member of a tar stream in order, with its name checked and
 * normalised by checkMemberName (a name with "..", a NUL or a component
 * over 255 bytes refuses the archive). `fn` must consume (or not touch) the
 * entry's body; unread bodies are drained.
 */
export async function forEachMember(
  source: Readable,
  what: string,
  fn: (name: string, header: Header, body: Readable) => Promise<void>,
): Promise<void> {
  const extract = tar.extract();
  source.on("error", (e) => extract.destroy(e));
  source.pipe(extract);
  try {
    for await (const entry of extract) {
      const body = entry as unknown as Readable;
      await fn(checkMemberName(entry.header.name, what), entry.header, body);
      if (!body.readableEnded) body.resume();
    }
  } catch (e) {
    source.destroy();
    if (e instanceof TantalusError) throw e;
    throw new TantalusError(`${what}: not a readable tar archive: ${(e as Error).message}`);
  }
}

/** Writes a deterministic archive: fixed mtime, uid/gid 0, files 0644, dirs 0755. */
export class ArchiveWriter {
  readonly pack: Pack = tar.pack();
  private readonly done: Promise<void>;
  private readonly tmp: string;

  constructor(private readonly file: string) {
    this.tmp = join(dirname(file), `.${basename(file)}.${tempName(".part")}`);
    this.done = pipeline(this.pack as unknown as Readable, createWriteStream(this.tmp, { flags: "wx" }));
    this.done.catch(() => undefined);
  }

  dir(name: string): Promise<void> {
    return this.add({ name: `${name}/`, type: "directory", mode: 0o40755 });
  }

  bytes(name: string, data: Buffer | string): Promise<void> {
    return this.add({ name, type: "file", mode: 0o100644 }, typeof data === "string" ? Buffer.from(data) : data);
  }

  /** Stream `size` bytes from `body` into member `name`. */
  stream(name: string, size: number, body: Readable): Promise<void> {
    return new Promise((resolve, reject) => {
      const sink = this.pack.entry(
        { name, type: "file", mode: 0o100644, size, uid: 0, gid: 0, uname: "", gname: "", mtime: DEFAULT_LAYER_MTIME },
        (err) => (err ? reject(err) : resolve()),
      );
      pipeline(body, sink as unknown as NodeJS.WritableStream).catch(reject);
    });
  }

  private add(header: Partial<Header> & { name: string }, body?: Buffer): Promise<void> {
    const h = { uid: 0, gid: 0, uname: "", gname: "", mtime: DEFAULT_LAYER_MTIME, ...header };
    return new Promise((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      if (body) this.pack.entry(h, body, cb);
      else this.pack.entry(h, cb);
    });
  }

  /** Finish the archive and move it into place atomically. */
  async close(): Promise<void> {
    this.pack.finalize();
    try {
      await this.done;
      await rename(this.tmp, this.file);
    } catch (e) {
      // The old archive (if any) stays; the partial one goes.
      await rm(this.tmp, { force: true });
      throw e instanceof TantalusError ? e : new WriteError(this.file, e);
    }
  }

  async abort(err?: Error): Promise<void> {
    this.pack.destroy(err);
    await this.done.catch(() => undefined);
    await rm(this.tmp, { force: true });
  }
}
