import { Requirement } from "./version/index.js";
import type { Package } from "./package.js";
import type { Repositories } from "./repository/index.js";

/** Packages of a family whose version satisfies the requirement, latest first. */
export function packagesInRange(family: Package[], req?: Requirement): Package[] {
  const hits = req ? family.filter((p) => req.contains(p.version)) : [...family];
  return hits.sort((a, b) => b.version.compare(a.version));
}

export interface PackageInfo {
  name: string;
  version: string;
  qualifiedName: string;
  description?: string;
  file: string;
  repository: string;
  base: string;
  versions: string[];
  timestamp?: number;
  requires: string[];
  late_requires: boolean;
  tools: string[];
  variants: { index: number | null; requires: string[]; root: string }[];
}

export function describePackage(pkg: Package, versions: string[]): PackageInfo {
  const def = pkg.definition;
  const tools = Array.isArray(def.tools) ? def.tools.map(String) : [];
  return {
    name: pkg.name,
    version: pkg.version.toString(),
    qualifiedName: pkg.qualifiedName,
    description: typeof def.description === "string" ? def.description.trim() : undefined,
    file: pkg.file,
    repository: pkg.repository,
    base: pkg.base,
    versions,
    timestamp: pkg.timestamp,
    requires: pkg.requires.map(String),
    late_requires: pkg.hasLateRequires,
    tools,
    variants: pkg.variants.map((v) => ({ index: v.index, requires: v.variantRequires.map(String), root: v.root })),
  };
}

export interface SearchResult {
  /** True when the pattern carried a version range. */
  ranged: boolean;
  families: { name: string; packages: Package[] }[];
}

/** `name-glob[range]`: the name part may use `*` and `?`; the rest is a Rez version range. */
export function searchPackages(repos: Repositories, pattern: string): SearchResult {
  const m = /^([A-Za-z0-9_.*?]+)(.*)$/.exec(pattern);
  const namePart = m ? m[1]! : pattern;
  const rangePart = m ? m[2]! : "";
  const ranged = rangePart.length > 0;
  // The range is checked with a real Requirement, so every Rez range syntax works.
  const req = ranged ? Requirement.parse(`x${rangePart}`) : undefined;
  const re = globToRegExp(namePart);
  const families: SearchResult["families"] = [];
  for (const name of repos.familyNames()) {
    if (!re.test(name)) continue;
    const pkgs = repos.family(name);
    if (!pkgs) continue;
    const hits = packagesInRange(pkgs, req);
    if (hits.length > 0) families.push({ name, packages: hits.reverse() });
  }
  return { ranged, families };
}

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${body}$`);
}
