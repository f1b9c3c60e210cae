/**
 * Repairs from configuration, for packages that cannot be edited (the
 * third, `add_requires`, is applied where workflows are resolved:
 * src/workflow/overrides.ts):
 *  - `repair.system_libraries`: libraries copied from donor directories or
 *    the base image into a repair layer, one directory per package,
 *    REPAIR_ROOT/<package>/lib, appended to LD_LIBRARY_PATH. Appended, so
 *    every package directory already on the path still wins, while the
 *    repaired copy comes before the base OS's cache and default directories:
 *    that is where ld.so really finds it, whatever the base. A library's own
 *    needs that the image cannot satisfy are copied along from the same
 *    sources;
 *  - `ignore`: findings about a soname the audit reports as ignored, with
 *    the reason, instead of as errors.
 * Settings come from tantalus.yaml (`packages.<name>`) and from the
 * package's own `tantalus` attribute (`repair`, `ignore`); both apply.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { InputError } from "../errors.js";
import type { LoadedConfig } from "../config/index.js";
import type { Package } from "../rez/package.js";
import { globToRegExp } from "./findings.js";
import { resolveImagePath, type LayeredImageFs } from "../linker/imagefs.js";
import { lookupLdCache, readLdCache } from "../linker/ldcache.js";
import { Linker } from "../linker/linker.js";
import type { BaseImage } from "./workflow/base.js";
import { planImage, type RepairFile } from "./workflow/image.js";
import type { EnvAddition } from "../workflow/environment.js";
import type { WorkflowResolve } from "../workflow/resolve.js";

/** Where repaired libraries go in the image. */
export const REPAIR_ROOT = "/opt/tantalus/repair";

export type SettingSource = "tantalus.yaml" | "package";

export interface IgnoreRule {
  /** Soname or glob. */
  soname: string;
  reason: string;
  source: SettingSource;
}

/** What the configuration and the package itself say about one package. */
export interface PackageSettings {
  addRequires: string[];
  systemLibraries: { soname: string; source: SettingSource }[];
  /** Absolute host directories searched before the base image for system_libraries. */
  donorDirs: string[];
  ignore: IgnoreRule[];
}

/**
 * The tantalus.yaml fields this module reads. `repair.donor_dirs` is read
 * when the schema has it (relative paths are taken from the file's directory).
 */
export type RepairConfig = Pick<LoadedConfig, "packages" | "dir">;

interface RepairSection {
  system_libraries?: readonly string[];
  donor_dirs?: readonly string[];
}

const EMPTY: PackageSettings = Object.freeze({
  addRequires: [],
  systemLibraries: [],
  donorDirs: [],
  ignore: [],
});

/** The merged settings of a package (tantalus.yaml first, then the package's `tantalus` attribute). */
export function packageSettings(config: RepairConfig | undefined, pkg: Package | string): PackageSettings {
  const name = typeof pkg === "string" ? pkg : pkg.name;
  const o = config?.packages[name];
  const attr = typeof pkg === "string" ? undefined : pkg.tantalus;
  if (!o && !attr) return EMPTY;
  const out: PackageSettings = { addRequires: [], systemLibraries: [], donorDirs: [], ignore: [] };
  if (o) {
    out.addRequires.push(...o.add_requires);
    const repair = o.repair as RepairSection | undefined;
    for (const s of repair?.system_libraries ?? []) out.systemLibraries.push({ soname: s, source: "tantalus.yaml" });
    for (const d of repair?.donor_dirs ?? []) out.donorDirs.push(path.resolve(config.dir, d));
    for (const i of o.ignore) out.ignore.push({ soname: i.soname, reason: i.reason, source: "tantalus.yaml" });
  }
  if (attr && typeof pkg !== "string") readAttribute(pkg, attr, out);
  return out;
}

/** The package's own `tantalus = {"repair": {"system_libraries": [...]}, "ignore": [{"soname", "reason"}]}`. */
function readAttribute(pkg: Package, attr: Record<string, unknown>, out: PackageSettings): void {
  const bad = (what: string): never => {
    throw new InputError(`${pkg.qualifiedName}: tantalus attribute: ${what}`, { file: pkg.file });
  };
  const repair = attr.repair;
  if (repair !== undefined) {
    if (typeof repair !== "object" || repair === null || Array.isArray(repair)) bad("'repair' must be a dict");
    const libs = (repair as Record<string, unknown>).system_libraries;
    if (libs !== undefined) {
      if (!Array.isArray(libs) || !libs.every((x) => typeof x === "string"))
        bad("'repair.system_libraries' must be a list of sonames");
      for (const s of libs as string[])
        if (!out.systemLibraries.some((x) => x.soname === s))
          out.systemLibraries.push({ soname: s, source: "package" });
    }
  }
  const ignore = attr.ignore;
  if (ignore !== undefined) {
    if (!Array.isArray(ignore)) bad("'ignore' must be a list of {'soname': ..., 'reason': ...}");
    for (const i of ignore as unknown[]) {
      const r = i as Record<string, unknown>;
      if (
        typeof r !== "object" ||
        r === null ||
        typeof r.soname !== "string" ||
        typeof r.reason !== "string" ||
        r.reason === ""
      ) {
        bad("each 'ignore' entry needs a 'soname' and a non-empty 'reason'");
      }
      out.ignore.push({ soname: r.soname as string, reason: r.reason as string, source: "package" });
    }
  }
}

/** The ignore rule of `settings` matching any of `sonames`, if any. */
export function matchIgnore(settings: PackageSettings, sonames: readonly string[]): IgnoreRule | undefined {
  for (const rule of settings.ignore) {
    const re = globToRegExp(rule.soname);
    if (sonames.some((s) => re.test(s))) return rule;
  }
  return undefined;
}

// ---------------------------------------------------------------------------
// The repair layer

export interface UnresolvedRepair {
  package: string;
  soname: string;
  reason: string;
}

export interface RepairPlan {
  /** Files of the repair layer: copy each hostSource to imagePath. */
  layerFiles: RepairFile[];
  /** Applied to the workflow's environment after the Rez environment (the repair directories). */
  envAdditions: EnvAddition[];
  /** Libraries asked for that no donor directory nor the base image has. */
  unresolved: UnresolvedRepair[];
}

export const EMPTY_REPAIR_PLAN: RepairPlan = Object.freeze({
  layerFiles: [],
  envAdditions: [],
  unresolved: [],
});

export function repairDir(packageName: string): string {
  return `${REPAIR_ROOT}/${packageName}/lib`;
}

export interface PlanRepairsOptions {
  /** Extra donor directories for every package (e.g. a command-line option), searched first. */
  donorDirs?: readonly string[];
  rootMap?: Readonly<Record<string, string>>;
  /** LD_LIBRARY_PATH of the workflow before repairs, to decide which needs of a repaired library the image already meets. */
  ldLibraryPath?: string;
}

export interface LibrarySource {
  /** Host file (symlinks followed). */
  hostSource: string;
  /** Where it was found, for messages. */
  from: string;
}

/** A library of the base image, as ld.so would find it there (cache, then default directories), as a host file. */
export function baseLibrary(base: BaseImage, name: string): LibrarySource | null {
  return fromBase(base, baseFsOf(base), name);
}

const baseFsMemo = new WeakMap<BaseImage, LayeredImageFs>();
function baseFsOf(base: BaseImage): LayeredImageFs {
  let f = baseFsMemo.get(base);
  if (!f) baseFsMemo.set(base, (f = planImage(base, []).fs));
  return f;
}

function fromBase(base: BaseImage, baseFs: LayeredImageFs, name: string): LibrarySource | null {
  const cache = readLdCacheOnce(baseFs);
  const candidates: string[] = [];
  const entry = cache ? lookupLdCache(cache, name, base.profile) : undefined;
  if (entry) candidates.push(entry.path);
  for (const d of base.profile.systemDirs) candidates.push(`${d}/${name}`);
  for (const c of candidates) {
    const r = resolveImagePath(baseFs, c);
    if (!r.ok || r.type !== "file") continue;
    const host = hostPathOf(baseFs, r.path);
    if (host) return { hostSource: host, from: `the base image (${c})` };
  }
  return null;
}

const cacheMemo = new WeakMap<LayeredImageFs, ReturnType<typeof readLdCache>>();
function readLdCacheOnce(image: LayeredImageFs): ReturnType<typeof readLdCache> {
  if (!cacheMemo.has(image)) cacheMemo.set(image, readLdCache(image));
  return cacheMemo.get(image)!;
}

/** The host file behind a canonical image path, when its layer is a host directory. */
function hostPathOf(image: LayeredImageFs, p: string): string | null {
  const i = image.layerOf(p);
  if (i < 0) return null;
  const described = image.layers[i]!.describe(p === "/" ? "" : rel(image.layers[i]!.at, p));
  return path.isAbsolute(described) && isFile(described) ? fs.realpathSync(described) : null;
}

function rel(at: string, p: string): string {
  return at === "/" ? p.slice(1) : p.slice(at.length + 1);
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** A library named `name` in the first donor directory that has it. */
export function donorLibrary(dirs: readonly string[], name: string): LibrarySource | null {
  for (const d of dirs) {
    const p = path.join(d, name);
    if (isFile(p)) return { hostSource: fs.realpathSync(p), from: `donor directory ${d}` };
  }
  return null;
}

/**
 * The repair layer of a resolve: every `system_libraries` entry of a
 * resolved package, found in the donor directories (command line, then the
 * package's) or else in the base image, plus whatever those libraries need
 * that the image does not otherwise provide, from the same places.
 */
export function planRepairs(
  config: RepairConfig | undefined,
  resolve: WorkflowResolve,
  base: BaseImage,
  opts: PlanRepairsOptions = {},
): RepairPlan {
  const baseFs = baseFsOf(base);
  const wanted: { pkg: string; name: string; soname: string; donors: string[] }[] = [];
  for (const v of resolve.variants) {
    const s = packageSettings(config, v.package);
    for (const lib of s.systemLibraries) {
      wanted.push({
        pkg: v.package.qualifiedName,
        name: v.name,
        soname: lib.soname,
        donors: [...(opts.donorDirs ?? []), ...s.donorDirs],
      });
    }
  }
  if (wanted.length === 0) return EMPTY_REPAIR_PLAN;

  const files: RepairFile[] = [];
  const unresolved: UnresolvedRepair[] = [];
  const dirs: string[] = [];
  const placed = new Set<string>();
  const place = (w: (typeof wanted)[number], soname: string, found: LibrarySource): RepairFile => {
    const dir = repairDir(w.name);
    if (!dirs.includes(dir)) dirs.push(dir);
    const f: RepairFile = { imagePath: `${dir}/${soname}`, hostSource: found.hostSource, package: w.pkg, soname };
    files.push(f);
    placed.add(`${dir}\0${soname}`);
    return f;
  };
  const lookup = (w: (typeof wanted)[number], soname: string): LibrarySource | null =>
    donorLibrary(w.donors, soname) ?? fromBase(base, baseFs, soname);

  const roots: { w: (typeof wanted)[number]; file: RepairFile }[] = [];
  for (const w of wanted) {
    if (placed.has(`${repairDir(w.name)}\0${w.soname}`)) continue;
    const found = lookup(w, w.soname);
    if (!found) {
      unresolved.push({
        package: w.pkg,
        soname: w.soname,
        reason: `not in ${[...w.donors, "the base image"].join(", ")}`,
      });
      continue;
    }
    roots.push({ w, file: place(w, w.soname, found) });
  }

  // Copy along the needs of the repaired libraries the image cannot meet, until none is left.
  for (let round = 0; round < 16; round++) {
    const image = planImage(base, resolve.variants, { rootMap: opts.rootMap, repairFiles: files });
    const linker = new Linker(image.fs, {
      profile: base.profile,
      cache: readLdCacheOnce(image.fs),
      ldLibraryPath: [opts.ldLibraryPath ?? "", ...dirs].filter(Boolean).join(":"),
    });
    let added = 0;
    for (const r of [...roots]) {
      const tree = linker.resolve(r.file.imagePath);
      for (const res of tree.resolutions) {
        if (res.status !== "missing" || res.name.includes("/")) continue;
        if (placed.has(`${repairDir(r.w.name)}\0${res.name}`)) continue;
        const found = lookup(r.w, res.name);
        if (!found) {
          if (!unresolved.some((u) => u.package === r.w.pkg && u.soname === res.name)) {
            unresolved.push({
              package: r.w.pkg,
              soname: res.name,
              reason: `needed by ${r.file.soname}, not in ${[...r.w.donors, "the base image"].join(", ")}`,
            });
          }
          continue;
        }
        roots.push({ w: r.w, file: place(r.w, res.name, found) });
        added++;
      }
    }
    if (added === 0) break;
  }
  const envAdditions: EnvAddition[] =
    dirs.length > 0 ? [{ name: "LD_LIBRARY_PATH", append: dirs, separator: ":" }] : [];
  return { layerFiles: files, envAdditions, unresolved };
}
