/**
 * Moving images between the local store and registries or files: push a
 * stored image (every blob read back through the store's digest check, so a
 * corrupted blob is reported and never sent), pull one into the store and
 * tag it, export one as an OCI layout, oci-archive or docker-archive.
 */
import { statSync } from "node:fs";
import { TantalusError, UsageError } from "../errors.js";
import type { BlobIngester, BlobReader, ImageReader, Tagger } from "../image/layout/interfaces.js";
import { StoreAnnotation, BlobNotFoundError } from "../image/layout/store.js";
import { exportImage } from "../image/sinks/index.js";
import { parseLocalReference, type LocalReference } from "../image/reference.js";
import type { Digest } from "../image/digest.js";
import { pullImage, type BlobSink, type PullOptions } from "../image/remote/pull.js";
import { pushImage, type PushOptions, type PushResult } from "../image/remote/push.js";
import { formatReference, parseReference, type ImageReference } from "../image/remote/reference.js";
import type { BlobSource } from "../image/remote/upload.js";
import { isManifestMediaType, type Descriptor, type ImageConfig } from "../image/types.js";
import type { BuildEventSink } from "./events.js";
import { Label } from "../image/contract.js";

/** The store as the registry client reads it: sizes from disk, contents verified as they stream. */
export function storeBlobSource(store: BlobReader): BlobSource {
  return {
    async stat(digest: Digest) {
      const st = await store.statBlob(digest);
      if (!st) throw new BlobNotFoundError(digest, store.dir);
      return { size: st.size };
    },
    open: (digest: Digest) => store.openBlob(digest),
  };
}

/** The store as the registry client writes into it: each blob verified before it is renamed into place. */
export function storeBlobSink(store: BlobReader & BlobIngester): BlobSink {
  return {
    has: (digest) => store.hasBlob(digest),
    put: async (digest, size, stream) => {
      await store.putBlob(stream, { digest, size });
    },
  };
}

export interface PushStoredOptions extends PushOptions {
  onEvent?: BuildEventSink;
}

/** Push store image `ref` (tag or digest) to `target` (REGISTRY/REPO[:TAG]). */
export async function pushStoredImage(
  store: BlobReader & ImageReader,
  ref: string,
  target: string | ImageReference,
  opts: PushStoredOptions = {},
): Promise<PushResult> {
  const desc = await store.resolve(ref);
  if (!desc) throw new TantalusError(`no image ${JSON.stringify(ref)} in the store ${store.dir}`);
  if (!isManifestMediaType(desc.mediaType))
    throw new TantalusError(`${ref} is ${desc.mediaType}, not a single image manifest`);
  const manifest = await store.readBlob(desc.digest);
  const dest = typeof target === "string" ? parseReference(target) : target;
  const name = formatReference(dest);
  const { onEvent, ...pushOpts } = opts;
  return pushImage(
    dest,
    {
      manifest,
      mediaType: desc.mediaType,
      blobs: storeBlobSource(store),
      onProgress: (p) => {
        if (p.type === "blob")
          onEvent?.({
            type: "push-blob",
            reference: name,
            digest: p.digest,
            size: p.size,
            state: p.state,
            bytes: p.bytes,
          });
      },
    },
    pushOpts,
  );
}

export interface PushedImage {
  workflow: string;
  /** Where it went: registry/repository:tag. */
  target: string;
  result: PushResult;
}

/**
 * Push built images. One image goes exactly to `target` (REGISTRY/REPO[:TAG],
 * tag "latest" when omitted); several, or any with `prefix` (the
 * configuration's `registry`), go to `<target>/<workflow>:latest`, where
 * `tantalus run` pulls them from. Each later image mounts the blobs it
 * shares with the earlier ones instead of uploading them again.
 */
export async function pushImages(
  store: BlobReader & ImageReader,
  images: { workflow: string; ref: string }[],
  target: string,
  opts: PushStoredOptions & { prefix?: boolean } = {},
): Promise<PushedImage[]> {
  const parsed = parseReference(target);
  const prefix = opts.prefix === true || images.length > 1;
  if (prefix && (parsed.tag !== undefined || parsed.digest !== undefined)) {
    throw new UsageError(
      `--push ${target}: with ${images.length} images, give a repository prefix (each image goes to PREFIX/<workflow>:latest), not a tag`,
    );
  }
  const out: PushedImage[] = [];
  const pushedRepos: string[] = [];
  for (const img of images) {
    const dest = !prefix
      ? { ...parsed, tag: parsed.tag ?? (parsed.digest === undefined ? "latest" : undefined) }
      : parseReference(`${parsed.registry}/${parsed.repository}/${img.workflow.toLowerCase()}:latest`);
    const { prefix: _prefix, ...pushOpts } = opts;
    const result = await pushStoredImage(store, img.ref, dest, {
      ...pushOpts,
      mountFrom: [...(opts.mountFrom ?? []), ...pushedRepos],
    });
    pushedRepos.push(dest.repository);
    const count = (o: string) => result.blobs.filter((b) => b.outcome === o).length;
    const name = formatReference(dest);
    opts.onEvent?.({
      type: "pushed",
      workflow: img.workflow,
      reference: name,
      digest: result.digest,
      uploaded: count("uploaded"),
      mounted: count("mounted"),
      existing: count("exists"),
    });
    out.push({ workflow: img.workflow, target: name, result });
  }
  return out;
}

export interface PulledIntoStore {
  tag: string;
  reference: string;
  descriptor: Descriptor;
  config: ImageConfig;
  /** Blobs downloaded, and blobs the store already had. */
  fetched: Digest[];
  present: Digest[];
}

/**
 * Pull `reference` into the store and tag it (default: the reference as
 * written, fully qualified). A Tantalus workflow image keeps its workflow
 * group, so `tantalus run` and `tantalus gc` see it as that workflow's.
 */
export async function pullIntoStore(
  store: BlobReader & BlobIngester & Tagger,
  reference: string,
  opts: PullOptions & { tag?: string; annotations?: Record<string, string> } = {},
): Promise<PulledIntoStore> {
  const ref = parseReference(reference);
  const { tag: tagOpt, annotations, ...pullOpts } = opts;
  const pulled = await pullImage(ref, storeBlobSink(store), pullOpts);
  const stored = await store.putBlob(pulled.manifestBytes, { digest: pulled.manifestDigest });
  const descriptor: Descriptor = { mediaType: pulled.mediaType, digest: stored.digest, size: stored.size };
  const tag = tagOpt ?? storeTagFor(ref);
  const workflow = pulled.config.config?.Labels?.[Label.Workflow];
  // Marked as pulled: gc --keep counts and untags local builds only, unless told otherwise.
  await store.tag(tag, descriptor, {
    ...(workflow ? { [StoreAnnotation.Workflow]: workflow } : {}),
    [StoreAnnotation.Pulled]: formatReference(ref),
    ...annotations,
  });
  return {
    tag,
    reference: formatReference(ref),
    descriptor,
    config: pulled.config,
    fetched: pulled.fetched,
    present: pulled.present,
  };
}

/** The store tag of a registry reference: its fully qualified form ("docker.io/library/rockylinux:9"). */
export function storeTagFor(ref: ImageReference): string {
  return formatReference(ref.tag === undefined && ref.digest === undefined ? { ...ref, tag: "latest" } : ref);
}

/**
 * Export each named image to `destination`. An OCI layout directory takes
 * several images (tagged with their workflow unless one REF is given); an
 * archive holds exactly one.
 */
export async function exportImages(
  store: BlobReader & ImageReader & Tagger,
  images: { workflow: string; ref: string }[],
  destination: string,
  onEvent?: BuildEventSink,
): Promise<void> {
  const dest = checkExportDestination(destination, images.length);
  for (const img of images) {
    const name =
      dest.ref ?? (dest.transport === "docker-archive" ? `${img.workflow.toLowerCase()}:latest` : img.workflow);
    const target = `${dest.transport}:${dest.path}:${name}`;
    await exportImage(store, img.ref, target);
    onEvent?.({ type: "exported", workflow: img.workflow, destination: target });
  }
}

/**
 * `--output DEST` for `count` images, checked before the build starts so a
 * typo is not found after every layer was written: the transport, whether
 * the images fit (one per archive), and that the path is of the right kind
 * (an archive is a file, not an existing folder; a layout is a folder).
 */
export function checkExportDestination(destination: string, count: number): LocalReference {
  let dest: LocalReference;
  try {
    dest = parseLocalReference(destination);
  } catch (e) {
    if (e instanceof TantalusError)
      throw new UsageError(
        `--output ${destination}: expected oci:DIR[:TAG], oci-archive:FILE[:TAG] or docker-archive:FILE[:NAME:TAG]`,
      );
    throw e;
  }
  if (dest.transport === "rootfs")
    throw new UsageError(`--output ${destination}: expected oci:DIR, oci-archive:FILE or docker-archive:FILE`);
  if (count > 1 && (dest.transport !== "oci" || dest.ref !== undefined)) {
    throw new UsageError(
      `--output ${destination}: ${count} images cannot go into one ${dest.transport === "oci" ? "tag" : "archive"}; use oci:DIR (each image tagged with its workflow) or build one workflow`,
    );
  }
  const st = statSync(dest.path, { throwIfNoEntry: false });
  if (st && dest.transport !== "oci" && st.isDirectory())
    throw new UsageError(`--output ${destination}: ${dest.path} is a directory; an archive is a file`);
  if (st && dest.transport === "oci" && !st.isDirectory())
    throw new UsageError(`--output ${destination}: ${dest.path} is a file; an OCI layout is a directory`);
  return dest;
}
