/**
 * The image every workflow image is layered on (base.image): the demo base,
 * an image from any registry (also spelt docker://REF), an image in podman's
 * own store (containers-storage:NAME, copied out with skopeo), or a local OCI
 * layout, oci-archive, docker archive or root-file-system tarball
 * (src/image/base-reference.ts). Its layers are reused blob for blob.
 *
 * Registry bases are pulled into the store and tagged with their fully
 * qualified reference. When the registry cannot be reached, the stored copy
 * is used (and the build says so); a reference pinned by digest that the
 * store already has is not looked up at all.
 */
import { TantalusError } from "../errors.js";
import { isDigest } from "../image/digest.js";
import type {
  BlobIngester,
  BlobReader,
  ImageReader,
  ImageStore,
  PrivateArea,
  Tagger,
} from "../image/layout/interfaces.js";
import { RegistryError } from "../image/remote/errors.js";
import { parseReference } from "../image/remote/reference.js";
import type { RegistryOptions } from "../image/remote/client.js";
import { parseBaseReference, resolveLocalBase } from "../image/base-reference.js";
import { importContainersStorage, importImage } from "../image/sources/index.js";
import type { LayerCompression, ResolvedImage } from "../image/types.js";
import { demoBaseImage } from "./demo-base.js";
import { blobIsIntact } from "./layers.js";
import { pullIntoStore, storeTagFor } from "./distribution.js";
import type { BuildEventSink } from "./events.js";
import { StoreMemo, memoKey } from "./memo.js";

export interface BaseImage {
  image: ResolvedImage;
  /** As configured: "demo", "rockylinux:9", "oci:/path:tag" … */
  name: string;
  kind: "demo" | "registry" | "local";
}

export interface BaseOptions {
  compression: LayerCompression;
  level?: number;
  mtime: Date;
  created: string;
  /** For registry bases (insecure, credentials, retries). */
  registry?: RegistryOptions;
  /** Check the digests of the base's blobs already in the store (see LayerWriteOptions.verify). */
  verify?: boolean;
  /** SONAMEs the demo base must also carry. */
  demoLibraries?: readonly string[];
  /** Directory a relative local base path is relative to (that of the file naming the base; default: the working directory). */
  configDir?: string;
  onEvent: BuildEventSink;
}

/** Stored under this annotation on base tags, so listings can tell them from workflow images. */
export const BASE_ROLE_ANNOTATION = "io.tantalus.role";

/**
 * How many layers the base will have, before it is obtained: the demo base
 * has one; another base as many as the last build with this store found.
 * The build plans its package layers with it (the budget counts the base's
 * layers) and writes them while it obtains the base; a wrong guess costs a
 * second plan, never a wrong one.
 */
export async function expectedBaseLayers(store: PrivateArea, spec: string): Promise<number | undefined> {
  if (spec === "demo") return 1;
  const seen = await baseLayerCounts(store).get(memoKey("base-layers/v1", spec));
  return typeof seen === "number" ? seen : undefined;
}

/** Record the base's layer count for the next build (the caller writes it only when it differs from the expected one). */
export async function rememberBaseLayers(store: PrivateArea, spec: string, layers: number): Promise<void> {
  if (spec !== "demo") await baseLayerCounts(store).put(memoKey("base-layers/v1", spec), layers);
}

function baseLayerCounts(store: PrivateArea): StoreMemo<number> {
  return new StoreMemo<number>(store, "base-layers");
}

export async function resolveBaseImage(store: ImageStore, spec: string, opts: BaseOptions): Promise<BaseImage> {
  const base = await obtainBase(store, spec, opts);
  if (!opts.verify || base.kind === "demo") return base; // the demo layer is checked as a cached layer
  const bad = [];
  for (const d of [base.image.manifest.config, ...base.image.manifest.layers])
    if (!(await blobIsIntact(store, d))) bad.push(d.digest);
  if (bad.length === 0) return base;
  opts.onEvent({
    type: "warning",
    message: `base ${spec}: ${bad.join(", ")} corrupted in the store: moved aside, fetching again`,
  });
  return obtainBase(store, spec, opts);
}

async function obtainBase(store: ImageStore, spec: string, opts: BaseOptions): Promise<BaseImage> {
  const base = parseBaseReference(spec);
  switch (base.kind) {
    case "demo":
      opts.onEvent({ type: "step", message: "base: demo (this host's shell and system libraries)" });
      return {
        image: await demoBaseImage(store, { ...opts, libraries: opts.demoLibraries ?? [] }),
        name: "demo",
        kind: "demo",
      };
    case "local":
      opts.onEvent({ type: "step", message: `base: ${spec}` });
      return {
        image: await importImage(
          store,
          opts.configDir !== undefined ? resolveLocalBase(base.reference, opts.configDir) : base.reference,
        ),
        name: spec,
        kind: "local",
      };
    case "containers-storage":
      opts.onEvent({ type: "step", message: `base: ${spec} (copied out of podman's store with skopeo)` });
      return { image: await importContainersStorage(store, base.name), name: spec, kind: "local" };
    case "registry":
      return { image: await registryBase(store, base.reference, opts), name: spec, kind: "registry" };
  }
}

async function registryBase(
  store: BlobReader & BlobIngester & ImageReader & Tagger,
  spec: string,
  opts: BaseOptions,
): Promise<ResolvedImage> {
  const ref = parseReference(spec);
  const tag = storeTagFor(ref);
  if (ref.digest !== undefined && isDigest(ref.digest) && (await store.hasBlob(ref.digest))) {
    opts.onEvent({ type: "step", message: `base: ${spec} (${ref.digest}, already in the store)` });
    return store.loadImage(await descriptorOf(store, ref.digest, spec));
  }
  opts.onEvent({ type: "step", message: `base: pulling ${spec}` });
  try {
    return await pullBase(store, spec, opts.registry);
  } catch (err) {
    const stored = await store.resolve(tag);
    if (stored && err instanceof RegistryError && isUnreachable(err)) {
      opts.onEvent({
        type: "warning",
        message: `${err.message}; using the copy of ${spec} already in the store (${stored.digest})`,
      });
      return store.loadImage(stored);
    }
    throw err;
  }
}

/** Pull a registry base into the store under its fully qualified tag, marked as a base (the audit's way to a base it lacks, too). */
export async function pullBase(
  store: BlobReader & BlobIngester & ImageReader & Tagger,
  reference: string,
  registry: RegistryOptions = {},
): Promise<ResolvedImage> {
  const tag = storeTagFor(parseReference(reference));
  const pulled = await pullIntoStore(store, reference, {
    ...registry,
    tag,
    annotations: { [BASE_ROLE_ANNOTATION]: "base" },
  });
  return store.loadImage(pulled.descriptor);
}

/** No answer, or only server errors: the registry is down or the machine is offline. */
function isUnreachable(err: RegistryError): boolean {
  return err.status === undefined || err.status >= 500;
}

async function descriptorOf(store: ImageReader, digest: string, what: string) {
  const desc = await store.resolve(digest);
  if (!desc) throw new TantalusError(`base image ${what}: ${digest} is not in the store`);
  return desc;
}
