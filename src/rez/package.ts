import fs from "node:fs";
import path from "node:path";
import { createHash } from "node:crypto";
import { Requirement, Version } from "./version/index.js";
import type { PackageDefinition, LateFunction } from "./definition/index.js";
import { InputError } from "../errors.js";

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
  readonly definition: PackageDefinition;
  private _requires?: Requirement[];
  private _variants?: Variant[];

  constructor(definition: PackageDefinition, name: string, version: Version, repository: string, base: string) {
    this.definition = definition;
    this.name = name;
    this.version = version;
    this.repository = repository;
    this.base = base;
  }

  get file(): string {
    return this.definition.file;
  }

  get qualifiedName(): string {
    const v = this.version.toString();
    return v ? `${this.name}-${v}` : this.name;
  }

  get timestamp(): number | undefined {
    return this.definition.timestamp;
  }

  /** True when `requires` is a `@late()` function that needs a resolve context. */
  get hasLateRequires(): boolean {
    return typeof this.definition.requires === "object" && this.definition.requires !== null && !Array.isArray(this.definition.requires);
  }

  get lateRequires(): LateFunction | undefined {
    return this.hasLateRequires ? (this.definition.requires as LateFunction) : undefined;
  }

  /** Package-level requires (excluding variant requires). Empty for late requires: see lateRequires. */
  get requires(): Requirement[] {
    if (!this._requires) {
      const r = this.definition.requires;
      this._requires = Array.isArray(r) ? parseRequirements(r, this, "requires") : [];
    }
    return this._requires;
  }

  /** build_requires (not late-evaluated: a late one yields nothing here). */
  get buildRequires(): Requirement[] {
    const r = this.definition.build_requires;
    return Array.isArray(r) ? parseRequirements(r, this, "build_requires") : [];
  }

  get variants(): Variant[] {
    if (!this._variants) {
      const vs = this.definition.variants;
      if (!vs || vs.length === 0) {
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
    if (this.package.definition.hashed_variants) return hashedVariantDir(this.variantRequires.map(String));
    if (this.variantRequires.length === 0) return "";
    return path.join(...this.variantRequires.map((r) => r.toString()));
  }

  /**
   * The variant's install root (`{root}`, `REZ_<PKG>_ROOT`). A hashed variant that
   * has a shortlink (`_v/a -> ../<sha1>`) is rooted at the shortlink, as in Rez.
   */
  get root(): string {
    if (this._root === undefined) {
      const sub = this.subpath;
      this._root = sub ? path.join(this.package.base, sub) : this.package.base;
      if (sub && this.package.definition.hashed_variants) {
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
  const repr = "[" + requires.map(pyStrRepr).join(", ") + "]";
  return createHash("sha1").update(repr, "utf8").digest("hex");
}

/** Python's repr() of a str, for the characters that occur in requirement strings. */
function pyStrRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    if (ch === "\\") out += "\\\\";
    else if (ch === quote) out += "\\" + ch;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\t") out += "\\t";
    else out += ch;
  }
  return out + quote;
}

function parseRequirements(items: readonly string[], pkg: Package, field: string): Requirement[] {
  return items.map((s) => {
    try {
      return Requirement.parse(s);
    } catch (err) {
      const line = pkg.definition.lines?.[field.replace(/\[.*$/, "")];
      throw new InputError(`${field}: ${(err as Error).message}`, { file: pkg.file, line });
    }
  });
}
