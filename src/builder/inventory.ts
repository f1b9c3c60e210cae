/**
 * What the store holds, as `tantalus images`, `tantalus diff` and
 * `tantalus gc` show it: images by workflow with their resolves (read from
 * the images' own labels, so pulled images are described as well as built
 * ones), the packages and layers two images differ by, and garbage
 * collection under a retention policy.
 */
import { TantalusError } from "../errors.js";
import type { Digest } from "../image/digest.js";
import type { BlobReader, ImageReader, PrivateArea, StoreMaintenance, Tagger } from "../image/layout/interfaces.js";
import { StoreAnnotation, repairHint, type GcReport } from "../image/layout/store.js";
import { Annotation, isManifestMediaType, type Descriptor, type ResolvedImage } from "../image/types.js";
import { BASE_ROLE_ANNOTATION } from "./base.js";
import { Label } from "../image/contract.js";
import { parseQualifiedVariant, splitList } from "./labels.js";
import { DEFAULT_DEV_RETENTION_MS, isDevEntry, requestWorkflowOfTag } from "../image/dev-tag.js";
import { removeWorkflowStamp } from "./stamp.js";

export interface StoredImage {
  tag: string;
  /** The workflow it is an image of (the store's grouping, else the image's label); absent for other images. */
  workflow?: string;
  digest: Digest;
  /** Manifest, config and layers as stored (compressed). */
  size: number;
  layers?: number;
  /** The image config's `created` (fixed by reproducible builds). */
  created?: string;
  /** When this store last set the tag (when the image was built or pulled here). */
  tagged?: string;
  request: string[];
  resolve: string[];
  /** "base" for base images pulled for builds. */
  role?: string;
  /** Why the image cannot be used, and the command that repairs it (a missing or corrupted manifest or config). */
  problem?: string;
}

export async function listStoredImages(store: BlobReader & ImageReader & StoreMaintenance): Promise<StoredImage[]> {
  const out: StoredImage[] = [];
  for (const e of await store.listImages()) {
    const labels =
      isManifestMediaType(e.mediaType) && (await store.hasBlob(e.digest)) ? await imageLabelsOf(store, e.digest) : {};
    const workflow = e.annotations[StoreAnnotation.Workflow] ?? labels[Label.Workflow];
    const item: StoredImage = {
      tag: e.tag,
      digest: e.digest,
      size: e.size,
      request: splitList(labels[Label.Request]),
      resolve: splitList(labels[Label.Resolve]),
    };
    if (workflow) item.workflow = workflow;
    if (e.layers !== undefined) item.layers = e.layers;
    if (e.created) item.created = e.created;
    if (e.tagged) item.tagged = e.tagged;
    const role = e.annotations[BASE_ROLE_ANNOTATION];
    if (role) item.role = role;
    if (e.problem) item.problem = `${e.problem}; ${repairHint(e.annotations, workflow)}`;
    out.push(item);
  }
  return out.sort(
    (a, b) =>
      cmp(a.workflow ?? "\uffff", b.workflow ?? "\uffff") || cmp(b.tagged ?? "", a.tagged ?? "") || cmp(a.tag, b.tag),
  );
}

/** Config labels, falling back to manifest annotations. */
async function imageLabelsOf(store: ImageReader, digest: Digest): Promise<Record<string, string>> {
  try {
    const img = await store.loadImage(await descriptorOf(store, digest));
    return { ...img.manifest.annotations, ...img.config.config?.Labels };
  } catch {
    return {};
  }
}

async function descriptorOf(store: ImageReader, ref: string): Promise<Descriptor> {
  const d = await store.resolve(ref);
  if (!d)
    throw new TantalusError(`no image ${JSON.stringify(ref)} in the store ${store.dir} (tantalus images lists them)`);
  return d;
}

// ---------------------------------------------------------------- diff

export interface PackageChange {
  name: string;
  from: string;
  to: string;
}

export interface LayerSummary {
  digest: Digest;
  size: number;
  kind?: string;
  variants: string[];
}

export interface ImageDiff {
  a: { ref: string; digest: Digest; workflow?: string };
  b: { ref: string; digest: Digest; workflow?: string };
  identical: boolean;
  packages: { added: string[]; removed: string[]; changed: PackageChange[]; unchanged: number };
  layers: {
    shared: LayerSummary[];
    onlyA: LayerSummary[];
    onlyB: LayerSummary[];
    /** Bytes a runtime holding A must fetch to run B. */
    bytesToFetch: number;
  };
  base: { same: boolean; a?: string; b?: string };
  env: { added: string[]; removed: string[]; changed: string[] };
}

export async function diffImages(store: ImageReader, refA: string, refB: string): Promise<ImageDiff> {
  const [a, b] = [
    await store.loadImage(await descriptorOf(store, refA)),
    await store.loadImage(await descriptorOf(store, refB)),
  ];
  const la = labelsOf(a);
  const lb = labelsOf(b);
  const pa = packagesOf(splitList(la[Label.Resolve]));
  const pb = packagesOf(splitList(lb[Label.Resolve]));
  const added: string[] = [];
  const removed: string[] = [];
  const changed: PackageChange[] = [];
  let unchanged = 0;
  for (const [name, q] of pa) {
    const other = pb.get(name);
    if (!other) removed.push(q);
    else if (other !== q) changed.push({ name, from: q, to: other });
    else unchanged++;
  }
  for (const [name, q] of pb) if (!pa.has(name)) added.push(q);

  const layersA = layerSummaries(a);
  const layersB = layerSummaries(b);
  const inA = new Set(layersA.map((l) => l.digest));
  const inB = new Set(layersB.map((l) => l.digest));
  const onlyB = layersB.filter((l) => !inA.has(l.digest));
  const env = envDiff(a.config.config?.Env ?? [], b.config.config?.Env ?? []);
  const baseA = a.manifest.annotations?.[Annotation.BaseDigest];
  const baseB = b.manifest.annotations?.[Annotation.BaseDigest];
  return {
    a: {
      ref: refA,
      digest: a.manifestDescriptor.digest,
      ...(la[Label.Workflow] ? { workflow: la[Label.Workflow] } : {}),
    },
    b: {
      ref: refB,
      digest: b.manifestDescriptor.digest,
      ...(lb[Label.Workflow] ? { workflow: lb[Label.Workflow] } : {}),
    },
    identical: a.manifestDescriptor.digest === b.manifestDescriptor.digest,
    packages: {
      added: added.sort(),
      removed: removed.sort(),
      changed: changed.sort((x, y) => cmp(x.name, y.name)),
      unchanged,
    },
    layers: {
      shared: layersA.filter((l) => inB.has(l.digest)),
      onlyA: layersA.filter((l) => !inB.has(l.digest)),
      onlyB,
      bytesToFetch: onlyB.reduce((s, l) => s + l.size, 0),
    },
    base: { same: baseA === baseB, ...(baseA ? { a: baseA } : {}), ...(baseB ? { b: baseB } : {}) },
    env,
  };
}

function labelsOf(img: ResolvedImage): Record<string, string> {
  return { ...img.manifest.annotations, ...img.config.config?.Labels };
}

/** name -> qualified variant name. */
function packagesOf(resolve: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const q of resolve) out.set(parseQualifiedVariant(q)?.name ?? q, q);
  return out;
}

function layerSummaries(img: ResolvedImage): LayerSummary[] {
  return img.manifest.layers.map((l) => {
    const s: LayerSummary = {
      digest: l.digest,
      size: l.size,
      variants: splitList(l.annotations?.[Label.LayerVariants]),
    };
    const kind = l.annotations?.[Label.LayerKind];
    if (kind) s.kind = kind;
    return s;
  });
}

function envDiff(a: string[], b: string[]): ImageDiff["env"] {
  const toMap = (list: string[]) => new Map(list.map((e) => [e.slice(0, Math.max(0, e.indexOf("="))), e]));
  const ma = toMap(a);
  const mb = toMap(b);
  return {
    added: [...mb.keys()].filter((k) => !ma.has(k)).sort(),
    removed: [...ma.keys()].filter((k) => !mb.has(k)).sort(),
    changed: [...ma.keys()].filter((k) => mb.has(k) && ma.get(k) !== mb.get(k)).sort(),
  };
}

// ---------------------------------------------------------------- gc

export interface CollectOptions {
  /** Keep the N most recently built images of each workflow (default: keep every tagged image). */
  keep?: number;
  /** Tags or digests never untagged (in addition to each workflow's current tag). */
  pins?: string[];
  dryRun?: boolean;
  /** Unreferenced blobs younger than this survive (a build in flight may not have tagged them yet). Default 24 h. */
  minAgeMs?: number;
  /** With `keep`, count and untag images fetched with `tantalus pull` too (by default they are kept). */
  includePulled?: boolean;
  /**
   * Untag developers' images (dev tags, src/image/dev-tag.ts) tagged longer ago than this (dev.retention,
   * default 7 days). Younger ones are neither untagged nor counted by `keep`.
   */
  devRetentionMs?: number;
  /** The clock, for tests (default Date.now()). */
  now?: number;
}

export interface CollectReport extends GcReport {
  /** Everything protected from untagging: the pins given and each workflow's current tag. */
  pinned: string[];
}

/**
 * Garbage collection: with `keep`, untag all but the N newest images of each
 * workflow (a workflow's current tag, `<workflow>`, is always kept; images
 * pulled from a registry are kept unless `includePulled`); then
 * delete blobs no remaining tag references.
 */
export async function collectGarbage(
  store: ImageReader & StoreMaintenance & Tagger & PrivateArea,
  opts: CollectOptions = {},
): Promise<CollectReport> {
  if (opts.keep !== undefined && (!Number.isInteger(opts.keep) || opts.keep < 1)) {
    throw new TantalusError(`--keep ${opts.keep}: expected a whole number of images, at least 1`);
  }
  const index = await store.readIndex();
  const current = index.manifests
    .filter((d) => {
      const tag = d.annotations?.[Annotation.RefName];
      return tag !== undefined && tag === d.annotations?.[StoreAnnotation.Workflow];
    })
    .map((d) => d.annotations![Annotation.RefName]!);
  // Dev tags live by their retention alone: the expired ones go first, the others are pinned for `keep`.
  const retention = opts.devRetentionMs ?? DEFAULT_DEV_RETENTION_MS;
  const now = opts.now ?? Date.now();
  const expired: string[] = [];
  const youngDev: string[] = [];
  for (const d of index.manifests) {
    const tag = d.annotations?.[Annotation.RefName];
    if (tag === undefined || !isDevEntry(d.annotations) || (opts.pins ?? []).includes(tag)) continue;
    const tagged = Date.parse(d.annotations?.[StoreAnnotation.Tagged] ?? "");
    // A tag without a time (written by hand) is treated as old: dev tags are throwaway by definition.
    if (!Number.isFinite(tagged) || now - tagged >= retention) expired.push(tag);
    else youngDev.push(tag);
  }
  if (!opts.dryRun)
    for (const tag of expired) {
      await store.deleteTag(tag);
      // An ad-hoc request's stamp vouches for its request:<hash> tag alone: it goes with the tag.
      const request = requestWorkflowOfTag(tag);
      if (request !== undefined) removeWorkflowStamp(store.metaDir, request);
    }
  const pinned = [...new Set([...(opts.pins ?? []), ...current])].sort();
  const report = await store.gc({
    ...(opts.keep !== undefined ? { keepPerWorkflow: opts.keep } : {}),
    pinned: [...pinned, ...youngDev],
    dryRun: opts.dryRun ?? false,
    includePulled: opts.includePulled ?? false,
    ...(opts.minAgeMs !== undefined ? { minAgeMs: opts.minAgeMs } : {}),
  });
  return { ...report, removedTags: [...expired, ...report.removedTags].sort(), pinned };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
