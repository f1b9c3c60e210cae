import {
  ANY_BOUND,
  bisectLeft,
  Bound,
  boundContainsBound,
  boundEquals,
  boundIntersection,
  boundLt,
  boundsIntersect,
  compareBounds,
  isAnyBound,
} from "./bound.js";
import { VersionError } from "./errors.js";
import { parseRangeBounds } from "./range-parser.js";
import { Version } from "./version.js";

const CACHE_LIMIT = 100_000;
const cache = new Map<string, VersionRange>();

/**
 * A Rez version range: a list of intervals (`bounds`), kept in ascending order.
 * Every operation copies Rez 3.4.0's algorithm, including its quirks: unions sort
 * and merge, intersections do not re-merge, and `str()` re-renders each interval
 * in its shortest Rez syntax. Immutable.
 */
export class VersionRange {
  /** The "any" range `""`. */
  static readonly ANY: VersionRange = new VersionRange([ANY_BOUND]);

  readonly bounds: readonly Bound[];
  private str: string | undefined;

  private constructor(bounds: readonly Bound[]) {
    this.bounds = bounds;
  }

  /** Parse any Rez range syntax (`""` is any); throws VersionError. */
  static parse(s: string): VersionRange {
    const hit = cache.get(s);
    if (hit !== undefined) return hit;
    const bounds = parseRangeBounds(s);
    const range = bounds.length === 0 ? VersionRange.ANY : new VersionRange(Object.freeze(unionBounds(bounds)));
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(s, range);
    return range;
  }

  /** Rez `from_versions`: exactly these versions, `==a|==b|...` (sorted, duplicates dropped). */
  static fromVersions(versions: readonly Version[]): VersionRange {
    const sorted = [...versions].sort((a, b) => a.compare(b));
    const bounds: Bound[] = [];
    let last: Version | undefined;
    for (const v of sorted) {
      if (last !== undefined && last.equals(v)) continue;
      last = v;
      bounds.push(new Bound(v, true, v, true));
    }
    return new VersionRange(Object.freeze(bounds));
  }

  /** `==v`. */
  static exact(v: Version): VersionRange {
    return new VersionRange(Object.freeze([new Bound(v, true, v, true)]));
  }

  /**
   * Rez `from_version(v, op)`: op undefined gives the superset range `v` (`[v, v.next())`);
   * otherwise one of `==`, `>`, `>=`, `<`, `<=` (or eq, gt, gte, lt, lte).
   */
  static fromVersion(v: Version, op?: string): VersionRange {
    let bound: Bound;
    switch (op) {
      case undefined:
        bound = new Bound(v, true, v.next(), false);
        break;
      case "==":
      case "eq":
        bound = new Bound(v, true, v, true);
        break;
      case ">":
      case "gt":
        bound = new Bound(v, false, Version.INF, true);
        break;
      case ">=":
      case "gte":
        bound = new Bound(v, true, Version.INF, true);
        break;
      case "<":
      case "lt":
        if (v.tokens.length === 0)
          throw new VersionError("invalid upper bound '<': nothing is below the empty version");
        bound = new Bound(Version.EMPTY, true, v, false);
        break;
      case "<=":
      case "lte":
        bound = new Bound(Version.EMPTY, true, v, true);
        break;
      default:
        throw new VersionError(`unknown bound operation '${op}': expected ==, >, >=, < or <=`);
    }
    return new VersionRange(Object.freeze([bound]));
  }

  /** A range made of the given intervals, sorted and merged as Rez's parser does. */
  static fromBounds(bounds: readonly Bound[]): VersionRange {
    return bounds.length === 0 ? VersionRange.ANY : new VersionRange(Object.freeze(unionBounds([...bounds])));
  }

  get isAny(): boolean {
    return this.bounds.length === 1 && isAnyBound(this.bounds[0]!);
  }

  /** The lowest bound is above the empty version. */
  get lowerBounded(): boolean {
    return this.bounds[0]!.lowerBounded;
  }

  get upperBounded(): boolean {
    return this.bounds[this.bounds.length - 1]!.upperBounded;
  }

  /** Rez `contains_version`. */
  contains(v: Version): boolean {
    const bounds = this.bounds;
    if (bounds.length < 5) {
      for (const b of bounds) {
        const c = b.containment(v);
        if (c === 0) return true;
        if (c === -1) return false;
      }
      return false;
    }
    const i = bisectLeft(bounds, new Bound(v, true, Version.INF, true));
    if (i > 0 && bounds[i - 1]!.contains(v)) return true;
    return i < bounds.length && bounds[i]!.contains(v);
  }

  /** Rez `intersection`: null when nothing is left. */
  intersection(other: VersionRange): VersionRange | null {
    const out: Bound[] = [];
    for (const a of this.bounds) {
      for (const b of other.bounds) {
        const x = boundIntersection(a, b);
        if (x !== null) out.push(x);
      }
    }
    return out.length === 0 ? null : new VersionRange(Object.freeze(out));
  }

  union(other: VersionRange): VersionRange {
    return new VersionRange(Object.freeze(unionBounds([...this.bounds, ...other.bounds])));
  }

  /** `self - other` (Rez `__sub__`): null when nothing is left. */
  subtract(other: VersionRange): VersionRange | null {
    const inverse = other.inverse();
    return inverse === null ? null : this.intersection(inverse);
  }

  /** Every version not in this range; null for the inverse of "any". */
  inverse(): VersionRange | null {
    if (this.isAny) return null;
    const lowers: Array<[Version, boolean] | null> = [null];
    const uppers: Array<[Version, boolean] | null> = [];
    for (const b of this.bounds) {
      uppers.push(b.lower.isEmpty && b.lowerInclusive ? null : [b.lower, !b.lowerInclusive]);
      lowers.push(b.upper.isInf ? null : [b.upper, !b.upperInclusive]);
    }
    uppers.push(null);
    const out: Bound[] = [];
    for (let i = 0; i < lowers.length; i++) {
      const lo = lowers[i]!;
      const hi = uppers[i]!;
      if (lo === null && hi === null) continue;
      out.push(new Bound(lo?.[0] ?? Version.EMPTY, lo?.[1] ?? true, hi?.[0] ?? Version.INF, hi?.[1] ?? true));
    }
    return new VersionRange(Object.freeze(out));
  }

  intersects(other: VersionRange): boolean {
    // Rez puts the shorter list first (a stable sort by length).
    const [a, b] =
      this.bounds.length <= other.bounds.length ? [this.bounds, other.bounds] : [other.bounds, this.bounds];
    if (b.length < 5) {
      for (const x of a) for (const y of b) if (boundsIntersect(x, y)) return true;
      return false;
    }
    let lo = 0;
    for (const x of a) {
      const i = bisectLeft(b, x, lo);
      if (i > 0 && boundsIntersect(b[i - 1]!, x)) return true;
      if (i < b.length && boundsIntersect(b[i]!, x)) return true;
      lo = Math.max(i - 1, 0);
    }
    return false;
  }

  /** Every version of `other` is in this range. */
  issuperset(other: VersionRange): boolean {
    const mine = this.bounds;
    let lo = 0;
    for (const b of other.bounds) {
      const i = bisectLeft(mine, b, lo);
      if (i > 0 && boundContainsBound(mine[i - 1]!, b)) {
        lo = i - 1;
        continue;
      }
      if (i < mine.length && boundContainsBound(mine[i]!, b)) {
        lo = i;
        continue;
      }
      return false;
    }
    return true;
  }

  issubset(other: VersionRange): boolean {
    return other.issuperset(this);
  }

  /** One contiguous range from the lowest to the highest bound (`2+<4|6+<8` -> `2+<8`). */
  span(): VersionRange {
    const first = this.bounds[0]!;
    const last = this.bounds[this.bounds.length - 1]!;
    return new VersionRange(
      Object.freeze([new Bound(first.lower, first.lowerInclusive, last.upper, last.upperInclusive)]),
    );
  }

  /** The contiguous parts, one range each. */
  split(): VersionRange[] {
    return this.bounds.map((b) => new VersionRange(Object.freeze([b])));
  }

  /** The versions of the `==v` parts, or null when there are none (Rez `to_versions`). */
  toVersions(): Version[] | null {
    const out = this.bounds
      .filter((b) => b.lowerInclusive && b.upperInclusive && b.lower.equals(b.upper))
      .map((b) => b.lower);
    return out.length ? out : null;
  }

  /** Rez equality: the same list of intervals. */
  equals(other: VersionRange): boolean {
    if (this === other) return true;
    if (this.bounds.length !== other.bounds.length) return false;
    for (let i = 0; i < this.bounds.length; i++) if (!boundEquals(this.bounds[i]!, other.bounds[i]!)) return false;
    return true;
  }

  /** Rez's ordering of ranges (by their bound lists), e.g. to sort variants. */
  compare(other: VersionRange): number {
    const a = this.bounds;
    const b = other.bounds;
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) {
      if (boundEquals(a[i]!, b[i]!)) continue;
      return boundLt(a[i]!, b[i]!) ? -1 : 1;
    }
    return a.length - b.length;
  }

  toString(): string {
    if (this.str === undefined) this.str = this.bounds.map((b) => b.toString()).join("|");
    return this.str;
  }

  toJSON(): string {
    return this.toString();
  }
}

/** Rez `_union`: sort, then merge overlapping or touching intervals. */
function unionBounds(bounds: Bound[]): Bound[] {
  if (bounds.length < 2) return bounds;
  const sorted = bounds.sort(compareBounds);
  const out: Bound[] = [];
  let start = 0;
  let prev = sorted[0]!;
  let upper = prev.upper;
  let upperInclusive = prev.upperInclusive;
  for (let i = 1; i < sorted.length; i++) {
    const b = sorted[i]!;
    const c = b.lower.compare(upper);
    // Rez tests the previous interval's upper inclusiveness here, not the running maximum's.
    if (c > 0 || (c === 0 && !b.lowerInclusive && !prev.upperInclusive)) {
      const s = sorted[start]!;
      out.push(new Bound(s.lower, s.lowerInclusive, upper, upperInclusive));
      start = i;
    }
    prev = b;
    const u = upper.compare(b.upper);
    if (u < 0 || (u === 0 && !upperInclusive && b.upperInclusive)) {
      upper = b.upper;
      upperInclusive = b.upperInclusive;
    }
  }
  const s = sorted[start]!;
  out.push(new Bound(s.lower, s.lowerInclusive, upper, upperInclusive));
  return out;
}
