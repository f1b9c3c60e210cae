/**
 * Base images from OCI layouts: a directory (`oci:DIR[:REF]`) or a tar of one
 * (`oci-archive:FILE[:REF]`). Blobs are verified as they enter the store.
 */
import { resolve as resolvePath } from "node:path";
import { TantalusError } from "../../errors.js";
import { forEachMember, openMaybeCompressed } from "../archive.js";
import { copyImage } from "../copy.js";
import { isDigest, type Digest } from "../digest.js";
import type { BlobIngester, BlobReader, ImageReader } from "../layout/interfaces.js";
import { OciStore } from "../layout/store.js";
import {
  Annotation,
  hostPlatform,
  type Descriptor,
  type ImageIndex,
  type Platform,
  type ResolvedImage,
} from "../types.js";

/** The index entry `ref` names (a ref.name or a digest); without `ref` the layout must hold exactly one image. */
export function pickManifest(index: ImageIndex, ref: string | undefined, what: string): Descriptor {
  if (ref !== undefined) {
    const hit = index.manifests.find(
      (d) => d.annotations?.[Annotation.RefName] === ref || (isDigest(ref) && d.digest === ref),
    );
    if (!hit)
      throw new TantalusError(`${what}: no image named ${JSON.stringify(ref)} (available: ${describeRefs(index)})`);
    return hit;
  }
  if (index.manifests.length === 1) return index.manifests[0]!;
  throw new TantalusError(
    `${what}: holds ${index.manifests.length} images; name one with :REF (available: ${describeRefs(index)})`,
  );
}

function describeRefs(index: ImageIndex): string {
  const refs = index.manifests.map((d) => d.annotations?.[Annotation.RefName] ?? d.digest);
  return refs.length ? refs.join(", ") : "none";
}

export async function importOciLayout(
  store: BlobReader & BlobIngester & ImageReader,
  dir: string,
  ref?: string,
  platform: Platform = hostPlatform(),
): Promise<ResolvedImage> {
  const src = resolvePath(dir) === store.dir ? store : await OciStore.open(dir, { readOnly: true });
  const desc = pickManifest(await src.readIndex(), ref, `oci:${dir}`);
  return copyImage(src, store, desc, platform);
}

export async function importOciArchive(
  store: BlobReader & BlobIngester & ImageReader,
  file: string,
  ref?: string,
  platform: Platform = hostPlatform(),
): Promise<ResolvedImage> {
  const what = `oci-archive:${file}`;
  let index: ImageIndex | undefined;
  let sawLayout = false;
  const imported = new Set<Digest>();
  await forEachMember(await openMaybeCompressed(file), what, async (name, header, body) => {
    if (header.type !== "file" && header.type !== "contiguous-file") return;
    if (name === "index.json") {
      index = JSON.parse((await readAll(body)).toString("utf8")) as ImageIndex;
    } else if (name === "oci-layout") {
      sawLayout = true;
    } else if (name.startsWith("blobs/sha256/")) {
      const digest = `sha256:${name.slice("blobs/sha256/".length)}`;
      if (!isDigest(digest)) return;
      if (!(await store.hasBlob(digest, header.size)))
        await store.putBlob(readAllChunks(body), { digest, size: header.size });
      else await store.touchBlob(digest);
      imported.add(digest);
    }
  });
  if (!sawLayout || !index)
    throw new TantalusError(`${what}: not an OCI layout archive (missing ${!sawLayout ? "oci-layout" : "index.json"})`);
  const desc = pickManifest(index, ref, what);
  const img = await store.loadImage(desc, platform, what);
  const missing = await store.firstMissingBlob(img.manifest.layers);
  if (missing)
    throw new TantalusError(`${what}: layer ${missing.digest} is referenced by the manifest but not in the archive`);
  return img;
}

/** A tar member body as a plain async iterable (tar-stream bodies are streamx streams, not node streams). */
export async function* readAllChunks(body: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  for await (const chunk of body) yield chunk;
}

export async function readAll(body: AsyncIterable<Buffer | Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
  return Buffer.concat(chunks);
}
