/**
 * The content-addressed store: an OCI image layout directory
 * (image-spec `image-layout.md`) shared by every image we build, so layers
 * common to many workflow images exist once on disk.
 *
 *   <dir>/oci-layout            {"imageLayoutVersion":"1.0.0"}
 *   <dir>/index.json            tags = manifests[].annotations["org.opencontainers.image.ref.name"]
 *   <dir>/blobs/sha256/<hex>    content, always verified when read
 *   <dir>/.tantalus/            our private state (unknown files are allowed by the spec):
 *        tmp/                  in-flight writes, named <host>~<pid>~<rand> so leftovers of dead writers are removable
 *        lock                  exclusive lock for index.json read-modify-write and gc
 *        layer-cache/          see ../layer/cache.ts
 *        corrupt/              blobs that failed verification, moved out of the way
 *
 * Every write is temp + rename, so a build killed at any point leaves
 * index.json and blobs/ consistent; only .tantalus/tmp may hold garbage,
 * which `open` removes when its writer is dead. Blobs and index.json are
 * fsynced before the rename (they survive a power loss); the layer cache's
 * and the build's memo entries are not, since each is checked when read and
 * a torn one is a miss. *
 * The jobs live apart (./blobs.ts, ./refs.ts, ./images.ts, ./gc.ts), each
 * behind the narrow interfaces of ./interfaces.ts; `OciStore` opens the
 * layout and composes them. Callers take the narrowest interface they use.
 */
import { constants as fsConstants, existsSync } from "node:fs";
import { access, readFile, readdir, stat } from "node:fs/promises";
import { join, resolve as resolvePath } from "node:path";
import type { Readable } from "node:stream";
import { TantalusError } from "../../errors.js";
import type { Digest } from "../digest.js";
import type { Descriptor, ImageIndex, ImageManifest, Platform, ResolvedImage } from "../types.js";
import { LayoutBlobs, type BlobWriter } from "./blobs.js";
import { isErrno, writeFileAtomic } from "./fsutil.js";
import { LayoutGc } from "./gc.js";
import { LayoutImages } from "./images.js";
import type {
  BlobInfo,
  BlobSource,
  ExpectedBlob,
  GcOptions,
  GcReport,
  ImageEntry,
  BlobIngester,
  BlobReader,
  ImageReader,
  PrivateArea,
  StoreMaintenance,
  Tagger,
  TagRequest,
} from "./interfaces.js";
import type { LockOptions } from "./lock.js";
import { LayoutRefs } from "./refs.js";
import { makeDirs } from "../../util/dirs.js";

// What callers imported from this module before it was split keeps its name and place.
export { BlobNotFoundError, BlobWriter } from "./blobs.js";
export { defaultWorkflowOf, repairHint } from "./gc.js";
export { selectPlatform } from "./images.js";
export { StoreAnnotation, isValidRefName } from "./refs.js";
export type * from "./interfaces.js";

export interface OpenOptions {
  /** Create the layout if the directory is empty or missing (default true). */
  create?: boolean;
  /** Never write: for reading layouts other tools made (no .tantalus dir, no temp cleanup). */
  readOnly?: boolean;
  lock?: LockOptions;
}

/** Whether this process may create files in `dir` (permissions and read-only mounts alike). */
export async function isWritableDir(dir: string): Promise<boolean> {
  try {
    await access(dir, fsConstants.W_OK);
    return true;
  } catch (e) {
    if (isErrno(e, "EACCES") || isErrno(e, "EROFS") || isErrno(e, "EPERM")) return false;
    if (isErrno(e, "ENOENT")) return true; // created on open
    throw e;
  }
}

/**
 * A store that exists and this process cannot write: a shared store the build
 * host writes, which readers (run, audit) open read-only and never build into.
 */
export async function isReadOnlyStore(dir: string): Promise<boolean> {
  return existsSync(join(dir, "oci-layout")) && !(await isWritableDir(dir));
}

/**
 * An OCI image layout on disk, opened once: every seam of ./interfaces.ts in
 * one object, for the openers (commands, the build, run, farm) that hand it
 * down to functions taking only the part they need.
 */
export class OciStore implements BlobReader, BlobIngester, ImageReader, Tagger, StoreMaintenance, PrivateArea {
  readonly blobsDir: string;
  readonly metaDir: string;
  readonly tmpDir: string;
  private readonly blobs: LayoutBlobs;
  private readonly refs: LayoutRefs;
  private readonly images: LayoutImages;
  private readonly upkeep: LayoutGc;

  private constructor(
    readonly dir: string,
    readonly readOnly: boolean,
    lockOptions: LockOptions,
  ) {
    this.metaDir = join(dir, ".tantalus");
    this.blobs = new LayoutBlobs(dir, this.metaDir, readOnly);
    this.blobsDir = this.blobs.blobsDir;
    this.tmpDir = this.blobs.tmpDir;
    this.refs = new LayoutRefs(dir, this.metaDir, this.tmpDir, readOnly, lockOptions, this.blobs);
    this.images = new LayoutImages(this.blobs, this.refs);
    this.upkeep = new LayoutGc(this.blobs, this.refs, this.images);
  }

  static async open(dir: string, opts: OpenOptions = {}): Promise<OciStore> {
    const abs = resolvePath(dir);
    const readOnly = opts.readOnly ?? false;
    const store = new OciStore(abs, readOnly, opts.lock ?? {});
    const layoutFile = join(abs, "oci-layout");
    // A file where the store should be (a mistyped --store) is named as such, not as ENOTDIR on a path inside it.
    const top = await stat(abs).catch(() => undefined);
    if (top && !top.isDirectory()) throw new TantalusError(`image store ${abs} is not a directory`);
    let layout: string | undefined;
    try {
      layout = await readFile(layoutFile, "utf8");
    } catch (e) {
      if (!isErrno(e, "ENOENT")) throw e;
    }
    if (layout !== undefined) {
      let version: unknown;
      try {
        version = (JSON.parse(layout) as { imageLayoutVersion?: unknown }).imageLayoutVersion;
      } catch {
        throw new TantalusError(`${layoutFile}: not valid JSON`);
      }
      if (version !== "1.0.0")
        throw new TantalusError(
          `${layoutFile}: unsupported imageLayoutVersion ${JSON.stringify(version)}, expected "1.0.0"`,
        );
    } else if (readOnly || opts.create === false) {
      throw new TantalusError(`${abs}: not an OCI image layout (no oci-layout file)`);
    } else {
      const existing = await readdir(abs).catch((e: unknown) => {
        if (isErrno(e, "ENOENT")) return [] as string[];
        throw e;
      });
      // Never turn an unrelated directory into a layout by accident. `audit/` alone is what
      // Tantalus 0.1's audit left in a store it ran on before any build (its caches now live
      // in the user's cache): such a folder is ours, so it becomes the layout it was meant to be.
      if (existing.some((n) => n !== "blobs" && n !== "index.json" && n !== ".tantalus" && n !== "audit")) {
        throw new TantalusError(
          `${abs}: exists and is not an OCI image layout (no oci-layout file); use an empty or new directory`,
        );
      }
    }
    if (!readOnly && layout !== undefined && !(await isWritableDir(abs))) {
      // A shared store (a build host writes it, artists read it): say so rather than fail on a lock or temp file.
      throw new TantalusError(
        `${abs}: the image store is read-only for this user; images are built into it on the host that writes it (read it with tantalus run, images, diff, audit), or give --store or TANTALUS_STORE a store of your own`,
      );
    }
    if (!readOnly) {
      await makeDirs(store.blobsDir);
      await makeDirs(store.tmpDir);
      if (layout === undefined)
        await writeFileAtomic(layoutFile, JSON.stringify({ imageLayoutVersion: "1.0.0" }), store.tmpDir);
      await store.refs.ensureIndex();
      await store.cleanTemp(false);
    }
    return store;
  }

  // ---------------------------------------------------------------- blobs (./blobs.ts)

  /** Every blob access goes through here, so a malformed digest from a foreign manifest can never name a path outside blobs/. */
  blobPath(digest: Digest): string {
    return this.blobs.blobPath(digest);
  }

  statBlob(digest: Digest): Promise<{ size: number; mtimeMs: number } | undefined> {
    return this.blobs.statBlob(digest);
  }

  hasBlob(digest: Digest, size?: number): Promise<boolean> {
    return this.blobs.hasBlob(digest, size);
  }

  firstMissingBlob<T extends { digest: Digest; size: number }>(blobs: readonly T[]): Promise<T | undefined> {
    return this.blobs.firstMissingBlob(blobs);
  }

  touchBlob(digest: Digest): Promise<void> {
    return this.blobs.touchBlob(digest);
  }

  createBlobWriter(): Promise<BlobWriter> {
    return this.blobs.createBlobWriter();
  }

  putBlob(source: BlobSource, expected: ExpectedBlob = {}): Promise<BlobInfo> {
    return this.blobs.putBlob(source, expected);
  }

  openBlob(digest: Digest, opts: { size?: number } = {}): Promise<Readable> {
    return this.blobs.openBlob(digest, opts);
  }

  readBlob(digest: Digest): Promise<Buffer> {
    return this.blobs.readBlob(digest);
  }

  readJsonBlob<T>(digest: Digest): Promise<T> {
    return this.blobs.readJsonBlob<T>(digest);
  }

  putJson(value: unknown, mediaType: string): Promise<Descriptor> {
    return this.blobs.putJson(value, mediaType);
  }

  putManifest(manifest: ImageManifest | ImageIndex): Promise<Descriptor> {
    return this.blobs.putManifest(manifest);
  }

  // ---------------------------------------------------------------- index.json and tags (./refs.ts)

  readIndex(): Promise<ImageIndex> {
    return this.refs.readIndex();
  }

  /** Run `fn` holding the store lock (index.json changes go through swapIndex). */
  withLock<T>(fn: () => Promise<T>): Promise<T> {
    return this.refs.withLock(fn);
  }

  tag(
    name: string,
    descriptor: Descriptor,
    annotations: Record<string, string> = {},
    opts: { recordTime?: boolean } = {},
  ): Promise<void> {
    return this.refs.tag(name, descriptor, annotations, opts);
  }

  tagMany(tags: readonly TagRequest[], opts: { recordTime?: boolean } = {}): Promise<void> {
    return this.refs.tagMany(tags, opts);
  }

  deleteTag(name: string): Promise<boolean> {
    return this.refs.deleteTag(name);
  }

  tags(): Promise<string[]> {
    return this.refs.tags();
  }

  // ---------------------------------------------------------------- images (./images.ts)

  resolve(ref: string): Promise<Descriptor | undefined> {
    return this.images.resolve(ref);
  }

  resolveImage(ref: string, platform?: Platform): Promise<ResolvedImage> {
    return this.images.resolveImage(ref, platform);
  }

  loadImage(desc: Descriptor, platform?: Platform, what?: string): Promise<ResolvedImage> {
    return this.images.loadImage(desc, platform, what);
  }

  firstBrokenBlob(image: ResolvedImage): Promise<{ digest: Digest; what: string; problem: string } | undefined> {
    return this.images.firstBrokenBlob(image);
  }

  // ---------------------------------------------------------------- upkeep (./gc.ts)

  listImages(): Promise<ImageEntry[]> {
    return this.upkeep.listImages();
  }

  collectReferences(desc: Descriptor, into: Map<Digest, number>, tolerateMissing = true): Promise<void> {
    return this.upkeep.collectReferences(desc, into, tolerateMissing);
  }

  gc(opts: GcOptions = {}): Promise<GcReport> {
    return this.upkeep.gc(opts);
  }

  cleanTemp(aggressive: boolean): Promise<string[]> {
    return this.upkeep.cleanTemp(aggressive);
  }
}
