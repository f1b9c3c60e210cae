/**
 * A root-filesystem tarball (`rootfs:FILE.tar[.gz|.zst]`, e.g. from
 * debootstrap + tar, or a distro's published rootfs) as a one-layer base
 * image. The file is checked to be a readable tar while its diff_id is
 * computed, and its member names are checked (checkMemberName) so a hostile
 * tarball is refused at import. By default the blob is stored as it is; `compression` compresses
 * an uncompressed tarball on the way in (one pass).
 */
import { createReadStream } from "node:fs";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import tar from "tar-stream";
import { TantalusError } from "../../errors.js";
import { readHead } from "../archive.js";
import { checkLinkTarget, checkMemberName, whiteoutOf } from "../member-name.js";
import { DigestingStream, type Digest } from "../digest.js";
import { createCompressor, createDecompressor, sniffCompression } from "../layer/compress.js";
import type { BlobIngester, BlobReader, ImageReader, ImageStore, Tagger } from "../layout/interfaces.js";
import { DEFAULT_CREATED, writeImage } from "../mutate.js";
import { writeLayer } from "../layer/writer.js";
import {
  hostPlatform,
  layerMediaType,
  type LayerCompression,
  type LayerDescriptor,
  type Platform,
  type ResolvedImage,
} from "../types.js";

export interface RootfsOptions {
  platform?: Platform;
  /** Compress an uncompressed tarball with this; compressed input is always kept as is. */
  compression?: LayerCompression;
  level?: number;
  /** Default Env of the image. */
  env?: string[];
  created?: string;
}

export const DEFAULT_PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export async function importRootfsTarball(
  store: BlobReader & BlobIngester & ImageReader & Tagger,
  file: string,
  opts: RootfsOptions = {},
): Promise<ResolvedImage> {
  const layer = await importRootfsLayer(store, file, opts);
  const built = await writeImage(store, {
    layers: [{ layer, createdBy: "tantalus: root filesystem tarball" }],
    config: { Env: opts.env ?? [DEFAULT_PATH_ENV] },
    platform: opts.platform ?? hostPlatform(),
    created: opts.created ?? DEFAULT_CREATED,
  });
  return store.loadImage(built.descriptor);
}

/**
 * A root filesystem directory (`rootfs:DIR`, e.g. a debootstrap target) as
 * a one-layer base image: the tree packed by the layer writer, so the layer
 * is reproducible (sorted, fixed mtime, uid/gid 0) and its digest depends only
 * on the tree. `audit` reads such a directory in place; `build` needs it as a
 * layer. Device nodes, FIFOs and sockets are skipped with a warning, as in
 * package layers (a runtime provides /dev).
 */
export async function importRootfsDirectory(
  store: ImageStore,
  dir: string,
  opts: RootfsOptions & { onWarning?: (msg: string) => void } = {},
): Promise<ResolvedImage> {
  const compression = opts.compression ?? "gzip";
  const { descriptor } = await writeLayer(
    store,
    { entries: [{ type: "tree", source: dir, path: "/" }] },
    { compression, level: opts.level, onWarning: opts.onWarning },
  );
  const built = await writeImage(store, {
    layers: [{ layer: descriptor, createdBy: "tantalus: root filesystem directory" }],
    config: { Env: opts.env ?? [DEFAULT_PATH_ENV] },
    platform: opts.platform ?? hostPlatform(),
    created: opts.created ?? DEFAULT_CREATED,
  });
  return store.loadImage(built.descriptor);
}

/** Store the tarball as a layer blob and return its descriptor with diff_id. */
export async function importRootfsLayer(
  store: BlobIngester,
  file: string,
  opts: RootfsOptions = {},
): Promise<LayerDescriptor> {
  const what = `rootfs:${file}`;
  let head: Buffer;
  try {
    head = await readHead(file);
  } catch (e) {
    throw new TantalusError(`${what}: cannot read: ${(e as Error).message}`);
  }
  const inputCompression = sniffCompression(head);
  const recompress = inputCompression === "none" && opts.compression !== undefined && opts.compression !== "none";
  const storedCompression = recompress ? opts.compression! : inputCompression;

  // Two passes over the file (the second is served from the page cache):
  // 1. store it (compressing if asked), 2. decompress → diff_id + tar check.
  const writer = await store.createBlobWriter();
  try {
    const compressor = recompress ? createCompressor(storedCompression, opts.level) : undefined;
    const raw = createReadStream(file, { highWaterMark: 1 << 20 });
    await (compressor ? pipeline(raw, compressor, writer.stream) : pipeline(raw, writer.stream));
    const diff = new DigestingStream();
    const members = countTarMembers(diff, what);
    members.catch(() => undefined); // awaited below; the pipeline reports the same failure
    await pipeline(createReadStream(file, { highWaterMark: 1 << 20 }), createDecompressor(inputCompression), diff);
    if ((await members) === 0) throw new TantalusError(`${what}: the tar archive is empty`);
    const { digest, size } = await writer.commit();
    const diffId: Digest = diff.digest();
    return { mediaType: layerMediaType(storedCompression), digest, size, diffId };
  } catch (e) {
    await writer.abort();
    if (e instanceof TantalusError) throw e;
    throw new TantalusError(`${what}: ${(e as Error).message}`);
  }
}

async function countTarMembers(source: Readable, what: string): Promise<number> {
  const extract = tar.extract();
  source.pipe(extract);
  let n = 0;
  try {
    for await (const entry of extract) {
      n++;
      // Refused here, at import, rather than when the audit or ch-run unpacks it.
      whiteoutOf(checkMemberName(entry.header.name, what), what, entry.header.name);
      if (entry.header.type === "link") checkLinkTarget(entry.header.linkname ?? "", entry.header.name, what);
      entry.resume();
    }
  } catch (e) {
    const err =
      e instanceof TantalusError ? e : new TantalusError(`${what}: not a tar archive: ${(e as Error).message}`);
    source.destroy(err);
    throw err;
  }
  return n;
}
