/**
 * Python's three string-formatting languages: the format-spec mini-language
 * (format(), f-strings, str.format fields), str.format templates, and
 * printf-style `%` formatting. Floats are rounded from their exact binary value
 * with round-half-even, as CPython's dtoa does, so `'%.2f' % 0.125` is '0.12'.
 */
import { allocate } from "./budget.js";
import { floatRepr, intStr, pyStr, shortestDigits, strRepr } from "./repr.js";
import {
  HostObject,
  PyDict,
  PyException,
  PyFloat,
  PyTuple,
  typeName,
  type CallContext,
  type PyValue,
} from "./values.js";

// ---------------------------------------------------------------------------
// Exact decimal digits of a double

/** Exact decimal expansion of finite |x| > 0: x = 0.DIGITS * 10**decpt (no trailing zeros). */
function exactDigits(x: number): { digits: string; decpt: number } {
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, Math.abs(x));
  const hi = buf.getUint32(0);
  const lo = buf.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exp: number;
  if (biased === 0) exp = -1074;
  else {
    mant |= 1n << 52n;
    exp = biased - 1075;
  }
  let digits: string;
  let pointFromRight: number;
  if (exp >= 0) {
    digits = (mant << BigInt(exp)).toString();
    pointFromRight = 0;
  } else {
    digits = (mant * 5n ** BigInt(-exp)).toString();
    pointFromRight = -exp;
  }
  let decpt = digits.length - pointFromRight;
  // Strip leading zeros (none for integers) and trailing zeros.
  let start = 0;
  while (start < digits.length - 1 && digits[start] === "0") {
    start++;
    decpt--;
  }
  let end = digits.length;
  while (end > start + 1 && digits[end - 1] === "0") end--;
  return { digits: digits.slice(start, end), decpt };
}

/**
 * Rounds exact digits to `keep` leading digits, half to even. Returns digits with
 * trailing zeros stripped; "0" with decpt 1 when everything rounds away.
 */
function roundDigits(digits: string, decpt: number, keep: number): { digits: string; decpt: number } {
  if (keep >= digits.length) return { digits, decpt };
  if (keep < 0) return { digits: "0", decpt: 1 };
  const next = digits.charCodeAt(keep) - 48;
  let roundUp: boolean;
  if (next > 5) roundUp = true;
  else if (next < 5) roundUp = false;
  else {
    const rest = digits.slice(keep + 1);
    if (/[1-9]/.test(rest)) roundUp = true;
    else roundUp = keep > 0 ? (digits.charCodeAt(keep - 1) - 48) % 2 === 1 : false;
  }
  let kept = digits.slice(0, keep);
  if (roundUp) {
    const arr = kept.split("");
    let i = arr.length - 1;
    while (i >= 0) {
      if (arr[i] === "9") {
        arr[i] = "0";
        i--;
      } else {
        arr[i] = String.fromCharCode(arr[i]!.charCodeAt(0) + 1);
        break;
      }
    }
    kept = arr.join("");
    if (i < 0) {
      kept = "1" + kept;
      decpt++;
    }
  }
  kept = kept.replace(/0+$/, "");
  if (kept === "") return { digits: "0", decpt: 1 };
  return { digits: kept, decpt };
}

/**
 * CPython's format_float_short: formats finite |x| (sign handled by the caller).
 * code: 'e', 'f', 'g' or 'r'; precision as Python passes it; addDot0 for the
 * "no type" spec; alt for '#'.
 */
function formatFloatAbs(
  x: number,
  code: "e" | "f" | "g" | "r",
  precision: number,
  addDot0: boolean,
  alt: boolean,
): string {
  let digits: string;
  let decpt: number;
  if (x === 0) {
    digits = "0";
    decpt = 1;
  } else if (code === "r") {
    ({ digits, decpt } = shortestDigits(x));
  } else {
    const exact = exactDigits(x);
    if (code === "f") ({ digits, decpt } = roundDigits(exact.digits, exact.decpt, exact.decpt + precision));
    else {
      const sig = code === "e" ? precision + 1 : precision === 0 ? 1 : precision;
      ({ digits, decpt } = roundDigits(exact.digits, exact.decpt, sig));
    }
  }
  if (code === "g" && precision === 0) precision = 1;
  let useExp = false;
  let vEnd = digits.length;
  switch (code) {
    case "e":
      useExp = true;
      vEnd = precision + 1;
      break;
    case "f":
      vEnd = decpt + precision;
      break;
    case "g":
      if (decpt <= -4 || decpt > (addDot0 ? precision - 1 : precision)) useExp = true;
      if (alt) vEnd = precision;
      break;
    case "r":
      if (decpt <= -4 || decpt > 16) useExp = true;
      break;
  }
  let exp = 0;
  if (useExp) {
    exp = decpt - 1;
    decpt = 1;
  }
  const vStart = decpt <= 0 ? decpt - 1 : 0;
  if (!useExp && addDot0) vEnd = vEnd > decpt ? vEnd : decpt + 1;
  else vEnd = vEnd > decpt ? vEnd : decpt;
  let out = "";
  if (decpt <= 0) out += "0".repeat(decpt - vStart) + "." + "0".repeat(-decpt);
  else out += "0".repeat(-vStart);
  if (decpt > 0 && decpt <= digits.length) out += digits.slice(0, decpt) + "." + digits.slice(decpt);
  else out += digits;
  if (digits.length < decpt) out += "0".repeat(decpt - digits.length) + "." + "0".repeat(vEnd - decpt);
  else out += "0".repeat(Math.max(0, vEnd - digits.length));
  if (out.endsWith(".") && !alt) out = out.slice(0, -1);
  if (useExp) out += "e" + (exp < 0 ? "-" : "+") + String(Math.abs(exp)).padStart(2, "0");
  return out;
}

// ---------------------------------------------------------------------------
// Format-spec mini-language

interface Spec {
  fill: string;
  align: "" | "<" | ">" | "^" | "=";
  sign: "" | "+" | "-" | " ";
  z: boolean;
  alt: boolean;
  zero: boolean;
  width: number;
  grouping: "" | "," | "_";
  precision: number; // -1 when absent
  type: string;
}

function parseSpec(spec: string, forType: string): Spec {
  const chars = [...spec];
  let i = 0;
  const s: Spec = {
    fill: " ",
    align: "",
    sign: "",
    z: false,
    alt: false,
    zero: false,
    width: -1,
    grouping: "",
    precision: -1,
    type: "",
  };
  const isAlign = (c: string | undefined): c is Spec["align"] => c === "<" || c === ">" || c === "^" || c === "=";
  if (chars.length >= 2 && isAlign(chars[1])) {
    s.fill = chars[0]!;
    s.align = chars[1];
    i = 2;
  } else if (isAlign(chars[0])) {
    s.align = chars[0];
    i = 1;
  }
  if (chars[i] === "+" || chars[i] === "-" || chars[i] === " ") s.sign = chars[i++] as Spec["sign"];
  if (chars[i] === "z") {
    s.z = true;
    i++;
  }
  if (chars[i] === "#") {
    s.alt = true;
    i++;
  }
  if (chars[i] === "0") {
    s.zero = true;
    i++;
  }
  let w = "";
  while (i < chars.length && chars[i]! >= "0" && chars[i]! <= "9") w += chars[i++];
  if (w) s.width = Number(w);
  if (chars[i] === "," || chars[i] === "_") s.grouping = chars[i++] as Spec["grouping"];
  if (chars[i] === ".") {
    i++;
    let p = "";
    while (i < chars.length && chars[i]! >= "0" && chars[i]! <= "9") p += chars[i++];
    if (!p) throw new PyException("ValueError", "Format specifier missing precision");
    s.precision = Number(p);
  }
  if (i < chars.length) {
    if (chars.length - i > 1)
      throw new PyException("ValueError", `Invalid format specifier '${spec}' for object of type '${forType}'`);
    s.type = chars[i]!;
  }
  if (s.zero && s.align === "") {
    // '0' before the width means sign-aware zero padding.
    s.fill = "0";
    s.align = "=";
  }
  return s;
}

function cpLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

function pad(body: string, spec: Spec, defaultAlign: "<" | ">", signPart = ""): string {
  const align = spec.align || defaultAlign;
  const len = cpLength(body) + cpLength(signPart);
  const total = spec.width;
  if (total <= len) return signPart + body;
  const n = total - len;
  allocate(n);
  switch (align) {
    case "<":
      return signPart + body + spec.fill.repeat(n);
    case ">":
      return spec.fill.repeat(n) + signPart + body;
    case "^": {
      const left = Math.floor(n / 2);
      return spec.fill.repeat(left) + signPart + body + spec.fill.repeat(n - left);
    }
    case "=":
      return signPart + spec.fill.repeat(n) + body;
  }
}

function group(intDigits: string, sep: string, every: number): string {
  if (!sep) return intDigits;
  let out = "";
  let count = 0;
  for (let i = intDigits.length - 1; i >= 0; i--) {
    if (count === every) {
      out = sep + out;
      count = 0;
    }
    out = intDigits[i] + out;
    count++;
  }
  return out;
}

/** Groups the integer part and, for zero padding, pads it with zeros the way CPython does. */
function groupedWithZeroPadding(intDigits: string, rest: string, spec: Spec, signPart: string, every: number): string {
  if (!(spec.align === "=" && spec.fill === "0" && spec.grouping)) return group(intDigits, spec.grouping, every) + rest;
  const target = spec.width - cpLength(signPart) - cpLength(rest);
  let digits = intDigits;
  let grouped = group(digits, spec.grouping, every);
  while (grouped.length < target) {
    digits = "0" + digits;
    grouped = group(digits, spec.grouping, every);
  }
  return grouped + rest;
}

function signOf(negative: boolean, spec: Spec): string {
  if (negative) return "-";
  if (spec.sign === "+") return "+";
  if (spec.sign === " ") return " ";
  return "";
}

function formatInt(v: number | bigint, spec: Spec, original: string): string {
  let type = spec.type;
  if ("eEfFgG%".includes(type) && type !== "") return formatFloat(Number(v), spec, original);
  if (spec.precision >= 0) throw new PyException("ValueError", "Precision not allowed in integer format specifier");
  const big = typeof v === "bigint" ? v : BigInt(v);
  const negative = big < 0n;
  const abs = negative ? -big : big;
  if (type === "c") {
    if (spec.sign) throw new PyException("ValueError", "Sign not allowed with integer format specifier 'c'");
    if (abs > 0x10ffffn || negative) throw new PyException("OverflowError", "%c arg not in range(0x110000)");
    return pad(String.fromCodePoint(Number(big)), spec, "<");
  }
  if (type === "n") type = "d";
  let digits: string;
  let prefix = "";
  let every = 3;
  switch (type) {
    case "":
    case "d":
      digits = abs.toString();
      break;
    case "b":
      digits = abs.toString(2);
      prefix = spec.alt ? "0b" : "";
      every = 4;
      break;
    case "o":
      digits = abs.toString(8);
      prefix = spec.alt ? "0o" : "";
      every = 4;
      break;
    case "x":
      digits = abs.toString(16);
      prefix = spec.alt ? "0x" : "";
      every = 4;
      break;
    case "X":
      digits = abs.toString(16).toUpperCase();
      prefix = spec.alt ? "0X" : "";
      every = 4;
      break;
    default:
      throw new PyException("ValueError", `Unknown format code '${type}' for object of type '${original}'`);
  }
  if (spec.grouping === "," && type !== "" && type !== "d") {
    throw new PyException("ValueError", `Cannot specify ',' with '${type}'.`);
  }
  const signPart = signOf(negative, spec) + prefix;
  const body = groupedWithZeroPadding(digits, "", spec, signPart, every);
  return pad(body, spec, ">", signPart);
}

function formatFloat(x: number, spec: Spec, original: string): string {
  let type = spec.type;
  if (!"eEfFgGn%".includes(type)) {
    throw new PyException("ValueError", `Unknown format code '${type}' for object of type '${original}'`);
  }
  if (type === "n") type = "g";
  const upper = type === "E" || type === "F" || type === "G";
  const negative = x < 0 || Object.is(x, -0);
  let abs = Math.abs(x);
  let body: string;
  let percent = "";
  if (type === "%") {
    abs *= 100;
    percent = "%";
  }
  if (Number.isNaN(x)) body = "nan";
  else if (abs === Infinity) body = "inf";
  else if (type === "") {
    body =
      spec.precision < 0
        ? formatFloatAbs(abs, "r", 0, true, spec.alt)
        : formatFloatAbs(abs, "g", spec.precision, true, spec.alt);
  } else {
    const code = (type === "%" ? "f" : type.toLowerCase()) as "e" | "f" | "g";
    body = formatFloatAbs(abs, code, spec.precision < 0 ? 6 : spec.precision, false, spec.alt);
  }
  if (upper) body = body.toUpperCase();
  let neg = negative && !Number.isNaN(x);
  if (neg && spec.z && /^[0.]*(?:e[+-]?\d+)?$/i.test(body)) neg = false;
  const signPart = signOf(neg, spec);
  const m = /^(\d*)(.*)$/s.exec(body)!;
  const intPart = m[1]!;
  const rest = m[2]! + percent;
  const grouped = /^\d/.test(body) ? groupedWithZeroPadding(intPart, rest, spec, signPart, 3) : body + percent;
  return pad(grouped, spec, ">", signPart);
}

function formatStr(s: string, spec: Spec): string {
  if (spec.type !== "" && spec.type !== "s") {
    throw new PyException("ValueError", `Unknown format code '${spec.type}' for object of type 'str'`);
  }
  if (spec.sign) throw new PyException("ValueError", "Sign not allowed in string format specifier");
  if (spec.alt) throw new PyException("ValueError", "Alternate form (#) not allowed in string format specifier");
  if (spec.align === "=") throw new PyException("ValueError", "'=' alignment not allowed in string format specifier");
  let body = s;
  if (spec.precision >= 0) body = [...s].slice(0, spec.precision).join("");
  return pad(body, spec, "<");
}

/** Python's format(value, spec): also what f-string `{value:spec}` fields do. */
export function formatValue(v: PyValue, spec: string, ctx: CallContext): string {
  if (typeof v === "string") return spec === "" ? v : formatStr(v, parseSpec(spec, "str"));
  if (typeof v === "number" || typeof v === "bigint")
    return spec === "" ? intStr(v) : formatInt(v, parseSpec(spec, "int"), "int");
  if (typeof v === "boolean")
    return spec === "" ? (v ? "True" : "False") : formatInt(v ? 1 : 0, parseSpec(spec, "bool"), "bool");
  if (v instanceof PyFloat)
    return spec === "" ? floatRepr(v.value) : formatFloat(v.value, parseSpec(spec, "float"), "float");
  if (v instanceof HostObject) {
    const r = v.format(spec, ctx);
    if (r !== undefined) return r;
  }
  if (spec === "") return pyStr(v, ctx);
  throw new PyException("TypeError", `unsupported format string passed to ${typeName(v)}.__format__`);
}

function convert(v: PyValue, conversion: string, ctx: CallContext): PyValue {
  switch (conversion) {
    case "":
      return v;
    case "s":
      return ctx.str(v);
    case "r":
      return ctx.repr(v);
    case "a":
      return asciiRepr(ctx.repr(v));
    default:
      throw new PyException("ValueError", `Unknown conversion specifier ${conversion}`);
  }
}

/** ascii(): repr with non-ASCII characters escaped. */
export function asciiRepr(r: string): string {
  let out = "";
  for (const ch of r) {
    const c = ch.codePointAt(0)!;
    if (c < 0x80) out += ch;
    else if (c <= 0xff) out += "\\x" + c.toString(16).padStart(2, "0");
    else if (c <= 0xffff) out += "\\u" + c.toString(16).padStart(4, "0");
    else out += "\\U" + c.toString(16).padStart(8, "0");
  }
  return out;
}

/** Applies an f-string / str.format conversion (`!r`, `!s`, `!a`; -1 or 0 = none) then the spec. */
export function formatField(v: PyValue, conversion: string, spec: string, ctx: CallContext): string {
  return formatValue(convert(v, conversion, ctx), spec, ctx);
}

// ---------------------------------------------------------------------------
// str.format

/** Looks up a top-level field: a positional index or a keyword name. */
export type FieldLookup = (key: number | string) => PyValue;

/**
 * Python's str.format. `lookup` resolves `{0}` / `{name}`; the rest of a field
 * (`.attr`, `[key]`) goes through ctx.getAttr / ctx.getItem, so host objects
 * work as in `"{this.root}/bin"`.
 */
export function formatTemplate(template: string, lookup: FieldLookup, ctx: CallContext): string {
  const state = { auto: 0, mode: "" as "" | "auto" | "manual" };
  return renderTemplate(template, lookup, ctx, state, 2);
}

/**
 * The index of the '}' closing the replacement field opened at `open`, as
 * str.format finds it: nested braces counted, `[...]` in the field name
 * skipped; a field that never closes is Python's ValueError.
 */
export function formatFieldEnd(template: string, open: number): number {
  const n = template.length;
  let j = open + 1;
  let level = 1;
  let inName = true;
  while (j < n) {
    const d = template[j]!;
    if (inName && d === "[") {
      const close = template.indexOf("]", j);
      if (close < 0) break;
      j = close + 1;
      continue;
    }
    if (d === "!" || d === ":") inName = false;
    if (d === "{") level++;
    else if (d === "}" && --level === 0) return j;
    j++;
  }
  throw new PyException("ValueError", "expected '}' before end of string");
}

function renderTemplate(
  template: string,
  lookup: FieldLookup,
  ctx: CallContext,
  state: { auto: number; mode: "" | "auto" | "manual" },
  depth: number,
): string {
  if (depth < 0) throw new PyException("ValueError", "Max string recursion exceeded");
  let out = "";
  let i = 0;
  const n = template.length;
  while (i < n) {
    const c = template[i]!;
    if (c === "{") {
      if (template[i + 1] === "{") {
        out += "{";
        i += 2;
        continue;
      }
      const j = formatFieldEnd(template, i);
      out += renderField(template.slice(i + 1, j), lookup, ctx, state, depth);
      i = j + 1;
      continue;
    }
    if (c === "}") {
      if (template[i + 1] === "}") {
        out += "}";
        i += 2;
        continue;
      }
      throw new PyException("ValueError", "Single '}' encountered in format string");
    }
    out += c;
    i++;
  }
  return out;
}

function renderField(
  field: string,
  lookup: FieldLookup,
  ctx: CallContext,
  state: { auto: number; mode: "" | "auto" | "manual" },
  depth: number,
): string {
  // Split name / conversion / spec; brackets in the name are literal.
  let k = 0;
  while (k < field.length && field[k] !== "!" && field[k] !== ":") {
    if (field[k] === "[") {
      const close = field.indexOf("]", k);
      k = close < 0 ? field.length : close + 1;
    } else k++;
  }
  const name = field.slice(0, k);
  let conversion = "";
  let spec = "";
  if (field[k] === "!") {
    conversion = field[k + 1] ?? "";
    if (conversion === "") throw new PyException("ValueError", "end of string while looking for conversion specifier");
    const after = field[k + 2];
    if (after !== undefined && after !== ":")
      throw new PyException("ValueError", "expected ':' after conversion specifier");
    spec = after === ":" ? field.slice(k + 3) : "";
  } else if (field[k] === ":") {
    spec = field.slice(k + 1);
  }
  const value = resolveFieldName(name, lookup, ctx, state);
  const expandedSpec = spec.includes("{") ? renderTemplate(spec, lookup, ctx, state, depth - 1) : spec;
  return formatField(value, conversion, expandedSpec, ctx);
}

function resolveFieldName(
  name: string,
  lookup: FieldLookup,
  ctx: CallContext,
  state: { auto: number; mode: "" | "auto" | "manual" },
): PyValue {
  const m = /^([^.[]*)(.*)$/s.exec(name)!;
  const first = m[1]!;
  let rest = m[2]!;
  let value: PyValue;
  if (first === "") {
    if (state.mode === "manual")
      throw new PyException("ValueError", "cannot switch from manual field specification to automatic field numbering");
    state.mode = "auto";
    value = lookup(state.auto++);
  } else if (/^\d+$/.test(first)) {
    if (state.mode === "auto")
      throw new PyException("ValueError", "cannot switch from automatic field numbering to manual field specification");
    state.mode = "manual";
    value = lookup(Number(first));
  } else {
    value = lookup(first);
  }
  while (rest.length > 0) {
    if (rest[0] === ".") {
      const mm = /^\.([^.[]*)/.exec(rest)!;
      if (mm[1] === "") throw new PyException("ValueError", "Empty attribute in format string");
      value = ctx.getAttr(value, mm[1]!);
      rest = rest.slice(mm[0].length);
    } else if (rest[0] === "[") {
      const close = rest.indexOf("]");
      if (close < 0) throw new PyException("ValueError", "Missing ']' in format string");
      const key = rest.slice(1, close);
      if (key === "") throw new PyException("ValueError", "Empty attribute in format string");
      value = ctx.getItem(value, /^\d+$/.test(key) ? Number(key) : key);
      rest = rest.slice(close + 1);
      if (rest.length > 0 && rest[0] !== "." && rest[0] !== "[") {
        throw new PyException("ValueError", "Only '.' or '[' may follow ']' in format field specifier");
      }
    } else {
      throw new PyException("ValueError", "Only '.' or '[' may follow ']' in format field specifier");
    }
  }
  return value;
}

/** A lookup over str.format's positional and keyword arguments. */
export function argsLookup(args: readonly PyValue[], kwargs: ReadonlyMap<string, PyValue> | PyDict): FieldLookup {
  return (key) => {
    if (typeof key === "number") {
      if (key >= args.length)
        throw new PyException("IndexError", `Replacement index ${key} out of range for positional args tuple`);
      return args[key]!;
    }
    const v = kwargs instanceof PyDict ? kwargs.get(key) : kwargs.get(key);
    if (v === undefined) throw new PyException("KeyError", strRepr(key));
    return v;
  };
}

// ---------------------------------------------------------------------------
// printf-style formatting

/** `template % values`. */
export function percentFormat(template: string, values: PyValue, ctx: CallContext): string {
  const args: readonly PyValue[] = values instanceof PyTuple ? values.items : [values];
  const mapping = values instanceof PyDict ? values : values instanceof HostObject ? values : undefined;
  let argIndex = 0;
  let usedMapping = false;
  const nextArg = (): PyValue => {
    if (argIndex >= args.length) throw new PyException("TypeError", "not enough arguments for format string");
    return args[argIndex++]!;
  };
  let out = "";
  let i = 0;
  const n = template.length;
  while (i < n) {
    const c = template[i]!;
    if (c !== "%") {
      const next = template.indexOf("%", i);
      const end = next < 0 ? n : next;
      out += template.slice(i, end);
      i = end;
      continue;
    }
    i++;
    if (i >= n) throw new PyException("ValueError", "incomplete format");
    let arg: PyValue | undefined;
    if (template[i] === "(") {
      if (mapping === undefined) throw new PyException("TypeError", "format requires a mapping");
      let level = 1;
      let j = i + 1;
      while (j < n && level > 0) {
        if (template[j] === "(") level++;
        else if (template[j] === ")") level--;
        j++;
      }
      if (level > 0) throw new PyException("ValueError", "incomplete format key");
      const key = template.slice(i + 1, j - 1);
      arg = ctx.getItem(mapping, key);
      usedMapping = true;
      i = j;
    }
    const flags = { left: false, plus: false, space: false, alt: false, zero: false };
    for (; i < n; i++) {
      const f = template[i];
      if (f === "-") flags.left = true;
      else if (f === "+") flags.plus = true;
      else if (f === " ") flags.space = true;
      else if (f === "#") flags.alt = true;
      else if (f === "0") flags.zero = true;
      else break;
    }
    let width = -1;
    if (template[i] === "*") {
      const w = nextArg();
      if (typeof w !== "number") throw new PyException("TypeError", "* wants int");
      width = w;
      if (width < 0) {
        flags.left = true;
        width = -width;
      }
      i++;
    } else {
      let w = "";
      while (i < n && template[i]! >= "0" && template[i]! <= "9") w += template[i++];
      if (w) width = Number(w);
    }
    let precision = -1;
    if (template[i] === ".") {
      i++;
      if (template[i] === "*") {
        const p = nextArg();
        if (typeof p !== "number") throw new PyException("TypeError", "* wants int");
        precision = Math.max(0, p);
        i++;
      } else {
        let p = "";
        while (i < n && template[i]! >= "0" && template[i]! <= "9") p += template[i++];
        precision = p ? Number(p) : 0;
      }
    }
    while (template[i] === "h" || template[i] === "l" || template[i] === "L") i++;
    if (i >= n) throw new PyException("ValueError", "incomplete format");
    const type = template[i++]!;
    if (type === "%") {
      out += "%";
      continue;
    }
    if (arg === undefined) arg = nextArg();
    out += percentOne(arg, type, flags, width, precision, ctx, i - 1);
  }
  if (argIndex < args.length && !usedMapping && !(mapping !== undefined && argIndex === 0)) {
    throw new PyException("TypeError", "not all arguments converted during string formatting");
  }
  return out;
}

function percentOne(
  arg: PyValue,
  type: string,
  flags: { left: boolean; plus: boolean; space: boolean; alt: boolean; zero: boolean },
  width: number,
  precision: number,
  ctx: CallContext,
  index: number,
): string {
  let body: string;
  let sign = "";
  // Zero padding applies to numbers, but not to inf and nan.
  let numeric = false;
  switch (type) {
    case "s":
    case "r":
    case "a": {
      body = type === "s" ? ctx.str(arg) : type === "r" ? ctx.repr(arg) : asciiRepr(ctx.repr(arg));
      if (precision >= 0) body = [...body].slice(0, precision).join("");
      break;
    }
    case "d":
    case "i":
    case "u":
    case "o":
    case "x":
    case "X": {
      numeric = true;
      let iv: bigint;
      if (typeof arg === "number" || typeof arg === "bigint") iv = BigInt(arg);
      else if (typeof arg === "boolean") iv = arg ? 1n : 0n;
      else if (arg instanceof PyFloat && "diu".includes(type)) {
        if (!Number.isFinite(arg.value))
          throw new PyException(
            Number.isNaN(arg.value) ? "ValueError" : "OverflowError",
            "cannot convert float to integer",
          );
        iv = BigInt(Math.trunc(arg.value));
      } else {
        const what = "diu".includes(type) ? "a real number is required" : "an integer is required";
        throw new PyException("TypeError", `%${type} format: ${what}, not ${typeName(arg)}`);
      }
      const neg = iv < 0n;
      const abs = neg ? -iv : iv;
      let digits =
        type === "o"
          ? abs.toString(8)
          : type === "x"
            ? abs.toString(16)
            : type === "X"
              ? abs.toString(16).toUpperCase()
              : abs.toString();
      if (precision >= 0 && digits.length < precision) digits = "0".repeat(precision - digits.length) + digits;
      const prefix = flags.alt ? (type === "o" ? "0o" : type === "x" ? "0x" : type === "X" ? "0X" : "") : "";
      sign = (neg ? "-" : flags.plus ? "+" : flags.space ? " " : "") + prefix;
      body = digits;
      break;
    }
    case "e":
    case "E":
    case "f":
    case "F":
    case "g":
    case "G": {
      numeric = true;
      let x: number;
      if (arg instanceof PyFloat) x = arg.value;
      else if (typeof arg === "number") x = arg;
      else if (typeof arg === "bigint") x = Number(arg);
      else if (typeof arg === "boolean") x = arg ? 1 : 0;
      else throw new PyException("TypeError", `must be real number, not ${typeName(arg)}`);
      const neg = x < 0 || Object.is(x, -0);
      const abs = Math.abs(x);
      if (Number.isNaN(x) || abs === Infinity) {
        body = Number.isNaN(x) ? "nan" : "inf";
        numeric = false;
      } else
        body = formatFloatAbs(
          abs,
          type.toLowerCase() as "e" | "f" | "g",
          precision < 0 ? 6 : precision,
          false,
          flags.alt,
        );
      if (type === "E" || type === "F" || type === "G") body = body.toUpperCase();
      sign = neg && !Number.isNaN(x) ? "-" : flags.plus ? "+" : flags.space ? " " : "";
      break;
    }
    case "c": {
      if (typeof arg === "string") {
        if (cpLength(arg) !== 1) throw new PyException("TypeError", "%c requires int or char");
        body = arg;
      } else if (typeof arg === "number") {
        if (arg < 0 || arg > 0x10ffff) throw new PyException("OverflowError", "%c arg not in range(0x110000)");
        body = String.fromCodePoint(arg);
      } else throw new PyException("TypeError", "%c requires int or char");
      break;
    }
    default:
      throw new PyException(
        "ValueError",
        `unsupported format character '${type}' (0x${type.codePointAt(0)!.toString(16)}) at index ${index}`,
      );
  }
  const len = cpLength(sign) + cpLength(body);
  if (width <= len) return sign + body;
  const padding = width - len;
  if (flags.left) return sign + body + " ".repeat(padding);
  if (flags.zero && numeric) {
    return sign + "0".repeat(padding) + body;
  }
  return " ".repeat(padding) + sign + body;
}

/** round(x, ndigits) for floats: correctly rounded from the exact binary value, half to even, as CPython. */
export function roundFloat(x: number, ndigits: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const { digits, decpt } = exactDigits(x);
  const r = roundDigits(digits, decpt, decpt + ndigits);
  if (r.digits === "0") return x < 0 ? -0 : 0;
  const v = Number(`${r.digits}e${r.decpt - r.digits.length}`);
  return x < 0 ? -v : v;
}
