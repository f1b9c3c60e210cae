/**
 * The planned image of a workflow as the audit sees it: the base image's
 * layers, each resolved variant's root at its install path (packages keep
 * their absolute paths inside images; `image.root_map` may move a
 * repository), the repair layer, and who owns every file.
 */
import * as fs from "node:fs";
import type { Variant } from "../../rez/package.js";
import { rootMapper } from "../../context/root-map.js";
import { FileSource, type ByteSource } from "../../linker/bytesource.js";
import type { EntryType, Layer } from "../../linker/imagefs.js";
import { HostDirLayer, LayeredImageFs, imageDirname, indexPath, normalizeImagePath } from "../../linker/imagefs.js";
import type { BaseImage } from "./base.js";

/** A resolved variant placed in the image. */
export interface PlannedPackage {
  /** Package qualified name ("layout_tools-2.3.1"): one per package in a resolve. */
  id: string;
  name: string;
  version: string;
  variant: Variant;
  /** Host directory of the variant root. */
  hostRoot: string;
  /** Where the variant root appears in the image. */
  imageRoot: string;
}

/** A host file copied into the repair layer for a package. */
export interface RepairFile {
  /** Absolute path in the image. */
  imagePath: string;
  /** Host file to copy (a regular file; symlinks already followed). */
  hostSource: string;
  /** Package (qualified name) the library is repaired for: it owns the file. */
  package: string;
  /** The soname the file answers to. */
  soname: string;
}

export interface PlannedImage {
  fs: LayeredImageFs;
  base: BaseImage;
  packages: PlannedPackage[];
  /** Owner of a canonical image path: a package's qualified name, or null for the base image. */
  ownerOf(path: string): string | null;
  packageById(id: string): PlannedPackage | undefined;
}

/** Host files at image paths (the repair layer); parent directories are implicit. */
export class HostFilesLayer implements Layer {
  readonly at = "/";
  private readonly files = new Map<string, string>();
  private readonly dirs = new Map<string, Map<string, EntryType>>([["", new Map()]]);

  constructor(readonly name: string) {}

  add(imagePath: string, hostSource: string): this {
    const parts = normalizeImagePath(imagePath).split("/").filter(Boolean);
    if (parts.length === 0) throw new Error("cannot place a file at the image root");
    this.files.set(indexPath(this.dirs, parts, "file"), hostSource);
    return this;
  }

  list(rel: string): ReadonlyMap<string, EntryType> | null {
    return this.dirs.get(rel) ?? null;
  }
  readlink(): string | null {
    return null;
  }
  open(rel: string): ByteSource {
    const host = this.files.get(rel);
    if (host === undefined) throw Object.assign(new Error(`no such file in ${this.name}: /${rel}`), { code: "ENOENT" });
    return FileSource.open(host);
  }
  describe(rel: string): string {
    return this.files.get(rel) ?? `${this.name}:/${rel}`;
  }
  hostFile(rel: string): string | undefined {
    return this.files.get(rel);
  }
}

export interface PlanImageOptions {
  /** `image.root_map`: host repository root -> image path. */
  rootMap?: Readonly<Record<string, string>>;
  repairFiles?: readonly RepairFile[];
}

/** Stacks the base, the variants (resolve order) and the repair layer into one image. */
export function planImage(base: BaseImage, variants: readonly Variant[], opts: PlanImageOptions = {}): PlannedImage {
  const map = rootMapper(opts.rootMap ?? {});
  const packages: PlannedPackage[] = variants.map((v) => ({
    id: v.package.qualifiedName,
    name: v.name,
    version: v.version.toString(),
    variant: v,
    hostRoot: v.root,
    imageRoot: normalizeImagePath(map(v.root)),
  }));
  const layers: Layer[] = [...base.layers];
  for (const p of packages) {
    // A variant root that is not on this machine is an error the build reports; the audit sees it as empty.
    if (fs.existsSync(p.hostRoot)) layers.push(new HostDirLayer(p.hostRoot, p.imageRoot));
  }
  const owners = new Map<string, string | null>();
  for (const p of packages) owners.set(p.imageRoot, p.id);
  if (opts.repairFiles && opts.repairFiles.length > 0) {
    const repair = new HostFilesLayer("repair layer");
    for (const f of opts.repairFiles) {
      repair.add(f.imagePath, f.hostSource);
      owners.set(normalizeImagePath(f.imagePath), f.package);
    }
    layers.push(repair);
  }
  const image = new LayeredImageFs(layers);
  const byId = new Map(packages.map((p) => [p.id, p]));
  const memo = new Map<string, string | null>();
  const ownerOf = (p: string): string | null => {
    const direct = owners.get(p);
    if (direct !== undefined) return direct;
    if (p === "/") return null;
    const dir = imageDirname(p);
    let o = memo.get(dir);
    if (o === undefined) {
      o = owners.get(dir) ?? (dir === "/" ? null : ownerOf(dir));
      memo.set(dir, o);
    }
    return o;
  };
  return { fs: image, base, packages, ownerOf, packageById: (id) => byId.get(id) };
}
