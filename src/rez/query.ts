import { Requirement } from "./version/index.js";
import type { Package } from "./package.js";
import { HostObject, PyDict, PyFloat, PyFunction, PyTuple, type PyValue } from "./python/values.js";
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
  /** `tools`, a `@late()` one evaluated as Rez reads it outside a context (see describePackage's `lateValue`). */
  tools: string[];
  variants: { index: number | null; requires: string[]; root: string }[];
  /**
   * Every attribute Rez shows (`rez view -a`: the definition's data and `base`),
   * as JSON: functions as {"$function": name, "late": bool}, tuples as lists,
   * dicts as objects.
   */
  attributes: Record<string, unknown>;
}

/** A package attribute's value as JSON (the encoding scripts/rez-oracle uses for Rez's values). */
export function attributeJson(v: PyValue): unknown {
  if (v instanceof PyFunction) return { $function: v.name, late: v.hasMark("late") };
  if (typeof v === "bigint") return v.toString();
  if (v instanceof PyFloat) return v.value;
  if (v instanceof PyTuple) return v.items.map(attributeJson);
  if (Array.isArray(v)) return v.map(attributeJson);
  if (v instanceof PyDict) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of v.entries()) out[typeof k === "string" ? k : String(attributeJson(k))] = attributeJson(x);
    return out;
  }
  if (v instanceof HostObject) {
    if (v.pyTypeName === "ModifyList") {
      const get = (n: string) => attributeJson((v.getAttr as (n: string) => PyValue)(n));
      return { $ModifyList: { append: get("append"), prepend: get("prepend") } };
    }
    return { $repr: v.pyTypeName };
  }
  if (v === null || typeof v === "boolean" || typeof v === "number" || typeof v === "string") return v;
  return { $repr: typeof v };
}

/**
 * `lateValue` evaluates a `@late()` attribute as Rez does outside a context
 * (the rex stage has the evaluator; the core does not run Python on its own).
 */
export function describePackage(
  pkg: Package,
  versions: string[],
  lateValue?: (pkg: Package, fn: PyFunction) => PyValue,
): PackageInfo {
  const def = pkg.definition;
  const rawTools = def.attributes.tools;
  const toolsValue =
    rawTools instanceof PyFunction && rawTools.hasMark("late") && lateValue ? lateValue(pkg, rawTools) : rawTools;
  const toolList = toolsValue instanceof PyTuple ? toolsValue.items : toolsValue;
  const tools = Array.isArray(toolList)
    ? toolList.map((t: PyValue) => (typeof t === "string" ? t : String(attributeJson(t))))
    : [];
  const attributes: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(def.attributes)) attributes[k] = attributeJson(v);
  attributes.base = pkg.base;
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
    attributes,
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
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${body}$`);
}
