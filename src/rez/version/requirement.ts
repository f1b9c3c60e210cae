import { RequirementError, VersionError } from "./errors.js";
import { VersionRange } from "./range.js";
import { isTokenCode, Version } from "./version.js";

const CACHE_LIMIT = 100_000;
const cache = new Map<string, Requirement>();

/** Rez's name/range separators: the name ends at the first of these. */
function isNameEnd(c: number): boolean {
  // - @ # = < >
  return c === 45 || c === 64 || c === 35 || c === 61 || c === 60 || c === 62;
}

/**
 * A Rez requirement (`rez.version.Requirement`): `name[-@#]range`, optionally
 * prefixed by `!` (conflict: the package must not be in `range`) or `~` (weak: if
 * present it must be in the range). Like Rez, a weak requirement is stored as a
 * conflict with the *inverted* range (`~foo-1` has range `<1|1_+`), and `~foo`
 * has a null range. Ephemeral requirements keep their leading dot in `name`
 * (`.foo-1` has name `.foo`), exactly as Rez stores them. Immutable.
 */
export class Requirement {
  readonly name: string;
  /** The stored range: for weak requirements the inverse of what was written; null only for `~foo`. */
  readonly range: VersionRange | null;
  readonly conflict: boolean;
  readonly weak: boolean;
  /** The cosmetic name/version separator as written (`-`, `@` or `#`), kept for printing. */
  readonly sep: string;
  private str: string | undefined;

  private constructor(name: string, range: VersionRange | null, conflict: boolean, weak: boolean, sep: string) {
    this.name = name;
    this.range = range;
    this.conflict = conflict;
    this.weak = weak;
    this.sep = sep;
  }

  /**
   * Parse exactly as Rez's `Requirement(str)` does. Rez does not check the name
   * here (see parsePackageRequest). Throws RequirementError for a bad range.
   */
  static parse(s: string): Requirement {
    const hit = cache.get(s);
    if (hit !== undefined) return hit;
    const req = Requirement.build(s);
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(s, req);
    return req;
  }

  private static build(s: string): Requirement {
    let rest = s;
    let conflict = false;
    let weak = false;
    if (rest.startsWith("!")) {
      conflict = true;
      rest = rest.slice(1);
    } else if (rest.startsWith("~")) {
      conflict = true;
      weak = true;
      rest = rest.slice(1);
    }
    let i = 0;
    while (i < rest.length && !isNameEnd(rest.charCodeAt(i))) i++;
    if (i === rest.length) {
      // `~foo` means nothing: no range at all.
      return new Requirement(rest, weak ? null : VersionRange.ANY, conflict, weak, "-");
    }
    const name = rest.slice(0, i);
    let rangeText = rest.slice(i);
    let sep = "-";
    const c = rangeText.charCodeAt(0);
    if (c === 45 || c === 64 || c === 35) {
      sep = rangeText[0]!;
      rangeText = rangeText.slice(1);
    }
    let range: VersionRange | null;
    try {
      range = VersionRange.parse(rangeText);
    } catch (e) {
      if (e instanceof VersionError) {
        throw new RequirementError(s, `expected name[-@#]range with a valid range (${e.message})`);
      }
      throw e;
    }
    if (weak) range = range.inverse();
    return new Requirement(name, range, conflict, weak, sep);
  }

  /** Rez `Requirement.construct(name, range)`: a normal requirement (any range when omitted). */
  static construct(name: string, range?: VersionRange | null): Requirement {
    return new Requirement(name, range ?? VersionRange.ANY, false, false, "-");
  }

  /** A `!name-range` conflict requirement. */
  static conflictWith(name: string, range?: VersionRange): Requirement {
    return new Requirement(name, range ?? VersionRange.ANY, true, false, "-");
  }

  /** A `~name-range` weak requirement built from the range as written (stored inverted). */
  static weakOn(name: string, range: VersionRange): Requirement {
    return new Requirement(name, range.inverse(), true, true, "-");
  }

  /** Rez marks ephemerals by a leading `.` in the name. */
  get ephemeral(): boolean {
    return this.name.startsWith(".");
  }

  /** Rez `conflicts_with(Requirement)`. */
  conflictsWith(other: Requirement): boolean {
    if (this.name !== other.name || this.range === null || other.range === null) return false;
    if (this.conflict) return other.conflict ? false : this.range.issuperset(other.range);
    if (other.conflict) return other.range.issuperset(this.range);
    return !this.range.intersects(other.range);
  }

  /**
   * Whether version `v` of this package satisfies this requirement: the negation of
   * Rez `conflicts_with(VersionedObject(name, v))`. A conflict (or weak)
   * requirement accepts the versions outside its stored range; `~foo` accepts all.
   */
  contains(v: Version): boolean {
    if (this.range === null) return true;
    return this.conflict ? !this.range.contains(v) : this.range.contains(v);
  }

  /** Rez `merged`: both requirements at once, or null when they conflict (or name different packages). */
  merged(other: Requirement): Requirement | null {
    if (this.name !== other.name) return null;
    if (this.range === null) return other;
    if (other.range === null) return this;
    if (this.conflict) {
      if (other.conflict) {
        const range = this.range.union(other.range);
        return new Requirement(this.name, range, this.conflict, this.weak && other.weak && !range.isAny, this.sep);
      }
      const range = other.range.subtract(this.range);
      return range === null ? null : new Requirement(other.name, range, other.conflict, other.weak, other.sep);
    }
    const range = other.conflict ? this.range.subtract(other.range) : this.range.intersection(other.range);
    return range === null ? null : new Requirement(this.name, range, this.conflict, this.weak, this.sep);
  }

  /** Rez equality: name, stored range and conflict flag (not the weak flag, nor the separator). */
  equals(other: Requirement): boolean {
    if (this === other) return true;
    if (this.name !== other.name || this.conflict !== other.conflict) return false;
    if (this.range === null || other.range === null) return this.range === other.range;
    return this.range.equals(other.range);
  }

  /** Rez `str()`: a weak requirement prints its range as written (re-inverted). */
  toString(): string {
    if (this.str === undefined) {
      const pre = this.weak ? "~" : this.conflict ? "!" : "";
      let range = this.range;
      if (this.weak || range === null) range = range ? range.inverse() : VersionRange.ANY;
      let text = "";
      if (range !== null && !range.isAny) {
        const r = range.toString();
        const c = r.charCodeAt(0);
        text = c === 61 || c === 60 || c === 62 ? r : this.sep + r;
      }
      this.str = pre + this.name + text;
    }
    return this.str;
  }

  toJSON(): string {
    return this.toString();
  }
}

/**
 * Rez's `is_valid_package_name`: `[a-zA-Z_0-9](\.?[a-zA-Z0-9_]+)*`, and not
 * `__pycache__`. Checked by hand: the regex form backtracks exponentially.
 */
export function isValidPackageName(name: string): boolean {
  if (name.length === 0 || name === "__pycache__") return false;
  if (!isTokenCode(name.charCodeAt(0))) return false;
  for (let i = 1; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (isTokenCode(c)) continue;
    if (c !== 46 || i + 1 === name.length || !isTokenCode(name.charCodeAt(i + 1))) return false;
  }
  return true;
}

/**
 * Rez's `PackageRequest`: a Requirement whose name must be a valid package name
 * (after the leading `.` of an ephemeral written first). As in Rez, `!.foo` is
 * rejected. Throws RequirementError.
 */
export function parsePackageRequest(s: string): Requirement {
  const req = Requirement.parse(s);
  const name = s.startsWith(".") ? req.name.slice(1) : req.name;
  if (!isValidPackageName(name)) {
    throw new RequirementError(
      s,
      `'${name}' is not a valid package name: expected [a-zA-Z0-9_] words joined by single dots`,
    );
  }
  return req;
}

/**
 * Rez `RequirementList`: requirements on the same package merged into one, in the
 * order each package was first named. A conflict stops the merging: `conflict`
 * holds the two requirements and `requirements` is empty, as in Rez.
 */
export class RequirementList {
  readonly requirements: readonly Requirement[];
  readonly conflict: [Requirement, Requirement] | null;
  private readonly byName: Map<string, Requirement>;
  private readonly normalNames: Set<string>;
  private readonly conflictNameSet: Set<string>;

  constructor(reqs: readonly Requirement[]) {
    this.byName = new Map();
    this.normalNames = new Set();
    this.conflictNameSet = new Set();
    let conflict: [Requirement, Requirement] | null = null;
    for (const req of reqs) {
      const existing = this.byName.get(req.name);
      if (existing === undefined) {
        this.byName.set(req.name, req);
        continue;
      }
      const merged = existing.merged(req);
      if (merged === null) {
        conflict = [existing, req];
        break;
      }
      this.byName.set(req.name, merged);
    }
    this.conflict = conflict;
    const out: Requirement[] = [];
    if (conflict === null) {
      for (const req of reqs) {
        if (this.normalNames.has(req.name) || this.conflictNameSet.has(req.name)) continue;
        const merged = this.byName.get(req.name)!;
        out.push(merged);
        (merged.conflict ? this.conflictNameSet : this.normalNames).add(req.name);
      }
    }
    this.requirements = Object.freeze(out);
  }

  /** The merged requirement on `name` (as far as merging got, when there is a conflict). */
  get(name: string): Requirement | undefined {
    return this.byName.get(name);
  }

  /** Names of the non-conflict requirements (Rez `names`). */
  names(): Set<string> {
    return new Set(this.normalNames);
  }

  /** Names of the conflict and weak requirements (Rez `conflict_names`). */
  conflictNames(): Set<string> {
    return new Set(this.conflictNameSet);
  }

  toString(): string {
    if (this.conflict) return `${this.conflict[0].toString()} <--!--> ${this.conflict[1].toString()}`;
    return this.requirements.map((r) => r.toString()).join(" ");
  }
}
