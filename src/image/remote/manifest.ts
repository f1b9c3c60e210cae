/**
 * Manifest bytes as they travel: media type detection and digest checks.
 * Manifests are never re-serialised — the digest is of the exact bytes.
 */
import { createHash } from "node:crypto";
import { TantalusError } from "../../errors.js";
import { parseDigest, type Digest } from "../digest.js";
import {
  MediaType,
  isIndexMediaType,
  isManifestMediaType,
  type Descriptor,
  type ImageIndex,
  type ImageManifest,
} from "../types.js";
import { RegistryError } from "./errors.js";

/** Everything we can read, preferred first (the Accept header of a manifest GET). */
export const MANIFEST_ACCEPT = [
  MediaType.ImageIndex,
  MediaType.ImageManifest,
  MediaType.DockerManifestList,
  MediaType.DockerManifest,
] as const;

const SCHEMA1 = /^application\/vnd\.docker\.distribution\.manifest\.v1\+(?:prettyjws|json)$/;

/** Digest of bytes with the algorithm a reference or header names (sha256 unless told otherwise). */
export function digestWith(algorithm: string, bytes: Uint8Array): string {
  if (algorithm !== "sha256" && algorithm !== "sha384" && algorithm !== "sha512") {
    throw new RangeError(`unsupported digest algorithm ${algorithm}`);
  }
  return `${algorithm}:${createHash(algorithm).update(bytes).digest("hex")}`;
}

export function algorithmOf(digest: string): string {
  return digest.slice(0, digest.indexOf(":"));
}

export type ParsedManifest =
  | { kind: "manifest"; mediaType: string; manifest: ImageManifest }
  | { kind: "index"; mediaType: string; index: ImageIndex };

/**
 * Decide what a manifest is from its `mediaType` field, else the
 * Content-Type the registry sent, else its shape.
 */
export function parseManifestBytes(
  bytes: Buffer,
  contentType: string | undefined,
  registry: string,
  what: string,
): ParsedManifest {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString("utf8"));
  } catch {
    throw new RegistryError(`registry ${registry}: ${what} is not JSON`, registry);
  }
  if (typeof json !== "object" || json === null)
    throw new RegistryError(`registry ${registry}: ${what} is not a JSON object`, registry);
  const obj = json as Record<string, unknown>;
  const declared = typeof obj.mediaType === "string" ? obj.mediaType : undefined;
  const header = contentType?.split(";")[0]?.trim();
  let mediaType = declared ?? header ?? "";
  if (SCHEMA1.test(mediaType) || obj.schemaVersion === 1) {
    throw new RegistryError(
      `registry ${registry}: ${what} is a Docker schema 1 manifest, which is deprecated and not supported`,
      registry,
    );
  }
  if (!isIndexMediaType(mediaType) && !isManifestMediaType(mediaType)) {
    // OCI lets mediaType be omitted; fall back to the shape.
    if (Array.isArray(obj.manifests)) mediaType = MediaType.ImageIndex;
    else if (Array.isArray(obj.layers) && typeof obj.config === "object") mediaType = MediaType.ImageManifest;
    else
      throw new RegistryError(
        `registry ${registry}: ${what} has unsupported media type ${JSON.stringify(mediaType)}`,
        registry,
      );
  }
  if (obj.schemaVersion !== 2)
    throw new RegistryError(
      `registry ${registry}: ${what} has schemaVersion ${String(obj.schemaVersion)}, expected 2`,
      registry,
    );
  if (isIndexMediaType(mediaType)) {
    if (!Array.isArray(obj.manifests))
      throw new RegistryError(`registry ${registry}: ${what} is an index without "manifests"`, registry);
    return { kind: "index", mediaType, index: obj as unknown as ImageIndex };
  }
  const config = obj.config as Descriptor | undefined;
  if (typeof config !== "object" || config === null || !Array.isArray(obj.layers)) {
    throw new RegistryError(`registry ${registry}: ${what} lacks "config" or "layers"`, registry);
  }
  return { kind: "manifest", mediaType, manifest: obj as unknown as ImageManifest };
}

/** The blobs an image manifest references, config first, each once, digests validated. */
export function manifestBlobs(
  manifest: ImageManifest,
  what: string,
): { digest: Digest; size: number; mediaType: string }[] {
  const seen = new Set<string>();
  const out: { digest: Digest; size: number; mediaType: string }[] = [];
  const all: Descriptor[] = [manifest.config, ...manifest.layers];
  all.forEach((d, i) => {
    const where = i === 0 ? `${what} config` : `${what} layer ${i - 1}`;
    const digest = parseDigest(d.digest, `${where} digest`);
    if (!Number.isSafeInteger(d.size) || d.size < 0)
      throw new TantalusError(`${where}: size must be a non-negative integer, got ${String(d.size)}`);
    if (seen.has(digest)) return;
    seen.add(digest);
    out.push({ digest, size: d.size, mediaType: d.mediaType });
  });
  return out;
}
