/**
 * Shape checks for the JSON documents an image is made of (manifests, image
 * indexes, configs), read from a layout, an archive or a registry. The types
 * in types.ts describe what a well-formed document holds; these make sure a
 * document is one before code walks it, so a crafted or damaged one is a
 * sentence naming it instead of a TypeError deep in a copy or an unpack.
 */
import { TantalusError } from "../errors.js";
import { isDigest } from "./digest.js";
import type { Descriptor, ImageConfig, ImageIndex, ImageManifest } from "./types.js";

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function checkDescriptor(d: unknown, what: string, field: string): Descriptor {
  if (!isObject(d)) throw new TantalusError(`${what}: ${field} is not a descriptor object`);
  if (!isDigest(d.digest))
    throw new TantalusError(`${what}: ${field}.digest ${JSON.stringify(d.digest)} is not a sha256 digest`);
  if (typeof d.size !== "number" || !Number.isSafeInteger(d.size) || d.size < 0)
    throw new TantalusError(`${what}: ${field}.size ${JSON.stringify(d.size)} is not a byte count`);
  if (d.mediaType !== undefined && typeof d.mediaType !== "string")
    throw new TantalusError(`${what}: ${field}.mediaType is not a string`);
  if (d.annotations !== undefined && !isObject(d.annotations))
    throw new TantalusError(`${what}: ${field}.annotations is not an object`);
  if (d.platform !== undefined && !isObject(d.platform))
    throw new TantalusError(`${what}: ${field}.platform is not an object`);
  return d as unknown as Descriptor;
}

/** A manifest or an index as read from a blob: an object, with its descriptors well formed. */
export function checkImageDocument(doc: unknown, what: string): ImageManifest & ImageIndex {
  if (!isObject(doc)) throw new TantalusError(`${what}: not an image manifest or index (a JSON object)`);
  if (doc.mediaType !== undefined && typeof doc.mediaType !== "string")
    throw new TantalusError(`${what}: mediaType is not a string`);
  if (doc.manifests !== undefined) {
    if (!Array.isArray(doc.manifests)) throw new TantalusError(`${what}: manifests is not a list`);
    doc.manifests.forEach((d, i) => checkDescriptor(d, what, `manifests[${i}]`));
  }
  if (doc.layers !== undefined || doc.config !== undefined) checkManifestFields(doc, what);
  return doc as unknown as ImageManifest & ImageIndex;
}

function checkManifestFields(doc: Record<string, unknown>, what: string): void {
  checkDescriptor(doc.config, what, "config");
  if (!Array.isArray(doc.layers)) throw new TantalusError(`${what}: layers is not a list`);
  doc.layers.forEach((d, i) => checkDescriptor(d, what, `layers[${i}]`));
}

/** An image manifest: a config descriptor and a list of layer descriptors. */
export function checkManifest(doc: ImageManifest | Record<string, unknown>, what: string): ImageManifest {
  checkManifestFields(doc as Record<string, unknown>, what);
  return doc as ImageManifest;
}

/** An image config: an object whose rootfs.diff_ids, when present, is a list of digests. */
export function checkConfig(config: unknown, what: string): ImageConfig {
  if (!isObject(config)) throw new TantalusError(`${what}: not an image config (a JSON object)`);
  const rootfs = config.rootfs;
  if (rootfs !== undefined) {
    if (!isObject(rootfs)) throw new TantalusError(`${what}: rootfs is not an object`);
    if (
      rootfs.diff_ids !== undefined &&
      (!Array.isArray(rootfs.diff_ids) || !rootfs.diff_ids.every((d) => isDigest(d)))
    ) {
      throw new TantalusError(`${what}: rootfs.diff_ids is not a list of sha256 digests`);
    }
  }
  if (config.config !== undefined && config.config !== null && !isObject(config.config))
    throw new TantalusError(`${what}: config is not an object`);
  return config as unknown as ImageConfig;
}

export type { ImageIndex };
