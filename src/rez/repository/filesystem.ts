import type { PythonSettings } from "../definition/cpython.js";
import fs from "node:fs";
import { targetPythonHost, type HostQuery } from "../python/modules.js";
import type { SystemInfo } from "../system.js";
import path from "node:path";
import { Version } from "../version/index.js";
import { Package, summarize, type LoadFailure } from "../package.js";
import { readPackageFile } from "../definition/index.js";
import type { PackageDefinition } from "../definition/index.js";
import { InputError, TantalusError, systemErrorText } from "../../errors.js";
import { isValidPackageName } from "./names.js";
import { RepositoryIndexCache } from "./index-cache.js";
import { pathStamp, stampOf, type FamilyObservation } from "./observation.js";

/** A problem found while reading a repository; loading goes on past it. */
export interface LoadProblem {
  file: string;
  line?: number;
  message: string;
  /** A warning does not stop the package from loading (Rez would load it too). */
  warning?: boolean;
}

/** Reads definitions; the cache implements the same signature. */
export type DefinitionReader = (file: string) => PackageDefinition;

const IGNORE_PREFIX = ".ignore";
const BUILDING_PREFIX = ".building";
const DEFINITION_FILES = ["package.py", "package.yaml"];

/**
 * One filesystem package repository laid out as Rez installs it:
 * `<root>/<family>/<version>/package.py`. Families are listed eagerly (one
 * readdir), packages lazily per family, because a resolve touches only a small
 * part of a studio repository.
 */
export class FilesystemRepository {
  readonly root: string;
  private familyNames?: string[];
  private readonly familyCache = new Map<string, Package[] | null>();
  readonly problems: LoadProblem[] = [];
  /** Definitions whose loading asked the host (platform, environment, file system), for `repo check --verbose`. */
  readonly hostDependent: { file: string; queries: HostQuery[] }[] = [];
  /** Definitions the host's CPython loaded (`python: cpython`), for `repo check --verbose`. */
  readonly cpythonLoaded: string[] = [];
  private readonly read: DefinitionReader;
  private readonly variantShortlinks: boolean;
  private readonly cache?: RepositoryIndexCache;
  private readonly observations?: Map<string, FamilyObservation>;

  /**
   * `read` replaces the definition reader (tests); `cache` is the index cache to
   * use, or false for none; `observe` keeps the stamps of what each family's
   * load read (see observation.ts).
   */
  constructor(
    root: string,
    opts: {
      read?: DefinitionReader;
      cache?: RepositoryIndexCache | false;
      observe?: boolean;
      /** Rez's use_variant_shortlinks (default true). */
      variantShortlinks?: boolean;
      /** The platform packages are loaded for, when not this host: their host queries answer for it. */
      target?: SystemInfo;
      /** `python: cpython`: files the built-in evaluator refuses are loaded by CPython. */
      python?: PythonSettings;
    } = {},
  ) {
    this.root = path.resolve(root);
    this.variantShortlinks = opts.variantShortlinks ?? true;
    const target = opts.target;
    const python = opts.python?.evaluator === "cpython" ? { python: opts.python } : {};
    this.read =
      opts.read ??
      (target
        ? (file) => readPackageFile(file, { host: targetPythonHost(target), system: target, ...python })
        : opts.python?.evaluator === "cpython"
          ? (file) => readPackageFile(file, python)
          : readPackageFile);
    this.cache = opts.cache === false ? undefined : opts.cache;
    if (opts.observe) this.observations = new Map();
  }

  /** The stamps taken when `name` was loaded (loading it now if it was not); needs `observe`. */
  observation(name: string): FamilyObservation {
    if (!this.observations) throw new TantalusError("this repository was opened without observe");
    this.family(name);
    return this.observations.get(name) ?? { dir: null, files: {} };
  }

  /** Writes the index cache if this load changed it. */
  saveCache(): void {
    this.cache?.save();
  }

  /** Family names present in this repository (directories with valid package names). */
  families(): string[] {
    if (!this.familyNames) {
      let entries: fs.Dirent[];
      try {
        entries = fs.readdirSync(this.root, { withFileTypes: true });
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        if (e.code === "ENOENT") {
          this.familyNames = [];
          return this.familyNames;
        }
        throw new TantalusError(`cannot list package repository ${this.root}: ${systemErrorText(e)}`);
      }
      const names: string[] = [];
      for (const ent of entries) {
        if (ent.name.startsWith(".") || ent.name === "settings.yaml") continue;
        if (isDirectory(this.root, ent) && isValidPackageName(ent.name)) names.push(ent.name);
      }
      names.sort();
      this.familyNames = names;
    }
    return this.familyNames;
  }

  /** Every visible package of a family, or undefined when the family does not exist here. */
  family(name: string): Package[] | undefined {
    let cached = this.familyCache.get(name);
    if (cached === undefined) {
      cached = this.loadFamily(name);
      this.familyCache.set(name, cached);
    }
    return cached ?? undefined;
  }

  private loadFamily(name: string): Package[] | null {
    if (!isValidPackageName(name)) return null;
    const famDir = path.join(this.root, name);
    const seen = this.observations ? { dir: pathStamp(famDir), files: {} as FamilyObservation["files"] } : undefined;
    if (seen) this.observations!.set(name, seen);
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(famDir, { withFileTypes: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") return null;
      // A family that is there but cannot be listed is not "no such family": a resolve without it would quietly differ.
      throw new TantalusError(`cannot list package family ${famDir}: ${systemErrorText(err)}`);
    }
    const names = new Set(entries.map((e) => e.name));
    // Every definition file a version could have is stamped, present or not: one appearing is a change.
    const observe = (rel: string) => {
      if (seen) for (const f of DEFINITION_FILES) seen.files[rel + f] = pathStamp(path.join(famDir, rel + f));
    };
    // An unversioned package (`<root>/<name>/package.py`) hides any version directories.
    for (const f of DEFINITION_FILES) {
      if (names.has(f)) {
        observe("");
        const pkg = this.loadPackage(name, "", famDir, path.join(famDir, f));
        return pkg ? [pkg] : [];
      }
    }
    const packages: Package[] = [];
    const files = new Set<string>();
    // Sorted, so that which of two equal versions (`1.0`, `1-0`) wins does not depend on readdir order.
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const ent of entries) {
      const v = ent.name;
      if (v.startsWith(".") || !isDirectory(famDir, ent)) continue;
      if (names.has(IGNORE_PREFIX + v)) continue;
      observe(`${v}/`);
      const base = path.join(famDir, v);
      const file = path.join(base, DEFINITION_FILES[0]!);
      const pkg = this.loadPackage(name, v, base, file, names.has(BUILDING_PREFIX + v));
      if (pkg) {
        packages.push(pkg);
        files.add(pkg.file);
      }
    }
    this.cache?.retain(name, files);
    return packages;
  }

  private loadPackage(
    name: string,
    versionStr: string,
    base: string,
    file: string,
    building = false,
  ): Package | undefined {
    let version: Version;
    try {
      version = Version.parse(versionStr);
    } catch (err) {
      this.problems.push({
        file: base,
        message: `directory name is not a valid Rez version: ${(err as Error).message}`,
      });
      return undefined;
    }
    if (this.cache) {
      const st = statOrUndefined(file);
      const hit = st?.isFile() && this.cache.get(name, file, stampOf(st));
      if (hit) {
        if (hit.evaluator === "cpython") this.cpythonLoaded.push(file);
        return this.validated(new Package(hit, name, version, this.root, base, this.read));
      }
    }
    let def: PackageDefinition;
    try {
      def = this.read(file);
    } catch (err) {
      // package.py is tried first without a stat, as nearly every package has one.
      // lstat: a package.py that is a loop or a dangling link is there, and broken.
      if (!fs.lstatSync(file, { throwIfNoEntry: false })) {
        const alt = findDefinitionFile(base);
        if (alt) return this.loadPackage(name, versionStr, base, alt);
        // A version still being installed has no definition yet: Rez skips it silently.
        if (building) return undefined;
        // Rez lists the version and raises PackageDefinitionFileMissing when a resolve reaches it.
        return this.broken(
          { file: base, message: "version directory has no package.py or package.yaml" },
          name,
          version,
          base,
        );
      }
      if (err instanceof TantalusError) {
        return this.broken({ file, line: err.location?.line, message: err.detail }, name, version, base);
      }
      throw err;
    }
    let clean = true;
    // Rez takes the name from the directory too and loads the package (this.name is the directory's):
    // dropping it would let resolves pick another version, so it is a warning.
    if (def.name !== undefined && def.name !== name) {
      clean = false;
      this.problems.push({
        file,
        line: def.lines?.name,
        message: `name '${def.name}' does not match the family directory '${name}' (Rez uses the directory)`,
        warning: true,
      });
    }
    // Rez takes the version from the directory; a `version` attribute that says otherwise is worth a warning.
    if (def.version !== undefined && versionStr !== "" && def.version !== versionStr) {
      let same: boolean;
      try {
        same = Version.parse(def.version).equals(version);
      } catch {
        same = false;
      }
      if (!same) {
        clean = false;
        this.problems.push({
          file,
          line: def.lines?.version,
          message: `version '${def.version}' does not match the directory '${versionStr}' (Rez uses the directory)`,
          warning: true,
        });
      }
    }
    const pkg = this.validated(new Package(def, name, version, this.root, base, this.read));
    if (def.hostQueries) this.hostDependent.push({ file, queries: def.hostQueries });
    if (def.evaluator === "cpython") this.cpythonLoaded.push(file);
    // Packages with warnings are not cached, so the warning is seen on every load. Nor are packages that
    // asked the host: their attributes hold for where they were loaded, which the file's stamp does not cover.
    if (pkg && clean && !def.hostQueries && this.cache) {
      const st = statOrUndefined(file);
      if (st) this.cache.put(name, file, stampOf(st), summarize(def));
    }
    return pkg;
  }

  /**
   * Parses requirement strings now, so a broken one is reported at load with
   * its file and line; the package is then broken (Rez's schema refuses it).
   */
  private validated(pkg: Package): Package {
    pkg.variantShortlinks = this.variantShortlinks;
    try {
      for (const v of pkg.variants) void v.requires;
    } catch (err) {
      if (err instanceof InputError) {
        return this.broken(
          { file: pkg.file, line: err.location?.line, message: err.detail },
          pkg.name,
          pkg.version,
          pkg.base,
        );
      }
      throw err;
    }
    return pkg;
  }

  /**
   * A definition that failed to load is reported (repo check lists it) and
   * kept in the family as a broken package: Rez lists every version directory
   * and raises when a resolve reaches one, so leaving it out would let
   * resolves silently pick another version.
   */
  private broken(failure: LoadFailure, name: string, version: Version, base: string): Package {
    this.problems.push({
      file: failure.file,
      ...(failure.line !== undefined ? { line: failure.line } : {}),
      message: failure.message,
    });
    return Package.broken(failure, name, version, this.root, base);
  }
}

function findDefinitionFile(dir: string): string | undefined {
  for (const f of DEFINITION_FILES) {
    const p = path.join(dir, f);
    if (fs.lstatSync(p, { throwIfNoEntry: false })) return p;
  }
  return undefined;
}

/** stat that reports a loop, a dangling link or a refused access as "no stamp": the read that follows says which. */
function statOrUndefined(file: string): fs.Stats | undefined {
  try {
    return fs.statSync(file, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

function isDirectory(parent: string, ent: fs.Dirent): boolean {
  if (ent.isDirectory()) return true;
  if (!ent.isSymbolicLink()) return false;
  try {
    return fs.statSync(path.join(parent, ent.name)).isDirectory();
  } catch {
    return false;
  }
}
