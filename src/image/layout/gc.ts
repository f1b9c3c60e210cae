/**
 * Upkeep of the whole layout: every tagged image with its size and, for a
 * broken one, the problem in one sentence; garbage collection (untag old
 * images, delete blobs nothing references, under the store lock); removal of
 * temporary files whose writer is gone. Implements `StoreMaintenance`
 * (./interfaces.ts) for `OciStore`.
 */
import { readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { TantalusError } from "../../errors.js";
import { DigestMismatchError, isDigest, type Digest } from "../digest.js";
import {
  Annotation,
  isIndexMediaType,
  isManifestMediaType,
  type Descriptor,
  type ImageIndex,
  type ImageManifest,
} from "../types.js";
import { BlobNotFoundError, type LayoutBlobs } from "./blobs.js";
import { isErrno, ownerIsGone, parseTempName } from "./fsutil.js";
import type { LayoutImages } from "./images.js";
import type { GcOptions, GcReport, ImageEntry, StoreMaintenance } from "./interfaces.js";
import { StoreAnnotation, type LayoutRefs } from "./refs.js";

export class LayoutGc implements StoreMaintenance {
  constructor(
    private readonly blobs: LayoutBlobs,
    private readonly refs: LayoutRefs,
    private readonly images: LayoutImages,
  ) {}

  get dir(): string {
    return this.blobs.dir;
  }

  /**
   * Every tagged image with its size and config facts. An image whose
   * manifest or config is missing, corrupted or unreadable is listed with
   * `problem` (one sentence) instead of failing the whole listing.
   */
  async listImages(): Promise<ImageEntry[]> {
    const index = await this.refs.readIndex();
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
        if (!(await this.blobs.hasBlob(d.digest))) throw new BlobNotFoundError(d.digest, this.dir);
        const blobs = new Map<Digest, number>();
        await this.collectReferences(d, blobs, true);
        entry.size = [...blobs.values()].reduce((a, b) => a + b, 0);
        if (isManifestMediaType(d.mediaType)) {
          const img = await this.images.loadImage(d);
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
    if (!(await this.blobs.hasBlob(desc.digest))) {
      if (tolerateMissing) return;
      throw new BlobNotFoundError(desc.digest, this.dir);
    }
    const doc = await this.blobs.readJsonBlob<Partial<ImageManifest & ImageIndex>>(desc.digest);
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
    return this.refs.withLock(async () => {
      // The untagging is a compare-and-swap of index.json like every other
      // update: the tags to drop are chosen again if the index changed
      // since it was read, so a tag set meanwhile is never lost.
      const { result: removedTags, index } = await this.refs.swapIndex(
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
        if (isDigest(p) && (await this.blobs.hasBlob(p)))
          await this.collectReferences((await this.images.resolve(p)) as Descriptor, live, true);

      const removedBlobs: Digest[] = [];
      let freedBytes = 0;
      let keptBlobs = 0;
      const now = Date.now();
      for (const name of await readdir(this.blobs.blobsDir)) {
        const digest = `sha256:${name}`;
        if (!isDigest(digest) || live.has(digest)) {
          keptBlobs++;
          continue;
        }
        const st = await this.blobs.statBlob(digest);
        if (!st) continue;
        if (now - st.mtimeMs < minAgeMs) {
          keptBlobs++;
          continue;
        }
        if (!opts.dryRun) await rm(this.blobs.blobPath(digest), { force: true });
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
      names = await readdir(this.blobs.tmpDir);
    } catch (e) {
      if (isErrno(e, "ENOENT")) return removed;
      throw e;
    }
    const now = Date.now();
    for (const name of names) {
      const owner = parseTempName(name);
      let remove = owner !== undefined && ownerIsGone(owner);
      if (!remove && aggressive) {
        const st = await stat(join(this.blobs.tmpDir, name)).catch(() => undefined);
        remove = st !== undefined && now - st.mtimeMs > 24 * 3600_000;
      }
      if (remove) {
        await rm(join(this.blobs.tmpDir, name), { force: true, recursive: true });
        removed.push(name);
      }
    }
    return removed;
  }
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
