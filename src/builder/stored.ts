/**
 * Images that already exist in the store, named the way users name them: a
 * workflow (its newest image), a store tag, or a manifest digest. `push`,
 * `export`, `tag` and `inspect` start here and never resolve or rebuild:
 * what was built is what travels.
 */
import { TantalusError, UsageError } from "../errors.js";
import { isDigest, type Digest } from "../image/digest.js";
import type { ImageReader, Tagger } from "../image/layout/interfaces.js";
import { isValidRefName, StoreAnnotation } from "../image/layout/store.js";
import { Annotation, type Descriptor } from "../image/types.js";
import { findWorkflowImage } from "../image/workflow-image.js";
import { Label } from "../image/contract.js";
import { splitList } from "./labels.js";

export interface StoredRef {
  /** What the store resolves: a tag or a manifest digest. */
  ref: string;
  descriptor: Descriptor;
  /** The workflow the image belongs to (store annotation, else the image's label). */
  workflow?: string;
}

/**
 * `what` is a manifest digest, a store tag, or a workflow (its most recently
 * tagged image), tried in that order so an exact tag always wins.
 */
export async function findStoredImage(store: ImageReader, what: string): Promise<StoredRef> {
  let ref: string | undefined;
  if (isDigest(what) || (await store.resolve(what))) ref = what;
  else ref = await findWorkflowImage(store, what);
  const descriptor = ref !== undefined ? await store.resolve(ref) : undefined;
  if (ref === undefined || !descriptor) {
    throw new TantalusError(
      `no image ${JSON.stringify(what)} in the store ${store.dir}: expected a workflow, a store tag or a manifest digest (\`tantalus images\` lists them; \`tantalus build ${what}\` builds a workflow's)`,
    );
  }
  let workflow = descriptor.annotations?.[StoreAnnotation.Workflow];
  if (workflow === undefined) {
    try {
      workflow = (await store.loadImage(descriptor)).config.config?.Labels?.[Label.Workflow];
    } catch {
      workflow = undefined;
    }
  }
  return { ref, descriptor, ...(workflow ? { workflow } : {}) };
}

/** Tag an existing image under a new store name, keeping the workflow it belongs to. */
export async function tagStoredImage(
  store: ImageReader & Tagger,
  source: string,
  name: string,
): Promise<StoredRef & { tag: string }> {
  if (!isValidRefName(name))
    throw new UsageError(
      `invalid tag ${JSON.stringify(name)}: expected letters, digits and . _ - : / (no spaces, not starting with one of those)`,
    );
  if (isDigest(name)) throw new UsageError(`invalid tag ${JSON.stringify(name)}: a digest cannot be a tag`);
  const found = await findStoredImage(store, source);
  const d = found.descriptor;
  await store.tag(
    name,
    { mediaType: d.mediaType, digest: d.digest, size: d.size },
    found.workflow ? { [StoreAnnotation.Workflow]: found.workflow } : {},
  );
  return { ...found, tag: name };
}

export interface InspectedLayer {
  digest: Digest;
  mediaType: string;
  size: number;
  /** base, package, environment… (io.tantalus.layer.kind); absent on a foreign image. */
  kind?: string;
  tier?: string;
  /** The Rez variants the layer holds. */
  packages: string[];
}

export interface InspectedImage {
  ref: string;
  digest: Digest;
  mediaType: string;
  size: number;
  workflow?: string;
  created?: string;
  /** The request as written and the resolve (qualified variant names), from the labels. */
  request: string[];
  packages: string[];
  base?: { name?: string; digest?: string };
  source?: { url?: string; revision?: string };
  platform: string;
  entrypoint: string[];
  cmd: string[];
  env: string[];
  labels: Record<string, string>;
  layers: InspectedLayer[];
  /** Store tags naming the same manifest. */
  tags: string[];
}

export async function inspectStoredImage(store: ImageReader, what: string): Promise<InspectedImage> {
  const found = await findStoredImage(store, what);
  const img = await store.loadImage(found.descriptor, undefined, what);
  const labels = { ...img.config.config?.Labels };
  const notes = { ...img.manifest.annotations, ...labels };
  const index = await store.readIndex();
  const tags = index.manifests
    .filter((d) => d.digest === found.descriptor.digest && d.annotations?.[Annotation.RefName] !== undefined)
    .map((d) => d.annotations![Annotation.RefName]!)
    .sort();
  const out: InspectedImage = {
    ref: found.ref,
    digest: img.manifestDescriptor.digest,
    mediaType: img.manifestDescriptor.mediaType,
    size: img.manifestDescriptor.size + img.manifest.config.size + img.manifest.layers.reduce((s, l) => s + l.size, 0),
    request: splitList(notes[Label.Request]),
    packages: splitList(notes[Label.Resolve]),
    platform: `${img.config.os}/${img.config.architecture}`,
    entrypoint: img.config.config?.Entrypoint ?? [],
    cmd: img.config.config?.Cmd ?? [],
    env: img.config.config?.Env ?? [],
    labels,
    layers: img.manifest.layers.map((l) => {
      const layer: InspectedLayer = {
        digest: l.digest,
        mediaType: l.mediaType,
        size: l.size,
        packages: splitList(l.annotations?.[Label.LayerVariants]),
      };
      const kind = l.annotations?.[Label.LayerKind];
      const tier = l.annotations?.[Label.LayerTier];
      if (kind) layer.kind = kind;
      if (tier) layer.tier = tier;
      return layer;
    }),
    tags,
  };
  if (found.workflow) out.workflow = found.workflow;
  const created = img.config.created ?? notes[Annotation.Created];
  if (created) out.created = created;
  const baseName = img.manifest.annotations?.[Annotation.BaseName];
  const baseDigest = img.manifest.annotations?.[Annotation.BaseDigest];
  if (baseName || baseDigest)
    out.base = { ...(baseName ? { name: baseName } : {}), ...(baseDigest ? { digest: baseDigest } : {}) };
  const url = notes[Annotation.Source];
  const revision = notes[Annotation.Revision];
  if (url || revision) out.source = { ...(url ? { url } : {}), ...(revision ? { revision } : {}) };
  return out;
}
