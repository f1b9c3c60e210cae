/**
 * Base images from `docker save` / `podman save` archives
 * (`docker-archive:FILE[:NAME:TAG]`): manifest.json + config JSON + layer
 * tars, in the classic `<id>/layer.tar` form or the Docker ≥ 25 form with an
 * OCI layout inside. Layers are imported as they are (often uncompressed);
 * their diff_ids are checked against the config.
 */
import { posix } from "node:path";
import { pipeline } from "node:stream";
import { TantalusError } from "../../errors.js";
import { forEachMember, openMaybeCompressed } from "../archive.js";
import { checkLinkTarget } from "../member-name.js";
import { sha256Stream, type Digest } from "../digest.js";
import { createDecompressor, sniffCompression } from "../layer/compress.js";
import type { BlobIngester, BlobReader, ImageReader } from "../layout/interfaces.js";
import type { BlobInfo } from "../layout/store.js";
import {
  MediaType,
  layerMediaType,
  type Descriptor,
  type ImageConfig,
  type ImageManifest,
  type LayerCompression,
  type ResolvedImage,
} from "../types.js";
import { readAll } from "./oci-layout.js";

interface DockerManifestEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

interface Member extends BlobInfo {
  compression: LayerCompression;
}

export async function importDockerArchive(
  store: BlobReader & BlobIngester & ImageReader,
  file: string,
  ref?: string,
): Promise<ResolvedImage> {
  const what = `docker-archive:${file}`;
  const members = new Map<string, Member>();
  const aliases = new Map<string, string>();
  let manifestJson: DockerManifestEntry[] | undefined;
  await forEachMember(await openMaybeCompressed(file), what, async (name, header, body) => {
    if (header.type === "symlink") {
      // Docker ≥ 25 links <id>/layer.tar to ../../blobs/sha256/<hex>: relative to the link's folder.
      const target = posix.normalize(posix.join(posix.dirname(name), header.linkname ?? ""));
      if (!target.startsWith("../") && target !== "..") aliases.set(name, memberPath(target));
      return;
    }
    if (header.type === "link") {
      aliases.set(name, checkLinkTarget(header.linkname ?? "", header.name, what));
      return;
    }
    if (header.type !== "file" && header.type !== "contiguous-file") return;
    if (name === "manifest.json") {
      manifestJson = parseJson(await readAll(body), `${what}: manifest.json`) as DockerManifestEntry[];
      return;
    }
    if (
      name === "repositories" ||
      name === "index.json" ||
      name === "oci-layout" ||
      name.endsWith("/VERSION") ||
      name.endsWith("/json")
    )
      return;
    // Anything else may be a config or a layer: store it, sniffing compression from the first chunk.
    let head: Buffer | undefined;
    const info = await store.putBlob(tapFirstChunk(body, (c) => (head = c)));
    members.set(name, { ...info, compression: sniffCompression(head ?? Buffer.alloc(0)) });
  });
  if (!manifestJson || !Array.isArray(manifestJson) || manifestJson.length === 0)
    throw new TantalusError(`${what}: no manifest.json (not a docker-archive)`);

  const entry = pickEntry(manifestJson, ref, what);
  const lookup = (name: string, role: string): Member => {
    let n = memberPath(name);
    for (let hops = 0; aliases.has(n) && hops < 16; hops++) n = aliases.get(n)!;
    const m = members.get(n);
    if (!m)
      throw new TantalusError(
        `${what}: manifest.json names ${role} ${JSON.stringify(name)}, which is not in the archive`,
      );
    return m;
  };
  const cfgMember = lookup(entry.Config, "config");
  const configBytes = await store.readBlob(cfgMember.digest);
  const config = parseJson(configBytes, `${what}: ${entry.Config}`) as ImageConfig;
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== entry.Layers.length)
    throw new TantalusError(
      `${what}: config lists ${diffIds.length} diff_ids but manifest.json lists ${entry.Layers.length} layers`,
    );

  const layers: Descriptor[] = [];
  for (const [i, name] of entry.Layers.entries()) {
    const m = lookup(name, "layer");
    const diffId = m.compression === "none" ? m.digest : await uncompressedDigest(store, m);
    if (diffId !== diffIds[i])
      throw new TantalusError(`${what}: layer ${name} has diff_id ${diffId} but the config expects ${diffIds[i]}`);
    layers.push({ mediaType: layerMediaType(m.compression), digest: m.digest, size: m.size });
  }
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.ImageManifest,
    config: { mediaType: MediaType.ImageConfig, digest: cfgMember.digest, size: cfgMember.size },
    layers,
  };
  const manifestDescriptor = await store.putManifest(manifest);
  return { manifestDescriptor, manifest, config, configBytes };
}

function pickEntry(entries: DockerManifestEntry[], ref: string | undefined, what: string): DockerManifestEntry {
  if (ref === undefined) {
    if (entries.length === 1) return entries[0]!;
    throw new TantalusError(
      `${what}: holds ${entries.length} images; name one with :NAME:TAG (available: ${entries.flatMap((e) => e.RepoTags ?? []).join(", ")})`,
    );
  }
  const want = normalizeDockerRef(ref);
  const hit = entries.find((e) =>
    (e.RepoTags ?? []).some((t) => t === ref || normalizeDockerRef(t) === want || t === `localhost/${ref}`),
  );
  if (!hit)
    throw new TantalusError(
      `${what}: no image tagged ${JSON.stringify(ref)} (available: ${entries.flatMap((e) => e.RepoTags ?? []).join(", ") || "untagged images only"})`,
    );
  return hit;
}

/** Docker's familiar-name expansion: `comp:1` → `docker.io/library/comp:1`, `studio/comp` → `docker.io/studio/comp:latest`. */
export function normalizeDockerRef(ref: string): string {
  const slash = ref.indexOf("/");
  const first = slash >= 0 ? ref.slice(0, slash) : "";
  const hasDomain = slash >= 0 && (first.includes(".") || first.includes(":") || first === "localhost");
  let name = hasDomain ? ref : `docker.io/${slash >= 0 ? ref : `library/${ref}`}`;
  const lastSlash = name.lastIndexOf("/");
  if (name.lastIndexOf(":") <= lastSlash && !name.includes("@")) name += ":latest";
  return name;
}

async function uncompressedDigest(store: BlobReader, m: Member): Promise<Digest> {
  const blob = await store.openBlob(m.digest, { size: m.size });
  return (await sha256Stream(pipeline(blob, createDecompressor(m.compression), () => undefined))).digest;
}

async function* tapFirstChunk(body: AsyncIterable<Buffer>, onFirst: (chunk: Buffer) => void): AsyncGenerator<Buffer> {
  let first = true;
  for await (const chunk of body) {
    if (first) onFirst(chunk);
    first = false;
    yield chunk;
  }
}

/** A path inside the archive as manifest.json or a link names it: `./a/b` → `a/b`. */
function memberPath(name: string): string {
  return posix
    .normalize(name)
    .replace(/^(\.\/)+/, "")
    .replace(/^\/+/, "")
    .replace(/\/+$/, "");
}

function parseJson(buf: Buffer, what: string): unknown {
  try {
    return JSON.parse(buf.toString("utf8"));
  } catch {
    throw new TantalusError(`${what}: not valid JSON`);
  }
}
