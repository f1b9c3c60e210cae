import { InputError } from "../errors.js";
import type { Package } from "../rez/package.js";
import { Requirement } from "../rez/version/index.js";

/*
 * Rez's package filters (`rez/package_filter.py`): rules that hide packages from
 * the solver. A filter excludes a package when one of its exclusion rules
 * matches and none of its inclusion rules does; a filter list excludes a
 * package when any of its filters does. Hidden packages are invisible even to
 * exact requests.
 */

export abstract class FilterRule {
  abstract readonly kind: "glob" | "regex" | "range" | "timestamp";
  /** The family this rule is limited to, or null for every family. */
  abstract readonly family: string | null;
  /** Rez's relative cost: cheap rules are tried first. */
  abstract readonly cost: number;
  abstract match(pkg: Package): boolean;
  abstract toString(): string;
}

// Rez: "[^*?]+" followed by a name/version separator, at the start of the text.
const FAMILY_PREFIX = /^[^*?]+[-@#]/;

function familyOf(text: string): string | null {
  const m = FAMILY_PREFIX.exec(text);
  return m ? m[0].slice(0, -1) : null;
}

/** `regex(...)`: Python `re.match` (anchored at the start) against `name-version`. */
export class RegexRule extends FilterRule {
  readonly kind = "regex";
  readonly cost = 10;
  readonly family: string | null;
  private readonly re: RegExp;
  constructor(readonly text: string) {
    super();
    this.family = familyOf(text);
    try {
      this.re = new RegExp(`^(?:${text})`, "s");
    } catch (e) {
      throw new InputError(`package filter 'regex(${text})': ${(e as Error).message}`, { file: "package_filter" });
    }
  }
  match(pkg: Package): boolean {
    return this.re.test(pkg.qualifiedName);
  }
  toString(): string {
    return `regex(${this.text})`;
  }
}

/** `glob(...)` (or any rule text containing `*`): Python fnmatch against `name-version`. */
export class GlobRule extends FilterRule {
  readonly kind = "glob";
  readonly cost = 10;
  readonly family: string | null;
  private readonly re: RegExp;
  constructor(readonly text: string) {
    super();
    this.family = familyOf(text);
    this.re = new RegExp(`^(?:${globToRegex(text)})$`, "s");
  }
  match(pkg: Package): boolean {
    return this.re.test(pkg.qualifiedName);
  }
  toString(): string {
    return `glob(${this.text})`;
  }
}

/** `range(foo-5+)` (or a bare requirement): matches the family's versions the requirement allows. */
export class RangeRule extends FilterRule {
  readonly kind = "range";
  readonly cost = 10;
  readonly family: string;
  constructor(readonly requirement: Requirement) {
    super();
    this.family = requirement.name;
  }
  match(pkg: Package): boolean {
    // Rez: not requirement.conflicts_with(VersionedObject(name, version))
    const r = this.requirement;
    if (r.name !== pkg.name || r.range === null) return true;
    const inRange = r.range.contains(pkg.version);
    return r.conflict ? !inRange : inRange;
  }
  toString(): string {
    return `range(${this.requirement.toString()})`;
  }
}

/** `before(t)` / `after(t)`, optionally `after(family:t)`: by release timestamp. */
export class TimestampRule extends FilterRule {
  readonly kind = "timestamp";
  readonly cost = 1000;
  constructor(
    readonly timestamp: number,
    readonly family: string | null = null,
    readonly reverse = false,
    readonly matchUntimestamped = false,
  ) {
    super();
  }
  /** Matches packages released after `t` (what `rez-env --time t` excludes). */
  static after(t: number, family: string | null = null): TimestampRule {
    return new TimestampRule(t, family, true);
  }
  static before(t: number, family: string | null = null): TimestampRule {
    return new TimestampRule(t, family, false);
  }
  match(pkg: Package): boolean {
    const ts = pkg.timestamp;
    if (!ts) return this.matchUntimestamped;
    return this.reverse ? ts > this.timestamp : ts <= this.timestamp;
  }
  toString(): string {
    const parts = this.family ? `${this.family}:${this.timestamp}` : String(this.timestamp);
    return `${this.reverse ? "after" : "before"}(${parts})`;
  }
}

const LABELLED = /^([^(]+)\(([^()]+)\)$/;

/** Rez `Rule.parse_rule`: `glob(..)`, `regex(..)`, `range(..)`, `before(..)`, `after(..)`, or unlabelled. */
export function parseFilterRule(text: string): FilterRule {
  const m = LABELLED.exec(text);
  let label = m ? m[1]! : null;
  const body = m ? m[2]! : text;
  if (label === null) label = body.includes("*") ? "glob" : "range";
  const where = `${label}(${body})`;
  try {
    switch (label) {
      case "glob":
        return new GlobRule(body);
      case "regex":
        return new RegexRule(body);
      case "range":
        return new RangeRule(Requirement.parse(body));
      case "before":
      case "after": {
        let family: string | null = null;
        let ts = body;
        const colon = body.indexOf(":");
        if (colon >= 0) {
          family = body.slice(0, colon);
          ts = body.slice(colon + 1);
        }
        if (!/^\s*[+-]?\d+\s*$/.test(ts)) throw new Error(`invalid literal for int(): '${ts}'`);
        return new TimestampRule(parseInt(ts, 10), family, label === "after");
      }
      default:
        throw new InputError(
          `'${label}' is not a valid package filter type: expected glob, regex, range, before or after`,
          {
            file: "package_filter",
          },
        );
    }
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`error parsing package filter '${where}': ${(e as Error).message}`, {
      file: "package_filter",
    });
  }
}

/** One `{excludes: [...], includes: [...]}` filter. */
export class PackageFilter {
  private excludeRules = new Map<string | null, FilterRule[]>();
  private includeRules = new Map<string | null, FilterRule[]>();

  static fromPod(data: { excludes?: string[] | string; includes?: string[] | string }): PackageFilter {
    const f = new PackageFilter();
    const list = (v: string[] | string | undefined) => (v === undefined ? [] : typeof v === "string" ? [v] : v);
    for (const r of list(data.excludes)) f.addExclusion(parseFilterRule(r));
    for (const r of list(data.includes)) f.addInclusion(parseFilterRule(r));
    return f;
  }

  addExclusion(rule: FilterRule): void {
    add(this.excludeRules, rule);
  }

  addInclusion(rule: FilterRule): void {
    add(this.includeRules, rule);
  }

  get isEmpty(): boolean {
    return this.excludeRules.size === 0;
  }

  /** Rez's filter cost: exclusion rule costs, family-specific ones divided by 10. */
  get cost(): number {
    let total = 0;
    for (const [fam, rules] of this.excludeRules) {
      const c = rules.reduce((s, r) => s + r.cost, 0);
      total += fam ? c / 10 : c;
    }
    return total;
  }

  /** The rule hiding `pkg`, or null. */
  excludes(pkg: Package): FilterRule | null {
    if (this.excludeRules.size === 0) return null;
    const excl = firstMatch(this.excludeRules.get(pkg.name), pkg) ?? firstMatch(this.excludeRules.get(null), pkg);
    if (!excl) return null;
    if (firstMatch(this.includeRules.get(pkg.name), pkg) || firstMatch(this.includeRules.get(null), pkg)) return null;
    return excl;
  }

  copy(): PackageFilter {
    const f = new PackageFilter();
    f.excludeRules = new Map([...this.excludeRules].map(([k, v]) => [k, [...v]]));
    f.includeRules = new Map([...this.includeRules].map(([k, v]) => [k, [...v]]));
    return f;
  }

  toPod(): { excludes?: string[]; includes?: string[] } {
    const out: { excludes?: string[]; includes?: string[] } = {};
    if (this.excludeRules.size) out.excludes = [...this.excludeRules.values()].flat().map(String);
    if (this.includeRules.size) out.includes = [...this.includeRules.values()].flat().map(String);
    return out;
  }
}

function add(map: Map<string | null, FilterRule[]>, rule: FilterRule): void {
  const rules = [...(map.get(rule.family) ?? []), rule];
  rules.sort((a, b) => a.cost - b.cost); // stable, like Python's sorted
  map.set(rule.family, rules);
}

function firstMatch(rules: FilterRule[] | undefined, pkg: Package): FilterRule | null {
  if (rules) for (const r of rules) if (r.match(pkg)) return r;
  return null;
}

/** Rez `PackageFilterList`: the `package_filter` setting, a list of filters. */
export class PackageFilterList {
  private filters: PackageFilter[] = [];

  static fromPod(
    data: ReadonlyArray<{ excludes?: string[] | string; includes?: string[] | string }>,
  ): PackageFilterList {
    const list = new PackageFilterList();
    for (const d of data) list.addFilter(PackageFilter.fromPod(d));
    return list;
  }

  addFilter(f: PackageFilter): void {
    this.filters = [...this.filters, f].sort((a, b) => a.cost - b.cost);
  }

  /** Rez adds a lone exclusion to the last (costliest) filter. */
  addExclusion(rule: FilterRule): void {
    const last = this.filters[this.filters.length - 1];
    if (last) last.addExclusion(rule);
    else {
      const f = new PackageFilter();
      f.addExclusion(rule);
      this.addFilter(f);
    }
  }

  /** An inclusion applies to every filter. */
  addInclusion(rule: FilterRule): void {
    for (const f of this.filters) f.addInclusion(rule);
  }

  get isEmpty(): boolean {
    return this.filters.every((f) => f.isEmpty);
  }

  excludes(pkg: Package): FilterRule | null {
    for (const f of this.filters) {
      const r = f.excludes(pkg);
      if (r) return r;
    }
    return null;
  }

  copy(): PackageFilterList {
    const list = new PackageFilterList();
    list.filters = this.filters.map((f) => f.copy());
    return list;
  }

  toPod(): Array<{ excludes?: string[]; includes?: string[] }> {
    return this.filters.map((f) => f.toPod());
  }
}

/** Python `fnmatch.translate` (without the anchors): `*`, `?`, `[seq]`, `[!seq]`. */
function globToRegex(pat: string): string {
  let out = "";
  let i = 0;
  const n = pat.length;
  while (i < n) {
    const c = pat[i++]!;
    if (c === "*") {
      out += ".*";
      while (i < n && pat[i] === "*") i++;
    } else if (c === "?") {
      out += ".";
    } else if (c === "[") {
      let j = i;
      if (j < n && pat[j] === "!") j++;
      if (j < n && pat[j] === "]") j++;
      while (j < n && pat[j] !== "]") j++;
      if (j >= n) {
        out += "\\[";
      } else {
        let stuff = pat.slice(i, j).replace(/\\/g, "\\\\");
        i = j + 1;
        if (stuff.startsWith("!")) stuff = "^" + stuff.slice(1);
        else if (stuff.startsWith("^")) stuff = "\\" + stuff;
        out += `[${stuff}]`;
      }
    } else {
      out += c.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
    }
  }
  return out;
}
