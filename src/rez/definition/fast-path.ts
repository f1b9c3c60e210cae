/**
 * A fast reader for package.py files made only of comments, blank lines and
 * `NAME = <literal>` assignments: what installed packages (and the benchmark
 * repository) mostly contain. Parsing them with the full Python parser costs
 * ~0.6 ms per file, too much for repositories of tens of thousands of packages.
 *
 * The scanner accepts a strict subset: strings without escapes or prefixes
 * (plain or triple-quoted), ints, floats, True/False/None, and lists, tuples
 * and dicts of those, with comments, trailing commas and line continuations.
 * Anything else makes it give up (return undefined) and the caller uses the full
 * parser, so the result is always the same as the full path gives.
 */
import { parseNumberLiteral } from "../python/literals.js";
import { PyDict, PyFloat, PyTuple, normInt, type PyValue } from "../python/values.js";

export interface LiteralAssignments {
  /** Module-level names in first-assignment order, with their last value. */
  values: Map<string, PyValue>;
  /** Line of the last assignment of each name. */
  lines: Map<string, number>;
}

const KEYWORDS = new Set([
  "False",
  "None",
  "True",
  "and",
  "as",
  "assert",
  "async",
  "await",
  "break",
  "class",
  "continue",
  "def",
  "del",
  "elif",
  "else",
  "except",
  "finally",
  "for",
  "from",
  "global",
  "if",
  "import",
  "in",
  "is",
  "lambda",
  "nonlocal",
  "not",
  "or",
  "pass",
  "raise",
  "return",
  "try",
  "while",
  "with",
  "yield",
]);

const BAIL = Symbol("bail");
type Result = PyValue | typeof BAIL;

const NL = 10;
const SPACE = 32;
const TAB = 9;
const HASH = 35;
const BACKSLASH = 92;
const SQUOTE = 39;
const DQUOTE = 34;

function isIdentStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
}

function isIdentChar(c: number): boolean {
  return isIdentStart(c) || (c >= 48 && c <= 57);
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Scans a package.py made only of literal assignments; undefined when it is anything more. */
export function scanLiteralAssignments(text: string): LiteralAssignments | undefined {
  const s = new Scanner(text);
  return s.module();
}

class Scanner {
  private pos = 0;
  private line = 1;
  private readonly n: number;

  constructor(private readonly text: string) {
    this.n = text.length;
  }

  module(): LiteralAssignments | undefined {
    const values = new Map<string, PyValue>();
    const lines = new Map<string, number>();
    const t = this.text;
    for (;;) {
      // At the start of a line: blank lines, comment lines and indentation.
      let c = t.charCodeAt(this.pos);
      let indented = false;
      while (c === SPACE || c === TAB) {
        indented = true;
        c = t.charCodeAt(++this.pos);
      }
      if (this.pos >= this.n) break;
      if (c === HASH) {
        this.skipComment();
        continue;
      }
      if (c === NL) {
        this.pos++;
        this.line++;
        continue;
      }
      if (indented) return undefined; // an indented statement is an IndentationError: let the parser say so
      if (!isIdentStart(c)) return undefined;
      const startLine = this.line;
      const start = this.pos;
      while (isIdentChar(t.charCodeAt(this.pos))) this.pos++;
      const name = t.slice(start, this.pos);
      if (KEYWORDS.has(name)) return undefined;
      this.skipInline();
      if (t.charCodeAt(this.pos) !== 61 /* = */ || t.charCodeAt(this.pos + 1) === 61) return undefined;
      this.pos++;
      this.skipInline();
      const v = this.value();
      if (v === BAIL) return undefined;
      this.skipInline();
      c = t.charCodeAt(this.pos);
      if (c === HASH) this.skipComment();
      else if (c === NL) {
        this.pos++;
        this.line++;
      } else if (this.pos < this.n) return undefined;
      values.set(name, v);
      lines.set(name, startLine);
    }
    return { values, lines };
  }

  private skipComment(): void {
    const nl = this.text.indexOf("\n", this.pos);
    this.pos = nl < 0 ? this.n : nl;
  }

  /**
   * Spaces, tabs and backslash continuations (outside brackets). Form feeds are
   * left to the full parser, which (unlike CPython) rejects them, so that both
   * paths agree.
   */
  private skipInline(): void {
    const t = this.text;
    for (;;) {
      const c = t.charCodeAt(this.pos);
      if (c === SPACE || c === TAB) this.pos++;
      else if (c === BACKSLASH && t.charCodeAt(this.pos + 1) === NL) {
        this.pos += 2;
        this.line++;
      } else return;
    }
  }

  /** Inside brackets newlines and comments are whitespace too. */
  private skipAll(): void {
    const t = this.text;
    for (;;) {
      const c = t.charCodeAt(this.pos);
      if (c === SPACE || c === TAB) this.pos++;
      else if (c === NL) {
        this.pos++;
        this.line++;
      } else if (c === HASH) this.skipComment();
      else if (c === BACKSLASH && t.charCodeAt(this.pos + 1) === NL) {
        this.pos += 2;
        this.line++;
      } else return;
    }
  }

  private value(): Result {
    const t = this.text;
    const c = t.charCodeAt(this.pos);
    if (c === SQUOTE || c === DQUOTE) return this.string(c);
    if (c === 91 /* [ */) {
      this.pos++;
      const items = this.items(93 /* ] */);
      return items === BAIL ? BAIL : items.values;
    }
    if (c === 40 /* ( */) {
      this.pos++;
      const items = this.items(41 /* ) */);
      if (items === BAIL) return BAIL;
      // `(x)` is just x; `(x,)` and `()` are tuples.
      if (items.values.length === 1 && !items.trailingComma) return items.values[0]!;
      return new PyTuple(items.values);
    }
    if (c === 123 /* { */) {
      this.pos++;
      return this.dict();
    }
    if (isDigit(c) || (c === 46 /* . */ && isDigit(t.charCodeAt(this.pos + 1)))) return this.number();
    if (c === 45 /* - */ || c === 43 /* + */) {
      const d = t.charCodeAt(this.pos + 1);
      if (!isDigit(d) && !(d === 46 && isDigit(t.charCodeAt(this.pos + 2)))) return BAIL;
      this.pos++;
      const v = this.number();
      if (v === BAIL || c === 43) return v;
      if (typeof v === "number") return v === 0 ? 0 : -v;
      if (typeof v === "bigint") return normInt(-v);
      return new PyFloat(-(v as PyFloat).value);
    }
    if (isIdentStart(c)) {
      const start = this.pos;
      while (isIdentChar(t.charCodeAt(this.pos))) this.pos++;
      const word = t.slice(start, this.pos);
      if (word === "True") return true;
      if (word === "False") return false;
      if (word === "None") return null;
      return BAIL;
    }
    return BAIL;
  }

  private items(close: number): { values: PyValue[]; trailingComma: boolean } | typeof BAIL {
    const t = this.text;
    const values: PyValue[] = [];
    let trailingComma = false;
    for (;;) {
      this.skipAll();
      if (t.charCodeAt(this.pos) === close) {
        this.pos++;
        return { values, trailingComma };
      }
      const v = this.value();
      if (v === BAIL) return BAIL;
      values.push(v);
      this.skipAll();
      const c = t.charCodeAt(this.pos);
      if (c === 44 /* , */) {
        this.pos++;
        trailingComma = true;
        continue;
      }
      if (c === close) {
        this.pos++;
        return { values, trailingComma: false };
      }
      return BAIL;
    }
  }

  private dict(): Result {
    const t = this.text;
    const d = new PyDict();
    for (;;) {
      this.skipAll();
      if (t.charCodeAt(this.pos) === 125 /* } */) {
        this.pos++;
        return d;
      }
      const k = this.value();
      if (k === BAIL) return BAIL;
      // Only hashable literal keys; a list key is a TypeError the full path reports.
      if (Array.isArray(k) || k instanceof PyDict) return BAIL;
      this.skipAll();
      if (t.charCodeAt(this.pos) !== 58 /* : */) return BAIL; // a set display, or worse
      this.pos++;
      this.skipAll();
      const v = this.value();
      if (v === BAIL) return BAIL;
      d.set(k, v);
      this.skipAll();
      const c = t.charCodeAt(this.pos);
      if (c === 44) {
        this.pos++;
        continue;
      }
      if (c === 125) {
        this.pos++;
        return d;
      }
      return BAIL;
    }
  }

  private string(quote: number): Result {
    const t = this.text;
    const q = quote === SQUOTE ? "'" : '"';
    if (t.charCodeAt(this.pos + 1) === quote && t.charCodeAt(this.pos + 2) === quote) {
      const triple = q + q + q;
      const end = t.indexOf(triple, this.pos + 3);
      if (end < 0) return BAIL;
      const body = t.slice(this.pos + 3, end);
      if (body.includes("\\")) return BAIL;
      for (let i = body.indexOf("\n"); i >= 0; i = body.indexOf("\n", i + 1)) this.line++;
      this.pos = end + 3;
      return this.afterString(body);
    }
    const end = t.indexOf(q, this.pos + 1);
    if (end < 0) return BAIL;
    const body = t.slice(this.pos + 1, end);
    if (body.includes("\\") || body.includes("\n")) return BAIL;
    this.pos = end + 1;
    return this.afterString(body);
  }

  /** Adjacent literals concatenate in Python ('a' 'b'); leave that to the full parser. */
  private afterString(body: string): Result {
    const save = this.pos;
    const saveLine = this.line;
    this.skipInline();
    const c = this.text.charCodeAt(this.pos);
    this.pos = save;
    this.line = saveLine;
    if (c === SQUOTE || c === DQUOTE) return BAIL;
    return body;
  }

  private number(): Result {
    const t = this.text;
    const start = this.pos;
    while (this.pos < this.n) {
      const c = t.charCodeAt(this.pos);
      if (isIdentChar(c) || c === 46) this.pos++;
      else if (
        (c === 43 || c === 45) &&
        (t.charCodeAt(this.pos - 1) | 32) === 101 /* e/E */ &&
        !/^0[xX]/.test(t.slice(start, this.pos))
      )
        this.pos++;
      else break;
    }
    const v = parseNumberLiteral(t.slice(start, this.pos));
    return v === undefined ? BAIL : v;
  }
}
