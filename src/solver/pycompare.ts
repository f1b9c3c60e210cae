import { Version } from "../rez/version/index.js";

/*
 * Rez sorts variants and packages with Python sort keys built from tuples, lists,
 * ints, Versions and two wrappers (`_ReversedComparable`, and the orderers'
 * `FallbackComparable`). Keys from different orderers can meet in one
 * comparison, and Python then falls back, raises, or answers through reflected
 * operators. These classes and `pyLt` reproduce exactly the answers (and the
 * TypeError) Python gives for the values Rez's keys can hold, so variant choice
 * matches Rez even with mixed orderers.
 */

/** `_ReversedComparable(value)`: orders its value backwards. */
export class Reversed {
  constructor(readonly value: PyValue) {}
}

/** The orderers' `FallbackComparable(main, version)`: on any error comparing `main`, compare versions. */
export class Fallback {
  constructor(
    readonly main: PyValue,
    readonly fallback: Version,
  ) {}
}

/** A Python list of version tokens (`version.tokens[i:]`): compares like the version they form. */
export class TokenList {
  constructor(readonly asVersion: Version) {}
}

/** A Python tuple or list (they never meet each other in Rez's keys). */
export type PyTuple = readonly PyValue[];

export type PyValue = number | string | Version | Reversed | Fallback | TokenList | PyTuple;

/** Array.isArray, without widening a readonly tuple's items to `any`. */
const isTuple = (v: PyValue): v is PyTuple => Array.isArray(v);

/** Python raised while comparing: the sort, hence the whole solve, fails with this. */
export class PyCompareError extends Error {
  constructor(
    message: string,
    readonly pyType: "TypeError" | "AttributeError",
  ) {
    super(message);
  }
}

function typeName(v: PyValue): string {
  if (typeof v === "number") return "int";
  if (typeof v === "string") return "str";
  if (v instanceof Version) return "Version";
  if (v instanceof Reversed) return "_ReversedComparable";
  if (v instanceof Fallback) return "FallbackComparable";
  if (v instanceof TokenList) return "list";
  return "tuple";
}

function unsupported(op: string, a: PyValue, b: PyValue): PyCompareError {
  return new PyCompareError(
    `'${op}' not supported between instances of '${typeName(a)}' and '${typeName(b)}'`,
    "TypeError",
  );
}

function noTokens(b: PyValue): PyCompareError {
  return new PyCompareError(`'${typeName(b)}' object has no attribute 'tokens'`, "AttributeError");
}

/** Rez `Version.__lt__` (inf is never less; everything finite is less than inf). */
function versionLt(a: Version, b: PyValue): boolean {
  if (a.isInf) return false;
  if (!(b instanceof Version)) throw noTokens(b);
  if (b.isInf) return true;
  return a.compare(b) < 0;
}

/** `_Comparable.__gt__`: `not (self < other or self == other)`. */
function versionGt(a: Version, b: PyValue): boolean {
  return !(versionLt(a, b) || pyEq(a, b));
}

/** Python `a == b` for key values (never raises for Rez's keys). */
export function pyEq(a: PyValue, b: PyValue): boolean {
  if (a === b) return true;
  if (typeof a === "number" || typeof a === "string") return a === b;
  if (a instanceof Version) return b instanceof Version && a.equals(b);
  if (a instanceof Reversed) return b instanceof Reversed && pyEq(a.value, b.value);
  if (a instanceof TokenList) return b instanceof TokenList && a.asVersion.equals(b.asVersion);
  if (a instanceof Fallback) {
    if (!(b instanceof Fallback)) return false;
    return pyEq(a.main, b.main);
  }
  if (!isTuple(b) || b.length !== a.length) return false;
  for (let i = 0; i < a.length; i++) if (!pyEq(a[i]!, b[i]!)) return false;
  return true;
}

/** Python `a < b` for key values; throws PyCompareError where Python raises. */
export function pyLt(a: PyValue, b: PyValue): boolean {
  if (typeof a === "number") {
    if (typeof b === "number") return a < b;
    return reflectedGt(b, a, "<");
  }
  if (typeof a === "string") {
    if (typeof b === "string") return a < b;
    return reflectedGt(b, a, "<");
  }
  if (a instanceof Version) return versionLt(a, b);
  if (a instanceof Reversed) {
    if (b instanceof Reversed) return pyGt(a.value, b.value);
    return reflectedGt(b, a, "<");
  }
  if (a instanceof Fallback) {
    if (!(b instanceof Fallback)) throw unsupported("<", a, b);
    try {
      return pyLt(a.main, b.main);
    } catch (e) {
      if (!(e instanceof PyCompareError)) throw e;
      return versionLt(a.fallback, b.fallback);
    }
  }
  if (a instanceof TokenList) {
    if (b instanceof TokenList) return a.asVersion.compare(b.asVersion) < 0;
    return reflectedGt(b, a, "<");
  }
  if (!isTuple(b)) return reflectedGt(b, a, "<");
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (!pyEq(a[i]!, b[i]!)) return pyLt(a[i]!, b[i]!);
  }
  return a.length < b.length;
}

/** Python `a > b`. */
function pyGt(a: PyValue, b: PyValue): boolean {
  if (a instanceof Version) return versionGt(a, b);
  if (typeof a === "number" && typeof b === "number") return a > b;
  return pyLt(b, a);
}

/**
 * `x < y` when `x.__lt__(y)` gave NotImplemented: Python tries `y.__gt__(x)`, and
 * raises TypeError when that is not implemented either.
 */
function reflectedGt(b: PyValue, a: PyValue, op: string): boolean {
  if (b instanceof Version) return versionGt(b, a);
  throw unsupported(op, a, b);
}

/**
 * Python's `list.sort(key=..., reverse=...)` for short lists, step for step:
 * CPython's timsort handles fewer than 64 items with one natural run and a
 * binary insertion sort, using only `<`. With a consistent order any stable
 * sort agrees; copying the steps keeps the answer identical when keys from
 * different orderers make the order inconsistent.
 */
export function pySortInPlace<T>(items: T[], keys: PyValue[], reverse: boolean): void {
  const n = items.length;
  if (n < 2) return;
  // Already in order? Then the first natural run covers the list and nothing
  // moves (the same comparisons CPython makes, so this holds for any keys).
  // (comparisons in CPython's order: it reverses first, so from the end)
  let inOrder = true;
  if (reverse) {
    for (let i = n - 2; i >= 0 && inOrder; i--) if (pyLt(keys[i]!, keys[i + 1]!)) inOrder = false;
  } else {
    for (let i = 1; i < n && inOrder; i++) if (pyLt(keys[i]!, keys[i - 1]!)) inOrder = false;
  }
  if (inOrder) return;
  const idx = keys.map((_, i) => i);
  if (reverse) idx.reverse();
  // natural run at the start
  let run = 2;
  if (pyLt(keys[idx[1]!]!, keys[idx[0]!]!)) {
    while (run < n && pyLt(keys[idx[run]!]!, keys[idx[run - 1]!]!)) run++;
    reverseRange(idx, 0, run);
  } else {
    while (run < n && !pyLt(keys[idx[run]!]!, keys[idx[run - 1]!]!)) run++;
  }
  for (let start = run; start < n; start++) {
    const pivot = idx[start]!;
    let l = 0;
    let r = start;
    do {
      const p = l + ((r - l) >> 1);
      if (pyLt(keys[pivot]!, keys[idx[p]!]!)) r = p;
      else l = p + 1;
    } while (l < r);
    for (let k = start; k > l; k--) idx[k] = idx[k - 1]!;
    idx[l] = pivot;
  }
  if (reverse) idx.reverse();
  const copy = items.slice();
  for (let i = 0; i < n; i++) items[i] = copy[idx[i]!]!;
}

function reverseRange(a: number[], lo: number, hi: number): void {
  for (let i = lo, j = hi - 1; i < j; i++, j--) {
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
}
