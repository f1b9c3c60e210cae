/**
 * The planned image as a read-only filesystem: layers (a base root
 * filesystem, package trees mounted at their install prefix, in-memory
 * decoys) stacked like an OCI overlay, where later layers win. All paths are
 * image paths; symlinks are resolved inside the image, so an absolute link
 * target such as `/usr/lib` means the image's /usr/lib, never the host's.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { BufferSource, FileSource, type ByteSource } from "./bytesource.js";

export type EntryType = "file" | "dir" | "symlink" | "other";

/** One layer's own contents, addressed relative to where it is mounted. */
export interface Layer {
  /** Image path where the layer's root appears ("/" for a root filesystem). */
  readonly at: string;
  /** Entries of directory `rel` ("" = the layer root), or null if it is not a directory here. */
  list(rel: string): ReadonlyMap<string, EntryType> | null;
  readlink(rel: string): string | null;
  open(rel: string): ByteSource;
  /** Where `rel` lives, for messages (a host path, or a description). */
  describe(rel: string): string;
  /**
   * The host file regular file `rel` is read from as it is, when there is one: an identity
   * that holds across images stacked from the same host files (for caches they share).
   */
  hostFile?(rel: string): string | undefined;
}

export interface ImageFs {
  /** Type of the entry at `p` without following a final symlink; `p`'s parent must be canonical. */
  lstat(p: string): EntryType | null;
  /** Entries of canonical directory `dir`, or null. */
  list(dir: string): ReadonlyMap<string, EntryType> | null;
  readlink(p: string): string | null;
  /** Opens the regular file at canonical path `p`; throws if it cannot. */
  open(p: string): ByteSource;
  /** Where the entry at `p` comes from (host path or layer name), for reports. */
  describe(p: string): string;
  /** The host file the regular file at canonical path `p` is read from as it is, when there is one (Layer.hostFile). */
  hostFile?(p: string): string | undefined;
}

const WHITEOUT = ".wh.";
const OPAQUE = ".wh..wh..opq";

/** Normalises an absolute image path: no trailing slash, no empty or "." parts. */
export function normalizeImagePath(p: string): string {
  const parts: string[] = [];
  for (const c of p.split("/")) {
    if (c === "" || c === ".") continue;
    if (c === "..") parts.pop();
    else parts.push(c);
  }
  return "/" + parts.join("/");
}

export function imageDirname(p: string): string {
  const i = p.lastIndexOf("/");
  return i <= 0 ? "/" : p.slice(0, i);
}

export function imageBasename(p: string): string {
  return p.slice(p.lastIndexOf("/") + 1);
}

function direntType(d: fs.Dirent): EntryType {
  if (d.isFile()) return "file";
  if (d.isDirectory()) return "dir";
  if (d.isSymbolicLink()) return "symlink";
  return "other";
}

/** A directory on the host whose contents appear at image path `at`. */
export class HostDirLayer implements Layer {
  readonly at: string;
  constructor(
    readonly root: string,
    at = "/",
  ) {
    this.at = normalizeImagePath(at);
  }
  private host(rel: string): string {
    return rel === "" ? this.root : path.join(this.root, rel);
  }
  list(rel: string): Map<string, EntryType> | null {
    let ents: fs.Dirent[];
    try {
      ents = fs.readdirSync(this.host(rel), { withFileTypes: true });
    } catch {
      return null;
    }
    const m = new Map<string, EntryType>();
    for (const d of ents) m.set(d.name, direntType(d));
    return m;
  }
  readlink(rel: string): string | null {
    try {
      return fs.readlinkSync(this.host(rel));
    } catch {
      return null;
    }
  }
  open(rel: string): ByteSource {
    return FileSource.open(this.host(rel));
  }
  describe(rel: string): string {
    return this.host(rel);
  }
  hostFile(rel: string): string {
    return this.host(rel);
  }
}

export type MemoryEntry = { type: "file"; data: Uint8Array } | { type: "symlink"; target: string } | { type: "dir" };

/**
 * Records `parts` (a path relative to a layer root) in a layer's directory index:
 * every parent becomes a directory entry of its own parent, the last part an entry
 * of `leaf` type. Returns the "/"-joined path.
 */
export function indexPath(
  dirs: Map<string, Map<string, EntryType>>,
  parts: readonly string[],
  leaf: EntryType,
): string {
  let dir = "";
  for (let i = 0; i < parts.length - 1; i++) {
    const child = dir === "" ? parts[i]! : `${dir}/${parts[i]}`;
    dirs.get(dir)!.set(parts[i]!, "dir");
    if (!dirs.has(child)) dirs.set(child, new Map());
    dir = child;
  }
  dirs.get(dir)!.set(parts[parts.length - 1]!, leaf);
  return parts.join("/");
}

/** Files held in memory (decoy libraries, test fixtures). Parent directories are implicit. */
export class MemoryLayer implements Layer {
  readonly at: string;
  private readonly entries = new Map<string, MemoryEntry>();
  private readonly dirs = new Map<string, Map<string, EntryType>>([["", new Map()]]);

  constructor(
    readonly name: string,
    at = "/",
  ) {
    this.at = normalizeImagePath(at);
  }

  /** Adds an entry at `rel` (relative to the layer root, "/"-separated). */
  set(rel: string, entry: MemoryEntry): this {
    const parts = rel.split("/").filter((c) => c !== "" && c !== ".");
    if (parts.length === 0) throw new Error("cannot replace the layer root");
    const full = indexPath(this.dirs, parts, entry.type);
    this.entries.set(full, entry);
    if (entry.type === "dir" && !this.dirs.has(full)) this.dirs.set(full, new Map());
    return this;
  }
  list(rel: string): Map<string, EntryType> | null {
    return this.dirs.get(rel) ?? null;
  }
  readlink(rel: string): string | null {
    const e = this.entries.get(rel);
    return e && e.type === "symlink" ? e.target : null;
  }
  open(rel: string): ByteSource {
    const e = this.entries.get(rel);
    if (!e || e.type !== "file")
      throw Object.assign(new Error(`no such file in ${this.name}: ${rel}`), { code: "ENOENT" });
    return new BufferSource(e.data);
  }
  describe(rel: string): string {
    return `${this.name}:${rel}`;
  }
}

/** An existing image seen as one layer, so more layers can be stacked on it. */
export class ImageLayer implements Layer {
  readonly at = "/";
  constructor(
    private readonly image: ImageFs,
    readonly name = "image",
  ) {}
  list(rel: string): ReadonlyMap<string, EntryType> | null {
    return this.image.list("/" + rel);
  }
  readlink(rel: string): string | null {
    return this.image.readlink("/" + rel);
  }
  open(rel: string): ByteSource {
    return this.image.open("/" + rel);
  }
  describe(rel: string): string {
    return this.image.describe("/" + rel);
  }
  hostFile(rel: string): string | undefined {
    return this.image.hostFile?.("/" + rel);
  }
}

export interface LayeredImageFsOptions {
  /** Honour OCI whiteout files (".wh.NAME", ".wh..wh..opq") in the layers. */
  ociWhiteouts?: boolean;
}

/**
 * Layers stacked bottom-first; an entry in a later layer hides the same path
 * in earlier ones, directories merge. Directory listings are cached, so
 * repeated library searches cost map lookups, not system calls.
 */
export class LayeredImageFs implements ImageFs {
  private readonly layerLists: Map<string, ReadonlyMap<string, EntryType> | null>[];
  /** Layers (top first) whose directory contributes to each merged directory. */
  private readonly contribCache = new Map<string, number[]>();
  private readonly mergedCache = new Map<string, Map<string, EntryType> | null>();
  private readonly whiteouts: boolean;

  constructor(
    readonly layers: readonly Layer[],
    opts: LayeredImageFsOptions = {},
  ) {
    this.layerLists = layers.map(() => new Map<string, ReadonlyMap<string, EntryType> | null>());
    this.whiteouts = opts.ociWhiteouts ?? false;
  }

  /** Layer `i`'s own listing of image directory `dir`; synthesises the mount-point ancestors. */
  private layerList(i: number, dir: string): ReadonlyMap<string, EntryType> | null {
    const cache = this.layerLists[i]!;
    if (cache.has(dir)) return cache.get(dir)!;
    const layer = this.layers[i]!;
    let result: ReadonlyMap<string, EntryType> | null;
    const at = layer.at;
    if (dir === at) result = layer.list("");
    else if (at === "/" || dir.startsWith(at + "/"))
      result = layer.list(at === "/" ? dir.slice(1) : dir.slice(at.length + 1));
    else if (dir === "/" || at.startsWith(dir + "/")) {
      const rest = at.slice(dir === "/" ? 1 : dir.length + 1);
      result = new Map([[rest.split("/")[0]!, "dir"]]);
    } else result = null;
    cache.set(dir, result);
    return result;
  }

  private relIn(i: number, p: string): string {
    const at = this.layers[i]!.at;
    return at === "/" ? p.slice(1) : p.slice(at.length + 1);
  }

  private contrib(dir: string): number[] {
    const cached = this.contribCache.get(dir);
    if (cached) return cached;
    const result: number[] = [];
    if (dir === "/") {
      for (let i = this.layers.length - 1; i >= 0; i--) {
        if (this.layerList(i, "/") !== null) {
          result.push(i);
          if (this.whiteouts && this.layerList(i, "/")!.has(OPAQUE)) break;
        }
      }
    } else {
      const parent = imageDirname(dir);
      const name = imageBasename(dir);
      for (const i of this.contrib(parent)) {
        const l = this.layerList(i, parent)!;
        if (this.whiteouts && l.has(WHITEOUT + name)) break;
        const t = l.get(name);
        if (t === undefined) continue;
        if (t !== "dir") break;
        result.push(i);
        if (this.whiteouts && this.layerList(i, dir)?.has(OPAQUE)) break;
      }
    }
    this.contribCache.set(dir, result);
    return result;
  }

  /** The layer that provides `p` (parent canonical) and the entry's type. */
  private locate(p: string): { layer: number; type: EntryType } | null {
    if (p === "/") return this.contrib("/").length > 0 ? { layer: this.contrib("/")[0]!, type: "dir" } : null;
    const parent = imageDirname(p);
    const name = imageBasename(p);
    if (this.whiteouts && name.startsWith(WHITEOUT)) return null;
    for (const i of this.contrib(parent)) {
      const l = this.layerList(i, parent)!;
      if (this.whiteouts && l.has(WHITEOUT + name)) return null;
      const t = l.get(name);
      if (t !== undefined) return { layer: i, type: t };
    }
    return null;
  }

  lstat(p: string): EntryType | null {
    return this.locate(p)?.type ?? null;
  }

  list(dir: string): ReadonlyMap<string, EntryType> | null {
    if (this.mergedCache.has(dir)) return this.mergedCache.get(dir)!;
    const layers = this.contrib(dir);
    let merged: Map<string, EntryType> | null = null;
    if (layers.length > 0) {
      merged = new Map();
      const hidden = new Set<string>();
      for (const i of layers) {
        const l = this.layerList(i, dir)!;
        for (const [name, t] of l) {
          if (this.whiteouts && name.startsWith(WHITEOUT)) continue;
          if (!merged.has(name) && !hidden.has(name)) merged.set(name, t);
        }
        if (this.whiteouts)
          for (const name of l.keys())
            if (name.startsWith(WHITEOUT) && name !== OPAQUE) hidden.add(name.slice(WHITEOUT.length));
      }
    }
    this.mergedCache.set(dir, merged);
    return merged;
  }

  readlink(p: string): string | null {
    const loc = this.locate(p);
    if (!loc || loc.type !== "symlink") return null;
    return this.layers[loc.layer]!.readlink(this.relIn(loc.layer, p));
  }

  open(p: string): ByteSource {
    const loc = this.locate(p);
    if (!loc) throw Object.assign(new Error(`no such file in image: ${p}`), { code: "ENOENT" });
    if (loc.type === "dir") throw Object.assign(new Error(`is a directory: ${p}`), { code: "EISDIR" });
    return this.layers[loc.layer]!.open(this.relIn(loc.layer, p));
  }

  describe(p: string): string {
    const loc = this.locate(p);
    if (!loc) return `${p} (absent)`;
    return this.layers[loc.layer]!.describe(this.relIn(loc.layer, p));
  }

  hostFile(p: string): string | undefined {
    const loc = this.locate(p);
    if (loc?.type !== "file") return undefined;
    return this.layers[loc.layer]!.hostFile?.(this.relIn(loc.layer, p));
  }

  /** Index of the layer that provides `p` after resolving symlinks, or -1. */
  layerOf(p: string): number {
    const r = resolveImagePath(this, p);
    if (!r.ok) return -1;
    return this.locate(r.path)?.layer ?? -1;
  }
}

/** A host directory seen as a whole image root (e.g. an extracted base image, or "/" for the host). */
export function directoryImageFs(root: string): LayeredImageFs {
  return new LayeredImageFs([new HostDirLayer(root)]);
}

/** Several host directories (or layers) stacked; later ones win. */
export function overlayImageFs(layers: (string | Layer)[], opts?: LayeredImageFsOptions): LayeredImageFs {
  return new LayeredImageFs(
    layers.map((l) => (typeof l === "string" ? new HostDirLayer(l) : l)),
    opts,
  );
}

export type ResolveResult =
  { ok: true; path: string; type: EntryType } | { ok: false; error: "ENOENT" | "ENOTDIR" | "ELOOP" };

/** Linux's limit on symlinks followed in one lookup. */
const MAX_SYMLINKS = 40;

/**
 * Resolves `p` inside the image the way the kernel does: component by
 * component, absolute symlink targets restart at the image root, ".." steps
 * back from the resolved directory. Relative `p` is taken from `cwd`.
 */
export function resolveImagePath(image: ImageFs, p: string, followFinal = true, cwd = "/"): ResolveResult {
  const queue = (p.startsWith("/") ? p : `${cwd}/${p}`).split("/");
  queue.reverse();
  const current: string[] = [];
  let links = 0;
  let type: EntryType = "dir";
  while (queue.length > 0) {
    const c = queue.pop()!;
    if (c === "" || c === ".") continue;
    if (c === "..") {
      current.pop();
      type = "dir";
      continue;
    }
    const candidate = "/" + (current.length ? current.join("/") + "/" : "") + c;
    const t = image.lstat(candidate);
    if (t === null) return { ok: false, error: "ENOENT" };
    const more = queue.some((q) => q !== "" && q !== ".");
    if (t === "symlink" && (more || followFinal)) {
      if (++links > MAX_SYMLINKS) return { ok: false, error: "ELOOP" };
      const target = image.readlink(candidate);
      if (target === null) return { ok: false, error: "ENOENT" };
      if (target.startsWith("/")) current.length = 0;
      const parts = target.split("/");
      for (let i = parts.length - 1; i >= 0; i--) queue.push(parts[i]!);
      type = "dir";
      continue;
    }
    if (more && t !== "dir") return { ok: false, error: "ENOTDIR" };
    current.push(c);
    type = t;
  }
  return { ok: true, path: "/" + current.join("/"), type };
}

/** Canonical path of `p` in the image, or null if it does not resolve. */
export function imageRealPath(image: ImageFs, p: string): string | null {
  const r = resolveImagePath(image, p);
  return r.ok ? r.path : null;
}
