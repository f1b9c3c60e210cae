/**
 * Copy one image (manifest, config, layers) between two layouts, verifying
 * every blob on the way; blobs the destination already has are not read.
 */
import type { BlobIngester, BlobReader, ImageReader } from "./layout/interfaces.js";
import { hostPlatform, type Descriptor, type Platform, type ResolvedImage } from "./types.js";

export async function copyBlob(from: BlobReader, to: BlobReader & BlobIngester, d: Descriptor): Promise<void> {
  if (from.dir === to.dir) return;
  if (await to.hasBlob(d.digest, d.size)) {
    await to.touchBlob(d.digest);
    return;
  }
  await to.putBlob(await from.openBlob(d.digest, { size: d.size }), { digest: d.digest, size: d.size });
}

/**
 * Copy the single-platform image `desc` names (an index is narrowed to
 * `platform`) and return it as seen in the destination. The manifest bytes
 * are copied verbatim so its digest is unchanged.
 */
export async function copyImage(
  from: BlobReader & ImageReader,
  to: BlobReader & BlobIngester & ImageReader,
  desc: Descriptor,
  platform: Platform = hostPlatform(),
): Promise<ResolvedImage> {
  const img = await from.loadImage(desc, platform);
  for (const l of img.manifest.layers) await copyBlob(from, to, l);
  await copyBlob(from, to, img.manifest.config);
  await copyBlob(from, to, img.manifestDescriptor);
  return to.loadImage(img.manifestDescriptor, platform);
}
