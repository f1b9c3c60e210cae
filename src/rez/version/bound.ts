import { VersionError } from "./errors.js";
import { Version } from "./version.js";

/*
 * One contiguous interval of a VersionRange (Rez's `_Bound`, with its `_LowerBound`
 * and `_UpperBound` flattened in). The comparisons below copy Rez's, including
 * which of two equal bounds `max`/`min` keep: equal versions may differ in
 * separators (`1.0` vs `1-0`), and the kept one is what gets printed.
 */
export class Bound {
  readonly lower: Version;
  readonly lowerInclusive: boolean;
  readonly upper: Version;
  readonly upperInclusive: boolean;

  /** Throws VersionError on an impossible interval (Rez `invalid_bound_error=True`). */
  constructor(lower: Version, lowerInclusive: boolean, upper: Version, upperInclusive: boolean) {
    this.lower = lower;
    this.lowerInclusive = lowerInclusive;
    this.upper = upper;
    this.upperInclusive = upperInclusive;
    const c = lower.compare(upper);
    if (c > 0 || (c === 0 && !(lowerInclusive && upperInclusive))) {
      throw new VersionError(`invalid bound '${describe(this)}': the lower bound is above the upper bound`);
    }
  }

  /** The version `v` lies in this interval (Rez `version_containment`): -1 below, 0 inside, 1 above. */
  containment(v: Version): -1 | 0 | 1 {
    const lo = v.compare(this.lower);
    if (!(lo > 0 || (lo === 0 && this.lowerInclusive))) return -1;
    const hi = v.compare(this.upper);
    if (!(hi < 0 || (hi === 0 && this.upperInclusive))) return 1;
    return 0;
  }

  contains(v: Version): boolean {
    return this.containment(v) === 0;
  }

  get lowerBounded(): boolean {
    return !(this.lower.isEmpty && this.lowerInclusive);
  }

  get upperBounded(): boolean {
    return !(this.upper.isInf && this.upperInclusive);
  }

  toString(): string {
    return describe(this);
  }
}

/** Rez `_UpperBound.__init__`: an exclusive upper bound on the empty version (or inf) is an error. */
export function checkUpper(version: Version, inclusive: boolean): void {
  if (version.tokens.length === 0 && !inclusive) {
    throw new VersionError(
      `invalid upper bound '<${version.isInf ? "[INF]" : version.toString()}': nothing is below the empty version`,
    );
  }
}

export const ANY_BOUND = new Bound(Version.EMPTY, true, Version.INF, true);

export function isAnyBound(b: Bound): boolean {
  return b.lowerInclusive && b.upperInclusive && b.lower.isEmpty && b.upper.isInf;
}

function lowerLt(av: Version, ai: boolean, bv: Version, bi: boolean): boolean {
  const c = av.compare(bv);
  return c < 0 || (c === 0 && ai && !bi);
}

function upperLt(av: Version, ai: boolean, bv: Version, bi: boolean): boolean {
  const c = av.compare(bv);
  return c < 0 || (c === 0 && !ai && bi);
}

function endEq(av: Version, ai: boolean, bv: Version, bi: boolean): boolean {
  return ai === bi && av.equals(bv);
}

export function boundEquals(a: Bound, b: Bound): boolean {
  return (
    endEq(a.lower, a.lowerInclusive, b.lower, b.lowerInclusive) &&
    endEq(a.upper, a.upperInclusive, b.upper, b.upperInclusive)
  );
}

/** Rez `_Bound.__lt__`: by lower bound, then by upper bound. */
export function boundLt(a: Bound, b: Bound): boolean {
  if (!endEq(a.lower, a.lowerInclusive, b.lower, b.lowerInclusive)) {
    return lowerLt(a.lower, a.lowerInclusive, b.lower, b.lowerInclusive);
  }
  if (!endEq(a.upper, a.upperInclusive, b.upper, b.upperInclusive)) {
    return upperLt(a.upper, a.upperInclusive, b.upper, b.upperInclusive);
  }
  return false;
}

export function compareBounds(a: Bound, b: Bound): number {
  return boundLt(a, b) ? -1 : boundLt(b, a) ? 1 : 0;
}

/** Python `max(a.lower, b.lower)` keeps `a`'s unless `b`'s is strictly greater. */
function lowerFromB(a: Bound, b: Bound): boolean {
  return lowerLt(a.lower, a.lowerInclusive, b.lower, b.lowerInclusive);
}

/** Python `min(a.upper, b.upper)` keeps `a`'s unless `b`'s is strictly smaller. */
function upperFromB(a: Bound, b: Bound): boolean {
  return upperLt(b.upper, b.upperInclusive, a.upper, a.upperInclusive);
}

function nonEmpty(lower: Version, lowerInclusive: boolean, upper: Version, upperInclusive: boolean): boolean {
  const c = lower.compare(upper);
  return c < 0 || (c === 0 && lowerInclusive && upperInclusive);
}

export function boundsIntersect(a: Bound, b: Bound): boolean {
  const l = lowerFromB(a, b) ? b : a;
  const u = upperFromB(a, b) ? b : a;
  return nonEmpty(l.lower, l.lowerInclusive, u.upper, u.upperInclusive);
}

export function boundIntersection(a: Bound, b: Bound): Bound | null {
  const l = lowerFromB(a, b) ? b : a;
  const u = upperFromB(a, b) ? b : a;
  if (!nonEmpty(l.lower, l.lowerInclusive, u.upper, u.upperInclusive)) return null;
  if (l === u) return l;
  return new Bound(l.lower, l.lowerInclusive, u.upper, u.upperInclusive);
}

/** Rez `contains_bound`: `self.lower <= b.lower and self.upper >= b.upper`. */
export function boundContainsBound(a: Bound, b: Bound): boolean {
  const lowerLe =
    lowerLt(a.lower, a.lowerInclusive, b.lower, b.lowerInclusive) ||
    endEq(a.lower, a.lowerInclusive, b.lower, b.lowerInclusive);
  return lowerLe && !upperLt(a.upper, a.upperInclusive, b.upper, b.upperInclusive);
}

function lowerString(v: Version, inclusive: boolean): string {
  if (v.tokens.length > 0) return inclusive ? `${v.toString()}+` : `>${v.toString()}`;
  return inclusive ? "" : ">";
}

/** Rez `_Bound.__str__`. */
function describe(b: Bound): string {
  if (b.upper.isInf) return lowerString(b.lower, b.lowerInclusive);
  if (b.lower.equals(b.upper)) return `==${b.lower.toString()}`;
  if (b.lowerInclusive && b.upperInclusive) {
    return b.lower.tokens.length > 0 ? `${b.lower.toString()}..${b.upper.toString()}` : `<=${b.upper.toString()}`;
  }
  if (b.lowerInclusive && !b.upperInclusive && b.lower.next().equals(b.upper)) return b.lower.toString();
  return lowerString(b.lower, b.lowerInclusive) + (b.upperInclusive ? "<=" : "<") + b.upper.toString();
}

/** Python `bisect_left(a, x, lo)` with Rez's bound order. */
export function bisectLeft(a: readonly Bound[], x: Bound, lo = 0): number {
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (boundLt(a[mid]!, x)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
