/**
 * Export an image from the store for runtimes and other tools:
 *  - `oci:DIR[:TAG]`          an OCI layout directory (skopeo, umoci, podman, apptainer);
 *  - `oci-archive:FILE[:TAG]` a tar of such a layout, plus a docker-style
 *                             manifest.json so `docker load` (≥ 20.10) accepts it too;
 *  - `docker-archive:FILE[:NAME:TAG]`  the `docker save` format (manifest.json,
 *                             repositories, <config>.json, <diff_id>/layer.tar) with
 *                             uncompressed layers, which every `docker load`,
 *                             `podman load` and apptainer version reads.
 * Archives are written deterministically (member order, times, modes), to a
 * temporary name, and renamed into place.
 */
import { readdir, rmdir } from "node:fs/promises";
import { resolve as resolvePath } from "node:path";
import { TantalusError, UsageError } from "../../errors.js";
import { ArchiveWriter } from "../archive.js";
import { copyBlob } from "../copy.js";
import { DigestMismatchError, digestHex, isDigest, sha256Stream, DigestingStream, type Digest } from "../digest.js";
import { createDecompressor } from "../layer/compress.js";
import type { BlobReader, ImageReader, PrivateArea, Tagger } from "../layout/interfaces.js";
import { isValidRefName, OciStore } from "../layout/store.js";
import { parseLocalReference } from "../reference.js";
import {
  Annotation,
  MediaType,
  hostPlatform,
  layerCompression,
  type Descriptor,
  type Platform,
  type ResolvedImage,
} from "../types.js";
import { pipeline, type Readable } from "node:stream";

export interface ExportOptions {
  platform?: Platform;
  /** docker-archive only: keep layers compressed as stored (faster; only newer loaders accept it). */
  compressedLayers?: boolean;
}

/**
 * Export store image `ref` (tag or digest) to `destination` (see module
 * comment). Reads the store; tags it only when `oci:` names the store itself.
 */
export async function exportImage(
  store: BlobReader & ImageReader & Tagger,
  ref: string,
  destination: string,
  opts: ExportOptions = {},
): Promise<ResolvedImage> {
  const dest = parseLocalReference(destination);
  switch (dest.transport) {
    case "oci":
      return exportOciLayout(store, ref, dest.path, { ...opts, tag: dest.ref ?? defaultName(ref) });
    case "oci-archive":
      return exportOciArchive(store, ref, dest.path, { ...opts, tag: dest.ref ?? defaultName(ref) });
    case "docker-archive": {
      const name = dest.ref ?? defaultName(ref);
      return exportDockerArchive(store, ref, dest.path, { ...opts, repoTags: name ? [name] : [] });
    }
    case "rootfs":
      throw new UsageError(`cannot export to rootfs:; use oci:, oci-archive: or docker-archive:`);
  }
}

function defaultName(ref: string): string | undefined {
  return isDigest(ref) ? undefined : ref;
}

export async function exportOciLayout(
  store: BlobReader & ImageReader & Tagger,
  ref: string,
  dir: string,
  opts: ExportOptions & { tag?: string } = {},
): Promise<ResolvedImage> {
  const img = await store.resolveImage(ref, opts.platform ?? hostPlatform());
  const tag = opts.tag ?? (isDigest(ref) ? undefined : ref);
  if (resolvePath(dir) === store.dir) {
    // Into the store itself: its blobs are there already, only the tag is new.
    if (tag !== undefined) await store.tag(tag, plain(img.manifestDescriptor), {}, { recordTime: true });
    return img;
  }
  const target = await OciStore.open(dir);
  try {
    for (const d of [...img.manifest.layers, img.manifest.config, img.manifestDescriptor])
      await copyBlob(store, target, d);
    if (tag !== undefined) await target.tag(tag, plain(img.manifestDescriptor), {}, { recordTime: false });
    return img;
  } finally {
    await removeEmptyPrivateDirs(target);
  }
}

export async function exportOciArchive(
  store: BlobReader & ImageReader,
  ref: string,
  file: string,
  opts: ExportOptions & { tag?: string; dockerManifest?: boolean } = {},
): Promise<ResolvedImage> {
  const img = await store.resolveImage(ref, opts.platform ?? hostPlatform());
  const tag = opts.tag ?? (isDigest(ref) ? undefined : ref);
  if (tag !== undefined && !isValidRefName(tag)) throw new TantalusError(`invalid tag ${JSON.stringify(tag)}`);
  const entry: Descriptor = plain(img.manifestDescriptor);
  if (tag !== undefined) entry.annotations = { [Annotation.RefName]: tag };
  const index = { schemaVersion: 2, mediaType: MediaType.ImageIndex, manifests: [entry] };
  const blobs = uniqueSorted([img.manifestDescriptor, img.manifest.config, ...img.manifest.layers]);
  const out = new ArchiveWriter(file);
  try {
    await out.bytes("oci-layout", JSON.stringify({ imageLayoutVersion: "1.0.0" }));
    await out.dir("blobs");
    await out.dir("blobs/sha256");
    for (const d of blobs)
      await out.stream(`blobs/sha256/${digestHex(d.digest)}`, d.size, await store.openBlob(d.digest, { size: d.size }));
    await out.bytes("index.json", JSON.stringify(index));
    if (opts.dockerManifest !== false) {
      const repoTag = tag !== undefined ? toDockerRepoTag(tag) : undefined;
      const dm = [
        {
          Config: `blobs/sha256/${digestHex(img.manifest.config.digest)}`,
          RepoTags: repoTag ? [repoTag] : [],
          Layers: img.manifest.layers.map((l) => `blobs/sha256/${digestHex(l.digest)}`),
        },
      ];
      await out.bytes("manifest.json", JSON.stringify(dm));
    }
    await out.close();
  } catch (e) {
    await out.abort(e as Error);
    throw e;
  }
  return img;
}

export async function exportDockerArchive(
  store: BlobReader & ImageReader,
  ref: string,
  file: string,
  opts: ExportOptions & { repoTags?: string[] } = {},
): Promise<ResolvedImage> {
  const img = await store.resolveImage(ref, opts.platform ?? hostPlatform());
  const repoTags: string[] = [];
  for (const t of opts.repoTags ?? []) {
    const rt = toDockerRepoTag(t);
    if (!rt) throw new TantalusError(`${JSON.stringify(t)} is not a valid docker image name (lowercase name[:tag])`);
    repoTags.push(rt);
  }
  const diffIds = img.config.rootfs.diff_ids;
  const configName = `${digestHex(img.manifest.config.digest)}.json`;
  const layerNames: string[] = [];
  const out = new ArchiveWriter(file);
  try {
    await out.stream(
      configName,
      img.manifest.config.size,
      await store.openBlob(img.manifest.config.digest, { size: img.manifest.config.size }),
    );
    const written = new Set<string>();
    for (const [i, layer] of img.manifest.layers.entries()) {
      const diffId = diffIds[i];
      if (!diffId) throw new TantalusError(`${ref}: config has fewer diff_ids than the manifest has layers`);
      const compression = layerCompression(layer.mediaType);
      if (!compression)
        throw new TantalusError(`${ref}: layer ${layer.digest} has media type ${layer.mediaType}, not a tar layer`);
      const keep = compression === "none" || opts.compressedLayers === true;
      const name = `${digestHex(keep ? layer.digest : diffId)}/layer.tar`;
      layerNames.push(name);
      if (written.has(name)) continue;
      written.add(name);
      await out.dir(name.slice(0, name.indexOf("/")));
      if (keep) {
        await out.stream(name, layer.size, await store.openBlob(layer.digest, { size: layer.size }));
      } else {
        // The member size must precede the data: one pass to measure (and check the diff_id), one to write.
        const size = await checkedUncompressedSize(store, layer, diffId, compression);
        const verify = new DigestingStream();
        await out.stream(name, size, await decompressed(store, layer, compression, verify));
        if (verify.digest() !== diffId)
          throw new DigestMismatchError(`layer ${layer.digest} (uncompressed)`, diffId, verify.digest());
      }
    }
    const manifest = [{ Config: configName, RepoTags: repoTags, Layers: layerNames }];
    await out.bytes("manifest.json", JSON.stringify(manifest));
    const repositories: Record<string, Record<string, string>> = {};
    const top = layerNames[layerNames.length - 1];
    if (top) {
      for (const rt of repoTags) {
        const colon = rt.lastIndexOf(":");
        (repositories[rt.slice(0, colon)] ??= {})[rt.slice(colon + 1)] = top.slice(0, top.indexOf("/"));
      }
    }
    await out.bytes("repositories", JSON.stringify(repositories));
    await out.close();
  } catch (e) {
    await out.abort(e as Error);
    throw e;
  }
  return img;
}

async function decompressed(
  store: BlobReader,
  layer: Descriptor,
  compression: "gzip" | "zstd",
  tap?: DigestingStream,
): Promise<Readable> {
  const blob = await store.openBlob(layer.digest, { size: layer.size });
  const d = createDecompressor(compression);
  // Callback pipeline: errors and early close propagate along the whole chain.
  if (tap) return pipeline(blob, d, tap, () => undefined);
  return pipeline(blob, d, () => undefined);
}

async function checkedUncompressedSize(
  store: BlobReader,
  layer: Descriptor,
  diffId: Digest,
  compression: "gzip" | "zstd",
): Promise<number> {
  const { digest, size } = await sha256Stream(await decompressed(store, layer, compression));
  if (digest !== diffId) throw new DigestMismatchError(`layer ${layer.digest} (uncompressed)`, diffId, digest);
  return size;
}

/**
 * A docker RepoTag ("name:tag", lowercase name) for our tag, adding ":latest"
 * when there is no tag part; undefined if docker could not accept it.
 */
export function toDockerRepoTag(tag: string): string | undefined {
  const slash = tag.lastIndexOf("/");
  const colon = tag.lastIndexOf(":");
  const name = colon > slash ? tag.slice(0, colon) : tag;
  const t = colon > slash ? tag.slice(colon + 1) : "latest";
  const component = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
  const nameRe = new RegExp(`^(?:[a-zA-Z0-9.-]+(?::[0-9]+)?/)?${component}(?:/${component})*$`);
  if (!nameRe.test(name) || !/^[\w][\w.-]{0,127}$/.test(t)) return undefined;
  return `${name}:${t}`;
}

function plain(d: Descriptor): Descriptor {
  return { mediaType: d.mediaType, digest: d.digest, size: d.size };
}

function uniqueSorted(ds: Descriptor[]): Descriptor[] {
  const m = new Map<Digest, Descriptor>();
  for (const d of ds) m.set(d.digest, d);
  return [...m.values()].sort((a, b) => (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0));
}

/** An export target should not keep our private state dir if it holds nothing. */
async function removeEmptyPrivateDirs(target: PrivateArea): Promise<void> {
  for (const dir of [target.tmpDir, target.metaDir]) {
    try {
      if ((await readdir(dir)).length === 0) await rmdir(dir);
    } catch {
      return;
    }
  }
}
