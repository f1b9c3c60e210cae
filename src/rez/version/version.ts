import { VersionError } from "./errors.js";

/*
 * Rez orders versions as lists of tokens, tokens as lists of sub-tokens (digit runs
 * and non-digit runs), with Python's list rules: the first differing element
 * decides, a prefix is smaller. Sub-tokens: any alpha run < any numeric run; alpha
 * runs compare as strings (so `A-Z` < `_` < `a-z`); numeric runs compare as
 * `(int, str)`, so `01` < `1` but `0` < `00`.
 *
 * The solver compares versions millions of times, so each version is encoded once
 * into a `sortKey` string whose plain code-unit order is exactly that order, and
 * whose equality is Rez's version equality (separators ignored). Layout:
 *
 *   version  = token* VERSION_END
 *   token    = subtoken+ TOKEN_END
 *   alpha    = ALPHA chars ALPHA_END            (chars are [A-Za-z_], all > ALPHA_END)
 *   numeric  = NUMERIC len(digits) digits zeros (digits: leading zeros stripped)
 *
 * VERSION_END < TOKEN_END < ALPHA < NUMERIC makes every "ended" list smaller than a
 * continuing one. `zeros` (the count of leading zeros) ascends for the value 0
 * ("0" < "00": prefix rule) and descends otherwise ("001" < "01"). All key
 * characters stay below 0x100 so V8 keeps the keys as one-byte strings.
 */
const ALPHA_END = 0x01;
const VERSION_END = 0x02;
const TOKEN_END = 0x03;
const ALPHA = 0x04;
const NUMERIC = 0x05;
/** Greater than the first character of every finite version's key. */
const INF_KEY = "\xff";

// Order-preserving, prefix-free encoding of a count. Counts below SMALL take one
// character in [0x20, 0xef]; larger counts take a 0xf0 marker and four base-SMALL
// digits, which sorts after every one-character form.
const SMALL = 0xd0;
const DIGIT_BASE = 0x20;
const LARGE_MARK = 0xf0;
const LARGE_MARK_DESC = 0x1f;
const LARGE_MAX = SMALL ** 4 - 1;

function pushLarge(out: number[], n: number): void {
  for (let div = SMALL ** 3; div >= 1; div /= SMALL) out.push(DIGIT_BASE + (Math.floor(n / div) % SMALL));
}

function pushCount(out: number[], n: number): void {
  if (n < SMALL) {
    out.push(DIGIT_BASE + n);
  } else {
    out.push(LARGE_MARK);
    pushLarge(out, n);
  }
}

/** Same as pushCount but larger counts sort first. */
function pushCountDesc(out: number[], n: number): void {
  if (n < SMALL) {
    out.push(DIGIT_BASE + SMALL - 1 - n);
  } else {
    out.push(LARGE_MARK_DESC);
    pushLarge(out, LARGE_MAX - n);
  }
}

function isDigitCode(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Rez's token characters: `[a-zA-Z0-9_]`, ASCII only. */
export function isTokenCode(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

function pushToken(out: number[], token: string): void {
  const n = token.length;
  let i = 0;
  while (i < n) {
    let j = i;
    if (isDigitCode(token.charCodeAt(i))) {
      while (j < n && isDigitCode(token.charCodeAt(j))) j++;
      let z = i;
      while (z < j && token.charCodeAt(z) === 48) z++;
      out.push(NUMERIC);
      pushCount(out, j - z);
      for (let k = z; k < j; k++) out.push(token.charCodeAt(k));
      if (z === j) pushCount(out, z - i);
      else pushCountDesc(out, z - i);
    } else {
      out.push(ALPHA);
      while (j < n && !isDigitCode(token.charCodeAt(j))) out.push(token.charCodeAt(j++));
      out.push(ALPHA_END);
    }
    i = j;
  }
  out.push(TOKEN_END);
}

/** One flat one-byte string (a `+=` chain would keep a tree of cons strings alive per version). */
function sortKeyOf(tokens: readonly string[]): string {
  const codes: number[] = [];
  for (const t of tokens) pushToken(codes, t);
  codes.push(VERSION_END);
  let key = "";
  for (let i = 0; i < codes.length; i += 8192) key += String.fromCharCode(...codes.slice(i, i + 8192));
  return key;
}

/** Interning keeps memory flat and makes repeated parses free; bounded so it cannot grow without limit. */
const CACHE_LIMIT = 200_000;
const NO_STRINGS: readonly string[] = Object.freeze([]);
const cache = new Map<string, Version>();

/**
 * A Rez version: tokens of `[a-zA-Z0-9_]` separated by single characters (`.` and
 * `-` in practice; Rez accepts any one character). Separators are cosmetic:
 * `1.0` equals `1-0`, but they are kept for printing. Immutable.
 */
export class Version {
  /** The empty version `""`, smaller than every other version. */
  static readonly EMPTY: Version = new Version(NO_STRINGS, NO_STRINGS, false, "");
  /** Rez's `Version.inf`: greater than every version, used as the open upper bound. */
  static readonly INF: Version = new Version(NO_STRINGS, NO_STRINGS, true, "[INF]");

  /** Tokens as written. */
  readonly tokens: readonly string[];
  /** Separators between tokens, as written (`seps.length === tokens.length - 1`). */
  readonly seps: readonly string[];
  private readonly inf: boolean;
  private readonly str: string;
  /** Built on first comparison: most parsed versions (a whole repository's) are never compared. */
  private key: string | undefined;

  private constructor(tokens: readonly string[], seps: readonly string[], inf: boolean, str: string) {
    this.tokens = tokens;
    this.seps = seps;
    this.inf = inf;
    this.str = str;
    this.key = inf ? INF_KEY : undefined;
  }

  /**
   * A string whose code-unit order is Rez's version order and whose equality is
   * Rez's version equality (separators ignored). Use it as a Map key for "same version".
   */
  get sortKey(): string {
    return this.key ?? (this.key = sortKeyOf(this.tokens));
  }

  /** Parse a version string exactly as Rez's `Version(str)` does; throws VersionError. */
  static parse(s: string): Version {
    const hit = cache.get(s);
    if (hit !== undefined) return hit;
    const v = s === "" ? Version.EMPTY : Version.build(s);
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(s, v);
    return v;
  }

  private static build(s: string): Version {
    const tokens: string[] = [];
    const seps: string[] = [];
    const n = s.length;
    let i = 0;
    while (i < n && !isTokenCode(s.charCodeAt(i))) i++;
    if (i === n) throw new VersionError(`invalid version '${s}': expected tokens of [a-zA-Z0-9_]`);
    if (i > 0) throw new VersionError(`invalid version syntax '${s}': it must start with a token`);
    while (i < n) {
      let j = i;
      while (j < n && isTokenCode(s.charCodeAt(j))) j++;
      const token = s.slice(i, j);
      tokens.push(token);
      if (j === n) break;
      let k = j;
      while (k < n && !isTokenCode(s.charCodeAt(k))) k++;
      const sep = s.slice(j, k);
      if (k === n) throw new VersionError(`invalid version syntax '${s}': it must end with a token`);
      // Rez measures separators in Python characters (code points).
      if (sep.length > 1 && [...sep].length > 1) {
        throw new VersionError(`invalid version syntax '${s}': separator '${sep}' must be a single character`);
      }
      seps.push(sep);
      i = k;
    }
    return new Version(Object.freeze(tokens), seps.length ? Object.freeze(seps) : NO_STRINGS, false, s);
  }

  get isInf(): boolean {
    return this.inf;
  }

  /** True for the empty version `""` (Rez: a falsy version). */
  get isEmpty(): boolean {
    return this.tokens.length === 0 && !this.inf;
  }

  get length(): number {
    return this.tokens.length;
  }

  /** Token `i` as written (major = 0, minor = 1, patch = 2); undefined when absent. */
  token(i: number): string | undefined {
    return this.tokens[i];
  }

  compare(other: Version): number {
    if (this === other) return 0;
    const a = this.sortKey;
    const b = other.sortKey;
    return a < b ? -1 : a === b ? 0 : 1;
  }

  equals(other: Version): boolean {
    return this === other || this.str === other.str || this.sortKey === other.sortKey;
  }

  lt(other: Version): boolean {
    return this.sortKey < other.sortKey;
  }

  gt(other: Version): boolean {
    return this.sortKey > other.sortKey;
  }

  /**
   * Rez's `next()`: the smallest version greater than every version that has this
   * one as a prefix: `_` appended to the last token (`1.2` -> `1.2_`). The empty
   * version and INF have no next; Rez returns INF.
   */
  next(): Version {
    if (this.tokens.length === 0) return Version.INF;
    return Version.parse(this.toString() + "_");
  }

  /** Rez's `trim(n)`: the first n tokens. */
  trim(n: number): Version {
    if (this.inf) throw new VersionError("Version.inf cannot be trimmed");
    if (n >= this.tokens.length) return this;
    if (n <= 0) return Version.EMPTY;
    let s = this.tokens[0]!;
    for (let i = 1; i < n; i++) s += this.seps[i - 1]! + this.tokens[i]!;
    return Version.parse(s);
  }

  toString(): string {
    return this.str;
  }

  toJSON(): string {
    return this.toString();
  }
}

/** Ascending Rez order, for Array.prototype.sort. */
export function compareVersions(a: Version, b: Version): number {
  return a.compare(b);
}
