/**
 * Python's str() and repr(), character for character: Rez hashes `str(list)`
 * for hashed variant directories and package authors build strings with str(),
 * so these must match CPython exactly.
 */
import {
  HostObject,
  PyBuiltin,
  PyDict,
  PyDictView,
  PyExceptionType,
  PyExceptionValue,
  PyFloat,
  PyFunction,
  PyIterator,
  PyRange,
  PySet,
  PyTuple,
  PyType,
  type CallContext,
  type PyValue,
} from "./values.js";

/** Shortest round-trip digits of a finite, non-zero |x|: x = 0.DIGITS * 10**decpt. */
export function shortestDigits(x: number): { digits: string; decpt: number } {
  const s = Math.abs(x).toExponential();
  const e = s.indexOf("e");
  const mantissa = s.slice(0, e).replace(".", "");
  return { digits: mantissa, decpt: Number(s.slice(e + 1)) + 1 };
}

/** repr() of a float, as CPython's float_repr ('r' format with ".0" added to integers). */
export function floatRepr(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const sign = x < 0 ? "-" : "";
  const { digits, decpt } = shortestDigits(x);
  if (decpt <= -4 || decpt > 16) {
    const exp = decpt - 1;
    const mant = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${mant}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  if (decpt <= 0) return `${sign}0.${"0".repeat(-decpt)}${digits}`;
  if (decpt >= digits.length) return `${sign}${digits}${"0".repeat(decpt - digits.length)}.0`;
  return `${sign}${digits.slice(0, decpt)}.${digits.slice(decpt)}`;
}

export function intStr(v: number | bigint): string {
  return typeof v === "number" ? String(v) : v.toString();
}

// Characters Python's str.isprintable() rejects (besides ASCII controls): Unicode
// categories Cc, Cf, Cs, Co, Cn, Zl, Zp and Zs other than the space.
const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;

const PLAIN_ASCII = /^[\x20-\x26\x28-\x5b\x5d-\x7e]*$/;

export function isPrintable(ch: string): boolean {
  return ch === " " || !NON_PRINTABLE.test(ch);
}

/** repr() of a str. */
export function strRepr(s: string): string {
  if (PLAIN_ASCII.test(s)) return `'${s}'`;
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === quote || ch === "\\") out += "\\" + ch;
    else if (ch === "\t") out += "\\t";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (c < 0x20 || c === 0x7f) out += "\\x" + hex(c, 2);
    else if (c < 0x7f) out += ch;
    else if (isPrintable(ch)) out += ch;
    else if (c <= 0xff) out += "\\x" + hex(c, 2);
    else if (c <= 0xffff) out += "\\u" + hex(c, 4);
    else out += "\\U" + hex(c, 8);
  }
  return out + quote;
}

function hex(c: number, width: number): string {
  return c.toString(16).padStart(width, "0");
}

/** A CallContext for str()/repr() of host objects when no interpreter is running. */
const standaloneContext: CallContext = {
  location: { file: "<python>" },
  call() {
    throw new Error("no interpreter available to call a function");
  },
  str: (v) => pyStr(v),
  repr: (v) => pyRepr(v),
  getAttr() {
    throw new Error("no interpreter available to read an attribute");
  },
  getItem() {
    throw new Error("no interpreter available to read an item");
  },
  step() {},
};

/** Python str(). */
export function pyStr(v: PyValue, ctx: CallContext = standaloneContext): string {
  if (typeof v === "string") return v;
  if (v instanceof HostObject) return v.str(ctx);
  if (v instanceof PyExceptionValue) return v.message;
  return pyRepr(v, ctx);
}

/** Python repr(). */
export function pyRepr(v: PyValue, ctx: CallContext = standaloneContext): string {
  return reprInner(v, ctx, new Set());
}

function reprInner(v: PyValue, ctx: CallContext, seen: Set<object>): string {
  switch (typeof v) {
    case "string":
      return strRepr(v);
    case "number":
      return String(v);
    case "bigint":
      return v.toString();
    case "boolean":
      return v ? "True" : "False";
    default:
      break;
  }
  if (v === null) return "None";
  if (v instanceof PyFloat) return floatRepr(v.value);
  if (Array.isArray(v)) {
    if (seen.has(v)) return "[...]";
    seen.add(v);
    const s = "[" + v.map((x) => reprInner(x, ctx, seen)).join(", ") + "]";
    seen.delete(v);
    return s;
  }
  if (v instanceof PyTuple) {
    if (seen.has(v)) return "(...)";
    seen.add(v);
    const parts = v.items.map((x) => reprInner(x, ctx, seen));
    seen.delete(v);
    return parts.length === 1 ? `(${parts[0]},)` : `(${parts.join(", ")})`;
  }
  if (v instanceof PyDict) {
    if (seen.has(v)) return "{...}";
    seen.add(v);
    const parts: string[] = [];
    for (const [k, x] of v.entries()) parts.push(`${reprInner(k, ctx, seen)}: ${reprInner(x, ctx, seen)}`);
    seen.delete(v);
    return `{${parts.join(", ")}}`;
  }
  if (v instanceof PySet) {
    if (v.size === 0) return "set()";
    if (seen.has(v)) return "set(...)";
    seen.add(v);
    const parts = [...v].map((x) => reprInner(x, ctx, seen));
    seen.delete(v);
    return `{${parts.join(", ")}}`;
  }
  if (v instanceof PyRange)
    return v.step === 1 ? `range(${v.start}, ${v.stop})` : `range(${v.start}, ${v.stop}, ${v.step})`;
  if (v instanceof PyDictView) {
    return `${v.kind}(${reprInner([...v], ctx, seen)})`;
  }
  if (v instanceof PyIterator) return v.kind === "generator" ? "<generator object <genexpr>>" : `<${v.kind} object>`;
  if (v instanceof PyFunction) return `<function ${v.name}>`;
  if (v instanceof PyBuiltin)
    return v.owner ? `<built-in method ${v.name} of ${v.owner} object>` : `<built-in function ${v.name}>`;
  if (v instanceof PyType) return `<class '${v.name}'>`;
  if (v instanceof PyExceptionType) return `<class '${v.name}'>`;
  if (v instanceof PyExceptionValue) {
    const args = v.args.map((x) => reprInner(x, ctx, seen));
    return `${v.type.name}(${args.join(", ")})`;
  }
  if (v instanceof HostObject) return v.repr(ctx);
  return "<object>";
}
