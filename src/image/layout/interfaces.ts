/**
 * The store's seams: the narrow interfaces callers take instead of the
 * concrete `OciStore`, after go-containerregistry, whose functions ask for the
 * smallest capability they use (a `v1.Layer`, a `partial.Describable`, a
 * `layout.Path` only where files are written) rather than one big type.
 *
 * A function that only reads blobs takes a `BlobReader`; one that adds blobs
 * takes a `BlobIngester`; one that turns a tag or digest into a manifest and
 * config takes an `ImageReader`; one that names images takes a `Tagger`;
 * whole-store upkeep (listing with sizes, gc) takes a `StoreMaintenance`; the
 * caches, memos and stamps that live beside the layout take a
 * `PrivateArea`. Callers that need two say so with an intersection
 * (`BlobReader & BlobIngester`), which shows at the signature what a
 * function may do to the store: an unpacker that cannot tag, an audit that
 * cannot write, a test double that implements a handful of methods, not
 * thirty. `ImageStore` names every seam but upkeep, for whole-image writers.
 *
 * `OciStore` (./store.ts) implements them all, composed of the parts that do
 * each job: ./blobs.ts, ./refs.ts, ./images.ts, ./gc.ts.
 */
// The data types the interfaces speak are defined here too, so this module
// imports nothing of the layout's: the seams are the bottom of the folder.
import type { Readable, Writable } from "node:stream";
import type { Digest } from "../digest.js";
import type { Descriptor, ImageIndex, ImageManifest, Platform, ResolvedImage } from "../types.js";

export interface BlobInfo {
  digest: Digest;
  size: number;
}

export interface ExpectedBlob {
  digest?: Digest;
  size?: number;
}

export type BlobSource = Buffer | Uint8Array | Readable | AsyncIterable<Buffer | Uint8Array>;

/** A blob being written (`BlobIngester.createBlobWriter`): pipe bytes into `stream`, then `commit` (or `abort` on failure). */
export interface PendingBlob {
  readonly stream: Writable & { digest(): Digest; size: number; writeSync(chunk: Buffer): void };
  /** The digest of what was written (valid once `stream` has finished). */
  readonly digest: Digest;
  readonly size: number;
  /** Verify against `expected` and rename into place; a mismatch removes the temporary file. */
  commit(expected?: ExpectedBlob): Promise<BlobInfo>;
  abort(): Promise<void>;
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

/** Which store this is: for messages, and to tell two stores apart (a copy onto itself). */
export interface StoreLocation {
  /** The layout directory, absolute. */
  readonly dir: string;
}

/** Reading blobs by digest, every byte verified (go-containerregistry: `layout.Path.Blob`, `Bytes`). */
export interface BlobReader extends StoreLocation {
  /** Size and mtime of a stored blob, undefined when absent; nothing is read. */
  statBlob(digest: Digest): Promise<{ size: number; mtimeMs: number } | undefined>;
  /** Whether the blob is present (with that size, when given); nothing is read. */
  hasBlob(digest: Digest, size?: number): Promise<boolean>;
  /** The first of `blobs` the store lacks (or holds with another size); all are looked up at once. */
  firstMissingBlob<T extends { digest: Digest; size: number }>(blobs: readonly T[]): Promise<T | undefined>;
  /**
   * A stream of the blob, verified against its digest (and size, when given)
   * as it is read: a mismatch errors the stream and takes the blob out of use.
   */
  openBlob(digest: Digest, opts?: { size?: number }): Promise<Readable>;
  /** A whole (small) blob in memory, verified. */
  readBlob(digest: Digest): Promise<Buffer>;
  /** A verified blob parsed as JSON (one sentence when it is not JSON). */
  readJsonBlob<T>(digest: Digest): Promise<T>;
}

/** Adding blobs, each verified before it is renamed into place (go-containerregistry: `layout.Path.WriteBlob`). */
export interface BlobIngester extends StoreLocation {
  /** Start writing a blob whose digest is not known yet (a compressed layer as it is produced). */
  createBlobWriter(): Promise<PendingBlob>;
  /** Store bytes; with `expected.digest` the content is verified, and a present blob is not read again. */
  putBlob(source: BlobSource, expected?: ExpectedBlob): Promise<BlobInfo>;
  /** Store a JSON document in canonical form and describe it. */
  putJson(value: unknown, mediaType: string): Promise<Descriptor>;
  putManifest(manifest: ImageManifest | ImageIndex): Promise<Descriptor>;
  /** Mark a reused blob as recent, so gc's age grace keeps it until the image that reuses it is tagged. */
  touchBlob(digest: Digest): Promise<void>;
}

/**
 * Reading images: tags and digests to descriptors, manifests and configs
 * (go-containerregistry: `layout.Path.ImageIndex`, `Image`, and `validate`
 * for the whole-image check).
 */
export interface ImageReader extends StoreLocation {
  /** index.json as it is now. */
  readIndex(): Promise<ImageIndex>;
  /** Every tag, sorted. */
  tags(): Promise<string[]>;
  /** A tag or a manifest digest → its descriptor, undefined when the store has neither. */
  resolve(ref: string): Promise<Descriptor | undefined>;
  /** A tag or digest → one single-platform image (an index is narrowed to `platform`, default this host's). */
  resolveImage(ref: string, platform?: Platform): Promise<ResolvedImage>;
  /** A descriptor → one single-platform image; `what` names it in errors. */
  loadImage(desc: Descriptor, platform?: Platform, what?: string): Promise<ResolvedImage>;
  /** The first blob of `image` that is missing or corrupted, read in full; undefined when it is whole. */
  firstBrokenBlob(image: ResolvedImage): Promise<{ digest: Digest; what: string; problem: string } | undefined>;
}

/** One tag to set: `name` → `descriptor`, with index-only annotations. */
export interface TagRequest {
  name: string;
  descriptor: Descriptor;
  annotations?: Record<string, string>;
}

/** Naming images: index.json changed under the store lock (go-containerregistry: `layout.Path.ReplaceImage`, `RemoveDescriptors`). */
export interface Tagger extends StoreLocation {
  /** Point tag `name` at a manifest or index already in the store; the tag's previous image loses it. */
  tag(
    name: string,
    descriptor: Descriptor,
    annotations?: Record<string, string>,
    opts?: { recordTime?: boolean },
  ): Promise<void>;
  /** Several tags in one update of index.json. */
  tagMany(tags: readonly TagRequest[], opts?: { recordTime?: boolean }): Promise<void>;
  /** Remove a tag; false when there was none. */
  deleteTag(name: string): Promise<boolean>;
}

/** Whole-store upkeep: every image with its size and problems, and garbage collection (go-containerregistry: `layout.Path.GarbageCollect`). */
export interface StoreMaintenance extends StoreLocation {
  listImages(): Promise<ImageEntry[]>;
  gc(opts?: GcOptions): Promise<GcReport>;
}

/**
 * Every seam but upkeep: what writes whole images uses (blobs both ways,
 * images, tags, and the private area for the layer cache), as
 * go-containerregistry's `layout.Path` is the one type its writers take.
 */
export type ImageStore = BlobReader & BlobIngester & ImageReader & Tagger & PrivateArea;

/**
 * The store's private area, `.tantalus/` beside the layout: the layer cache,
 * the build's memos, stamps and node locks keep their files there, and write
 * them through `tmpDir` (same file system, so the rename is atomic).
 */
export interface PrivateArea {
  readonly metaDir: string;
  readonly tmpDir: string;
  /** Opened read-only: nothing may be written, not even a cache entry. */
  readonly readOnly: boolean;
}
