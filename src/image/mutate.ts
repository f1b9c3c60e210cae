/**
 * Image assembly: base image (reused blob for blob, never re-packed) + new
 * layers + config changes → config and manifest in the store. All times are
 * fixed and JSON is canonical, so the same inputs give the same manifest
 * digest bit for bit.
 */
import { TantalusError } from "../errors.js";
import { sha256 as sha256Str, type Digest } from "./digest.js";
import type { BlobIngester, BlobReader, Tagger } from "./layout/interfaces.js";
import {
  Annotation,
  MediaType,
  hostPlatform,
  layerCompression,
  layerMediaType,
  type ContainerConfig,
  type Descriptor,
  type HistoryEntry,
  type ImageConfig,
  type ImageManifest,
  type LayerDescriptor,
  type Platform,
  type ResolvedImage,
} from "./types.js";

/** Image `created` and history times when none is given (same instant as layer mtimes). */
export const DEFAULT_CREATED = "1970-01-01T00:00:01Z";

export interface NewLayer {
  layer: LayerDescriptor;
  /** history[].created_by; default "tantalus". */
  createdBy?: string;
  /** history[].comment, e.g. the Rez variants in the layer. */
  comment?: string;
}

/**
 * Changes to the runtime config. Env entries ("KEY=value") replace a base
 * entry with the same key in place, else are appended; Labels, ExposedPorts
 * and Volumes merge; other fields replace. Setting Entrypoint without Cmd
 * clears an inherited Cmd (Dockerfile ENTRYPOINT semantics).
 */
export type ConfigChanges = Partial<ContainerConfig>;

export interface ImageSpec {
  /** Omit for an image from scratch. */
  base?: ResolvedImage;
  /** Recorded as org.opencontainers.image.base.name. */
  baseName?: string;
  layers: NewLayer[];
  config?: ConfigChanges;
  /** RFC 3339; default DEFAULT_CREATED. */
  created?: string;
  author?: string;
  /** For scratch images; default this host's platform. */
  platform?: Platform;
  /** Manifest annotations (org.opencontainers.image.* and our own). */
  annotations?: Record<string, string>;
}

export interface BuiltImage {
  descriptor: Descriptor;
  manifest: ImageManifest;
  config: ImageConfig;
  configDescriptor: Descriptor;
}

/** Pure part of assembly: the config and the manifest minus the config descriptor. */
export function assembleConfig(spec: ImageSpec): ImageConfig {
  const created = spec.created ?? DEFAULT_CREATED;
  const base = spec.base;
  let config: ImageConfig;
  if (base) {
    config = structuredClone(base.config);
    const ids = config.rootfs?.diff_ids ?? [];
    if (ids.length !== base.manifest.layers.length) {
      throw new TantalusError(
        `base image ${base.manifestDescriptor.digest}: config has ${ids.length} diff_ids but the manifest has ${base.manifest.layers.length} layers`,
      );
    }
    config.rootfs = { type: "layers", diff_ids: [...ids] };
  } else {
    const p = spec.platform ?? hostPlatform();
    config = { architecture: p.architecture, os: p.os, rootfs: { type: "layers", diff_ids: [] } };
    if (p.variant) config.variant = p.variant;
  }
  config.created = created;
  if (spec.author !== undefined) config.author = spec.author;
  config.config = applyConfigChanges(config.config ?? {}, spec.config ?? {});
  const history: HistoryEntry[] = config.history ? [...config.history] : [];
  for (const l of spec.layers) {
    config.rootfs.diff_ids.push(l.layer.diffId);
    const h: HistoryEntry = { created, created_by: l.createdBy ?? "tantalus" };
    if (l.comment !== undefined) h.comment = l.comment;
    history.push(h);
  }
  if (history.length > 0) config.history = history;
  return config;
}

export function applyConfigChanges(current: ContainerConfig, changes: ConfigChanges): ContainerConfig {
  const out: ContainerConfig = structuredClone(current);
  if (changes.Env) {
    const env = [...(out.Env ?? [])];
    for (const entry of changes.Env) {
      const eq = entry.indexOf("=");
      if (eq <= 0) throw new TantalusError(`Env entry ${JSON.stringify(entry)}: expected KEY=value`);
      const key = entry.slice(0, eq + 1);
      const at = env.findIndex((e) => e.startsWith(key));
      if (at >= 0) env[at] = entry;
      else env.push(entry);
    }
    out.Env = env;
  }
  if (changes.Labels) out.Labels = { ...out.Labels, ...changes.Labels };
  if (changes.ExposedPorts) out.ExposedPorts = { ...out.ExposedPorts, ...changes.ExposedPorts };
  if (changes.Volumes) out.Volumes = { ...out.Volumes, ...changes.Volumes };
  if (changes.Entrypoint !== undefined) {
    out.Entrypoint = changes.Entrypoint;
    if (changes.Cmd === undefined) out.Cmd = null;
  }
  if (changes.Cmd !== undefined) out.Cmd = changes.Cmd;
  if (changes.User !== undefined) out.User = changes.User;
  if (changes.WorkingDir !== undefined) out.WorkingDir = changes.WorkingDir;
  if (changes.StopSignal !== undefined) out.StopSignal = changes.StopSignal;
  for (const k of Object.keys(out) as Array<keyof ContainerConfig>)
    if (out[k] === null || out[k] === undefined) delete out[k];
  return out;
}

/** A base layer descriptor as it goes into our OCI manifest: same blob, OCI media type. */
export function ociLayerDescriptor(d: Descriptor): Descriptor {
  const compression = layerCompression(d.mediaType);
  const out: Descriptor = {
    mediaType: compression ? layerMediaType(compression) : d.mediaType,
    digest: d.digest,
    size: d.size,
  };
  if (d.urls) out.urls = d.urls;
  if (d.annotations) out.annotations = d.annotations;
  return out;
}

function plainDescriptor(l: LayerDescriptor): Descriptor {
  const out: Descriptor = { mediaType: l.mediaType, digest: l.digest, size: l.size };
  if (l.annotations && Object.keys(l.annotations).length > 0) out.annotations = l.annotations;
  return out;
}

/** Write config + manifest to the store (layers must already be there); optionally tag. */
export async function writeImage(
  store: BlobReader & BlobIngester & Tagger,
  spec: ImageSpec,
  opts: { tag?: string; tagAnnotations?: Record<string, string> } = {},
): Promise<BuiltImage> {
  const config = assembleConfig(spec);
  const layers: Descriptor[] = [
    ...(spec.base?.manifest.layers.map(ociLayerDescriptor) ?? []),
    ...spec.layers.map((l) => plainDescriptor(l.layer)),
  ];
  const missing = await store.firstMissingBlob(layers);
  if (missing)
    throw new TantalusError(`layer ${missing.digest} (${missing.size} bytes) is not in the store ${store.dir}`);
  const configDescriptor = await store.putJson(config, MediaType.ImageConfig);
  const annotations: Record<string, string> = { [Annotation.Created]: config.created ?? DEFAULT_CREATED };
  if (spec.base) {
    annotations[Annotation.BaseDigest] = spec.base.manifestDescriptor.digest;
    if (spec.baseName) annotations[Annotation.BaseName] = spec.baseName;
  }
  Object.assign(annotations, spec.annotations);
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.ImageManifest,
    config: configDescriptor,
    layers,
    annotations,
  };
  const descriptor = await store.putManifest(manifest);
  if (opts.tag !== undefined) await store.tag(opts.tag, descriptor, opts.tagAnnotations);
  return { descriptor, manifest, config, configDescriptor };
}

/** The ChainID of a layer stack (config.md): what runtimes key unpacked layers on. */
export function chainIds(diffIds: Digest[]): Digest[] {
  const out: Digest[] = [];
  for (const id of diffIds) {
    const prev = out[out.length - 1];
    out.push(prev === undefined ? id : sha256Str(`${prev} ${id}`));
  }
  return out;
}
