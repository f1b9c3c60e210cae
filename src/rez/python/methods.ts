/**
 * Methods of the built-in value types (str, list, dict, set, tuple, float),
 * returned as bound PyBuiltin objects by attribute access.
 */
import { allocate } from "./budget.js";
import { arity, bindArgs, noKwargs } from "./args.js";
import { argsLookup, formatTemplate } from "./format.js";
import { codePoints, iterate, orderCompare, updateDictFromPairs, strLength } from "./ops.js";
import {
  PyBuiltin,
  PyDict,
  PyDictView,
  PyException,
  PyFloat,
  PySet,
  PyTuple,
  pyEquals,
  typeName,
  type CallContext,
  type PyValue,
} from "./values.js";

type Method<T> = (self: T, args: PyValue[], kwargs: Map<string, PyValue>, ctx: CallContext) => PyValue;

/** Python's str.isspace() characters. */
const WS = "\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const WS_RUN = new RegExp(`[${WS}]+`, "u");
const IS_WS = new RegExp(`^[${WS}]+$`, "u");
// eslint-disable-next-line no-control-regex -- Python's str.splitlines() breaks at these control characters
const LINE_BREAK = /\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/;

function str(v: PyValue | undefined, fname: string, argn = 1): string {
  if (typeof v !== "string")
    throw new PyException("TypeError", `${fname}() argument ${argn} must be str, not ${typeName(v ?? null)}`);
  return v;
}

function optInt(v: PyValue | undefined, dflt: number): number {
  if (v === undefined || v === null) return dflt;
  if (typeof v === "number") return v;
  if (typeof v === "boolean") return v ? 1 : 0;
  throw new PyException("TypeError", `'${typeName(v)}' object cannot be interpreted as an integer`);
}

function cpOffset(s: string, cps: string[] | undefined, unit: number): number {
  if (!cps || unit < 0) return unit;
  return [...s.slice(0, unit)].length;
}

/** Python's start/end arguments of find/count/startswith, resolved to a code point range. */
function range(len: number, start: PyValue | undefined, end: PyValue | undefined): [number, number] {
  let a = optInt(start, 0);
  let b = optInt(end, len);
  if (a < 0) a = Math.max(0, a + len);
  if (b < 0) b = Math.max(0, b + len);
  if (b > len) b = len;
  return [a, b];
}

function subRange(
  s: string,
  start: PyValue | undefined,
  end: PyValue | undefined,
): { text: string; offset: number; cps?: string[]; valid: boolean } {
  const cps = codePoints(s);
  const len = cps ? cps.length : s.length;
  const [a, b] = range(len, start, end);
  if (a > len) return { text: "", offset: a, cps, valid: false };
  const text = cps ? cps.slice(a, Math.max(a, b)).join("") : s.slice(a, Math.max(a, b));
  return { text, offset: a, cps, valid: true };
}

function find(s: string, args: PyValue[], fname: string, reverse: boolean): number {
  arity(fname, args, 1, 3);
  const sub = str(args[0], fname);
  const r = subRange(s, args[1], args[2]);
  if (!r.valid) return -1;
  const idx = reverse ? r.text.lastIndexOf(sub) : r.text.indexOf(sub);
  if (idx < 0) return -1;
  return r.offset + cpOffset(r.text, codePoints(r.text), idx);
}

function countSub(s: string, sub: string): number {
  if (sub === "") return strLength(s) + 1;
  let n = 0;
  let i = s.indexOf(sub);
  while (i >= 0) {
    n++;
    i = s.indexOf(sub, i + sub.length);
  }
  return n;
}

function stripChars(s: string, chars: PyValue | undefined, left: boolean, right: boolean, fname: string): string {
  let set: Set<string> | undefined;
  if (chars !== undefined && chars !== null) set = new Set(Array.from(str(chars, fname)));
  const cps = Array.from(s);
  let a = 0;
  let b = cps.length;
  const strip = (ch: string): boolean => (set ? set.has(ch) : IS_WS.test(ch));
  if (left) while (a < b && strip(cps[a]!)) a++;
  if (right) while (b > a && strip(cps[b - 1]!)) b--;
  return cps.slice(a, b).join("");
}

function splitWhitespace(s: string, maxsplit: number): string[] {
  const out: string[] = [];
  let rest = s.replace(new RegExp(`^[${WS}]+`, "u"), "");
  while (rest.length > 0) {
    if (maxsplit >= 0 && out.length === maxsplit) {
      out.push(rest);
      break;
    }
    const m = WS_RUN.exec(rest);
    if (!m) {
      out.push(rest);
      break;
    }
    out.push(rest.slice(0, m.index));
    rest = rest.slice(m.index + m[0].length);
  }
  return out;
}

function rsplitWhitespace(s: string, maxsplit: number): string[] {
  if (maxsplit < 0) return splitWhitespace(s, -1);
  const out: string[] = [];
  let rest = s.replace(new RegExp(`[${WS}]+$`, "u"), "");
  const tail = new RegExp(`[${WS}]+([^${WS}]*)$`, "u");
  while (rest.length > 0) {
    if (out.length === maxsplit) {
      out.unshift(rest);
      break;
    }
    const m = tail.exec(rest);
    if (!m) {
      out.unshift(rest);
      break;
    }
    out.unshift(m[1]!);
    rest = rest.slice(0, m.index);
  }
  return out;
}

function splitSep(s: string, sep: string, maxsplit: number): string[] {
  if (sep === "") throw new PyException("ValueError", "empty separator");
  const parts = s.split(sep);
  if (maxsplit < 0 || parts.length - 1 <= maxsplit) return parts;
  return [...parts.slice(0, maxsplit), parts.slice(maxsplit).join(sep)];
}

function rsplitSep(s: string, sep: string, maxsplit: number): string[] {
  if (sep === "") throw new PyException("ValueError", "empty separator");
  const parts = s.split(sep);
  if (maxsplit < 0 || parts.length - 1 <= maxsplit) return parts;
  const keep = parts.length - maxsplit;
  return [parts.slice(0, keep).join(sep), ...parts.slice(keep)];
}

/** Characters whose titlecase differs from their uppercase (the DŽ, LJ, NJ, DZ digraphs). */
const TITLECASE: Record<string, string> = {
  "\u01c4": "\u01c5",
  "\u01c5": "\u01c5",
  "\u01c6": "\u01c5",
  "\u01c7": "\u01c8",
  "\u01c8": "\u01c8",
  "\u01c9": "\u01c8",
  "\u01ca": "\u01cb",
  "\u01cb": "\u01cb",
  "\u01cc": "\u01cb",
  "\u01f1": "\u01f2",
  "\u01f2": "\u01f2",
  "\u01f3": "\u01f2",
};

function toTitle(ch: string): string {
  return TITLECASE[ch] ?? ch.toUpperCase();
}

function isCased(ch: string): boolean {
  return ch.toLowerCase() !== ch.toUpperCase();
}

function justify(s: string, args: PyValue[], fname: string, where: "l" | "r" | "c"): string {
  arity(fname, args, 1, 2);
  const width = optInt(args[0], 0);
  const fill = args[1] === undefined ? " " : str(args[1], fname, 2);
  if (strLength(fill) !== 1)
    throw new PyException("TypeError", "The fill character must be exactly one character long");
  const len = strLength(s);
  if (width <= len) return s;
  const n = width - len;
  allocate(n);
  if (where === "l") return s + fill.repeat(n);
  if (where === "r") return fill.repeat(n) + s;
  // CPython's center puts the extra character on the left when both the padding and the width are odd.
  const left = Math.floor(n / 2) + (n & width & 1);
  return fill.repeat(left) + s + fill.repeat(n - left);
}

function joinItems(sep: string, iterable: PyValue, ctx: CallContext): string {
  const parts: string[] = [];
  let i = 0;
  for (const item of iterate(iterable, ctx)) {
    if (typeof item !== "string")
      throw new PyException("TypeError", `sequence item ${i}: expected str instance, ${typeName(item)} found`);
    parts.push(item);
    i++;
  }
  return parts.join(sep);
}

function prefixMatch(s: string, args: PyValue[], fname: string, atEnd: boolean): boolean {
  arity(fname, args, 1, 3);
  const r = subRange(s, args[1], args[2]);
  const test = (p: PyValue): boolean => {
    if (typeof p !== "string") {
      throw new PyException("TypeError", `${fname} first arg must be str or a tuple of str, not ${typeName(p)}`);
    }
    if (!r.valid) return false;
    return atEnd ? r.text.endsWith(p) : r.text.startsWith(p);
  };
  const what = args[0]!;
  if (what instanceof PyTuple) return what.items.some(test);
  return test(what);
}

const STR_METHODS: Record<string, Method<string>> = {
  split(s, args, kwargs) {
    const [sep, max] = bindArgs("split", args, kwargs, ["sep", "maxsplit"]);
    const maxsplit = optInt(max, -1);
    return sep === undefined || sep === null ? splitWhitespace(s, maxsplit) : splitSep(s, str(sep, "split"), maxsplit);
  },
  rsplit(s, args, kwargs) {
    const [sep, max] = bindArgs("rsplit", args, kwargs, ["sep", "maxsplit"]);
    const maxsplit = optInt(max, -1);
    return sep === undefined || sep === null
      ? rsplitWhitespace(s, maxsplit)
      : rsplitSep(s, str(sep, "rsplit"), maxsplit);
  },
  splitlines(s, args, kwargs) {
    const [keep] = bindArgs("splitlines", args, kwargs, ["keepends"]);
    const out: string[] = [];
    let rest = s;
    while (rest.length > 0) {
      const m = LINE_BREAK.exec(rest);
      if (!m) {
        out.push(rest);
        break;
      }
      out.push(
        keep === true || (typeof keep === "number" && keep !== 0)
          ? rest.slice(0, m.index + m[0].length)
          : rest.slice(0, m.index),
      );
      rest = rest.slice(m.index + m[0].length);
    }
    return out;
  },
  join(s, args, kwargs, ctx) {
    noKwargs("join", kwargs);
    arity("join", args, 1, 1);
    return joinItems(s, args[0]!, ctx);
  },
  replace(s, args, kwargs) {
    noKwargs("replace", kwargs);
    arity("replace", args, 2, 3);
    const old = str(args[0], "replace");
    const rep = str(args[1], "replace", 2);
    const count = optInt(args[2], -1);
    if (count < 0) {
      if (old === "")
        return (codePoints(s) ?? [...s]).length === 0 ? rep : rep + (codePoints(s) ?? s.split("")).join(rep) + rep;
      return s.split(old).join(rep);
    }
    if (old === "") {
      const cps = Array.from(s);
      let out = "";
      let n = 0;
      for (let i = 0; i <= cps.length; i++) {
        if (n < count) {
          out += rep;
          n++;
        }
        if (i < cps.length) out += cps[i];
      }
      return out;
    }
    const parts = s.split(old);
    if (parts.length - 1 <= count) return parts.join(rep);
    return parts.slice(0, count + 1).join(rep) + old + parts.slice(count + 1).join(old);
  },
  startswith(s, args, kwargs) {
    noKwargs("startswith", kwargs);
    return prefixMatch(s, args, "startswith", false);
  },
  endswith(s, args, kwargs) {
    noKwargs("endswith", kwargs);
    return prefixMatch(s, args, "endswith", true);
  },
  strip(s, args) {
    arity("strip", args, 0, 1);
    return stripChars(s, args[0], true, true, "strip");
  },
  lstrip(s, args) {
    arity("lstrip", args, 0, 1);
    return stripChars(s, args[0], true, false, "lstrip");
  },
  rstrip(s, args) {
    arity("rstrip", args, 0, 1);
    return stripChars(s, args[0], false, true, "rstrip");
  },
  lower: (s, args) => (arity("lower", args, 0, 0), s.toLowerCase()),
  upper: (s, args) => (arity("upper", args, 0, 0), s.toUpperCase()),
  casefold: (s, args) => (arity("casefold", args, 0, 0), s.toLowerCase().replace(/ß/g, "ss")),
  swapcase(s, args) {
    arity("swapcase", args, 0, 0);
    let out = "";
    for (const ch of s) out += ch === ch.toUpperCase() ? ch.toLowerCase() : ch.toUpperCase();
    return out;
  },
  capitalize(s, args) {
    arity("capitalize", args, 0, 0);
    const cps = Array.from(s);
    if (cps.length === 0) return "";
    return toTitle(cps[0]!) + cps.slice(1).join("").toLowerCase();
  },
  title(s, args) {
    arity("title", args, 0, 0);
    let out = "";
    let prevCased = false;
    for (const ch of s) {
      out += prevCased ? ch.toLowerCase() : toTitle(ch);
      prevCased = isCased(ch);
    }
    return out;
  },
  find: (s, args) => find(s, args, "find", false),
  rfind: (s, args) => find(s, args, "rfind", true),
  index(s, args) {
    const i = find(s, args, "index", false);
    if (i < 0) throw new PyException("ValueError", "substring not found");
    return i;
  },
  rindex(s, args) {
    const i = find(s, args, "rindex", true);
    if (i < 0) throw new PyException("ValueError", "substring not found");
    return i;
  },
  count(s, args) {
    arity("count", args, 1, 3);
    const r = subRange(s, args[1], args[2]);
    if (!r.valid) return 0;
    return countSub(r.text, str(args[0], "count"));
  },
  isdigit: (s) => s.length > 0 && /^[\p{Nd}\u00b2\u00b3\u00b9\u2070-\u2079\u2080-\u2089]+$/u.test(s),
  isdecimal: (s) => s.length > 0 && /^\p{Nd}+$/u.test(s),
  isnumeric: (s) => s.length > 0 && /^\p{N}+$/u.test(s),
  isalpha: (s) => s.length > 0 && /^\p{L}+$/u.test(s),
  isalnum: (s) => s.length > 0 && /^[\p{L}\p{N}]+$/u.test(s),
  isspace: (s) => s.length > 0 && IS_WS.test(s),
  isupper: (s) => s.toUpperCase() === s && s.toLowerCase() !== s,
  islower: (s) => s.toLowerCase() === s && s.toUpperCase() !== s,
  isidentifier: (s) => /^[\p{L}\p{Nl}_][\p{L}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}]*$/u.test(s),
  istitle(s) {
    let cased = false;
    let prevCased = false;
    for (const ch of s) {
      if (isCased(ch)) {
        const upper = ch === ch.toUpperCase();
        if (upper === prevCased) return false;
        prevCased = true;
        cased = true;
      } else prevCased = false;
    }
    return cased;
  },
  partition(s, args) {
    arity("partition", args, 1, 1);
    const sep = str(args[0], "partition");
    if (sep === "") throw new PyException("ValueError", "empty separator");
    const i = s.indexOf(sep);
    return i < 0 ? new PyTuple([s, "", ""]) : new PyTuple([s.slice(0, i), sep, s.slice(i + sep.length)]);
  },
  rpartition(s, args) {
    arity("rpartition", args, 1, 1);
    const sep = str(args[0], "rpartition");
    if (sep === "") throw new PyException("ValueError", "empty separator");
    const i = s.lastIndexOf(sep);
    return i < 0 ? new PyTuple(["", "", s]) : new PyTuple([s.slice(0, i), sep, s.slice(i + sep.length)]);
  },
  zfill(s, args) {
    arity("zfill", args, 1, 1);
    const width = optInt(args[0], 0);
    const len = strLength(s);
    if (width <= len) return s;
    const sign = s[0] === "+" || s[0] === "-" ? s[0] : "";
    return sign + "0".repeat(width - len) + s.slice(sign.length);
  },
  center: (s, args) => justify(s, args, "center", "c"),
  ljust: (s, args) => justify(s, args, "ljust", "l"),
  rjust: (s, args) => justify(s, args, "rjust", "r"),
  expandtabs(s, args, kwargs) {
    const [ts] = bindArgs("expandtabs", args, kwargs, ["tabsize"]);
    const tabsize = optInt(ts, 8);
    let out = "";
    let col = 0;
    for (const ch of s) {
      if (ch === "\t") {
        if (tabsize > 0) {
          const n = tabsize - (col % tabsize);
          out += " ".repeat(n);
          col += n;
        }
      } else {
        out += ch;
        col = ch === "\n" || ch === "\r" ? 0 : col + 1;
      }
    }
    return out;
  },
  removeprefix(s, args) {
    arity("removeprefix", args, 1, 1);
    const p = str(args[0], "removeprefix");
    return p !== "" && s.startsWith(p) ? s.slice(p.length) : s;
  },
  removesuffix(s, args) {
    arity("removesuffix", args, 1, 1);
    const p = str(args[0], "removesuffix");
    return p !== "" && s.endsWith(p) ? s.slice(0, s.length - p.length) : s;
  },
  format: (s, args, kwargs, ctx) => formatTemplate(s, argsLookup(args, kwargs), ctx),
  format_map(s, args, _kwargs, ctx) {
    arity("format_map", args, 1, 1);
    const mapping = args[0]!;
    return formatTemplate(
      s,
      (key) => {
        if (typeof key === "number") throw new PyException("ValueError", "Format string contains positional fields");
        return ctx.getItem(mapping, key);
      },
      ctx,
    );
  },
};

function listIndex(list: readonly PyValue[], args: PyValue[], ctx: CallContext): number {
  arity("index", args, 1, 3);
  const [a, b] = range(list.length, args[1], args[2]);
  for (let i = a; i < b; i++) if (pyEquals(list[i]!, args[0]!)) return i;
  throw new PyException("ValueError", `${ctx.repr(args[0]!)} is not in list`);
}

/** Sorts values in place with Python's semantics (stable; key computed once per item; reverse keeps equal items in order). */
export function sortValues(items: PyValue[], key: PyValue | undefined, reverse: boolean, ctx: CallContext): void {
  const keyed = items.map((v) => ({ v, k: key === undefined || key === null ? v : ctx.call(key, [v]) }));
  keyed.sort((x, y) => {
    const c = reverse ? orderCompare(y.k, x.k) : orderCompare(x.k, y.k);
    return c ?? 0;
  });
  for (let i = 0; i < items.length; i++) items[i] = keyed[i]!.v;
}

const LIST_METHODS: Record<string, Method<PyValue[]>> = {
  append(l, args, kwargs) {
    noKwargs("append", kwargs);
    arity("append", args, 1, 1);
    l.push(args[0]!);
    return null;
  },
  extend(l, args, _kwargs, ctx) {
    arity("extend", args, 1, 1);
    const items = [...iterate(args[0]!, ctx)];
    for (const x of items) l.push(x);
    return null;
  },
  insert(l, args) {
    arity("insert", args, 2, 2);
    let i = optInt(args[0], 0);
    if (i < 0) i = Math.max(0, i + l.length);
    if (i > l.length) i = l.length;
    l.splice(i, 0, args[1]!);
    return null;
  },
  pop(l, args) {
    arity("pop", args, 0, 1);
    if (l.length === 0) throw new PyException("IndexError", "pop from empty list");
    let i = optInt(args[0], -1);
    if (i < 0) i += l.length;
    if (i < 0 || i >= l.length) throw new PyException("IndexError", "pop index out of range");
    return l.splice(i, 1)[0]!;
  },
  remove(l, args) {
    arity("remove", args, 1, 1);
    const i = l.findIndex((x) => pyEquals(x, args[0]!));
    if (i < 0) throw new PyException("ValueError", "list.remove(x): x not in list");
    l.splice(i, 1);
    return null;
  },
  index: (l, args, _k, ctx) => listIndex(l, args, ctx),
  count(l, args) {
    arity("count", args, 1, 1);
    return l.filter((x) => pyEquals(x, args[0]!)).length;
  },
  sort(l, args, kwargs, ctx) {
    if (args.length > 0) throw new PyException("TypeError", "sort() takes no positional arguments");
    const [key, reverse] = bindArgs("sort", [], kwargs, ["key", "reverse"]);
    sortValues(l, key, reverse === true || (typeof reverse === "number" && reverse !== 0), ctx);
    return null;
  },
  reverse(l, args) {
    arity("reverse", args, 0, 0);
    l.reverse();
    return null;
  },
  copy: (l, args) => (arity("copy", args, 0, 0), l.slice()),
  clear(l, args) {
    arity("clear", args, 0, 0);
    l.length = 0;
    return null;
  },
};

const TUPLE_METHODS: Record<string, Method<PyTuple>> = {
  index(t, args) {
    arity("index", args, 1, 3);
    const [a, b] = range(t.items.length, args[1], args[2]);
    for (let i = a; i < b; i++) if (pyEquals(t.items[i]!, args[0]!)) return i;
    throw new PyException("ValueError", "tuple.index(x): x not in tuple");
  },
  count(t, args) {
    arity("count", args, 1, 1);
    return t.items.filter((x) => pyEquals(x, args[0]!)).length;
  },
};

/** dict.update(other, **kw) / dict(other, **kw). */
export function updateDict(
  d: PyDict,
  other: PyValue | undefined,
  kwargs: ReadonlyMap<string, PyValue>,
  ctx: CallContext,
): void {
  if (other !== undefined) {
    if (other instanceof PyDict) for (const [k, v] of other.entries()) d.set(k, v);
    else updateDictFromPairs(d, other, ctx);
  }
  for (const [k, v] of kwargs) d.set(k, v);
}

const DICT_METHODS: Record<string, Method<PyDict>> = {
  get(d, args) {
    arity("get", args, 1, 2);
    const v = d.get(args[0]!);
    return v === undefined ? (args[1] ?? null) : v;
  },
  keys: (d, args) => (arity("keys", args, 0, 0), new PyDictView("dict_keys", d)),
  values: (d, args) => (arity("values", args, 0, 0), new PyDictView("dict_values", d)),
  items: (d, args) => (arity("items", args, 0, 0), new PyDictView("dict_items", d)),
  pop(d, args, _k, ctx) {
    arity("pop", args, 1, 2);
    const v = d.get(args[0]!);
    if (v === undefined) {
      if (args.length > 1) return args[1]!;
      throw new PyException("KeyError", ctx.repr(args[0]!));
    }
    d.delete(args[0]!);
    return v;
  },
  popitem(d, args) {
    arity("popitem", args, 0, 0);
    const last = d.lastEntry();
    if (!last) throw new PyException("KeyError", "'popitem(): dictionary is empty'");
    d.delete(last[0]);
    return new PyTuple(last);
  },
  setdefault(d, args) {
    arity("setdefault", args, 1, 2);
    const v = d.get(args[0]!);
    if (v !== undefined) return v;
    const dflt = args[1] ?? null;
    d.set(args[0]!, dflt);
    return dflt;
  },
  update(d, args, kwargs, ctx) {
    arity("update", args, 0, 1);
    updateDict(d, args[0], kwargs, ctx);
    return null;
  },
  copy: (d, args) => (arity("copy", args, 0, 0), d.copy()),
  clear(d, args) {
    arity("clear", args, 0, 0);
    d.clear();
    return null;
  },
};

function otherSets(args: PyValue[], ctx: CallContext): PySet[] {
  return args.map((a) => (a instanceof PySet ? a : new PySet(iterate(a, ctx))));
}

const SET_METHODS: Record<string, Method<PySet>> = {
  add(s, args) {
    arity("add", args, 1, 1);
    s.add(args[0]!);
    return null;
  },
  remove(s, args, _k, ctx) {
    arity("remove", args, 1, 1);
    if (!s.delete(args[0]!)) throw new PyException("KeyError", ctx.repr(args[0]!));
    return null;
  },
  discard(s, args) {
    arity("discard", args, 1, 1);
    s.delete(args[0]!);
    return null;
  },
  pop(s, args) {
    arity("pop", args, 0, 0);
    for (const v of s) {
      s.delete(v);
      return v;
    }
    throw new PyException("KeyError", "'pop from an empty set'");
  },
  update(s, args, _k, ctx) {
    for (const o of otherSets(args, ctx)) for (const v of o) s.add(v);
    return null;
  },
  union(s, args, _k, ctx) {
    const r = s.copy();
    for (const o of otherSets(args, ctx)) for (const v of o) r.add(v);
    return r;
  },
  intersection(s, args, _k, ctx) {
    const others = otherSets(args, ctx);
    return new PySet([...s].filter((v) => others.every((o) => o.has(v))));
  },
  intersection_update(s, args, _k, ctx) {
    const others = otherSets(args, ctx);
    for (const v of [...s]) if (!others.every((o) => o.has(v))) s.delete(v);
    return null;
  },
  difference(s, args, _k, ctx) {
    const others = otherSets(args, ctx);
    return new PySet([...s].filter((v) => !others.some((o) => o.has(v))));
  },
  difference_update(s, args, _k, ctx) {
    for (const o of otherSets(args, ctx)) for (const v of o) s.delete(v);
    return null;
  },
  symmetric_difference(s, args, _k, ctx) {
    arity("symmetric_difference", args, 1, 1);
    const [o] = otherSets(args, ctx);
    return new PySet([...[...s].filter((v) => !o!.has(v)), ...[...o!].filter((v) => !s.has(v))]);
  },
  issubset(s, args, _k, ctx) {
    arity("issubset", args, 1, 1);
    const [o] = otherSets(args, ctx);
    return [...s].every((v) => o!.has(v));
  },
  issuperset(s, args, _k, ctx) {
    arity("issuperset", args, 1, 1);
    const [o] = otherSets(args, ctx);
    return [...o!].every((v) => s.has(v));
  },
  isdisjoint(s, args, _k, ctx) {
    arity("isdisjoint", args, 1, 1);
    const [o] = otherSets(args, ctx);
    return [...s].every((v) => !o!.has(v));
  },
  copy: (s, args) => (arity("copy", args, 0, 0), s.copy()),
  clear(s, args) {
    arity("clear", args, 0, 0);
    s.clear();
    return null;
  },
};

const FLOAT_METHODS: Record<string, Method<PyFloat>> = {
  is_integer: (f, args) => (arity("is_integer", args, 0, 0), Number.isInteger(f.value)),
};

function bind<T>(table: Record<string, Method<T>>, self: T, name: string, owner: string): PyBuiltin | undefined {
  if (!Object.prototype.hasOwnProperty.call(table, name)) return undefined;
  const m = table[name]!;
  if (owner === "str") {
    // A string method copies (upper, replace, split, format...): its result is charged to the memory budget.
    return new PyBuiltin(
      name,
      (args, kwargs, ctx) => {
        const r = m(self, args, kwargs, ctx);
        if (typeof r === "string") allocate(r.length);
        else if (Array.isArray(r)) allocate(r.length);
        return r;
      },
      owner,
    );
  }
  return new PyBuiltin(name, (args, kwargs, ctx) => m(self, args, kwargs, ctx), owner);
}

/** A bound method of a built-in value, or undefined when the type has no such method. */
export function builtinMethod(obj: PyValue, name: string): PyBuiltin | undefined {
  if (typeof obj === "string") return bind(STR_METHODS, obj, name, "str");
  if (Array.isArray(obj)) return bind(LIST_METHODS, obj, name, "list");
  if (obj instanceof PyDict) return bind(DICT_METHODS, obj, name, "dict");
  if (obj instanceof PySet) return bind(SET_METHODS, obj, name, "set");
  if (obj instanceof PyTuple) return bind(TUPLE_METHODS, obj, name, "tuple");
  if (obj instanceof PyFloat) return bind(FLOAT_METHODS, obj, name, "float");
  return undefined;
}

const TYPE_TABLES: Record<string, [Record<string, Method<never>>, (v: PyValue) => boolean]> = {
  str: [STR_METHODS, (v) => typeof v === "string"],
  list: [LIST_METHODS, (v) => Array.isArray(v)],
  dict: [DICT_METHODS, (v) => v instanceof PyDict],
  set: [SET_METHODS, (v) => v instanceof PySet],
  tuple: [TUPLE_METHODS, (v) => v instanceof PyTuple],
  float: [FLOAT_METHODS, (v) => v instanceof PyFloat],
};

/** An unbound method looked up on a type (`str.lower`, `dict.fromkeys`): self is the first argument. */
export function typeMethod(typeName_: string, name: string): PyBuiltin | undefined {
  if (typeName_ === "dict" && name === "fromkeys") {
    return new PyBuiltin("fromkeys", (args, kwargs, ctx) => {
      noKwargs("fromkeys", kwargs);
      arity("fromkeys", args, 1, 2);
      const d = new PyDict();
      for (const k of iterate(args[0]!, ctx)) d.set(k, args[1] ?? null);
      return d;
    });
  }
  const entry = TYPE_TABLES[typeName_];
  if (!entry || !Object.prototype.hasOwnProperty.call(entry[0], name)) return undefined;
  const [table, accepts] = entry;
  const m = table[name] as unknown as Method<PyValue>;
  return new PyBuiltin(name, (args, kwargs, ctx) => {
    const self = args[0];
    if (self === undefined)
      throw new PyException("TypeError", `unbound method ${typeName_}.${name}() needs an argument`);
    if (!accepts(self)) {
      throw new PyException(
        "TypeError",
        `descriptor '${name}' for '${typeName_}' objects doesn't apply to a '${typeName(self)}' object`,
      );
    }
    return m(self, args.slice(1), kwargs, ctx);
  });
}
