/**
 * Python's `re` module over JavaScript's RegExp. The two dialects differ in
 * places that change results silently (`$` also matches before a final
 * newline in Python, `.` stops only at \n, `\s` covers \x1c-\x1f, `(?P<n>)`,
 * `{,n}`, empty matches next to a previous match), so every pattern is
 * translated construct by construct, and a construct that cannot be translated
 * exactly is refused (outsideSubset) rather than approximated:
 * verbose patterns (re.X), scoped inline flags `(?i:...)`, conditionals,
 * possessive quantifiers and atomic groups, octal escapes, `\N{...}`, `\U`, and
 * Unicode-dependent classes (\d \w \b, re.I) on non-ASCII text.
 */
import { arity, bindArgs } from "./args.js";
import { exceptionType } from "./builtins.js";
import { PyModule, moduleFunction as fn, outsideSubset } from "./modules.js";
import {
  HostObject,
  PyBuiltin,
  PyDict,
  PyException,
  PyExceptionType,
  PyExceptionValue,
  PyIterator,
  PyTuple,
  typeName,
  type CallContext,
  type PyValue,
} from "./values.js";

const I = 2;
const L = 4;
const M = 8;
const S = 16;
const U = 32;
const X = 64;
const A = 256;

const SPACE_CLASS = "\\t-\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const RE_ERROR = new PyExceptionType("error", exceptionType("Exception"));

function reError(msg: string): PyException {
  return new PyException("error", msg, new PyExceptionValue(RE_ERROR, [msg], msg));
}

interface Compiled {
  pattern: string;
  flags: number;
  source: string;
  jsFlags: string;
  groups: number;
  names: Map<string, number>;
  /** Uses \d \w \b or re.I: results on non-ASCII text may differ from Python's. */
  asciiOnly: boolean;
  regex: RegExp;
}

const cache = new Map<string, Compiled>();

/** Translates a Python pattern to a JS RegExp source, or refuses. */
export function compilePattern(pattern: string, flagsIn: number): Compiled {
  const key = `${flagsIn}\0${pattern}`;
  const hit = cache.get(key);
  if (hit) return hit;
  let flags = flagsIn;
  // Global inline flags at the start: (?aiLmsux)
  let p = pattern;
  for (;;) {
    const m = /^\(\?([aiLmsux]+)\)/.exec(p);
    if (!m) break;
    for (const c of m[1]!) flags |= { a: A, i: I, L, m: M, s: S, u: U, x: X }[c as "a"];
    p = p.slice(m[0].length);
  }
  if (flags & X) throw outsideSubset("a verbose regular expression (re.X / re.VERBOSE)");
  if (flags & L) throw outsideSubset("re.LOCALE");
  let out = "";
  let groups = 0;
  const names = new Map<string, number>();
  let asciiOnly = (flags & I) !== 0 && (flags & A) === 0;
  let i = 0;
  const n = p.length;
  const unicodeClass = () => {
    if ((flags & A) === 0) asciiOnly = true;
  };
  const escape = (inClass: boolean): string => {
    const c = p[i + 1];
    if (c === undefined) throw reError("bad escape (end of pattern)");
    i += 2;
    switch (c) {
      case "d":
      case "D":
      case "w":
      case "W":
        unicodeClass();
        return "\\" + c;
      case "b":
        if (inClass) return "\\x08";
        unicodeClass();
        return "\\b";
      case "B":
        if (inClass) throw reError("bad escape \\B");
        unicodeClass();
        return "\\B";
      case "s":
        return inClass ? SPACE_CLASS : `[${SPACE_CLASS}]`;
      case "S":
        if (inClass) throw outsideSubset("'\\S' inside a character class in a regular expression");
        return `[^${SPACE_CLASS}]`;
      case "A":
        if (inClass) throw reError("bad escape \\A");
        return "(?<![\\s\\S])";
      case "Z":
        if (inClass) throw reError("bad escape \\Z");
        return "(?![\\s\\S])";
      case "a":
        return "\\x07";
      case "n":
      case "t":
      case "r":
      case "f":
      case "v":
        return "\\" + c;
      case "x": {
        const h = p.slice(i, i + 2);
        if (!/^[0-9a-fA-F]{2}$/.test(h)) throw reError("incomplete escape \\x");
        i += 2;
        return "\\x" + h;
      }
      case "u": {
        const h = p.slice(i, i + 4);
        if (!/^[0-9a-fA-F]{4}$/.test(h)) throw reError("incomplete escape \\u");
        i += 4;
        return "\\u" + h;
      }
      case "0":
        throw outsideSubset("an octal escape in a regular expression");
      default:
        if (/[1-9]/.test(c)) {
          if (inClass) throw outsideSubset("an octal escape in a regular expression");
          let num = c;
          if (/[0-9]/.test(p[i] ?? "")) {
            num += p[i];
            i++;
          }
          if (Number(num) > groups) throw reError(`invalid group reference ${num}`);
          return `(?:\\${num})`;
        }
        if (/[A-Za-z]/.test(c))
          throw c === "N" || c === "U"
            ? outsideSubset(`'\\${c}' in a regular expression`)
            : reError(`bad escape \\${c}`);
        // Any other escaped character stands for itself.
        return /[\^$\\.*+?()[\]{}|/-]/.test(c)
          ? "\\" + c
          : c.replace(/[^\x20-\x7e]/g, (x) => `\\u${x.charCodeAt(0).toString(16).padStart(4, "0")}`);
    }
  };
  let lastAtom = false;
  while (i < n) {
    const c = p[i]!;
    if (c === "\\") {
      out += escape(false);
      lastAtom = true;
      continue;
    }
    if (c === "[") {
      let cls = "[";
      i++;
      if (p[i] === "^") {
        cls += "^";
        i++;
      }
      if (p[i] === "]") {
        cls += "\\]";
        i++;
      }
      for (;;) {
        if (i >= n)
          throw reError(`unterminated character set at position ${pattern.length - p.length + pattern.indexOf("[")}`);
        const d = p[i]!;
        if (d === "]") {
          i++;
          break;
        }
        if (d === "\\") {
          cls += escape(true);
          continue;
        }
        if (d === "[") cls += "\\[";
        else cls += d;
        i++;
      }
      out += cls + "]";
      lastAtom = true;
      continue;
    }
    if (c === "(") {
      if (p[i + 1] === "?") {
        const rest = p.slice(i + 2);
        let m: RegExpExecArray | null;
        if ((m = /^P<([A-Za-z_]\w*)>/.exec(rest))) {
          groups++;
          if (names.has(m[1]!)) throw reError(`redefinition of group name '${m[1]}'`);
          names.set(m[1]!, groups);
          out += `(?<${m[1]}>`;
          i += 2 + m[0].length;
        } else if ((m = /^P=([A-Za-z_]\w*)\)/.exec(rest))) {
          if (!names.has(m[1]!)) throw reError(`unknown group name '${m[1]}'`);
          out += `\\k<${m[1]}>`;
          i += 2 + m[0].length;
          lastAtom = true;
          continue;
        } else if (rest.startsWith(":") || rest.startsWith("=") || rest.startsWith("!")) {
          out += "(?" + rest[0];
          i += 3;
        } else if (rest.startsWith("<=") || rest.startsWith("<!")) {
          out += "(?" + rest.slice(0, 2);
          i += 4;
        } else if (/^[aiLmsux]+\)/.test(rest)) {
          throw reError(`global flags not at the start of the expression at position ${pattern.length - p.length + i}`);
        } else if (rest.startsWith("#")) {
          const end = p.indexOf(")", i);
          if (end < 0) throw reError("missing ), unterminated comment");
          i = end + 1;
          continue;
        } else {
          throw outsideSubset(
            `the regular-expression group '(?${rest.slice(0, 3)}...' (scoped flags, conditionals and atomic groups have no exact JavaScript equivalent)`,
          );
        }
      } else {
        groups++;
        out += "(";
        i++;
      }
      lastAtom = false;
      continue;
    }
    if (c === ")") {
      out += ")";
      i++;
      lastAtom = true;
      continue;
    }
    if (c === "*" || c === "+" || c === "?" || c === "{") {
      let q = c;
      if (c === "{") {
        const m = /^\{(\d*)(?:(,)(\d*))?\}/.exec(p.slice(i));
        if (!m || (m[1] === "" && m[2] === undefined)) {
          // Not a quantifier: a literal brace, in Python as in JavaScript.
          out += "\\{";
          i++;
          lastAtom = true;
          continue;
        }
        q = `{${m[1] || "0"}${m[2] ?? ""}${m[3] ?? ""}}`;
        i += m[0].length;
      } else {
        i++;
      }
      if (!lastAtom) throw reError("nothing to repeat");
      if (p[i] === "?") {
        q += "?";
        i++;
      } else if (p[i] === "+") {
        throw outsideSubset("a possessive quantifier in a regular expression");
      }
      out += q;
      lastAtom = false;
      continue;
    }
    if (c === ".") {
      out += flags & S ? "[\\s\\S]" : "[^\\n]";
      i++;
      lastAtom = true;
      continue;
    }
    if (c === "^") {
      out += flags & M ? "(?<![^\\n])" : "(?<![\\s\\S])";
      i++;
      lastAtom = false;
      continue;
    }
    if (c === "$") {
      out += flags & M ? "(?=\\n|(?![\\s\\S]))" : "(?=\\n?(?![\\s\\S]))";
      i++;
      lastAtom = false;
      continue;
    }
    if (c === "|") {
      out += "|";
      i++;
      lastAtom = false;
      continue;
    }
    if (c === "/" || c === "}" || c === "]") out += "\\" + c;
    else if (c.charCodeAt(0) > 0x7e || c.charCodeAt(0) < 0x20)
      out += `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
    else out += c;
    i++;
    lastAtom = true;
  }
  if (/[\ud800-\udfff]/.test(pattern))
    throw outsideSubset("a regular expression with characters outside the Basic Multilingual Plane");
  const jsFlags = "dg" + (flags & I ? "i" : "");
  let regex: RegExp;
  try {
    regex = new RegExp(out, jsFlags);
  } catch (err) {
    throw reError((err as Error).message);
  }
  const compiled: Compiled = {
    pattern,
    flags: flagsIn | (flags & ~flagsIn) | (flags & A ? 0 : U),
    source: out,
    jsFlags,
    groups,
    names,
    asciiOnly,
    regex,
  };
  if (cache.size > 256) cache.clear();
  cache.set(key, compiled);
  return compiled;
}

/** A match as Python sees it: group spans by number. */
class Match extends HostObject {
  readonly pyTypeName = "re.Match";
  constructor(
    readonly re: Compiled,
    readonly string: string,
    readonly spans: ([number, number] | undefined)[],
    private readonly patternObject: PyValue,
  ) {
    super();
  }

  private index(g: PyValue): number {
    if (typeof g === "number" && g >= 0 && g <= this.re.groups) return g;
    if (typeof g === "string" && this.re.names.has(g)) return this.re.names.get(g)!;
    throw new PyException("IndexError", "no such group");
  }

  group(g: PyValue): PyValue {
    return this.groupText(g);
  }

  /** The group's text, or null when it did not take part in the match. */
  groupText(g: PyValue): string | null {
    const s = this.spans[this.index(g)];
    return s ? this.string.slice(s[0], s[1]) : null;
  }

  override getItem(key: PyValue): PyValue {
    return this.group(key);
  }

  override getAttr(name: string): PyValue | undefined {
    switch (name) {
      case "group":
        return new PyBuiltin("group", (args) => {
          if (args.length <= 1) return this.group(args[0] ?? 0);
          return new PyTuple(args.map((a) => this.group(a)));
        });
      case "groups":
        return new PyBuiltin("groups", (args, kwargs) => {
          const [d] = bindArgs("groups", args, kwargs, ["default"]);
          const out: PyValue[] = [];
          for (let g = 1; g <= this.re.groups; g++) out.push(this.group(g) ?? d ?? null);
          return new PyTuple(out);
        });
      case "groupdict":
        return new PyBuiltin("groupdict", (args, kwargs) => {
          const [d] = bindArgs("groupdict", args, kwargs, ["default"]);
          const out = new PyDict();
          for (const [k, g] of this.re.names) out.set(k, this.group(g) ?? d ?? null);
          return out;
        });
      case "start":
      case "end":
      case "span":
        return new PyBuiltin(name, (args) => {
          arity(name, args, 0, 1);
          const s = this.spans[this.index(args[0] ?? 0)];
          const [a, b] = s ?? [-1, -1];
          return name === "start" ? a : name === "end" ? b : new PyTuple([a, b]);
        });
      case "string":
        return this.string;
      case "re":
        return this.patternObject;
      case "pos":
        return 0;
      case "endpos":
        return this.string.length;
      case "lastindex": {
        let last: number | null = null;
        let lastEnd = -1;
        for (let g = 1; g <= this.re.groups; g++) {
          const s = this.spans[g];
          if (s && s[1] >= lastEnd) {
            last = g;
            lastEnd = s[1];
          }
        }
        return last;
      }
      default:
        return undefined;
    }
  }

  override repr(ctx: CallContext): string {
    const s = this.spans[0]!;
    return `<re.Match object; span=(${s[0]}, ${s[1]}), match=${ctx.repr(this.string.slice(s[0], s[1]))}>`;
  }
}

function checkText(re: Compiled, s: string): void {
  if (/[\ud800-\udfff]/.test(s))
    throw outsideSubset("a regular expression applied to characters outside the Basic Multilingual Plane");
  // eslint-disable-next-line no-control-regex
  if (re.asciiOnly && /[^\x00-\x7f]/.test(s))
    throw outsideSubset(
      `the regular expression ${JSON.stringify(re.pattern)} on non-ASCII text (Python's Unicode \\d, \\w, \\b and re.I differ from JavaScript's)`,
    );
}

function spansOf(m: RegExpExecArray, groups: number): ([number, number] | undefined)[] {
  const out: ([number, number] | undefined)[] = [];
  for (let g = 0; g <= groups; g++) out.push(m.indices![g]);
  return out;
}

/** Python's (sre) search from `pos`; with `nonEmptyAt`, an empty match at that position is not accepted. */
function searchAt(re: Compiled, s: string, pos: number, nonEmptyAt: number): RegExpExecArray | null {
  if (nonEmptyAt >= 0) {
    // A match starting at nonEmptyAt must end after it: backtracking finds the non-empty alternative Python finds.
    const forced = new RegExp(`(?:${re.source})(?<=^[\\s\\S]{${nonEmptyAt + 1},})`, re.jsFlags.replace("g", "y"));
    forced.lastIndex = nonEmptyAt;
    const m = forced.exec(s);
    if (m) return m;
    if (nonEmptyAt + 1 > s.length) return null;
    pos = nonEmptyAt + 1;
  }
  re.regex.lastIndex = pos;
  return re.regex.exec(s);
}

/** Every match, with Python 3.7+'s rules for empty matches. */
function* allMatches(re: Compiled, s: string, ctx: CallContext): Generator<RegExpExecArray> {
  let pos = 0;
  let mustAdvance = -1;
  while (pos <= s.length) {
    ctx.step();
    const m = searchAt(re, s, pos, mustAdvance);
    if (!m) return;
    yield m;
    const end = m.index + m[0].length;
    mustAdvance = m[0].length === 0 ? end : -1;
    pos = end;
  }
}

function anchored(re: Compiled, s: string, full: boolean): RegExpExecArray | null {
  const r = new RegExp(full ? `(?:${re.source})(?![\\s\\S])` : re.source, re.jsFlags.replace("g", "y"));
  r.lastIndex = 0;
  return r.exec(s);
}

function expandTemplate(template: string, m: Match): string {
  let out = "";
  for (let i = 0; i < template.length; i++) {
    const c = template[i]!;
    if (c !== "\\") {
      out += c;
      continue;
    }
    const d = template[i + 1];
    if (d === undefined) throw reError("bad escape (end of pattern)");
    i++;
    if (d === "g") {
      const mm = /^<([^>]*)>/.exec(template.slice(i + 1));
      if (!mm) throw reError("missing <");
      const g = /^\d+$/.test(mm[1]!) ? Number(mm[1]) : mm[1]!;
      out += m.groupText(g) ?? "";
      i += mm[0].length;
    } else if (/[0-9]/.test(d)) {
      if (d === "0") throw outsideSubset("an octal escape in a replacement string");
      let num = d;
      if (/[0-9]/.test(template[i + 1] ?? "")) {
        num += template[i + 1];
        i++;
      }
      out += m.groupText(Number(num)) ?? "";
    } else {
      const simple: Record<string, string> = {
        n: "\n",
        t: "\t",
        r: "\r",
        f: "\f",
        v: "\v",
        a: "\x07",
        b: "\b",
        "\\": "\\",
      };
      if (simple[d] !== undefined) out += simple[d];
      else if (/[A-Za-z]/.test(d)) throw reError(`bad escape \\${d}`);
      else out += "\\" + d;
    }
  }
  return out;
}

function strArg(fname: string, v: PyValue | undefined, what: string): string {
  if (typeof v === "string") return v;
  throw new PyException("TypeError", `${fname}() ${what} must be str, not ${typeName(v ?? null)}`);
}

function intArg(v: PyValue | undefined, d: number): number {
  if (v === undefined || v === null) return d;
  if (typeof v === "number") return v;
  if (typeof v === "boolean") return v ? 1 : 0;
  throw new PyException("TypeError", `an integer is required, not ${typeName(v)}`);
}

class Pattern extends HostObject {
  readonly pyTypeName = "re.Pattern";
  constructor(readonly re: Compiled) {
    super();
  }

  match(kind: "match" | "fullmatch" | "search", s: string): PyValue {
    checkText(this.re, s);
    const m = kind === "search" ? searchAt(this.re, s, 0, -1) : anchored(this.re, s, kind === "fullmatch");
    return m ? new Match(this.re, s, spansOf(m, this.re.groups), this) : null;
  }

  findall(s: string, ctx: CallContext): PyValue[] {
    checkText(this.re, s);
    const out: PyValue[] = [];
    for (const m of allMatches(this.re, s, ctx)) {
      const spans = spansOf(m, this.re.groups);
      const text = (g: number) => (spans[g] ? s.slice(spans[g][0], spans[g][1]) : "");
      if (this.re.groups === 0) out.push(text(0));
      else if (this.re.groups === 1) out.push(text(1));
      else out.push(new PyTuple(Array.from({ length: this.re.groups }, (_, k) => text(k + 1))));
    }
    return out;
  }

  finditer(s: string, ctx: CallContext): PyIterator {
    checkText(this.re, s);
    const self = this;
    function* matches(): Generator<PyValue> {
      for (const m of allMatches(self.re, s, ctx)) yield new Match(self.re, s, spansOf(m, self.re.groups), self);
    }
    return new PyIterator("callable_iterator", matches());
  }

  sub(repl: PyValue, s: string, count: number, ctx: CallContext): [string, number] {
    checkText(this.re, s);
    let out = "";
    let last = 0;
    let n = 0;
    for (const m of allMatches(this.re, s, ctx)) {
      if (count > 0 && n >= count) break;
      const match = new Match(this.re, s, spansOf(m, this.re.groups), this);
      let r: string;
      if (typeof repl === "string") r = expandTemplate(repl, match);
      else {
        const v = ctx.call(repl, [match]);
        if (typeof v !== "string") throw new PyException("TypeError", `expected str instance, ${typeName(v)} found`);
        r = v;
      }
      out += s.slice(last, m.index) + r;
      last = m.index + m[0].length;
      n++;
    }
    return [out + s.slice(last), n];
  }

  split(s: string, maxsplit: number, ctx: CallContext): PyValue[] {
    checkText(this.re, s);
    const out: PyValue[] = [];
    let last = 0;
    let n = 0;
    for (const m of allMatches(this.re, s, ctx)) {
      if (maxsplit > 0 && n >= maxsplit) break;
      out.push(s.slice(last, m.index));
      const spans = spansOf(m, this.re.groups);
      for (let g = 1; g <= this.re.groups; g++) out.push(spans[g] ? s.slice(spans[g]![0], spans[g]![1]) : null);
      last = m.index + m[0].length;
      n++;
    }
    out.push(s.slice(last));
    return out;
  }

  override getAttr(name: string): PyValue | undefined {
    switch (name) {
      case "pattern":
        return this.re.pattern;
      case "flags":
        return this.re.flags;
      case "groups":
        return this.re.groups;
      case "groupindex":
        return PyDict.from([...this.re.names]);
      case "match":
      case "fullmatch":
      case "search":
        return new PyBuiltin(name, (args, kwargs) => {
          const [s, pos, endpos] = bindArgs(name, args, kwargs, ["string", "pos", "endpos"], 1);
          if (pos !== undefined || endpos !== undefined) throw outsideSubset(`Pattern.${name}() with pos/endpos`);
          return this.match(name, strArg(name, s, "argument"));
        });
      case "findall":
        return new PyBuiltin(name, (args, kwargs, ctx) => {
          const [s, pos, endpos] = bindArgs(name, args, kwargs, ["string", "pos", "endpos"], 1);
          if (pos !== undefined || endpos !== undefined) throw outsideSubset(`Pattern.${name}() with pos/endpos`);
          return this.findall(strArg(name, s, "argument"), ctx);
        });
      case "finditer":
        return new PyBuiltin(name, (args, kwargs, ctx) => {
          const [s, pos, endpos] = bindArgs(name, args, kwargs, ["string", "pos", "endpos"], 1);
          if (pos !== undefined || endpos !== undefined) throw outsideSubset(`Pattern.${name}() with pos/endpos`);
          return this.finditer(strArg(name, s, "argument"), ctx);
        });
      case "sub":
      case "subn":
        return new PyBuiltin(name, (args, kwargs, ctx) => {
          const [repl, s, count] = bindArgs(name, args, kwargs, ["repl", "string", "count"], 2);
          const [r, k] = this.sub(repl!, strArg(name, s, "argument"), intArg(count, 0), ctx);
          return name === "sub" ? r : new PyTuple([r, k]);
        });
      case "split":
        return new PyBuiltin(name, (args, kwargs, ctx) => {
          const [s, maxsplit] = bindArgs(name, args, kwargs, ["string", "maxsplit"], 1);
          return this.split(strArg(name, s, "argument"), intArg(maxsplit, 0), ctx);
        });
      default:
        return undefined;
    }
  }

  override repr(ctx: CallContext): string {
    const names: [number, string][] = [
      [I, "IGNORECASE"],
      [L, "LOCALE"],
      [M, "MULTILINE"],
      [S, "DOTALL"],
      [X, "VERBOSE"],
      [A, "ASCII"],
    ];
    const shown = names.filter(([f]) => this.re.flags & f).map(([, n]) => `re.${n}`);
    return `re.compile(${ctx.repr(this.re.pattern)}${shown.length ? ", " + shown.join("|") : ""})`;
  }

  override equals(other: PyValue): boolean {
    return other instanceof Pattern && other.re.pattern === this.re.pattern && other.re.flags === this.re.flags;
  }
}

function patternOf(p: PyValue | undefined, flags: PyValue | undefined, fname: string): Pattern {
  if (p instanceof Pattern) {
    if (intArg(flags, 0) !== 0)
      throw new PyException("ValueError", "cannot process flags argument with a compiled pattern");
    return p;
  }
  if (typeof p !== "string")
    throw new PyException("TypeError", `${fname}(): first argument must be string or compiled pattern`);
  return new Pattern(compilePattern(p, intArg(flags, 0)));
}

const SPECIAL = new Set("()[]{}?*+-|^$\\.&~# \t\n\r\v\f");

/** The `re` module. */
export function reModule(): PyModule {
  return new PyModule("re", {
    I,
    IGNORECASE: I,
    M,
    MULTILINE: M,
    S,
    DOTALL: S,
    A,
    ASCII: A,
    U,
    UNICODE: U,
    X,
    VERBOSE: X,
    L,
    LOCALE: L,
    error: RE_ERROR,
    compile: fn("compile", (args, kwargs) => {
      const [p, flags] = bindArgs("compile", args, kwargs, ["pattern", "flags"], 1);
      return patternOf(p, flags, "compile");
    }),
    match: fn("match", (args, kwargs) => {
      const [p, s, flags] = bindArgs("match", args, kwargs, ["pattern", "string", "flags"], 2);
      return patternOf(p, flags, "match").match("match", strArg("match", s, "argument 'string'"));
    }),
    fullmatch: fn("fullmatch", (args, kwargs) => {
      const [p, s, flags] = bindArgs("fullmatch", args, kwargs, ["pattern", "string", "flags"], 2);
      return patternOf(p, flags, "fullmatch").match("fullmatch", strArg("fullmatch", s, "argument 'string'"));
    }),
    search: fn("search", (args, kwargs) => {
      const [p, s, flags] = bindArgs("search", args, kwargs, ["pattern", "string", "flags"], 2);
      return patternOf(p, flags, "search").match("search", strArg("search", s, "argument 'string'"));
    }),
    findall: fn("findall", (args, kwargs, ctx) => {
      const [p, s, flags] = bindArgs("findall", args, kwargs, ["pattern", "string", "flags"], 2);
      return patternOf(p, flags, "findall").findall(strArg("findall", s, "argument 'string'"), ctx);
    }),
    finditer: fn("finditer", (args, kwargs, ctx) => {
      const [p, s, flags] = bindArgs("finditer", args, kwargs, ["pattern", "string", "flags"], 2);
      return patternOf(p, flags, "finditer").finditer(strArg("finditer", s, "argument 'string'"), ctx);
    }),
    sub: fn("sub", (args, kwargs, ctx) => {
      const [p, repl, s, count, flags] = bindArgs(
        "sub",
        args,
        kwargs,
        ["pattern", "repl", "string", "count", "flags"],
        3,
      );
      return patternOf(p, flags, "sub").sub(repl!, strArg("sub", s, "argument 'string'"), intArg(count, 0), ctx)[0];
    }),
    subn: fn("subn", (args, kwargs, ctx) => {
      const [p, repl, s, count, flags] = bindArgs(
        "subn",
        args,
        kwargs,
        ["pattern", "repl", "string", "count", "flags"],
        3,
      );
      const [r, k] = patternOf(p, flags, "subn").sub(
        repl!,
        strArg("subn", s, "argument 'string'"),
        intArg(count, 0),
        ctx,
      );
      return new PyTuple([r, k]);
    }),
    split: fn("split", (args, kwargs, ctx) => {
      const [p, s, maxsplit, flags] = bindArgs("split", args, kwargs, ["pattern", "string", "maxsplit", "flags"], 2);
      return patternOf(p, flags, "split").split(strArg("split", s, "argument 'string'"), intArg(maxsplit, 0), ctx);
    }),
    escape: fn("escape", (args, kwargs) => {
      const [s] = bindArgs("escape", args, kwargs, ["pattern"], 1);
      return [...strArg("escape", s, "argument")].map((c) => (SPECIAL.has(c) ? "\\" + c : c)).join("");
    }),
  });
}

let shared: PyModule | undefined;

/** Resolves `import re` (one module object for all evaluations: it holds no state package code can change). */
export const reImporter = (name: string): PyModule | undefined => (name === "re" ? (shared ??= reModule()) : undefined);
