import { Bound, checkUpper } from "./bound.js";
import { VersionError } from "./errors.js";
import { isTokenCode, Version } from "./version.js";

/*
 * Rez parses each `|`-separated part of a range with one big regular expression of
 * seven anchored alternatives (`_VersionRangeParser`), some with conditional
 * groups that JavaScript regexes lack. Each alternative is matched here by hand,
 * trying the same choices in the same order as Python's backtracking, so the same
 * texts are accepted and the same groups are captured. A version inside a range
 * is `V = [0-9a-zA-Z_]+([.-][0-9a-zA-Z_]+)*`; a shorter backtracked V never helps
 * (what follows a V is never a token character, `.` or `-`), so V is matched
 * greedily only.
 */

/** One parsed part before Rez's actions build a bound from it. */
type Part =
  | { kind: "version"; version: string }
  | { kind: "exact"; version: string | null }
  | { kind: "inclusive"; lower: string | null; upper: string | null }
  | { kind: "lower"; prefix: string | null; version: string | null }
  | { kind: "upper"; prefix: string | null; version: string | null }
  | {
      kind: "asc";
      hasLower: boolean;
      lowerPrefix: string | null;
      lowerVersion: string | null;
      upperPrefix: string;
      upperVersion: string | null;
    }
  | {
      kind: "desc";
      hasUpper: boolean;
      upperPrefix: string | null;
      upperVersion: string | null;
      lowerPrefix: string;
      lowerVersion: string | null;
    }
  /** The empty match Python's `$` allows for a lone "\n": Rez adds no bound. */
  | { kind: "none" };

/** End of the V starting at i, or -1. */
function versionEnd(s: string, i: number): number {
  const n = s.length;
  if (i >= n || !isTokenCode(s.charCodeAt(i))) return -1;
  let j = i + 1;
  for (;;) {
    while (j < n && isTokenCode(s.charCodeAt(j))) j++;
    const c = s.charCodeAt(j);
    if ((c === 46 || c === 45) && j + 1 < n && isTokenCode(s.charCodeAt(j + 1))) {
      j += 2;
      continue;
    }
    return j;
  }
}

/** `<(?=V)`: a `<` followed by a token character. */
function ltBeforeVersion(s: string, i: number): boolean {
  return s.charCodeAt(i) === 60 && i + 1 < s.length && isTokenCode(s.charCodeAt(i + 1));
}

/** `V?$` from i: the version text, null for none, undefined for no match. */
function optionalVersionToEnd(s: string, i: number): string | null | undefined {
  if (versionEnd(s, i) === s.length) return s.slice(i);
  if (i === s.length) return null;
  return undefined;
}

/** Optional V from i: [text or null, end]; a regex `V?` tries the V first. */
function optionalVersions(s: string, i: number): Array<[string | null, number]> {
  const e = versionEnd(s, i);
  return e < 0
    ? [[null, i]]
    : [
        [s.slice(i, e), e],
        [null, i],
      ];
}

function matchInclusive(p: string): Part | null {
  for (const [lower, i] of optionalVersions(p, 0)) {
    if (!p.startsWith("..", i)) continue;
    const upper = optionalVersionToEnd(p, i + 2);
    if (upper !== undefined) return { kind: "inclusive", lower, upper };
  }
  return null;
}

function matchLower(p: string): Part | null {
  for (const prefix of [">", ">=", null]) {
    if (prefix !== null && !p.startsWith(prefix)) continue;
    for (const [version, i] of optionalVersions(p, prefix?.length ?? 0)) {
      let j = i;
      if (prefix === null) {
        if (p.charCodeAt(j) !== 43) continue; // '+'
        j++;
      }
      if (j === p.length) return { kind: "lower", prefix, version };
    }
  }
  return null;
}

function matchUpper(p: string): Part | null {
  for (const prefix of ["<", "<=", null]) {
    if (prefix === "<" && !ltBeforeVersion(p, 0)) continue;
    if (prefix === "<=" && !p.startsWith("<=")) continue;
    const version = optionalVersionToEnd(p, prefix?.length ?? 0);
    if (version !== undefined) return { kind: "upper", prefix, version };
  }
  return null;
}

function matchAscending(p: string): Part | null {
  for (const lowerPrefix of [">", ">=", null]) {
    if (lowerPrefix !== null && !p.startsWith(lowerPrefix)) continue;
    for (const [lowerVersion, i] of optionalVersions(p, lowerPrefix?.length ?? 0)) {
      // `(?(prefix)|\+)?`: an optional '+' only without a prefix
      for (const plus of lowerPrefix === null ? [true, false] : [false]) {
        if (plus && p.charCodeAt(i) !== 43) continue;
        const lowerEnd = plus ? i + 1 : i;
        // `(?(lower version),?|)`: an optional ',' only after a lower version
        for (const comma of lowerVersion !== null ? [true, false] : [false]) {
          if (comma && p.charCodeAt(lowerEnd) !== 44) continue;
          const k = comma ? lowerEnd + 1 : lowerEnd;
          for (const upperPrefix of ["<", "<="]) {
            if (upperPrefix === "<" ? !ltBeforeVersion(p, k) : !p.startsWith("<=", k)) continue;
            const upperVersion = optionalVersionToEnd(p, k + upperPrefix.length);
            if (upperVersion === undefined) continue;
            return { kind: "asc", hasLower: lowerEnd > 0, lowerPrefix, lowerVersion, upperPrefix, upperVersion };
          }
        }
      }
    }
  }
  return null;
}

function matchDescending(p: string): Part | null {
  for (const upperPrefix of ["<", "<=", null]) {
    if (upperPrefix !== null && !p.startsWith(upperPrefix)) continue;
    for (const [upperVersion, i] of optionalVersions(p, upperPrefix?.length ?? 0)) {
      for (const plus of upperPrefix === null ? [true, false] : [false]) {
        if (plus && p.charCodeAt(i) !== 43) continue;
        const upperEnd = plus ? i + 1 : i;
        // `(?(upper version),|)`: the comma is required after an upper version
        let k = upperEnd;
        if (upperVersion !== null) {
          if (p.charCodeAt(k) !== 44) continue;
          k++;
        }
        // `<(?=V)|>=?`; Rez reads a '<' here as an inclusive lower bound
        for (const lowerPrefix of ["<", ">=", ">"]) {
          if (lowerPrefix === "<" ? !ltBeforeVersion(p, k) : !p.startsWith(lowerPrefix, k)) continue;
          const lowerVersion = optionalVersionToEnd(p, k + lowerPrefix.length);
          if (lowerVersion === undefined) continue;
          return { kind: "desc", hasUpper: upperEnd > 0, upperPrefix, upperVersion, lowerPrefix, lowerVersion };
        }
      }
    }
  }
  return null;
}

function matchPart(part: string): Part | null {
  // Python's `$` also matches before one trailing newline; nothing else consumes it.
  const p = part.endsWith("\n") ? part.slice(0, -1) : part;
  const n = p.length;
  // The upper-bound alternative matches "" as an empty (falsy) group: no action.
  if (n === 0) return { kind: "none" };
  if (versionEnd(p, 0) === n) return { kind: "version", version: p };
  if (p.startsWith("==")) {
    const version = optionalVersionToEnd(p, 2);
    if (version !== undefined) return { kind: "exact", version };
  }
  return matchInclusive(p) ?? matchLower(p) ?? matchUpper(p) ?? matchAscending(p) ?? matchDescending(p);
}

function version(text: string | null): Version {
  return text === null ? Version.EMPTY : Version.parse(text);
}

function upperEnd(text: string | null, inclusive: boolean): Version {
  const v = version(text);
  checkUpper(v, inclusive);
  return v;
}

/** Rez's `_act_*` actions: the bound a matched part denotes (null for the empty match). */
function boundOf(part: Part): Bound | null {
  switch (part.kind) {
    case "version": {
      const v = Version.parse(part.version);
      return new Bound(v, true, v.next(), false);
    }
    case "exact": {
      const v = version(part.version);
      return new Bound(v, true, v, true);
    }
    case "inclusive":
      return new Bound(version(part.lower), true, upperEnd(part.upper, true), true);
    case "lower":
      return new Bound(version(part.version), part.prefix !== ">", Version.INF, true);
    case "upper":
      return new Bound(Version.EMPTY, true, upperEnd(part.version, part.prefix !== "<"), part.prefix !== "<");
    case "asc": {
      const lower = part.hasLower ? version(part.lowerVersion) : Version.EMPTY;
      const lowerInclusive = part.hasLower ? part.lowerPrefix !== ">" : true;
      const upperInclusive = part.upperPrefix !== "<";
      return new Bound(lower, lowerInclusive, upperEnd(part.upperVersion, upperInclusive), upperInclusive);
    }
    case "desc": {
      const lower = version(part.lowerVersion);
      const lowerInclusive = part.lowerPrefix !== ">";
      if (!part.hasUpper) return new Bound(lower, lowerInclusive, Version.INF, true);
      const upperInclusive = part.upperPrefix !== "<";
      return new Bound(lower, lowerInclusive, upperEnd(part.upperVersion, upperInclusive), upperInclusive);
    }
    case "none":
      return null;
  }
}

/**
 * The bounds a range string lists, in written order, before Rez sorts and merges
 * them; an empty list means the "any" range. Throws VersionError.
 */
export function parseRangeBounds(text: string): Bound[] {
  let bounds: Bound[] = [];
  let isAny = false;
  for (const part of text.split("|")) {
    if (part === "") {
      // Rez still checks the syntax of the remaining parts, but builds nothing more.
      isAny = true;
      bounds = [];
      continue;
    }
    const parsed = matchPart(part);
    if (parsed === null) {
      throw new VersionError(
        `syntax error in version range '${text}': '${part}' is not a version, '==V', 'V+', '>V', '>=V', '<V', '<=V', 'V..W', 'V+<W' or '<W,>V'`,
      );
    }
    if (isAny) continue;
    let bound: Bound | null;
    try {
      bound = boundOf(parsed);
    } catch (e) {
      if (e instanceof VersionError) throw new VersionError(`invalid version range '${text}': ${e.message}`);
      throw e;
    }
    if (bound !== null) bounds.push(bound);
  }
  return bounds;
}
