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
    /**
     * Layers of A and of B that hold the same thing in another version: same kind, same package
     * families (a package layer rebuilt for a new version, the top layer of a changed environment).
     * Both sides are also in onlyA and onlyB, which stay what each image alone holds.
     */
    changed: { from: LayerSummary; to: LayerSummary }[];
    /** Bytes a runtime holding A must fetch to run B. */
    bytesToFetch: number;
  };
  base: { same: boolean; a?: string; b?: string };
  env: { added: string[]; removed: string[]; changed: string[] };
}

/**
 * What comparing needs of one image, read once from the store: `tantalus diff`
 * and the report's history page (which compares any two builds in the browser)
 * both compare these with compareImageFacts.
 */
export interface ImageFacts {
  ref: string;
  digest: Digest;
  workflow?: string;
  /** [family, qualified variant] for each package of its resolve label. */
  packages: [string, string][];
  layers: LayerSummary[];
  /** The base image's digest (the manifest's annotation), when built on one. */
  base?: string;
  /** The config's Env, NAME=value. */
  env: string[];
}

export async function diffImages(store: ImageReader, refA: string, refB: string): Promise<ImageDiff> {
  const a = imageFacts(await store.loadImage(await descriptorOf(store, refA)), refA);
  const b = imageFacts(await store.loadImage(await descriptorOf(store, refB)), refB);
  return compareImageFacts(a, b);
}

/** Reads an image's facts from its manifest and config (labels, layer annotations, Env). */
export function imageFacts(img: ResolvedImage, ref: string): ImageFacts {
  const labels = labelsOf(img);
  const facts: ImageFacts = {
    ref,
    digest: img.manifestDescriptor.digest,
    packages: splitList(labels[Label.Resolve]).map((q) => [parseQualifiedVariant(q)?.name ?? q, q]),
    layers: layerSummaries(img),
    env: img.config.config?.Env ?? [],
  };
  if (labels[Label.Workflow]) facts.workflow = labels[Label.Workflow];
  const base = img.manifest.annotations?.[Annotation.BaseDigest];
  if (base) facts.base = base;
  return facts;
}

/**
 * The packages, layers, base and Env two images differ by.
 *
 * Self-contained on purpose (no imports, no helpers outside its body, plain
 * JavaScript once the types are stripped): the report embeds its source in
 * the history page, so the comparison a reader picks there is computed by
 * this very function, not by a second copy that could drift from `tantalus diff`.
 */
export function compareImageFacts(a: ImageFacts, b: ImageFacts): ImageDiff {
  const order = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
  const pa = new Map(a.packages);
  const pb = new Map(b.packages);
  const added: string[] = [];
  const removed: string[] = [];
  const changed: PackageChange[] = [];
  let unchanged = 0;
  for (const [name, q] of pa) {
    const other = pb.get(name);
    if (other === undefined) removed.push(q);
    else if (other !== q) changed.push({ name, from: q, to: other });
    else unchanged++;
  }
  for (const [name, q] of pb) if (!pa.has(name)) added.push(q);

  const inA = new Set(a.layers.map((l) => l.digest));
  const inB = new Set(b.layers.map((l) => l.digest));
  const onlyA = a.layers.filter((l) => !inB.has(l.digest));
  const onlyB = b.layers.filter((l) => !inA.has(l.digest));
  // A layer's identity apart from versions: its kind and the families it carries. Paired when that is unique on each side.
  const familyOf = new Map([...a.packages, ...b.packages].map(([name, q]) => [q, name]));
  const identity = (l: LayerSummary) =>
    l.kind === undefined
      ? undefined
      : `${l.kind}\u0000${l.variants
          .map((v) => familyOf.get(v) ?? v)
          .sort(order)
          .join("\u0000")}`;
  const byIdentity = (list: LayerSummary[]) => {
    const m = new Map<string, LayerSummary[]>();
    for (const l of list) {
      const k = identity(l);
      if (k !== undefined) m.set(k, [...(m.get(k) ?? []), l]);
    }
    return m;
  };
  const fromA = byIdentity(onlyA);
  const fromB = byIdentity(onlyB);
  const layersChanged: { from: LayerSummary; to: LayerSummary }[] = [];
  for (const [k, list] of fromB) {
    const before = fromA.get(k);
    if (list.length === 1 && before?.length === 1) layersChanged.push({ from: before[0]!, to: list[0]! });
  }

  const toMap = (list: string[]) => new Map(list.map((e) => [e.slice(0, Math.max(0, e.indexOf("="))), e]));
  const ea = toMap(a.env);
  const eb = toMap(b.env);
  return {
    a: { ref: a.ref, digest: a.digest, ...(a.workflow ? { workflow: a.workflow } : {}) },
    b: { ref: b.ref, digest: b.digest, ...(b.workflow ? { workflow: b.workflow } : {}) },
    identical: a.digest === b.digest,
    packages: {
      added: added.sort(order),
      removed: removed.sort(order),
      changed: changed.sort((x, y) => order(x.name, y.name)),
      unchanged,
    },
    layers: {
      shared: a.layers.filter((l) => inB.has(l.digest)),
      onlyA,
      onlyB,
      changed: layersChanged,
      bytesToFetch: onlyB.reduce((s, l) => s + l.size, 0),
    },
    base: { same: a.base === b.base, ...(a.base ? { a: a.base } : {}), ...(b.base ? { b: b.base } : {}) },
    env: {
      added: [...eb.keys()].filter((k) => !ea.has(k)).sort(order),
      removed: [...ea.keys()].filter((k) => !eb.has(k)).sort(order),
      changed: [...ea.keys()].filter((k) => eb.has(k) && ea.get(k) !== eb.get(k)).sort(order),
    },
  };
}

function labelsOf(img: ResolvedImage): Record<string, string> {
  return { ...img.manifest.annotations, ...img.config.config?.Labels };
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
