import { createHash } from "node:crypto";
import type { PackageSpec, PythonAbi, VariantInfo } from "./model.js";
import { pyRepr } from "./render/pyrepr.js";

/**
 * Variant roots exactly as Rez's filesystem repository computes them
 * (VariantResourceHelper._subpath): one directory per requirement string, or
 * with hashed_variants the sha1 of the Python repr of the requirement list.
 */
export function variantSubpath(pkg: PackageSpec, requires: string[]): string {
  if (pkg.hashedVariants) return hashedVariantDir(requires);
  return requires.join("/");
}

export function hashedVariantDir(requires: string[]): string {
  return createHash("sha1").update(pyRepr(requires), "utf8").digest("hex");
}

export function variantsOf(pkg: PackageSpec): VariantInfo[] {
  if (!pkg.variants || pkg.variants.length === 0) {
    return [{ pkg, index: null, requires: [], subpath: "" }];
  }
  return pkg.variants.map((requires, index) => ({
    pkg,
    index,
    requires,
    subpath: variantSubpath(pkg, requires),
    python: pythonOf(requires),
  }));
}

function pythonOf(requires: string[]): PythonAbi | undefined {
  for (const r of requires) {
    const m = /^python-(\d+)\.(\d+)/.exec(r);
    if (m) return { mm: `${m[1]}.${m[2]}`, tag: `${m[1]}${m[2]}` };
  }
  return undefined;
}

/** Rez's base-26 shortlink names: a, b, ..., z, aa, ab, ... */
export function shortlinkName(i: number): string {
  let s = "";
  let n = i;
  do {
    s = String.fromCharCode(97 + (n % 26)) + s;
    n = Math.floor(n / 26) - 1;
  } while (n >= 0);
  return s;
}
