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
 * a torn one is a miss.
 */
import { constants as fsConstants, createReadStream, existsSync } from "node:fs";
import { access, open, readdir, readFile, rename, rm, stat, utimes } from "node:fs/promises";
import { join, resolve as resolvePath } from "node:path";
import { pipeline as pipelineCb, Readable, Transform, type TransformCallback, type Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createHash } from "node:crypto";
import { TantalusError } from "../../errors.js";
import { canonicalJson } from "../canonical-json.js";
import { DigestMismatchError, digestHex, isDigest, sha256, type Digest } from "../digest.js";
import { checkConfig, checkImageDocument, checkManifest } from "../validate.js";
import {
  Annotation,
  MediaType,
  hostPlatform,
  isIndexMediaType,
  isManifestMediaType,
  type Descriptor,
  type ImageConfig,
  type ImageIndex,
  type ImageManifest,
  type Platform,
  type ResolvedImage,
} from "../types.js";
import { HashingFileSink } from "./blob-writer.js";
import { isErrno, ownerIsGone, parseTempName, tempName, writeFileAtomic } from "./fsutil.js";
import { StoreLock, type LockOptions } from "./lock.js";
import { makeDirs } from "../../util/dirs.js";

/** Annotations we keep on index.json entries only (never inside an image). */
export const StoreAnnotation = {
  /** Wall-clock time the tag was last set; orders tags for gc (image `created` is fixed for reproducibility). */
  Tagged: "io.tantalus.tagged",
  /** Groups tags for `gc({keepPerWorkflow})`; defaults to the repository part of the tag. */
  Workflow: "io.tantalus.workflow",
  /** The registry reference a tag was pulled from: gc's `keepPerWorkflow` leaves these alone unless `includePulled`. */
  Pulled: "io.tantalus.pulled",
} as const;

export interface BlobInfo {
  digest: Digest;
  size: number;
}

export interface ExpectedBlob {
  digest?: Digest;
  size?: number;
}

export type BlobSource = Buffer | Uint8Array | Readable | AsyncIterable<Buffer | Uint8Array>;

export class BlobNotFoundError extends TantalusError {
  constructor(
    readonly digest: Digest,
    store: string,
  ) {
    super(`blob ${digest} is not in the store ${store}`);
  }
}

export interface ImageEntry {
  tag: string;
  digest: Digest;
  mediaType: string;
  /** Bytes of the manifest, its config and its layers (as stored, i.e. compressed). */
  size: number;
  /** The image config's `created` (fixed for reproducible images). */
  created?: string;
  /** When the tag was last set in this store. */
  tagged?: string;
  layers?: number;
  platform?: Platform;
  annotations: Record<string, string>;
  /** Why the image cannot be used (its manifest or config is missing, corrupted or unreadable). */
  problem?: string;
}

export interface GcOptions {
  /** Keep only the N most recently tagged images of each workflow (tags are otherwise all kept). */
  keepPerWorkflow?: number;
  /** Tags or manifest digests that are never untagged. */
  pinned?: string[];
  /** Unreferenced blobs younger than this are kept: a concurrent build may not have tagged them yet (default 24 h). */
  minAgeMs?: number;
  /** Report what would be removed without removing it. */
  dryRun?: boolean;
  /** Let keepPerWorkflow untag images pulled from a registry too (by default they are neither counted nor untagged). */
  includePulled?: boolean;
  /** Override how a tag maps to its workflow group. */
  workflowOf?: (tag: string, descriptor: Descriptor) => string;
}

export interface GcReport {
  removedTags: string[];
  removedBlobs: Digest[];
  freedBytes: number;
  keptBlobs: number;
}

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

const REF_NAME_RE = /^[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*(?:\/[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*)*$/;

/** image-spec annotations.md grammar for `org.opencontainers.image.ref.name`. */
export function isValidRefName(name: string): boolean {
  return REF_NAME_RE.test(name);
}

export class OciStore {
  readonly blobsDir: string;
  readonly metaDir: string;
  readonly tmpDir: string;

  private constructor(
    readonly dir: string,
    readonly readOnly: boolean,
    private readonly lockOptions: LockOptions,
  ) {
    this.blobsDir = join(dir, "blobs", "sha256");
    this.metaDir = join(dir, ".tantalus");
    this.tmpDir = join(this.metaDir, "tmp");
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
      try {
        await stat(join(abs, "index.json"));
      } catch (e) {
        if (!isErrno(e, "ENOENT")) throw e;
        // Several processes may race here; they all write the same empty index.
        await writeFileAtomic(
          join(abs, "index.json"),
          serializeIndex({ schemaVersion: 2, mediaType: MediaType.ImageIndex, manifests: [] }),
          store.tmpDir,
        );
      }
      await store.cleanTemp(false);
    }
    return store;
  }

  // ---------------------------------------------------------------- blobs

  /** Every blob access goes through here, so a malformed digest from a foreign manifest can never name a path outside blobs/. */
  blobPath(digest: Digest): string {
    if (!isDigest(digest))
      throw new TantalusError(
        `${this.dir}: invalid blob digest ${JSON.stringify(digest)}: expected sha256:<64 lowercase hex>`,
      );
    return join(this.blobsDir, digestHex(digest));
  }

  async statBlob(digest: Digest): Promise<{ size: number; mtimeMs: number } | undefined> {
    try {
      const st = await stat(this.blobPath(digest));
      return { size: st.size, mtimeMs: st.mtimeMs };
    } catch (e) {
      if (isErrno(e, "ENOENT")) return undefined;
      throw e;
    }
  }

  async hasBlob(digest: Digest, size?: number): Promise<boolean> {
    const st = await this.statBlob(digest);
    return st !== undefined && (size === undefined || st.size === size);
  }

  /** The first of `blobs` the store lacks (or holds with another size); all are looked up at once. */
  async firstMissingBlob<T extends { digest: Digest; size: number }>(blobs: readonly T[]): Promise<T | undefined> {
    const present = await Promise.all(blobs.map((b) => this.hasBlob(b.digest, b.size)));
    return blobs.find((_, i) => !present[i]);
  }

  /**
   * Mark a blob as recently used so gc's age grace protects it while a build
   * that reuses it has not tagged its image yet.
   */
  async touchBlob(digest: Digest): Promise<void> {
    if (this.readOnly) return;
    const now = new Date();
    await utimes(this.blobPath(digest), now, now).catch((e: unknown) => {
      if (!isErrno(e, "ENOENT") && !isErrno(e, "EPERM") && !isErrno(e, "EACCES") && !isErrno(e, "EROFS")) throw e;
    });
  }

  /** Start writing a blob whose digest is not known yet (e.g. a compressed layer as it is produced). */
  async createBlobWriter(): Promise<BlobWriter> {
    this.assertWritable();
    const tmp = join(this.tmpDir, tempName(".blob"));
    const fh = await open(tmp, "wx", 0o644);
    return new BlobWriter(this, tmp, new HashingFileSink(fh, tmp, `a blob into the store ${this.dir}`));
  }

  /**
   * Store bytes. With `expected.digest` the content is verified; a stream
   * source is not read at all when that blob is already present (same size).
   */
  async putBlob(source: BlobSource, expected: ExpectedBlob = {}): Promise<BlobInfo> {
    this.assertWritable();
    const isBuffer = Buffer.isBuffer(source) || source instanceof Uint8Array;
    // Streams are not read when the blob is already there; buffers are cheap to check, so always are.
    if (expected.digest !== undefined && !isBuffer) {
      const st = await this.statBlob(expected.digest);
      if (st && (expected.size === undefined || st.size === expected.size)) {
        if (source instanceof Readable) source.destroy();
        await this.touchBlob(expected.digest);
        return { digest: expected.digest, size: st.size };
      }
    }
    if (isBuffer) {
      const buf = Buffer.isBuffer(source) ? source : Buffer.from(source.buffer, source.byteOffset, source.byteLength);
      const digest = sha256(buf);
      checkExpected("blob", expected, digest, buf.length);
      // A present blob is compared with the bytes in hand (manifests and
      // configs: a few KiB), so a build that re-tags an image repairs a
      // manifest or config corrupted on disk instead of keeping it.
      if (await this.hasBlob(digest, buf.length)) {
        if (await this.holdsBytes(digest, buf)) {
          await this.touchBlob(digest);
          return { digest, size: buf.length };
        }
        await this.quarantine(digest);
      }
      await writeFileAtomic(this.blobPath(digest), buf, this.tmpDir);
      return { digest, size: buf.length };
    }
    const writer = await this.createBlobWriter();
    try {
      await pipeline(source as AsyncIterable<Buffer>, writer.stream);
      return await writer.commit(expected);
    } catch (e) {
      await writer.abort();
      throw e;
    }
  }

  /**
   * Read a blob, verifying its digest (and size, when given) as it streams.
   * A mismatch destroys the stream with a DigestMismatchError naming the blob
   * and moves the blob to .tantalus/corrupt so it is never reused.
   */
  async openBlob(digest: Digest, opts: { size?: number } = {}): Promise<Readable> {
    const path = this.blobPath(digest);
    let st;
    try {
      st = await stat(path);
    } catch (e) {
      if (isErrno(e, "ENOENT")) throw new BlobNotFoundError(digest, this.dir);
      throw e;
    }
    if (!st.isFile()) throw notRegular(path);
    if (opts.size !== undefined && st.size !== opts.size) {
      await this.quarantine(digest);
      throw new DigestMismatchError(`blob ${path}`, digest, digest, opts.size, st.size);
    }
    const verify = new VerifyingStream(digest, path, (d) => this.quarantine(d));
    const file = createReadStream(path, { highWaterMark: 1 << 20 });
    // Linked both ways: a read error reaches the consumer, and a consumer that
    // stops early closes the file.
    pipelineCb(file, verify, () => undefined);
    return verify;
  }

  /** Read a whole (small) blob into memory, verified. */
  async readBlob(digest: Digest): Promise<Buffer> {
    const path = this.blobPath(digest);
    let buf: Buffer;
    try {
      // A blob of a layout Tantalus did not write may be anything: a FIFO would block the read forever.
      if (!(await stat(path)).isFile()) throw notRegular(path);
      buf = await readFile(path);
    } catch (e) {
      if (isErrno(e, "ENOENT")) throw new BlobNotFoundError(digest, this.dir);
      throw e;
    }
    const actual = sha256(buf);
    if (actual !== digest) {
      await this.quarantine(digest);
      throw new DigestMismatchError(`blob ${path}`, digest, actual);
    }
    return buf;
  }

  async readJsonBlob<T>(digest: Digest): Promise<T> {
    const buf = await this.readBlob(digest);
    try {
      return JSON.parse(buf.toString("utf8")) as T;
    } catch {
      throw new TantalusError(`blob ${this.blobPath(digest)}: not valid JSON`);
    }
  }

  /** Store a JSON document in canonical form and describe it. */
  async putJson(value: unknown, mediaType: string): Promise<Descriptor> {
    const bytes = Buffer.from(canonicalJson(value), "utf8");
    const { digest, size } = await this.putBlob(bytes);
    return { mediaType, digest, size };
  }

  async putManifest(manifest: ImageManifest | ImageIndex): Promise<Descriptor> {
    const mt = manifest.mediaType ?? ("layers" in manifest ? MediaType.ImageManifest : MediaType.ImageIndex);
    return this.putJson(manifest, mt);
  }

  /** Whether the stored blob `digest` is exactly `bytes` (false when it is missing or differs). */
  private async holdsBytes(digest: Digest, bytes: Buffer): Promise<boolean> {
    try {
      return (await readFile(this.blobPath(digest))).equals(bytes);
    } catch (e) {
      if (isErrno(e, "ENOENT")) return false;
      throw e;
    }
  }

  private async quarantine(digest: Digest): Promise<void> {
    if (this.readOnly) return;
    const dir = join(this.metaDir, "corrupt");
    await makeDirs(dir);
    await rename(this.blobPath(digest), join(dir, `${digestHex(digest)}.${Date.now()}`)).catch(() => undefined);
  }

  /** Internal: move a finished temp file into place. */
  async commitTemp(tmp: string, digest: Digest, size: number): Promise<void> {
    const st = await this.statBlob(digest);
    if (st && st.size === size) {
      await rm(tmp, { force: true });
      await this.touchBlob(digest);
      return;
    }
    await rename(tmp, this.blobPath(digest));
  }

  // ---------------------------------------------------------------- index.json and tags

  async readIndex(): Promise<ImageIndex> {
    const file = join(this.dir, "index.json");
    return parseIndex(await readIndexText(file), file);
  }

  /** Run `fn` holding the store lock (index.json changes go through swapIndex). */
  async withLock<T>(fn: () => Promise<T>): Promise<T> {
    this.assertWritable();
    const lock = await StoreLock.acquire(join(this.metaDir, "lock"), this.tmpDir, this.lockOptions);
    try {
      return await fn();
    } finally {
      await lock.release();
    }
  }

  private async updateIndex<T>(fn: (index: ImageIndex) => T | Promise<T>): Promise<T> {
    return this.withLock(async () => (await this.swapIndex(fn)).result);
  }

  /**
   * Compare-and-swap of index.json, called holding the lock: apply `fn` to
   * the index as read, and write the result only if the file still holds
   * what was read; otherwise apply `fn` again to the new content. The lock
   * keeps the file still among processes on this host; this keeps a writer
   * whose lock was broken (by another host's staleness rule) or a foreign
   * tool from silently dropping tags it never saw. `fn` must be safe to
   * apply again to a fresh index. Bounded: after 5 changes in a row, fail.
   */
  private async swapIndex<T>(
    fn: (index: ImageIndex) => T | Promise<T>,
    opts: { write?: boolean } = {},
  ): Promise<{ result: T; index: ImageIndex }> {
    const file = join(this.dir, "index.json");
    for (let attempt = 1; ; attempt++) {
      const before = await readIndexText(file);
      const index = parseIndex(before, file);
      const result = await fn(index);
      const text = serializeIndex(index);
      if (opts.write === false || text === before) return { result, index };
      if ((await readIndexText(file)) === before) {
        await writeFileAtomic(file, text, this.tmpDir);
        return { result, index };
      }
      if (attempt >= 5)
        throw new TantalusError(`${file}: changed by another process during each of ${attempt} updates; try again`);
    }
  }

  /**
   * Point tag `name` at `descriptor` (a manifest or index already in the
   * store). A previous image under that name loses the tag and becomes
   * collectable unless something else references it.
   */
  async tag(
    name: string,
    descriptor: Descriptor,
    annotations: Record<string, string> = {},
    opts: { recordTime?: boolean } = {},
  ): Promise<void> {
    await this.tagMany([{ name, descriptor, annotations }], opts);
  }

  /** Several tags in one update of index.json: one lock and one durable write instead of one each. */
  async tagMany(
    tags: readonly { name: string; descriptor: Descriptor; annotations?: Record<string, string> }[],
    opts: { recordTime?: boolean } = {},
  ): Promise<void> {
    for (const { name } of tags) {
      if (!isValidRefName(name))
        throw new TantalusError(
          `invalid tag ${JSON.stringify(name)}: expected components of [A-Za-z0-9] joined by one of - . _ : @ + -- and separated by /`,
        );
    }
    // Each manifest once: a build tags each image twice.
    const missing = await this.firstMissingBlob([
      ...new Map(tags.map((t) => [t.descriptor.digest, t.descriptor])).values(),
    ]);
    if (missing) throw new BlobNotFoundError(missing.digest, this.dir);
    if (tags.length === 0) return;
    await this.updateIndex((index) => {
      const tagged: Record<string, string> =
        opts.recordTime === false ? {} : { [StoreAnnotation.Tagged]: new Date().toISOString() };
      for (const { name, descriptor, annotations } of tags) {
        index.manifests = index.manifests.filter((d) => d.annotations?.[Annotation.RefName] !== name);
        index.manifests.push({
          ...descriptor,
          annotations: { ...descriptor.annotations, ...annotations, [Annotation.RefName]: name, ...tagged },
        });
      }
      sortIndex(index);
    });
  }

  async deleteTag(name: string): Promise<boolean> {
    return this.updateIndex((index) => {
      const before = index.manifests.length;
      index.manifests = index.manifests.filter((d) => d.annotations?.[Annotation.RefName] !== name);
      return index.manifests.length !== before;
    });
  }

  /** A tag name or a manifest digest → its descriptor (from index.json, or from the blob itself for an untagged digest). */
  async resolve(ref: string): Promise<Descriptor | undefined> {
    const index = await this.readIndex();
    if (isDigest(ref)) {
      const hit = index.manifests.find((d) => d.digest === ref);
      if (hit) return hit;
      const st = await this.statBlob(ref);
      if (!st) return undefined;
      const doc = await this.readJsonBlob<{ mediaType?: string; layers?: unknown }>(ref);
      return {
        mediaType: doc.mediaType ?? (doc.layers ? MediaType.ImageManifest : MediaType.ImageIndex),
        digest: ref,
        size: st.size,
      };
    }
    return index.manifests.find((d) => d.annotations?.[Annotation.RefName] === ref);
  }

  /**
   * Resolve to a single-platform image: manifest + config. An index is
   * narrowed to `platform` (default: this host's).
   */
  async resolveImage(ref: string, platform: Platform = hostPlatform()): Promise<ResolvedImage> {
    const desc = await this.resolve(ref);
    if (!desc)
      throw new TantalusError(
        `${this.dir}: no image ${JSON.stringify(ref)} (known tags: ${(await this.tags()).join(", ") || "none"})`,
      );
    return this.loadImage(desc, platform, ref);
  }

  async loadImage(
    desc: Descriptor,
    platform: Platform = hostPlatform(),
    what: string = desc.digest,
  ): Promise<ResolvedImage> {
    const named = what === desc.digest ? `manifest ${desc.digest}` : `${what}: manifest ${desc.digest}`;
    const doc = checkImageDocument(await this.readJsonBlob<unknown>(desc.digest), named);
    const mt = doc.mediaType ?? desc.mediaType;
    if (isIndexMediaType(mt) || (!doc.layers && Array.isArray(doc.manifests))) {
      const child = selectPlatform(doc, platform);
      if (!child)
        throw new TantalusError(`${what}: image index has no manifest for ${platform.os}/${platform.architecture}`);
      return this.loadImage(child, platform, what);
    }
    if (!isManifestMediaType(mt) && !doc.layers)
      throw new TantalusError(`${what}: ${desc.digest} is not an image manifest (mediaType ${mt})`);
    const manifest = checkManifest(doc, named);
    const configBytes = await this.readBlob(manifest.config.digest);
    let config: ImageConfig;
    try {
      config = JSON.parse(configBytes.toString("utf8")) as ImageConfig;
    } catch {
      throw new TantalusError(`${what}: config blob ${manifest.config.digest} is not valid JSON`);
    }
    checkConfig(config, `${what}: config ${manifest.config.digest}`);
    return {
      manifestDescriptor: { mediaType: mt ?? MediaType.ImageManifest, digest: desc.digest, size: desc.size },
      manifest,
      config,
      configBytes,
    };
  }

  /**
   * The first blob of `image` (manifest, config, layers) that is missing or
   * does not match its digest, read through the usual verification; undefined
   * when all are intact. Reads every layer: for error paths and --verify.
   */
  async firstBrokenBlob(image: ResolvedImage): Promise<{ digest: Digest; what: string; problem: string } | undefined> {
    const d = image.manifestDescriptor;
    const blobs = [
      { digest: d.digest, size: d.size, what: "manifest" },
      { digest: image.manifest.config.digest, size: image.manifest.config.size, what: "config" },
      ...image.manifest.layers.map((l, i) => ({
        digest: l.digest,
        size: l.size,
        what: `layer ${i + 1} of ${image.manifest.layers.length}`,
      })),
    ];
    for (const b of blobs) {
      try {
        const stream = await this.openBlob(b.digest, { size: b.size });
        for await (const _chunk of stream) {
          // reading is the check
        }
      } catch (e) {
        if (e instanceof DigestMismatchError)
          return { digest: b.digest, what: b.what, problem: "does not match its digest" };
        if (e instanceof BlobNotFoundError) return { digest: b.digest, what: b.what, problem: "is missing" };
        throw e;
      }
    }
    return undefined;
  }

  async tags(): Promise<string[]> {
    const index = await this.readIndex();
    return index.manifests
      .map((d) => d.annotations?.[Annotation.RefName])
      .filter((t): t is string => t !== undefined)
      .sort();
  }

  /**
   * Every tagged image with its size and config facts. An image whose
   * manifest or config is missing, corrupted or unreadable is listed with
   * `problem` (one sentence) instead of failing the whole listing.
   */
  async listImages(): Promise<ImageEntry[]> {
    const index = await this.readIndex();
    const out: ImageEntry[] = [];
    for (const d of index.manifests) {
      const tag = d.annotations?.[Annotation.RefName];
      if (tag === undefined) continue;
      const entry: ImageEntry = {
        tag,
        digest: d.digest,
        mediaType: d.mediaType,
        size: d.size,
        annotations: { ...d.annotations },
      };
      const tagged = d.annotations?.[StoreAnnotation.Tagged];
      if (tagged) entry.tagged = tagged;
      try {
        if (!(await this.hasBlob(d.digest))) throw new BlobNotFoundError(d.digest, this.dir);
        const blobs = new Map<Digest, number>();
        await this.collectReferences(d, blobs, true);
        entry.size = [...blobs.values()].reduce((a, b) => a + b, 0);
        if (isManifestMediaType(d.mediaType)) {
          const img = await this.loadImage(d);
          if (img.config.created) entry.created = img.config.created;
          entry.layers = img.manifest.layers.length;
          entry.platform = { architecture: img.config.architecture, os: img.config.os };
        }
      } catch (e) {
        if (!(e instanceof TantalusError)) throw e;
        entry.problem = describeBlobProblem(e, d);
      }
      out.push(entry);
    }
    return out.sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
  }

  /**
   * Add `desc` and every blob it references (config, layers, child manifests)
   * to `into` (digest → size). Missing blobs are allowed by the layout spec
   * (they may live in a registry) and are recorded without recursing; a
   * corrupted manifest aborts, because we cannot know what it references.
   */
  async collectReferences(desc: Descriptor, into: Map<Digest, number>, tolerateMissing = true): Promise<void> {
    if (into.has(desc.digest)) return;
    into.set(desc.digest, desc.size);
    const isJsonDoc = isManifestMediaType(desc.mediaType) || isIndexMediaType(desc.mediaType);
    if (!isJsonDoc) return;
    if (!(await this.hasBlob(desc.digest))) {
      if (tolerateMissing) return;
      throw new BlobNotFoundError(desc.digest, this.dir);
    }
    const doc = await this.readJsonBlob<Partial<ImageManifest & ImageIndex>>(desc.digest);
    if (doc.config) into.set(doc.config.digest, doc.config.size);
    for (const l of doc.layers ?? []) into.set(l.digest, l.size);
    for (const m of doc.manifests ?? []) await this.collectReferences(m, into, tolerateMissing);
    if (doc.subject) await this.collectReferences(doc.subject, into, tolerateMissing);
  }

  /**
   * Untag old images (keepPerWorkflow) and delete blobs no tag or index entry
   * references. Runs under the lock so index.json cannot change meanwhile;
   * blobs younger than `minAgeMs` survive for builds still in flight.
   */
  async gc(opts: GcOptions = {}): Promise<GcReport> {
    const minAgeMs = opts.minAgeMs ?? 24 * 3600_000;
    const pinned = new Set(opts.pinned ?? []);
    const workflowOf = opts.workflowOf ?? defaultWorkflowOf;
    return this.withLock(async () => {
      // The untagging is a compare-and-swap of index.json like every other
      // update: the tags to drop are chosen again if the index changed
      // since it was read, so a tag set meanwhile is never lost.
      const { result: removedTags, index } = await this.swapIndex(
        (index) => {
          const removed: string[] = [];
          if (opts.keepPerWorkflow === undefined) return removed;
          const groups = new Map<string, Descriptor[]>();
          for (const d of index.manifests) {
            const tag = d.annotations?.[Annotation.RefName];
            if (tag === undefined) continue;
            // Pulled images are someone else's builds: not counted among the local ones unless asked.
            if (!opts.includePulled && d.annotations?.[StoreAnnotation.Pulled] !== undefined) continue;
            const key = d.annotations?.[StoreAnnotation.Workflow] ?? workflowOf(tag, d);
            groups.set(key, [...(groups.get(key) ?? []), d]);
          }
          const drop = new Set<Descriptor>();
          for (const members of groups.values()) {
            members.sort((a, b) => {
              const ta = a.annotations?.[StoreAnnotation.Tagged] ?? "";
              const tb = b.annotations?.[StoreAnnotation.Tagged] ?? "";
              if (ta !== tb) return ta < tb ? 1 : -1; // newest first
              const na = a.annotations?.[Annotation.RefName] ?? "";
              const nb = b.annotations?.[Annotation.RefName] ?? "";
              return na < nb ? -1 : na > nb ? 1 : 0;
            });
            let kept = 0;
            for (const d of members) {
              const tag = d.annotations?.[Annotation.RefName] ?? "";
              if (pinned.has(tag) || pinned.has(d.digest)) continue;
              if (kept < opts.keepPerWorkflow) kept++;
              else drop.add(d);
            }
          }
          for (const d of drop) removed.push(d.annotations?.[Annotation.RefName] ?? d.digest);
          index.manifests = index.manifests.filter((d) => !drop.has(d));
          return removed;
        },
        { write: !opts.dryRun },
      );
      const live = new Map<Digest, number>();
      for (const d of index.manifests) await this.collectReferences(d, live, true);
      for (const p of pinned)
        if (isDigest(p) && (await this.hasBlob(p)))
          await this.collectReferences((await this.resolve(p)) as Descriptor, live, true);

      const removedBlobs: Digest[] = [];
      let freedBytes = 0;
      let keptBlobs = 0;
      const now = Date.now();
      for (const name of await readdir(this.blobsDir)) {
        const digest = `sha256:${name}`;
        if (!isDigest(digest) || live.has(digest)) {
          keptBlobs++;
          continue;
        }
        const st = await this.statBlob(digest);
        if (!st) continue;
        if (now - st.mtimeMs < minAgeMs) {
          keptBlobs++;
          continue;
        }
        if (!opts.dryRun) await rm(this.blobPath(digest), { force: true });
        removedBlobs.push(digest);
        freedBytes += st.size;
      }
      if (!opts.dryRun) await this.cleanTemp(true);
      return { removedTags: removedTags.sort(), removedBlobs: removedBlobs.sort(), freedBytes, keptBlobs };
    });
  }

  /**
   * Remove temp files whose writer is dead (same host). With `aggressive`,
   * also any temp older than a day (writers on other hosts sharing the store).
   */
  async cleanTemp(aggressive: boolean): Promise<string[]> {
    const removed: string[] = [];
    let names: string[];
    try {
      names = await readdir(this.tmpDir);
    } catch (e) {
      if (isErrno(e, "ENOENT")) return removed;
      throw e;
    }
    const now = Date.now();
    for (const name of names) {
      const owner = parseTempName(name);
      let remove = owner !== undefined && ownerIsGone(owner);
      if (!remove && aggressive) {
        const st = await stat(join(this.tmpDir, name)).catch(() => undefined);
        remove = st !== undefined && now - st.mtimeMs > 24 * 3600_000;
      }
      if (remove) {
        await rm(join(this.tmpDir, name), { force: true, recursive: true });
        removed.push(name);
      }
    }
    return removed;
  }

  private assertWritable(): void {
    if (this.readOnly) throw new TantalusError(`${this.dir}: store opened read-only`);
  }
}

/** A blob being written: pipe bytes into `stream`, then `commit` (or `abort` on failure). */
export class BlobWriter {
  private done = false;

  constructor(
    private readonly store: OciStore,
    private readonly tmp: string,
    readonly stream: Writable & { digest(): Digest; size: number; writeSync(chunk: Buffer): void },
  ) {}

  /** The digest of what was written (valid once `stream` has finished). */
  get digest(): Digest {
    return this.stream.digest();
  }

  get size(): number {
    return this.stream.size;
  }

  async commit(expected: ExpectedBlob = {}): Promise<BlobInfo> {
    if (!this.stream.writableFinished) throw new TantalusError("BlobWriter.commit called before the stream finished");
    const digest = this.stream.digest();
    const size = this.stream.size;
    try {
      checkExpected("blob", expected, digest, size);
      await this.store.commitTemp(this.tmp, digest, size);
    } catch (e) {
      await this.abort();
      throw e;
    }
    this.done = true;
    return { digest, size };
  }

  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    this.stream.destroy();
    await rm(this.tmp, { force: true });
  }
}

class VerifyingStream extends Transform {
  private readonly hash = createHash("sha256");

  constructor(
    private readonly expected: Digest,
    private readonly path: string,
    private readonly onCorrupt: (d: Digest) => Promise<void>,
  ) {
    super({ highWaterMark: 1 << 20 });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    const actual: Digest = `sha256:${this.hash.digest("hex")}`;
    if (actual === this.expected) return cb();
    // The mismatch is the error to report, whether or not setting the blob aside worked.
    const fail = () => cb(new DigestMismatchError(`blob ${this.path}`, this.expected, actual));
    this.onCorrupt(this.expected).then(fail, fail);
  }
}

function notRegular(path: string): TantalusError {
  return new TantalusError(`blob ${path} is not a regular file; refusing to read it`);
}

function checkExpected(what: string, expected: ExpectedBlob, digest: Digest, size: number): void {
  if (
    (expected.digest !== undefined && expected.digest !== digest) ||
    (expected.size !== undefined && expected.size !== size)
  ) {
    throw new DigestMismatchError(what, expected.digest ?? digest, digest, expected.size, size);
  }
}

function serializeIndex(index: ImageIndex): string {
  return JSON.stringify(index);
}

function sortIndex(index: ImageIndex): void {
  const key = (d: Descriptor) => d.annotations?.[Annotation.RefName] ?? "\uffff" + d.digest;
  index.manifests.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** A failed read of an image's manifest or config in words: which blob, and what is wrong with it. */
function describeBlobProblem(e: TantalusError, image: Descriptor): string {
  const digest = e instanceof DigestMismatchError ? e.expected : e instanceof BlobNotFoundError ? e.digest : undefined;
  if (digest === undefined) return e.message;
  const what =
    digest === image.digest ? "manifest" : isIndexMediaType(image.mediaType) ? "child manifest or config" : "config";
  return e instanceof DigestMismatchError
    ? `its ${what} ${digest} is corrupted (the content does not match the digest)`
    : `its ${what} ${digest} is missing from the store`;
}

/** The command that puts a broken image's blobs right: build it again, checking every reused blob, or pull it again. */
export function repairHint(annotations: Record<string, string | undefined>, workflow?: string): string {
  const pulled = annotations[StoreAnnotation.Pulled];
  if (pulled) return `pull it again with \`tantalus pull ${pulled}\``;
  return `rebuild it with \`tantalus build --verify${workflow ? ` ${workflow}` : ""}\`, which checks every blob it reuses`;
}

/** `studio/comp:2024-10-01` → `studio/comp`; a tag without `:tag` is its own group. */
export function defaultWorkflowOf(tag: string): string {
  const slash = tag.lastIndexOf("/");
  const colon = tag.lastIndexOf(":");
  return colon > slash ? tag.slice(0, colon) : tag;
}

export function selectPlatform(index: ImageIndex, platform: Platform): Descriptor | undefined {
  const candidates = index.manifests.filter(
    (m) => isManifestMediaType(m.mediaType) || isIndexMediaType(m.mediaType) || m.mediaType === undefined,
  );
  const exact = candidates.find(
    (m) =>
      m.platform?.os === platform.os &&
      m.platform?.architecture === platform.architecture &&
      (platform.variant === undefined || m.platform?.variant === platform.variant),
  );
  if (exact) return exact;
  const loose = candidates.find(
    (m) => m.platform?.os === platform.os && m.platform?.architecture === platform.architecture,
  );
  if (loose) return loose;
  // An index without platform fields (e.g. a layout written by us with one image) → the only manifest.
  const unlabelled = candidates.filter((m) => !m.platform);
  return unlabelled.length === 1 ? unlabelled[0] : undefined;
}

/** index.json's text, or undefined when there is none yet (an empty index). */
async function readIndexText(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, "utf8");
  } catch (e) {
    if (isErrno(e, "ENOENT")) return undefined;
    throw e;
  }
}

function parseIndex(raw: string | undefined, file: string): ImageIndex {
  if (raw === undefined) return { schemaVersion: 2, mediaType: MediaType.ImageIndex, manifests: [] };
  let index: ImageIndex;
  try {
    index = JSON.parse(raw) as ImageIndex;
  } catch {
    throw new TantalusError(`${file}: not valid JSON`);
  }
  if (index === null || typeof index !== "object" || index.schemaVersion !== 2 || !Array.isArray(index.manifests))
    throw new TantalusError(`${file}: not an OCI image index (schemaVersion 2 with manifests[])`);
  // Every entry a well-formed descriptor (checkImageDocument): a crafted index.json is one sentence, not a TypeError later.
  checkImageDocument(index, file);
  for (const [i, d] of index.manifests.entries()) {
    if (!isDigest(d.digest))
      throw new TantalusError(`${file}: manifests[${i}].digest ${JSON.stringify(d.digest)} is not a sha256 digest`);
  }
  return index;
}
