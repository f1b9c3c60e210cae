/**
 * Stream the members of one stored layer, decompressed, in tar order. The
 * store verifies the blob's digest as it is read, so a corrupt layer fails
 * instead of being unpacked.
 */
import type { Readable } from "node:stream";
import tar, { type Header } from "tar-stream";
import { TantalusError } from "../../errors.js";
import type { BlobReader } from "../layout/interfaces.js";
import { createDecompressor } from "./compress.js";
import { checkMemberName } from "../member-name.js";
import { layerCompression, type Descriptor } from "../types.js";

export interface LayerMember {
  /** Relative, checked and normalised by checkMemberName: no "..", no leading "./" or "/", no trailing "/". "" is the root. */
  name: string;
  header: Header;
  stream: Readable;
}

export async function forEachLayerMember(
  store: BlobReader,
  layer: Descriptor,
  fn: (m: LayerMember) => Promise<void>,
): Promise<void> {
  const compression = layerCompression(layer.mediaType);
  if (!compression) throw new TantalusError(`layer ${layer.digest} has media type ${layer.mediaType}, not a tar layer`);
  const blob = await store.openBlob(layer.digest, { size: layer.size });
  const decompress = createDecompressor(compression);
  const extract = tar.extract();
  blob.on("error", (e) => decompress.destroy(e));
  decompress.on("error", (e) => extract.destroy(e));
  blob.pipe(decompress).pipe(extract);
  // What broke the archive, rather than "Stream was destroyed" from the member being read when it broke.
  let broken: Error | undefined;
  extract.on("error", (e: Error) => (broken ??= e));
  try {
    for await (const entry of extract) {
      try {
        await fn({
          name: checkMemberName(entry.header.name, `layer ${layer.digest}`),
          header: entry.header,
          stream: entry as unknown as Readable,
        });
      } finally {
        entry.resume();
      }
    }
  } catch (e) {
    blob.destroy();
    if (e instanceof TantalusError) throw e;
    throw new TantalusError(
      broken
        ? `layer ${layer.digest}: not a readable tar archive: ${broken.message}`
        : `layer ${layer.digest}: ${(e as Error).message}`,
    );
  }
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
