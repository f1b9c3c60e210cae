/**
 * The base image the audit reasons about, as layers of an image filesystem,
 * and the ld.so profile that matches it. Three kinds:
 *  - "demo": the demo base is assembled from this host's system libraries,
 *    so the audit sees exactly those: the host's library directories, its
 *    ld.so.cache and ld.so.conf, and its os-release, and nothing else;
 *  - a root filesystem directory (`rootfs:DIR`), seen as it is;
 *  - an image in the store (a local transport is imported first), unpacked
 *    once into a cache directory keyed by the manifest digest.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { TantalusError } from "../../errors.js";
import type { EntryType, ImageFs, Layer } from "../imagefs.js";
import { HostDirLayer, LayeredImageFs, normalizeImagePath, resolveImagePath } from "../imagefs.js";
import type { ByteSource } from "../bytesource.js";
import { DEBIAN_AARCH64, DEBIAN_X86_64, RHEL_X86_64, type LinkerProfile } from "../profile.js";

export interface BaseImage {
  /** What the base is, for reports ("demo base: this host's system libraries"). */
  description: string;
  /** Bottom layer first. */
  layers: Layer[];
  profile: LinkerProfile;
  /** Layers carry OCI whiteout files (an image unpacked layer by layer). */
  ociWhiteouts?: boolean;
}

/** What the demo base takes from the host: the system library directories and the linker's configuration. */
export const DEMO_BASE_PATHS: readonly string[] = [
  "/lib",
  "/lib32",
  "/lib64",
  "/libx32",
  "/usr/lib",
  "/usr/lib32",
  "/usr/lib64",
  "/usr/libx32",
  "/usr/local/lib",
  "/etc/ld.so.cache",
  "/etc/ld.so.conf",
  "/etc/ld.so.conf.d",
  "/etc/os-release",
];

function hostType(p: string): EntryType | null {
  try {
    const st = fs.lstatSync(p);
    return st.isFile() ? "file" : st.isDirectory() ? "dir" : st.isSymbolicLink() ? "symlink" : "other";
  } catch {
    return null;
  }
}

/**
 * A host directory tree of which only some paths are visible: everything
 * under the allowed prefixes, and the directories leading to them (listing
 * only the way there). Symlinks are kept as they are, so /lib -> usr/lib on a
 * merged-/usr host resolves inside the image as it does on the host.
 */
export class HostSubsetLayer implements Layer {
  readonly at = "/";
  private readonly prefixes: string[];
  private readonly inner: HostDirLayer;

  constructor(
    readonly root: string,
    prefixes: readonly string[],
  ) {
    this.prefixes = prefixes.map(normalizeImagePath);
    this.inner = new HostDirLayer(root);
  }

  private allowed(p: string): boolean {
    return this.prefixes.some((pre) => p === pre || p.startsWith(pre + "/"));
  }

  list(rel: string): ReadonlyMap<string, EntryType> | null {
    const p = "/" + rel;
    if (this.allowed(p)) return this.inner.list(rel);
    const below = p === "/" ? "/" : p + "/";
    const out = new Map<string, EntryType>();
    for (const pre of this.prefixes) {
      if (!pre.startsWith(below)) continue;
      const name = pre.slice(below.length).split("/")[0]!;
      if (out.has(name)) continue;
      const t = hostType(path.join(this.root, p, name));
      if (t !== null) out.set(name, t);
    }
    if (out.size === 0 && hostType(path.join(this.root, p)) !== "dir") return null;
    return out;
  }

  readlink(rel: string): string | null {
    return this.allowed("/" + rel) ? this.inner.readlink(rel) : null;
  }

  open(rel: string): ByteSource {
    if (!this.allowed("/" + rel)) throw Object.assign(new Error(`not part of the demo base: /${rel}`), { code: "ENOENT" });
    return this.inner.open(rel);
  }

  describe(rel: string): string {
    return this.inner.describe(rel);
  }
}

/** The demo base: the host's system libraries and linker configuration (what the demo base image copies). */
export function demoBase(hostRoot = "/"): BaseImage {
  const layer = new HostSubsetLayer(hostRoot, DEMO_BASE_PATHS);
  const fsys = new LayeredImageFs([layer]);
  return { description: `demo base: the system libraries of this host (${hostRoot})`, layers: [layer], profile: detectProfile(fsys) };
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
 * The ld.so profile of a base: the distribution family from /etc/os-release
 * (ID and ID_LIKE), the architecture from the program interpreter present.
 * Debian-like bases use multiarch directories, the rest glibc's lib64 layout.
 */
export function detectProfile(image: ImageFs): LinkerProfile {
  const osRelease = readText(image, "/etc/os-release") ?? readText(image, "/usr/lib/os-release") ?? "";
  const ids = new Set<string>();
  for (const line of osRelease.split("\n")) {
    const m = /^(ID|ID_LIKE)=(.*)$/.exec(line.trim());
    if (m) for (const id of m[2]!.replace(/^["']|["']$/g, "").split(/\s+/)) if (id) ids.add(id.toLowerCase());
  }
  const aarch64 = exists(image, DEBIAN_AARCH64.interpreter) && !exists(image, DEBIAN_X86_64.interpreter);
  const debianLike = ids.has("debian") || ids.has("ubuntu") || (ids.size === 0 && exists(image, "/usr/lib/x86_64-linux-gnu"));
  if (aarch64) {
    if (!debianLike) throw new TantalusError("the base image is an arm64 distribution Tantalus has no ld.so profile for (only Debian-like arm64 bases are supported)");
    return DEBIAN_AARCH64;
  }
  return debianLike ? DEBIAN_X86_64 : RHEL_X86_64;
}

export interface LoadBaseOptions {
  /** The image store (LoadedConfig.store). */
  store: string;
  /** Directory relative local references are taken from (the configuration's). */
  configDir: string;
}

const LOCAL_TRANSPORTS = /^(oci|oci-archive|docker-archive|rootfs):/;

/**
 * The base image `config.base.image` names: "demo", a root filesystem
 * directory (`rootfs:DIR`), a local image (oci:, oci-archive:,
 * docker-archive:, rootfs:TARBALL, imported into the store), or an image
 * already in the store (a registry reference the build has pulled). Store
 * images are unpacked once under STORE/audit/rootfs/<manifest digest>.
 */
export async function loadBaseImage(reference: string, opts: LoadBaseOptions): Promise<BaseImage> {
  if (reference === "demo") return demoBase();
  let ref = reference;
  if (LOCAL_TRANSPORTS.test(ref)) {
    const colon = ref.indexOf(":");
    const rest = ref.slice(colon + 1);
    const abs = path.resolve(opts.configDir, rest);
    ref = `${ref.slice(0, colon)}:${abs}`;
    if (ref.startsWith("rootfs:") && hostType(abs) === "dir") return directoryBase(abs, `root filesystem ${abs}`);
  }
  // Loaded lazily: only non-demo bases need the image store.
  const { OciStore, importImage } = await import("../../image/index.js");
  const { unpackImage } = await import("../../run/unpack.js");
  const store = await OciStore.open(opts.store);
  let image;
  if (LOCAL_TRANSPORTS.test(ref)) image = await importImage(store, ref);
  else {
    try {
      image = await store.resolveImage(ref);
    } catch {
      throw new TantalusError(`base image ${reference} is not in the image store ${opts.store}: pull it first (the build pulls it), or use a local reference`);
    }
  }
  const digest = image.manifestDescriptor.digest;
  const dest = path.join(opts.store, "audit", "rootfs", digest.replace(":", "-"));
  if (hostType(dest) !== "dir") {
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    await unpackImage(store, image, dest);
  }
  return directoryBase(dest, `${reference} (${digest.slice(0, 19)}, unpacked in ${dest})`);
}
