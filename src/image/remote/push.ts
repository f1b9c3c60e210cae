/**
 * Push one image manifest and its blobs: blobs first (in parallel, each
 * skipped, mounted or uploaded), the manifest last, because a registry may
 * refuse a manifest whose blobs it does not have (MANIFEST_BLOB_UNKNOWN).
 */
import { TantalusError } from "../../errors.js";
import type { Digest } from "../digest.js";
import { sha256 } from "../digest.js";
import { isIndexMediaType, isManifestMediaType } from "../types.js";
import { clientFor, type RegistryClient, type RegistryOptions } from "./client.js";
import { RegistryError } from "./errors.js";
import { manifestBlobs, parseManifestBytes } from "./manifest.js";
import { mapLimit } from "./pool.js";
import { formatReference, parseReference, parseRepositoryName, type ImageReference } from "./reference.js";
import { pushBlob, pushScopes, type BlobProgress, type BlobSource } from "./upload.js";

export type PushProgress =
  ({ type: "blob" } & BlobProgress) | { type: "manifest"; digest: string; size: number; state: "uploaded" };

export interface PushImageInput {
  /** The manifest exactly as it will be stored (its digest is the image's). */
  manifest: Buffer;
  /** OCI or Docker schema2 image manifest media type. */
  mediaType: string;
  blobs: BlobSource;
  onProgress?: (p: PushProgress) => void;
}

export interface PushOptions extends RegistryOptions {
  /** Repositories on the same registry to mount blobs from ("vfx/base"), tried in order. */
  mountFrom?: readonly string[];
  /** Parallel blob uploads. Default 3. */
  jobs?: number;
  /** See UploadOptions. */
  monolithicMaxBytes?: number;
  chunkSize?: number;
  /** Reuse a client (and its tokens) across several pushes to the same registry. */
  client?: RegistryClient;
}

export interface PushedBlob {
  digest: Digest;
  size: number;
  outcome: "exists" | "mounted" | "uploaded";
}

export interface PushResult {
  /** registry/repository@digest. */
  reference: string;
  digest: Digest;
  size: number;
  blobs: PushedBlob[];
}

export const DEFAULT_PUSH_JOBS = 3;

export async function pushImage(
  ref: ImageReference | string,
  image: PushImageInput,
  opts: PushOptions = {},
): Promise<PushResult> {
  const target = typeof ref === "string" ? parseReference(ref) : ref;
  if (!isManifestMediaType(image.mediaType)) {
    const why = isIndexMediaType(image.mediaType)
      ? "an index: push each platform's image first, then push the index with pushManifest"
      : `not an image manifest media type`;
    throw new TantalusError(`cannot push ${formatReference(target)}: ${image.mediaType} is ${why}`);
  }
  const what = `manifest for ${formatReference(target)}`;
  const parsed = parseManifestBytes(image.manifest, image.mediaType, target.registry, what);
  if (parsed.kind !== "manifest" || parsed.mediaType !== image.mediaType) {
    throw new TantalusError(
      `${what}: its mediaType field says ${parsed.mediaType}, but it is being pushed as ${image.mediaType}`,
    );
  }
  const digest = sha256(image.manifest);
  if (target.digest !== undefined && target.digest !== digest) {
    throw new TantalusError(`cannot push to ${formatReference(target)}: the manifest's digest is ${digest}`);
  }
  const blobs = manifestBlobs(parsed.manifest, what);
  const mountFrom = (opts.mountFrom ?? []).map((r) => parseRepositoryName(target.registry, r));

  // Check sizes before talking to the registry: a store/manifest disagreement is a local bug.
  for (const b of blobs) {
    const { size } = await image.blobs.stat(b.digest);
    if (size !== b.size)
      throw new TantalusError(
        `${what}: blob ${b.digest} is ${size} bytes in the local store, but the manifest says ${b.size}`,
      );
  }

  const client = clientFor(target, opts);
  const jobs = opts.jobs ?? DEFAULT_PUSH_JOBS;
  const outcomes = await mapLimit(blobs, jobs, async (b) => {
    const outcome = await pushBlob(client, target.repository, b, image.blobs, {
      mountFrom,
      ...(opts.monolithicMaxBytes !== undefined ? { monolithicMaxBytes: opts.monolithicMaxBytes } : {}),
      ...(opts.chunkSize !== undefined ? { chunkSize: opts.chunkSize } : {}),
      onProgress: (p) => image.onProgress?.({ type: "blob", ...p }),
    });
    return { digest: b.digest, size: b.size, outcome };
  });

  // Same scopes as the blobs: the cached token serves the manifest too.
  await putManifest(client, target, image.manifest, image.mediaType, digest, pushScopes(target.repository, mountFrom));
  image.onProgress?.({ type: "manifest", digest, size: image.manifest.length, state: "uploaded" });
  return {
    reference: `${target.registry}/${target.repository}@${digest}`,
    digest,
    size: image.manifest.length,
    blobs: outcomes,
  };
}

/**
 * PUT a manifest (image or index) whose blobs/children are already in the
 * repository. Checks the digest the registry computed against ours.
 */
export async function pushManifest(
  ref: ImageReference | string,
  manifest: Buffer,
  mediaType: string,
  opts: RegistryOptions & { client?: RegistryClient } = {},
): Promise<Digest> {
  const target = typeof ref === "string" ? parseReference(ref) : ref;
  const digest = sha256(manifest);
  if (target.digest !== undefined && target.digest !== digest) {
    throw new TantalusError(`cannot push to ${formatReference(target)}: the manifest's digest is ${digest}`);
  }
  const client = clientFor(target, opts);
  await putManifest(client, target, manifest, mediaType, digest, pushScopes(target.repository, []));
  return digest;
}

async function putManifest(
  client: RegistryClient,
  target: ImageReference,
  manifest: Buffer,
  mediaType: string,
  digest: Digest,
  scopes: readonly string[],
): Promise<void> {
  const tagOrDigest = target.tag ?? target.digest ?? "latest";
  const res = await client
    .send({
      method: "PUT",
      url: `/v2/${target.repository}/manifests/${tagOrDigest}`,
      scopes,
      headers: { "content-type": mediaType },
      body: manifest,
      expect: [200, 201, 202],
      what: `push manifest ${formatReference(target)}`,
    })
    .catch((err: unknown) => {
      if (err instanceof RegistryError && err.hasCode("MANIFEST_BLOB_UNKNOWN")) {
        throw new RegistryError(
          `${err.message}; the registry does not have every blob the manifest names`,
          err.registry,
          err.status,
          err.codes,
        );
      }
      throw err;
    });
  await res.body?.cancel().catch(() => undefined);
  const stored = res.headers.get("docker-content-digest");
  if (stored && stored !== digest) {
    throw new RegistryError(
      `registry ${client.registry} stored the manifest for ${formatReference(target)} under ${stored}, expected ${digest}`,
      client.registry,
      res.status,
    );
  }
}
