/**
 * Images in the layout: a tag or digest resolved through index.json to a
 * descriptor, then to one single-platform manifest and its config, each
 * checked for shape before it is walked. Written only against the
 * `BlobReader` seam and the index, as go-containerregistry's `partial`
 * package builds a whole image from a few raw reads. Implements
 * `ImageReader` (./interfaces.ts) for `OciStore`.
 */
import { TantalusError } from "../../errors.js";
import { DigestMismatchError, isDigest, type Digest } from "../digest.js";
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
  type Platform,
  type ResolvedImage,
} from "../types.js";
import { BlobNotFoundError } from "./blobs.js";
import type { BlobReader, ImageReader } from "./interfaces.js";

export class LayoutImages implements ImageReader {
  constructor(
    private readonly blobs: BlobReader,
    private readonly index: Pick<ImageReader, "readIndex" | "tags">,
  ) {}

  get dir(): string {
    return this.blobs.dir;
  }

  readIndex(): Promise<ImageIndex> {
    return this.index.readIndex();
  }

  tags(): Promise<string[]> {
    return this.index.tags();
  }

  /** A tag name or a manifest digest → its descriptor (from index.json, or from the blob itself for an untagged digest). */
  async resolve(ref: string): Promise<Descriptor | undefined> {
    const index = await this.readIndex();
    if (isDigest(ref)) {
      const hit = index.manifests.find((d) => d.digest === ref);
      if (hit) return hit;
      const st = await this.blobs.statBlob(ref);
      if (!st) return undefined;
      const doc = await this.blobs.readJsonBlob<{ mediaType?: string; layers?: unknown }>(ref);
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
    const doc = checkImageDocument(await this.blobs.readJsonBlob<unknown>(desc.digest), named);
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
    const configBytes = await this.blobs.readBlob(manifest.config.digest);
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
        const stream = await this.blobs.openBlob(b.digest, { size: b.size });
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
