/**
 * index.json: the layout's list of images, and the tags on them
 * (`org.opencontainers.image.ref.name`). Every change is a compare-and-swap
 * under the store lock, written to a temporary name and renamed, so tags set
 * by concurrent builds are never lost and a killed build never leaves half an
 * index. Implements `Tagger` and the index part of `ImageReader`
 * (./interfaces.ts) for `OciStore`.
 */
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { TantalusError } from "../../errors.js";
import { isDigest } from "../digest.js";
import { checkImageDocument } from "../validate.js";
import { Annotation, MediaType, type Descriptor, type ImageIndex } from "../types.js";
import { BlobNotFoundError } from "./blobs.js";
import { isErrno, writeFileAtomic } from "./fsutil.js";
import type { BlobReader, Tagger, TagRequest } from "./interfaces.js";
import { StoreLock, type LockOptions } from "./lock.js";

/** Annotations we keep on index.json entries only (never inside an image). */
export const StoreAnnotation = {
  /** Wall-clock time the tag was last set; orders tags for gc (image `created` is fixed for reproducibility). */
  Tagged: "io.tantalus.tagged",
  /** Groups tags for `gc({keepPerWorkflow})`; defaults to the repository part of the tag. */
  Workflow: "io.tantalus.workflow",
  /** The registry reference a tag was pulled from: gc's `keepPerWorkflow` leaves these alone unless `includePulled`. */
  Pulled: "io.tantalus.pulled",
} as const;

const REF_NAME_RE = /^[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*(?:\/[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*)*$/;

/** image-spec annotations.md grammar for `org.opencontainers.image.ref.name`. */
export function isValidRefName(name: string): boolean {
  return REF_NAME_RE.test(name);
}

export class LayoutRefs implements Tagger {
  private readonly file: string;

  constructor(
    readonly dir: string,
    private readonly metaDir: string,
    private readonly tmpDir: string,
    private readonly readOnly: boolean,
    private readonly lockOptions: LockOptions,
    /** Where tagged manifests must already be. */
    private readonly blobs: Pick<BlobReader, "firstMissingBlob">,
  ) {
    this.file = join(dir, "index.json");
  }

  /** Write an empty index.json when there is none (a new layout). */
  async ensureIndex(): Promise<void> {
    try {
      await stat(this.file);
    } catch (e) {
      if (!isErrno(e, "ENOENT")) throw e;
      // Several processes may race here; they all write the same empty index.
      await writeFileAtomic(
        this.file,
        serializeIndex({ schemaVersion: 2, mediaType: MediaType.ImageIndex, manifests: [] }),
        this.tmpDir,
      );
    }
  }

  async readIndex(): Promise<ImageIndex> {
    return parseIndex(await readIndexText(this.file), this.file);
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
  async swapIndex<T>(
    fn: (index: ImageIndex) => T | Promise<T>,
    opts: { write?: boolean } = {},
  ): Promise<{ result: T; index: ImageIndex }> {
    const file = this.file;
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
  async tagMany(tags: readonly TagRequest[], opts: { recordTime?: boolean } = {}): Promise<void> {
    for (const { name } of tags) {
      if (!isValidRefName(name))
        throw new TantalusError(
          `invalid tag ${JSON.stringify(name)}: expected components of [A-Za-z0-9] joined by one of - . _ : @ + -- and separated by /`,
        );
    }
    // Each manifest once: a build tags each image twice.
    const missing = await this.blobs.firstMissingBlob([
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

  async tags(): Promise<string[]> {
    const index = await this.readIndex();
    return index.manifests
      .map((d) => d.annotations?.[Annotation.RefName])
      .filter((t): t is string => t !== undefined)
      .sort();
  }

  private assertWritable(): void {
    if (this.readOnly) throw new TantalusError(`${this.dir}: store opened read-only`);
  }
}

function serializeIndex(index: ImageIndex): string {
  return JSON.stringify(index);
}

function sortIndex(index: ImageIndex): void {
  const key = (d: Descriptor) => d.annotations?.[Annotation.RefName] ?? "\uffff" + d.digest;
  index.manifests.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
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
