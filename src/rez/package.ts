import fs from "node:fs";
import path from "node:path";
import { createHash } from "node:crypto";
import { Requirement, Version } from "./version/index.js";
import { readPackageFile, type PackageDefinition, type LateFunction } from "./definition/index.js";
import { pyRepr } from "./python/index.js";
import { InputError } from "../errors.js";

/**
 * What the solver and planner need of a package definition, small enough to keep
 * in the repository index cache: a package is loaded from it without reading its
 * package.py, and the full definition is read only when something asks for it.
 */
export interface PackageSummary {
  file: string;
  /** Package requires; "late" when `requires` is a `@late()` function. */
  requires: string[] | "late";
  buildRequires: string[] | "late";
  variants: string[][];
  hashedVariants: boolean;
  timestamp?: number;
  tantalus?: PackageDefinition["tantalus"];
  /** Lines of `requires` and `variants`, for error messages. */
  lines: { requires?: number; variants?: number; build_requires?: number };
  /**
   * Set when the definition failed to load (syntax error, refused construct,
   * invalid `variants`, failing `@early`...). The package keeps its place in
   * the family, because Rez lists it from its directory and raises only when a
   * resolve reaches it; never cached.
   */
  broken?: LoadFailure;
  /** "cpython" when the host's CPython loaded the definition (`python: cpython`). */
  evaluator?: "cpython";
}

/** Why a package definition could not be loaded: Rez's "Problem loading <file>: <reason>". */
export interface LoadFailure {
  file: string;
  line?: number;
  message: string;
}

/** Rez's wording, e.g. `Problem loading /r/foo/2.0.0/package.py: '[' was never closed (package.py, line 3)`. */
export function describeLoadFailure(f: LoadFailure): string {
  return `Problem loading ${f.file}: ${f.message}${f.line !== undefined ? ` (${path.basename(f.file)}, line ${f.line})` : ""}`;
}

/** A package that cannot be used because its definition failed to load. */
export class BrokenPackageError extends InputError {
  constructor(
    readonly pkg: Package,
    readonly failure: LoadFailure,
  ) {
    super(`${pkg.qualifiedName} cannot be loaded: ${failure.message}`, { file: failure.file, line: failure.line });
  }
}

export function summarize(def: PackageDefinition): PackageSummary {
  const late = (x: unknown): x is LateFunction => typeof x === "object" && x !== null && !Array.isArray(x);
  return {
    file: def.file,
    requires: late(def.requires) ? "late" : (def.requires ?? []),
    buildRequires: late(def.build_requires) ? "late" : (def.build_requires ?? []),
    variants: def.variants ?? [],
    hashedVariants: def.hashed_variants === true,
    ...(def.timestamp !== undefined ? { timestamp: def.timestamp } : {}),
    ...(def.tantalus !== undefined ? { tantalus: def.tantalus } : {}),
    lines: { requires: def.lines.requires, variants: def.lines.variants, build_requires: def.lines.build_requires },
    ...(def.evaluator !== undefined ? { evaluator: def.evaluator } : {}),
  };
}

/**
 * The Rez package model as the solver and the environment see it. A package is one
 * `<repo>/<family>/<version>/package.py`; a variant is one entry of its `variants`
 * (or the single "null" variant, index null, of a package without variants).
 *
 * Requirement strings are parsed lazily: the solver touches a small part of a
 * repository of tens of thousands of packages, and loading must stay fast.
 */
export class Package {
  readonly name: string;
  readonly version: Version;
  /** Repository root this package was found in (a package search path). */
  readonly repository: string;
  /** `<repo>/<name>/<version>`: Rez's `base`. */
  readonly base: string;
  readonly summary: PackageSummary;
  /** Rez's use_variant_shortlinks, as configured for the repository that found this package. */
  variantShortlinks = true;
  private _definition?: PackageDefinition;
  private readonly readDefinition: (file: string) => PackageDefinition;
  private _requires?: Requirement[];
  private _variants?: Variant[];

  constructor(
    source: PackageDefinition | PackageSummary,
    name: string,
    version: Version,
    repository: string,
    base: string,
    readDefinition: (file: string) => PackageDefinition = readPackageFile,
  ) {
    if ("attributes" in source) {
      this._definition = source;
      this.summary = summarize(source);
    } else {
      this.summary = source;
    }
    this.readDefinition = readDefinition;
    this.name = name;
    this.version = version;
    this.repository = repository;
    this.base = base;
  }

  /**
   * A package whose definition failed to load: listed by its directory, as Rez
   * lists it, so that a resolve reaching it fails instead of picking another version.
   */
  static broken(failure: LoadFailure, name: string, version: Version, repository: string, base: string): Package {
    const summary: PackageSummary = {
      file: failure.file,
      requires: [],
      buildRequires: [],
      variants: [],
      hashedVariants: false,
      lines: {},
      broken: failure,
    };
    return new Package(summary, name, version, repository, base);
  }

  /** Why the definition did not load, or undefined for a usable package. */
  get broken(): LoadFailure | undefined {
    return this.summary.broken;
  }

  /** Throws BrokenPackageError for a broken package: anything that uses its contents must not go on. */
  assertLoaded(): void {
    if (this.summary.broken) throw new BrokenPackageError(this, this.summary.broken);
  }

  /** The whole definition (commands, custom attributes...), read on first use when loaded from the index cache. */
  get definition(): PackageDefinition {
    this.assertLoaded();
    this._definition ??= this.readDefinition(this.summary.file);
    return this._definition;
  }

  get file(): string {
    return this.summary.file;
  }

  get qualifiedName(): string {
    const v = this.version.toString();
    return v ? `${this.name}-${v}` : this.name;
  }

  get timestamp(): number | undefined {
    return this.summary.timestamp;
  }

  /** The package's `tantalus` attribute (layer tier, repairs...), without reading the whole definition. */
  get tantalus(): PackageDefinition["tantalus"] {
    return this.summary.tantalus;
  }

  /** True when `requires` is a `@late()` function that needs a resolve context. */
  get hasLateRequires(): boolean {
    return this.summary.requires === "late";
  }

  get lateRequires(): LateFunction | undefined {
    return this.hasLateRequires ? (this.definition.requires as LateFunction) : undefined;
  }

  /** Package-level requires (excluding variant requires). Empty for late requires: see lateRequires. */
  get requires(): Requirement[] {
    if (!this._requires) {
      this.assertLoaded();
      const r = this.summary.requires;
      this._requires = r === "late" ? [] : parseRequirements(r, this, "requires");
    }
    return this._requires;
  }

  /** build_requires (not late-evaluated: a late one yields nothing here). */
  get buildRequires(): Requirement[] {
    this.assertLoaded();
    const r = this.summary.buildRequires;
    return r === "late" ? [] : parseRequirements(r, this, "build_requires");
  }

  get variants(): Variant[] {
    if (!this._variants) {
      this.assertLoaded();
      const vs = this.summary.variants;
      if (vs.length === 0) {
        this._variants = [new Variant(this, null, [])];
      } else {
        this._variants = vs.map((reqs, i) => new Variant(this, i, parseRequirements(reqs, this, `variants[${i}]`)));
      }
    }
    return this._variants;
  }
}

export class Variant {
  readonly package: Package;
  /** Variant index, or null for a package without variants (Rez prints `[]`). */
  readonly index: number | null;
  /** The variant's own requirements (`variants[index]`), without the package's. */
  readonly variantRequires: Requirement[];
  private _requires?: Requirement[];
  private _root?: string;

  constructor(pkg: Package, index: number | null, variantRequires: Requirement[]) {
    this.package = pkg;
    this.index = index;
    this.variantRequires = variantRequires;
  }

  get name(): string {
    return this.package.name;
  }

  get version(): Version {
    return this.package.version;
  }

  /** Rez's qualified variant name: `name-version[index]`, `[]` without variants. */
  get qualifiedName(): string {
    return `${this.package.qualifiedName}[${this.index ?? ""}]`;
  }

  /** `requires + variants[index]`, as Rez's Variant.requires (not late-evaluated). */
  get requires(): Requirement[] {
    if (!this._requires) this._requires = [...this.package.requires, ...this.variantRequires];
    return this._requires;
  }

  /** Sub-directory of the variant below the package base, as Rez's filesystem repository computes it. */
  get subpath(): string | null {
    if (this.index === null) return null;
    if (this.package.summary.hashedVariants) return hashedVariantDir(this.variantRequires.map(String));
    if (this.variantRequires.length === 0) return "";
    return path.join(...this.variantRequires.map((r) => r.toString()));
  }

  /**
   * The variant's install root (`{root}`, `REZ_<PKG>_ROOT`). A hashed variant that
   * has a shortlink (`_v/a -> ../<sha1>`) is rooted at the shortlink, as in Rez,
   * unless use_variant_shortlinks is off.
   */
  get root(): string {
    if (this._root === undefined) {
      const sub = this.subpath;
      this._root = sub ? path.join(this.package.base, sub) : this.package.base;
      if (sub && this.package.summary.hashedVariants && this.package.variantShortlinks) {
        const link = findShortlink(path.join(this.package.base, SHORTLINKS_DIR), this._root);
        if (link) this._root = path.join(this.package.base, SHORTLINKS_DIR, link);
      }
    }
    return this._root;
  }
}

/** Rez's `variant_shortlinks_dirname` default. */
const SHORTLINKS_DIR = "_v";

/** The name of a symlink in `dir` that points at `target` (Rez's find_matching_symlink). */
function findShortlink(dir: string, target: string): string | undefined {
  let names: string[];
  try {
    names = fs.readdirSync(dir).sort();
  } catch {
    return undefined;
  }
  for (const name of names) {
    try {
      const dest = fs.readlinkSync(path.join(dir, name));
      if (path.resolve(dir, dest) === target) return name;
    } catch {
      // not a symlink
    }
  }
  return undefined;
}

/** sha1 of the Python repr of the requirement strings: Rez's `hashed_variants` directory. */
export function hashedVariantDir(requires: string[]): string {
  return createHash("sha1")
    .update(pyRepr([...requires]), "utf8")
    .digest("hex");
}

function parseRequirements(items: readonly string[], pkg: Package, field: string): Requirement[] {
  return items.map((s) => {
    try {
      return Requirement.parse(s);
    } catch (err) {
      const line = pkg.summary.lines[field.replace(/\[.*$/, "") as keyof PackageSummary["lines"]];
      throw new InputError(`${field}: ${(err as Error).message}`, { file: pkg.file, line });
    }
  });
}
