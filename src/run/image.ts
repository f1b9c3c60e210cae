/**
 * Where `tantalus run` gets the workflow's image: from the local store,
 * built first when it is missing or when the workflow's resolve changed
 * (the build pipeline decides that, through the ImageBuilder seam), or
 * pulled from the configured registry. Everything after this point only
 * sees a WorkflowImage: an image resolved in the store.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ImageOutOfDateError, TantalusError } from "../errors.js";
import { DigestMismatchError } from "../image/digest.js";
import {
  BlobNotFoundError,
  OciStore,
  StoreAnnotation,
  defaultWorkflowOf,
  isReadOnlyStore,
  repairHint,
} from "../image/layout/store.js";
import { Annotation, type Descriptor } from "../image/types.js";
import type { WorkflowImage } from "./runtimes/types.js";
import { isDevEntry } from "./dev-tag.js";

/**
 * The seam to the build pipeline (`tantalus build`): given a workflow, make
 * sure the store holds its current image, building it when it is missing or
 * stale, and say which tag it is under. With `noBuild` it must not build:
 * it returns the tag when the image is current, else undefined.
 */
export interface ImageBuilder {
  ensureBuilt(
    workflow: string,
    store: OciStore,
    opts: { noBuild: boolean; log: (line: string) => void },
  ): Promise<{ tag: string; built: boolean } | undefined>;
}

export interface ImageSource {
  /** The OCI store (a layout directory). */
  storeDir: string;
  /** `host[:port]/namespace` to pull `<workflow>:<tag>` from when the store has no image. */
  registry?: string;
  /** Pull over plain HTTP (a studio-internal registry without TLS). */
  insecureRegistry?: boolean;
  builder?: ImageBuilder;
}

export interface EnsureImageOptions {
  /** A store tag or manifest digest to run instead of the workflow's newest image. */
  tag?: string;
  /** Never build; fail when the image is missing or stale. */
  noBuild?: boolean;
  /** No pull and no new store (for --dry-run); a builder still builds a stale image, as the real run would. */
  readOnly?: boolean;
  log?: (line: string) => void;
}

/** Is this store entry an image of `workflow`? By our annotation, else by the tag's repository (its last component too). */
function belongsTo(d: Descriptor, workflow: string): boolean {
  const tag = d.annotations?.[Annotation.RefName];
  // A developer's image (run --dev, build --paths) is never the workflow's image, however recent.
  if (tag === undefined || isDevEntry(d.annotations)) return false;
  const group = d.annotations?.[StoreAnnotation.Workflow] ?? defaultWorkflowOf(tag);
  return group === workflow || group.slice(group.lastIndexOf("/") + 1) === workflow;
}

/** The workflow's most recently tagged image in the store, by tag. */
export async function findWorkflowImage(store: OciStore, workflow: string): Promise<string | undefined> {
  const index = await store.readIndex();
  let best: { tag: string; tagged: string } | undefined;
  for (const d of index.manifests) {
    if (!belongsTo(d, workflow)) continue;
    const tag = d.annotations![Annotation.RefName]!;
    const tagged = d.annotations?.[StoreAnnotation.Tagged] ?? "";
    if (!best || tagged >= best.tagged) best = { tag, tagged };
  }
  return best?.tag;
}

async function openStore(dir: string, write: boolean): Promise<OciStore | undefined> {
  if (!existsSync(join(dir, "oci-layout"))) return write ? OciStore.open(dir) : undefined;
  return OciStore.open(dir, write ? {} : { readOnly: true });
}

export async function ensureImage(
  source: ImageSource,
  workflow: string,
  opts: EnsureImageOptions = {},
): Promise<WorkflowImage> {
  const log = opts.log ?? (() => undefined);
  // A dry run builds a stale image as a real run would: the command line it prints names the image that would run.
  const noBuild = opts.noBuild === true;
  if (opts.tag !== undefined) {
    const store = await openStore(source.storeDir, false);
    if (!store) throw new TantalusError(`no image store at ${source.storeDir}`);
    return { workflow, store, ref: opts.tag, image: await resolveOrExplain(store, opts.tag, workflow) };
  }
  let tag: string | undefined;
  let store: OciStore | undefined;
  // A shared store this user cannot write (the build host writes it): run what is there, never build or pull into it.
  const sharedReadOnly = await isReadOnlyStore(source.storeDir);
  if (source.builder) {
    store = await OciStore.open(source.storeDir, sharedReadOnly ? { readOnly: true } : {});
    try {
      tag = (await source.builder.ensureBuilt(workflow, store, { noBuild: noBuild || sharedReadOnly, log }))?.tag;
    } catch (e) {
      // On a store this user cannot write, an image older than the configuration is run as built (below, with a note).
      if (!(sharedReadOnly && !noBuild && e instanceof ImageOutOfDateError)) throw e;
    }
    if (tag === undefined && opts.noBuild) {
      throw new TantalusError(
        `the image of workflow ${workflow} is missing or out of date, and --no-build forbids building it (run \`tantalus build ${workflow}\`)`,
      );
    }
    if (tag === undefined && sharedReadOnly) {
      tag = await findWorkflowImage(store, workflow);
      if (tag !== undefined)
        log(
          `note: the store ${source.storeDir} is read-only here and its ${workflow} image is older than the configuration: running it as built (the host that writes the store rebuilds it)`,
        );
    }
  }
  store ??= await openStore(source.storeDir, false);
  if (tag === undefined && store) tag = await findWorkflowImage(store, workflow);
  if (tag === undefined && source.registry && !opts.readOnly && !sharedReadOnly) {
    store = await OciStore.open(source.storeDir);
    tag = await pullWorkflowImage(store, source, workflow, log);
  }
  if (tag === undefined || !store) {
    const where = store ? `the store ${source.storeDir}` : `${source.storeDir} (no store there yet)`;
    const pull = source.registry ? "" : " or configure a registry to pull from";
    throw new TantalusError(
      `no image of workflow ${workflow} in ${where}: build it with \`tantalus build ${workflow}\`${pull}`,
    );
  }
  return { workflow, store, ref: tag, image: await resolveOrExplain(store, tag, workflow) };
}

/** The image under `ref`; a missing or corrupted manifest or config is named with the command that repairs it. */
async function resolveOrExplain(store: OciStore, ref: string, workflow: string) {
  try {
    return await store.resolveImage(ref);
  } catch (e) {
    if (!(e instanceof DigestMismatchError || e instanceof BlobNotFoundError)) throw e;
    const d = await store.resolve(ref).catch(() => undefined);
    throw new TantalusError(
      `the image ${ref} in ${store.dir} cannot be used: ${e.message}; ${repairHint(d?.annotations ?? {}, workflow)}`,
    );
  }
}

/**
 * Why handing `image` to a runtime failed, when the cause is a broken blob in
 * the store: the runtime's own words ("gzip: invalid checksum") do not say
 * which blob or what to do. Reading every blob costs as much as the copy
 * did, so it is done only after a failure. Undefined when all blobs are intact.
 */
export async function brokenImageError(image: WorkflowImage): Promise<TantalusError | undefined> {
  const bad = await image.store.firstBrokenBlob(image.image);
  if (!bad) return undefined;
  const d = await image.store.resolve(image.ref).catch(() => undefined);
  return new TantalusError(
    `the image ${image.ref} in ${image.store.dir} cannot be used: its ${bad.what} (${bad.digest}) ${bad.problem}; ${repairHint(d?.annotations ?? {}, image.workflow)}`,
  );
}

/** Pull `<registry>/<workflow>:latest` into the store and tag it `<workflow>:latest`. */
export async function pullWorkflowImage(
  store: OciStore,
  source: ImageSource,
  workflow: string,
  log: (line: string) => void,
): Promise<string> {
  const { pullImage } = await import("../image/remote/pull.js");
  const remote = `${source.registry!.replace(/\/+$/, "")}/${workflow.toLowerCase()}:latest`;
  log(`pulling ${remote} into ${store.dir}`);
  const pulled = await pullImage(
    remote,
    {
      has: (d) => store.hasBlob(d),
      put: async (d, size, stream) => {
        await store.putBlob(stream, { digest: d, size });
      },
    },
    { insecure: source.insecureRegistry ?? false },
  );
  const manifest = await store.putBlob(pulled.manifestBytes, { digest: pulled.manifestDigest });
  const tag = `${workflow}:latest`;
  // Marked as pulled, as `tantalus pull` marks its tags: gc --keep leaves it to the user.
  await store.tag(
    tag,
    { mediaType: pulled.mediaType, digest: manifest.digest, size: manifest.size },
    { [StoreAnnotation.Workflow]: workflow, [StoreAnnotation.Pulled]: remote },
  );
  return tag;
}
