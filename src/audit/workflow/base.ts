/**
 * The base image the audit reasons about, as layers of an image filesystem,
 * and the ld.so profile that matches it. Three kinds:
 *  - "demo": the demo base as the build assembles it from this host (its
 *    content, taken from the host files directly, without writing a layer);
 *  - a root filesystem directory (`rootfs:DIR`), seen as it is;
 *  - an image in the store (a local transport is imported first), unpacked
 *    once into a cache directory keyed by the manifest digest.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { TantalusError } from "../../errors.js";
import { cachePath, storeId } from "../../locations.js";
import type { BlobReader, ImageReader } from "../../image/layout/interfaces.js";
import { writeFileAtomic } from "../../util/atomic.js";
import type { EntryType, ImageFs, Layer } from "../../linker/imagefs.js";
import { HostDirLayer, LayeredImageFs, normalizeImagePath, resolveImagePath } from "../../linker/imagefs.js";
import { BufferSource, FileSource, type ByteSource } from "../../linker/bytesource.js";
import { demoBaseContent } from "../../image/demo-base.js";
import { parseBaseReference } from "../../image/base-reference.js";
import type { LayerSpec } from "../../image/layer/spec.js";
import type { ResolvedImage } from "../../image/types.js";
import { DEBIAN_AARCH64, DEBIAN_X86_64, RHEL_X86_64, type LinkerProfile } from "../../linker/profile.js";

export interface BaseImage {
  /** What the base is, for reports ("demo base: this host's system libraries"). */
  description: string;
  /** Bottom layer first. */
  layers: Layer[];
  profile: LinkerProfile;
}

function hostType(p: string): EntryType | null {
  try {
    const st = fs.lstatSync(p);
    return st.isFile() ? "file" : st.isDirectory() ? "dir" : st.isSymbolicLink() ? "symlink" : "other";
  } catch {
    return null;
  }
}

/**
 * A layer described by a build LayerSpec, without writing it: host files
 * (a host symlink stays a link), generated files, directories and links at
 * their image paths, as the layer writer would archive them. `tree` entries
 * are separate layers (see specLayers).
 */
export class SpecLayer implements Layer {
  readonly at = "/";
  private readonly entries = new Map<
    string,
    | { type: "host"; source: string }
    | { type: "data"; data: Buffer }
    | { type: "symlink"; target: string }
    | { type: "dir" }
  >();
  private readonly dirs = new Map<string, Map<string, EntryType>>([["", new Map()]]);

  constructor(
    readonly name: string,
    spec: LayerSpec,
  ) {
    for (const e of spec.entries) {
      switch (e.type) {
        case "hostFile": {
          const t = hostType(e.source);
          if (t === "symlink") this.add(e.path, { type: "symlink", target: fs.readlinkSync(e.source) });
          else if (t === "file") this.add(e.path, { type: "host", source: e.source });
          break;
        }
        case "file":
          this.add(e.path, { type: "data", data: Buffer.from(e.content) });
          break;
        case "directory":
          this.add(e.path, { type: "dir" });
          break;
        case "symlink":
          this.add(e.path, { type: "symlink", target: e.linkTarget });
          break;
        case "tree":
          break;
      }
    }
  }

  private add(p: string, entry: typeof this.entries extends Map<string, infer V> ? V : never): void {
    const parts = normalizeImagePath(p).split("/").filter(Boolean);
    if (parts.length === 0) return;
    let dir = "";
    for (let i = 0; i < parts.length - 1; i++) {
      const child = dir === "" ? parts[i]! : `${dir}/${parts[i]}`;
      if (!this.dirs.get(dir)!.has(parts[i]!)) this.dirs.get(dir)!.set(parts[i]!, "dir");
      if (!this.dirs.has(child)) this.dirs.set(child, new Map());
      dir = child;
    }
    const rel = parts.join("/");
    const type: EntryType = entry.type === "host" || entry.type === "data" ? "file" : entry.type;
    this.dirs.get(dir)!.set(parts[parts.length - 1]!, type);
    this.entries.set(rel, entry);
    if (entry.type === "dir" && !this.dirs.has(rel)) this.dirs.set(rel, new Map());
  }

  list(rel: string): ReadonlyMap<string, EntryType> | null {
    return this.dirs.get(rel) ?? null;
  }
  readlink(rel: string): string | null {
    const e = this.entries.get(rel);
    return e?.type === "symlink" ? e.target : null;
  }
  open(rel: string): ByteSource {
    const e = this.entries.get(rel);
    if (e?.type === "host") return FileSource.open(e.source);
    if (e?.type === "data") return new BufferSource(e.data);
    throw Object.assign(new Error(`no such file in ${this.name}: /${rel}`), { code: "ENOENT" });
  }
  describe(rel: string): string {
    const e = this.entries.get(rel);
    return e?.type === "host" ? e.source : `${this.name}:/${rel}`;
  }
  hostFile(rel: string): string | undefined {
    const e = this.entries.get(rel);
    return e?.type === "host" ? e.source : undefined;
  }
}

/** The layers a LayerSpec stands for: its entries, and one host directory layer per `tree` entry. */
export function specLayers(name: string, spec: LayerSpec): Layer[] {
  const trees = spec.entries.flatMap((e) => (e.type === "tree" ? [new HostDirLayer(e.source, e.path)] : []));
  return [...trees, new SpecLayer(name, spec)];
}

/**
 * The demo base exactly as the build assembles it from this host (a shell,
 * the dynamic loader, glibc, the GCC runtime, the extra `libraries`, and what
 * they need), without writing its layer.
 */
export function demoBase(libraries: readonly string[] = []): BaseImage {
  const content = demoBaseContent(libraries);
  const layers = specLayers("demo base", content.spec);
  return {
    description: "demo base (this host's shell and system libraries)",
    layers,
    profile: detectProfile(new LayeredImageFs(layers)),
  };
}

/** A root filesystem directory as the whole base. */
export function directoryBase(dir: string, description = `root filesystem ${dir}`): BaseImage {
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch (e) {
    throw new TantalusError(`base image ${dir}: ${(e as Error).message}`);
  }
  if (!st.isDirectory()) throw new TantalusError(`base image ${dir}: not a directory`);
  const layer = new HostDirLayer(dir);
  return { description, layers: [layer], profile: detectProfile(new LayeredImageFs([layer])) };
}

function readText(image: ImageFs, p: string): string | null {
  const r = resolveImagePath(image, p);
  if (!r.ok || r.type !== "file") return null;
  let src: ByteSource | undefined;
  try {
    src = image.open(r.path);
    return Buffer.from(src.read(0, Math.min(src.size, 64 * 1024))).toString("utf8");
  } catch {
    return null;
  } finally {
    src?.close();
  }
}

function exists(image: ImageFs, p: string): boolean {
  return resolveImagePath(image, p).ok;
}

/**
 * The ld.so profile of a base. The layout decides: a base with the x86_64
 * multiarch directories has a Debian-built ld.so, whatever its os-release
 * says (the demo base is the build host's files); otherwise /etc/os-release
 * (ID, ID_LIKE) tells Debian-likes from the rest, which use glibc's lib64
 * layout. The architecture comes from the program interpreter present.
 */
export function detectProfile(image: ImageFs): LinkerProfile {
  const osRelease = readText(image, "/etc/os-release") ?? readText(image, "/usr/lib/os-release") ?? "";
  const ids = new Set<string>();
  for (const line of osRelease.split("\n")) {
    const m = /^(ID|ID_LIKE)=(.*)$/.exec(line.trim());
    if (m) for (const id of m[2]!.replace(/^["']|["']$/g, "").split(/\s+/)) if (id) ids.add(id.toLowerCase());
  }
  const aarch64 = exists(image, DEBIAN_AARCH64.interpreter) && !exists(image, DEBIAN_X86_64.interpreter);
  if (aarch64) {
    if (!exists(image, "/usr/lib/aarch64-linux-gnu") && !ids.has("debian") && !ids.has("ubuntu")) {
      throw new TantalusError(
        "the base image is an arm64 distribution Tantalus has no ld.so profile for (only Debian-like arm64 bases are supported)",
      );
    }
    return DEBIAN_AARCH64;
  }
  const multiarch = exists(image, "/usr/lib/x86_64-linux-gnu") || exists(image, "/lib/x86_64-linux-gnu");
  return multiarch || ids.has("debian") || ids.has("ubuntu") ? DEBIAN_X86_64 : RHEL_X86_64;
}

/**
 * A registry base as the store holds it (under the tag the build gives it,
 * or by digest); when it is not there, `opts.fetch` (the CLI's: a pull, as the
 * build does) brings it.
 */
async function registryImage(store: ImageReader, ref: string, reference: string, opts: LoadBaseOptions) {
  const { formatReference, parseReference } = await import("../../image/remote/reference.js");
  const parsed = parseReference(ref);
  // The tag the build stores a registry base under (build/distribution.ts storeTagFor).
  const tag = formatReference(
    parsed.tag === undefined && parsed.digest === undefined ? { ...parsed, tag: "latest" } : parsed,
  );
  for (const name of [tag, ref]) {
    try {
      return await store.resolveImage(name);
    } catch {
      // not under this name
    }
  }
  if (opts.fetch) return opts.fetch(ref);
  throw new TantalusError(
    `base image ${reference} is not in the image store ${opts.store} and this audit has no way to fetch it`,
  );
}

export interface LoadBaseOptions {
  /** The image store (LoadedConfig.store). */
  store: string;
  /** Directory relative local references are taken from (the configuration's). */
  configDir: string;
  /** Extra libraries of the demo base (the build passes audit.allow_system). */
  demoLibraries?: readonly string[];
  /** Brings a registry base the store lacks into it (the CLI pulls it, as the build does). */
  fetch?: (reference: string) => Promise<import("../../image/index.js").ResolvedImage>;
}

/** Where the audit keeps its own derived files (unpacked bases, the soname index): the user's cache, never the store. */
export function auditCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return cachePath("audit", env);
}

/** The unpacked copy of the stored image with this manifest digest. */
export function auditRootfsDir(manifestDigest: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(auditCacheDir(env), "rootfs", manifestDigest.replace(":", "-"));
}

/**
 * Records that the unpacked copy `dest` came from the store `storeDir`, in
 * `<dest>.stores` (one store id a line), so `tantalus gc` of that store can
 * tell its copies from those of other stores sharing the cache.
 */
export function recordAuditCopy(dest: string, storeDir: string): void {
  const file = `${dest}.stores`;
  const id = storeId(storeDir);
  let ids: string[] = [];
  try {
    ids = fs.readFileSync(file, "utf8").split("\n").filter(Boolean);
  } catch {
    // first record
  }
  if (ids.includes(id)) return;
  try {
    writeFileAtomic(file, [...ids, id].join("\n") + "\n");
  } catch {
    // an unrecorded copy is only never collected
  }
}

/**
 * `tantalus gc`'s part in the audit's cache: the unpacked copies recorded
 * for this store whose image neither is in the store nor is the base of an
 * image in it. A copy other stores also recorded only loses this store's
 * record. Returns the manifest digests of the copies removed (or that would be).
 */
export async function removeUnusedAuditCopies(
  store: BlobReader & ImageReader,
  dryRun: boolean,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string[]> {
  const dir = path.join(auditCacheDir(env), "rootfs");
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => n.endsWith(".stores"));
  } catch {
    return [];
  }
  const id = storeId(store.dir);
  const used = new Set<string>();
  for (const d of (await store.readIndex()).manifests) {
    used.add(d.digest);
    try {
      const manifest = await store.readJsonBlob<{ annotations?: Record<string, string> }>(d.digest);
      const base = manifest.annotations?.["org.opencontainers.image.base.digest"];
      if (base) used.add(base);
    } catch {
      // an unreadable manifest keeps nothing alive; gc reports the store's own problems
    }
  }
  const removed: string[] = [];
  for (const name of names) {
    const file = path.join(dir, name);
    const ids = fs.readFileSync(file, "utf8").split("\n").filter(Boolean);
    const digest = name.slice(0, -".stores".length).replace("-", ":");
    if (!ids.includes(id) || used.has(digest)) continue;
    const rest = ids.filter((i) => i !== id);
    if (rest.length === 0) removed.push(digest);
    if (dryRun) continue;
    if (rest.length > 0) writeFileAtomic(file, rest.join("\n") + "\n");
    else {
      fs.rmSync(path.join(dir, name.slice(0, -".stores".length)), { recursive: true, force: true });
      fs.rmSync(file, { force: true });
    }
  }
  return removed.sort();
}

const LOCAL_TRANSPORTS = /^(oci|oci-archive|docker-archive|rootfs):/;

/**
 * The base image `config.base.image` names: "demo", a root filesystem
 * directory (`rootfs:DIR`), a local image (oci:, oci-archive:,
 * docker-archive:, rootfs:TARBALL, imported into the store), or an image
 * already in the store (a registry reference the build has pulled). Store
 * images are unpacked once under <cache>/audit/rootfs/<manifest digest>
 * (auditRootfsDir): a per-user copy, so the store itself stays an OCI
 * layout that may be read-only.
 */
export async function loadBaseImage(reference: string, opts: LoadBaseOptions): Promise<BaseImage> {
  const spelling = parseBaseReference(reference);
  if (spelling.kind === "demo") return demoBase(opts.demoLibraries);
  let ref = spelling.kind === "registry" ? spelling.reference : reference;
  if (LOCAL_TRANSPORTS.test(ref)) {
    const colon = ref.indexOf(":");
    const rest = ref.slice(colon + 1);
    const abs = path.resolve(opts.configDir, rest);
    ref = `${ref.slice(0, colon)}:${abs}`;
    if (ref.startsWith("rootfs:") && hostType(abs) === "dir") return directoryBase(abs, `root filesystem ${abs}`);
  }
  // Loaded lazily: only non-demo bases need the image store.
  const { OciStore, importContainersStorage, importImage } = await import("../../image/index.js");
  const { isReadOnlyStore } = await import("../../image/layout/store.js");
  const imports = spelling.kind === "containers-storage" || LOCAL_TRANSPORTS.test(ref);
  // Only an import (or the pull of a registry base the store lacks) writes; a stored image is
  // read, so a shared store this user cannot write can be audited.
  const readOnly = !imports && (await isReadOnlyStore(opts.store));
  const store = await OciStore.open(opts.store, readOnly ? { readOnly: true } : {});
  let image;
  if (spelling.kind === "containers-storage") image = await importContainersStorage(store, spelling.name);
  else if (LOCAL_TRANSPORTS.test(ref)) image = await importImage(store, ref);
  else image = await registryImage(store, ref, reference, opts);
  const { dest } = await unpackForAudit(store, image);
  const digest = image.manifestDescriptor.digest;
  return directoryBase(dest, `${reference} (${digest.slice(0, 19)}, unpacked in ${dest})`);
}

/**
 * Unpack a stored image once under <cache>/audit/rootfs/<manifest digest>
 * (auditRootfsDir), the trees the audit reads. A base is untrusted content and a root build would
 * unpack its `su` as setuid root: the unpacker drops setuid/setgid and
 * group/world write bits and skips device nodes, and audit/rootfs is made
 * owner-only (0700) on every use, so no other local user can reach a tree,
 * including one unpacked by an older Tantalus that kept those bits.
 */
export async function unpackForAudit(store: BlobReader, image: ResolvedImage): Promise<{ dest: string }> {
  const dest = auditRootfsDir(image.manifestDescriptor.digest);
  const parent = path.dirname(dest);
  const { unpackImage, makeOwnerOnly } = await import("../../image/unpack.js");
  await makeOwnerOnly(parent);
  if (hostType(dest) !== "dir") await unpackImage(store, image, dest);
  recordAuditCopy(dest, store.dir);
  return { dest };
}
