/**
 * The builtins package code can use: type objects, functions, and the exception
 * hierarchy. Builtins that reach outside the evaluation (open, exec, eval,
 * __import__, ...) are listed in FORBIDDEN_BUILTINS and raise a clear error.
 */
import { allocate } from "./budget.js";
import { arity, bindArgs, noKwargs } from "./args.js";
import { asciiRepr, formatValue, roundFloat } from "./format.js";
import { sortValues, updateDict } from "./methods.js";
import { binaryOp, iterate, length, orderCompare, truthy } from "./ops.js";
import { pyRepr } from "./repr.js";
import {
  HostObject,
  PyBuiltin,
  PyDict,
  PyDictView,
  PyException,
  PyExceptionType,
  PyExceptionValue,
  PyFloat,
  PyFunction,
  PyIterator,
  PyRange,
  PySet,
  PyTuple,
  PyType,
  normInt,
  numericValue,
  typeName,
  type BuiltinImpl,
  type CallContext,
  type PyValue,
} from "./values.js";

// ---------------------------------------------------------------------------
// Exceptions

const BASE_EXCEPTION = new PyExceptionType("BaseException", null);
export const EXCEPTION = new PyExceptionType("Exception", BASE_EXCEPTION);
const EXCEPTION_TYPES = new Map<string, PyExceptionType>([
  ["BaseException", BASE_EXCEPTION],
  ["Exception", EXCEPTION],
]);

function defineException(name: string, base: string): void {
  EXCEPTION_TYPES.set(name, new PyExceptionType(name, EXCEPTION_TYPES.get(base)!));
}
defineException("ArithmeticError", "Exception");
defineException("ZeroDivisionError", "ArithmeticError");
defineException("OverflowError", "ArithmeticError");
defineException("LookupError", "Exception");
defineException("KeyError", "LookupError");
defineException("IndexError", "LookupError");
defineException("ValueError", "Exception");
defineException("UnicodeError", "ValueError");
defineException("TypeError", "Exception");
defineException("AttributeError", "Exception");
defineException("NameError", "Exception");
defineException("UnboundLocalError", "NameError");
defineException("RuntimeError", "Exception");
defineException("RecursionError", "RuntimeError");
defineException("NotImplementedError", "RuntimeError");
defineException("AssertionError", "Exception");
defineException("StopIteration", "Exception");
defineException("MemoryError", "Exception");
defineException("EnvironmentError", "Exception");
defineException("OSError", "Exception");

/**
 * The exception type for a name. Exceptions raised by the embedding program with
 * names Python does not know (e.g. "RexUndefinedVariableError") count as
 * subclasses of Exception, so `except Exception:` catches them.
 */
export function exceptionType(name: string): PyExceptionType {
  let t = EXCEPTION_TYPES.get(name);
  if (!t) {
    t = new PyExceptionType(name, EXCEPTION);
    EXCEPTION_TYPES.set(name, t);
  }
  return t;
}

/** str() of an exception built from args, as BaseException.__str__ (KeyError shows the repr of its key). */
export function exceptionMessage(type: PyExceptionType, args: readonly PyValue[], ctx: CallContext): string {
  if (args.length === 0) return "";
  if (args.length === 1)
    return type.isSubclassOf(EXCEPTION_TYPES.get("KeyError")!) ? ctx.repr(args[0]!) : ctx.str(args[0]!);
  return ctx.repr(new PyTuple(args));
}

export function instantiateException(
  type: PyExceptionType,
  args: readonly PyValue[],
  ctx: CallContext,
): PyExceptionValue {
  return new PyExceptionValue(type, args, exceptionMessage(type, args, ctx));
}

// ---------------------------------------------------------------------------
// Conversions

const WS_CLASS = "\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const TRIM = new RegExp(`^[${WS_CLASS}]+|[${WS_CLASS}]+$`, "gu");

function intFromString(text: string, base: number): number | bigint {
  const s = text.replace(TRIM, "");
  const m = /^([+-]?)(.*)$/s.exec(s)!;
  const sign = m[1] === "-" ? -1n : 1n;
  let body = m[2]!;
  let b = base;
  const prefix = /^0([xXoObB])/.exec(body);
  if (prefix) {
    const p = prefix[1]!.toLowerCase();
    const pb = p === "x" ? 16 : p === "o" ? 8 : 2;
    if (b === 0 || b === pb) {
      b = pb;
      body = body.slice(2).replace(/^_/, "");
    }
  }
  if (b === 0) {
    b = 10;
    if (/^0+[1-9]/.test(body.replace(/_/g, ""))) body = "!"; // leading zeros are invalid with base 0
  }
  const digits = "0123456789abcdefghijklmnopqrstuvwxyz".slice(0, b);
  const valid = new RegExp(`^[${digits}](?:_?[${digits}])*$`, "i");
  if (!valid.test(body)) {
    throw new PyException("ValueError", `invalid literal for int() with base ${base}: ${pyRepr(text)}`);
  }
  const clean = body.replace(/_/g, "").toLowerCase();
  let value = 0n;
  const bb = BigInt(b);
  for (const ch of clean) value = value * bb + BigInt(parseInt(ch, 36));
  return normInt(sign * value);
}

export function toInt(v: PyValue, base: PyValue | undefined): number | bigint {
  if (base !== undefined) {
    if (typeof v !== "string") throw new PyException("TypeError", "int() can't convert non-string with explicit base");
    const b = numericValue(base);
    if (typeof b !== "number" || !Number.isInteger(b) || (b !== 0 && (b < 2 || b > 36))) {
      throw new PyException("ValueError", "int() base must be >= 2 and <= 36, or 0");
    }
    return intFromString(v, b);
  }
  if (typeof v === "number" || typeof v === "bigint") return v;
  if (typeof v === "boolean") return v ? 1 : 0;
  if (v instanceof PyFloat) {
    const x = v.value;
    if (Number.isNaN(x)) throw new PyException("ValueError", "cannot convert float NaN to integer");
    if (!Number.isFinite(x)) throw new PyException("OverflowError", "cannot convert float infinity to integer");
    const t = Math.trunc(x);
    return Number.isSafeInteger(t) ? (t === 0 ? 0 : t) : normInt(BigInt(t));
  }
  if (typeof v === "string") return intFromString(v, 10);
  throw new PyException(
    "TypeError",
    `int() argument must be a string, a bytes-like object or a real number, not '${typeName(v)}'`,
  );
}

const FLOAT_TEXT =
  /^[+-]?(?:(?:\d(?:_?\d)*)?\.\d(?:_?\d)*(?:[eE][+-]?\d(?:_?\d)*)?|\d(?:_?\d)*\.?(?:[eE][+-]?\d(?:_?\d)*)?)$/;

export function toFloat(v: PyValue): number {
  if (v instanceof PyFloat) return v.value;
  if (typeof v === "number") return v;
  if (typeof v === "bigint") {
    const x = Number(v);
    if (!Number.isFinite(x)) throw new PyException("OverflowError", "int too large to convert to float");
    return x;
  }
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "string") {
    const s = v.replace(TRIM, "");
    const lower = s.toLowerCase();
    const special = /^([+-]?)(inf|infinity|nan)$/.exec(lower);
    if (special) {
      if (special[2] === "nan") return NaN;
      return special[1] === "-" ? -Infinity : Infinity;
    }
    if (FLOAT_TEXT.test(s)) return Number(s.replace(/_/g, ""));
    throw new PyException("ValueError", `could not convert string to float: ${pyRepr(v)}`);
  }
  throw new PyException("TypeError", `float() argument must be a string or a real number, not '${typeName(v)}'`);
}

function toRangeInt(v: PyValue): number {
  if (typeof v === "number") return v;
  if (typeof v === "boolean") return v ? 1 : 0;
  throw new PyException("TypeError", `'${typeName(v)}' object cannot be interpreted as an integer`);
}

// ---------------------------------------------------------------------------
// Type objects

function type(name: string, construct: BuiltinImpl, matches: (v: PyValue) => boolean): PyType {
  return new PyType(name, construct, matches);
}

export const TYPES = {
  str: type(
    "str",
    (args, kwargs, ctx) => {
      const [v] = bindArgs("str", args, kwargs, ["object"]);
      if (v === undefined || typeof v === "string") return v ?? "";
      const r = ctx.str(v);
      allocate(r.length);
      return r;
    },
    (v) => typeof v === "string",
  ),
  int: type(
    "int",
    (args, kwargs) => {
      const [v, base] = bindArgs("int", args, kwargs, ["x", "base"], 0, { positionalOnly: 1 });
      return v === undefined ? 0 : toInt(v, base);
    },
    (v) => typeof v === "number" || typeof v === "bigint" || typeof v === "boolean",
  ),
  float: type(
    "float",
    (args, kwargs) => {
      noKwargs("float", kwargs);
      arity("float", args, 0, 1);
      return new PyFloat(args.length ? toFloat(args[0]!) : 0);
    },
    (v) => v instanceof PyFloat,
  ),
  bool: type(
    "bool",
    (args, kwargs, ctx) => {
      noKwargs("bool", kwargs);
      arity("bool", args, 0, 1);
      return args.length ? truthy(args[0]!, ctx) : false;
    },
    (v) => typeof v === "boolean",
  ),
  list: type(
    "list",
    (args, kwargs, ctx) => {
      noKwargs("list", kwargs);
      arity("list", args, 0, 1);
      return args.length ? [...iterate(args[0]!, ctx)] : [];
    },
    (v) => Array.isArray(v),
  ),
  tuple: type(
    "tuple",
    (args, kwargs, ctx) => {
      noKwargs("tuple", kwargs);
      arity("tuple", args, 0, 1);
      if (args[0] instanceof PyTuple) return args[0];
      return new PyTuple(args.length ? [...iterate(args[0]!, ctx)] : []);
    },
    (v) => v instanceof PyTuple,
  ),
  dict: type(
    "dict",
    (args, kwargs, ctx) => {
      arity("dict", args, 0, 1);
      const d = new PyDict();
      updateDict(d, args[0], kwargs, ctx);
      return d;
    },
    (v) => v instanceof PyDict,
  ),
  set: type(
    "set",
    (args, kwargs, ctx) => {
      noKwargs("set", kwargs);
      arity("set", args, 0, 1);
      return new PySet(args.length ? iterate(args[0]!, ctx) : undefined);
    },
    (v) => v instanceof PySet,
  ),
  range: type(
    "range",
    (args, kwargs) => {
      noKwargs("range", kwargs);
      arity("range", args, 1, 3);
      const n = args.map(toRangeInt);
      if (n.length === 1) return new PyRange(0, n[0]!, 1);
      const step = n[2] ?? 1;
      if (step === 0) throw new PyException("ValueError", "range() arg 3 must not be zero");
      return new PyRange(n[0]!, n[1]!, step);
    },
    (v) => v instanceof PyRange,
  ),
  type: type(
    "type",
    (args, kwargs) => {
      noKwargs("type", kwargs);
      if (args.length !== 1)
        throw new PyException("TypeError", "type() takes 1 argument here: creating classes is not supported");
      return typeOf(args[0]!);
    },
    (v) => v instanceof PyType || v instanceof PyExceptionType,
  ),
};

const NONE_TYPE = type(
  "NoneType",
  () => {
    throw new PyException("TypeError", "cannot create 'NoneType' instances");
  },
  (v) => v === null,
);
const FUNCTION_TYPE = type(
  "function",
  () => {
    throw new PyException("TypeError", "cannot create 'function' instances");
  },
  (v) => v instanceof PyFunction,
);
const otherTypes = new Map<string, PyType>();

/** type(v): the same object every time for a given type, so `type(x) is list` works. */
export function typeOf(v: PyValue): PyType | PyExceptionType {
  if (typeof v === "string") return TYPES.str;
  if (typeof v === "boolean") return TYPES.bool;
  if (typeof v === "number" || typeof v === "bigint") return TYPES.int;
  if (v === null) return NONE_TYPE;
  if (v instanceof PyFloat) return TYPES.float;
  if (Array.isArray(v)) return TYPES.list;
  if (v instanceof PyTuple) return TYPES.tuple;
  if (v instanceof PyDict) return TYPES.dict;
  if (v instanceof PySet) return TYPES.set;
  if (v instanceof PyRange) return TYPES.range;
  if (v instanceof PyType || v instanceof PyExceptionType) return TYPES.type;
  if (v instanceof PyFunction) return FUNCTION_TYPE;
  if (v instanceof PyExceptionValue) return v.type;
  const name = typeName(v);
  let t = otherTypes.get(name);
  if (!t) {
    t = type(
      name,
      () => {
        throw new PyException("TypeError", `cannot create '${name}' instances`);
      },
      (x) => typeName(x) === name,
    );
    otherTypes.set(name, t);
  }
  return t;
}

function isInstance(v: PyValue, t: PyValue): boolean {
  if (t instanceof PyType) return t.matches(v);
  if (t instanceof PyExceptionType) return v instanceof PyExceptionValue && v.type.isSubclassOf(t);
  if (t instanceof PyTuple) return t.items.some((x) => isInstance(v, x));
  throw new PyException("TypeError", "isinstance() arg 2 must be a type, a tuple of types, or a union");
}

// ---------------------------------------------------------------------------
// Functions

function minMax(name: "min" | "max", args: PyValue[], kwargs: Map<string, PyValue>, ctx: CallContext): PyValue {
  for (const k of kwargs.keys()) {
    if (k !== "key" && k !== "default")
      throw new PyException("TypeError", `${name}() got an unexpected keyword argument '${k}'`);
  }
  const key = kwargs.get("key");
  const dflt = kwargs.get("default");
  if (args.length === 0) throw new PyException("TypeError", `${name} expected at least 1 argument, got 0`);
  let items: Iterable<PyValue>;
  if (args.length === 1) items = iterate(args[0]!, ctx);
  else {
    if (dflt !== undefined)
      throw new PyException("TypeError", `Cannot specify a default for ${name}() with multiple positional arguments`);
    items = args;
  }
  let best: PyValue | undefined;
  let bestKey: PyValue | undefined;
  for (const item of items) {
    const k = key === undefined || key === null ? item : ctx.call(key, [item]);
    if (best === undefined) {
      best = item;
      bestKey = k;
      continue;
    }
    const c = orderCompare(k, bestKey!, name === "min" ? "Lt" : "Gt");
    if (c !== undefined && (name === "min" ? c < 0 : c > 0)) {
      best = item;
      bestKey = k;
    }
  }
  if (best === undefined) {
    if (dflt !== undefined) return dflt;
    throw new PyException("ValueError", `${name}() arg is an empty sequence`);
  }
  return best;
}

function* enumerateGen(items: Iterable<PyValue>, start: number | bigint): Generator<PyValue> {
  let i = start;
  for (const v of items) {
    yield new PyTuple([i, v]);
    i = typeof i === "number" && Number.isSafeInteger(i + 1) ? i + 1 : normInt(BigInt(i) + 1n);
  }
}

function* zipGen(iters: Iterator<PyValue>[], strict: boolean): Generator<PyValue> {
  if (iters.length === 0) return;
  for (;;) {
    const row: PyValue[] = [];
    for (let i = 0; i < iters.length; i++) {
      const r = iters[i]!.next();
      if (r.done) {
        if (strict && (i > 0 || iters.slice(1).some((it) => !it.next().done))) {
          throw new PyException(
            "ValueError",
            `zip() argument ${i > 0 ? i + 1 : 2} is ${i > 0 ? "shorter" : "longer"} than argument${i > 1 ? "s 1-" + i : " 1"}`,
          );
        }
        return;
      }
      row.push(r.value);
    }
    yield new PyTuple(row);
  }
}

function* mapGen(fn: PyValue, iters: Iterator<PyValue>[], ctx: CallContext): Generator<PyValue> {
  for (;;) {
    const row: PyValue[] = [];
    for (const it of iters) {
      const r = it.next();
      if (r.done) return;
      row.push(r.value);
    }
    yield ctx.call(fn, row);
  }
}

function* filterGen(fn: PyValue, items: Iterable<PyValue>, ctx: CallContext): Generator<PyValue> {
  for (const v of items) {
    const keep = fn === null ? truthy(v, ctx) : truthy(ctx.call(fn, [v]), ctx);
    if (keep) yield v;
  }
}

function reversedOf(v: PyValue, ctx: CallContext): PyIterator {
  let items: PyValue[];
  if (Array.isArray(v)) items = v.slice().reverse();
  else if (v instanceof PyTuple) items = [...v.items].reverse();
  else if (typeof v === "string") items = Array.from(v).reverse();
  else if (v instanceof PyRange || v instanceof PyDict || v instanceof PyDictView)
    items = [...iterate(v, ctx)].reverse();
  else throw new PyException("TypeError", `'${typeName(v)}' object is not reversible`);
  return new PyIterator("reversed", items[Symbol.iterator]());
}

function iterOf(v: PyValue, ctx: CallContext): PyIterator {
  if (v instanceof PyIterator) return v;
  return new PyIterator(`${typeName(v)}_iterator`, iterate(v, ctx)[Symbol.iterator]());
}

function roundBuiltin(args: PyValue[], kwargs: Map<string, PyValue>): PyValue {
  const [x, nd] = bindArgs("round", args, kwargs, ["number", "ndigits"], 1);
  const n = nd === undefined || nd === null ? undefined : toRangeInt(nd);
  if (x instanceof PyFloat) {
    const v = x.value;
    if (n === undefined) {
      if (Number.isNaN(v)) throw new PyException("ValueError", "cannot convert float NaN to integer");
      if (!Number.isFinite(v)) throw new PyException("OverflowError", "cannot convert float infinity to integer");
      let r = Math.round(v);
      if (Math.abs(v - Math.trunc(v)) === 0.5) r = 2 * Math.round(v / 2);
      return Number.isSafeInteger(r) ? (r === 0 ? 0 : r) : normInt(BigInt(r));
    }
    return new PyFloat(roundFloat(v, n));
  }
  const i = numericValue(x!);
  if (i === undefined || x instanceof PyFloat)
    throw new PyException("TypeError", `type ${typeName(x!)} doesn't define __round__ method`);
  if (n === undefined || n >= 0) return typeof x === "boolean" ? (x ? 1 : 0) : i;
  // Round an int to tens, hundreds...: half to even.
  const pow = 10n ** BigInt(-n);
  const bi = BigInt(i);
  const [q, r] = [bi / pow - (bi % pow < 0n ? 1n : 0n), ((bi % pow) + pow) % pow];
  let rounded = q;
  if (r * 2n > pow || (r * 2n === pow && q % 2n !== 0n)) rounded = q + 1n;
  return normInt(rounded * pow);
}

function absBuiltin(v: PyValue, ctx: CallContext): PyValue {
  if (v instanceof PyFloat) return new PyFloat(Math.abs(v.value));
  const n = numericValue(v);
  if (n === undefined) {
    if (v instanceof HostObject) {
      const r = v.unaryOp("Abs", ctx);
      if (r !== undefined) return r;
    }
    throw new PyException("TypeError", `bad operand type for abs(): '${typeName(v)}'`);
  }
  if (typeof n === "number") return Math.abs(n);
  return normInt(n < 0n ? -n : n);
}

function radix(v: PyValue, base: 2 | 8 | 16, prefix: string): string {
  const n = numericValue(v);
  if (n === undefined || v instanceof PyFloat)
    throw new PyException("TypeError", `'${typeName(v)}' object cannot be interpreted as an integer`);
  const b = BigInt(n);
  return (b < 0n ? "-" : "") + prefix + (b < 0n ? -b : b).toString(base);
}

function powBuiltin(args: PyValue[], kwargs: Map<string, PyValue>, ctx: CallContext): PyValue {
  const [base, exp, mod] = bindArgs("pow", args, kwargs, ["base", "exp", "mod"], 2);
  if (mod === undefined || mod === null) return binaryOp("Pow", base!, exp!, ctx);
  const b = numericValue(base!);
  const e = numericValue(exp!);
  const m = numericValue(mod);
  if ([base, exp, mod].some((x) => x instanceof PyFloat) || b === undefined || e === undefined || m === undefined) {
    throw new PyException("TypeError", "pow() 3rd argument not allowed unless all arguments are integers");
  }
  let mm = BigInt(m);
  if (mm === 0n) throw new PyException("ValueError", "pow() 3rd argument cannot be 0");
  let ee = BigInt(e);
  if (ee < 0n) throw new PyException("ValueError", "pow() negative exponent with a modulus is not supported here");
  const neg = mm < 0n;
  if (neg) mm = -mm;
  let result = 1n;
  let bb = ((BigInt(b) % mm) + mm) % mm;
  while (ee > 0n) {
    if (ee & 1n) result = (result * bb) % mm;
    bb = (bb * bb) % mm;
    ee >>= 1n;
  }
  if (neg && result !== 0n) result -= mm;
  return normInt(result);
}

function sumBuiltin(args: PyValue[], kwargs: Map<string, PyValue>, ctx: CallContext): PyValue {
  const [items, start] = bindArgs("sum", args, kwargs, ["iterable", "start"], 1, { positionalOnly: 1 });
  let total: PyValue = start ?? 0;
  if (typeof total === "string")
    throw new PyException("TypeError", "sum() can't sum strings [use ''.join(seq) instead]");
  for (const v of iterate(items!, ctx)) {
    ctx.step();
    total = binaryOp("Add", total, v, ctx);
  }
  return total;
}

function getattrBuiltin(args: PyValue[], kwargs: Map<string, PyValue>, ctx: CallContext): PyValue {
  noKwargs("getattr", kwargs);
  arity("getattr", args, 2, 3);
  const name = args[1];
  if (typeof name !== "string") throw new PyException("TypeError", "attribute name must be string");
  try {
    return ctx.getAttr(args[0]!, name);
  } catch (err) {
    if (args.length === 3 && err instanceof PyException && err.pyType === "AttributeError") return args[2]!;
    throw err;
  }
}

function hasattrBuiltin(args: PyValue[], kwargs: Map<string, PyValue>, ctx: CallContext): PyValue {
  noKwargs("hasattr", kwargs);
  arity("hasattr", args, 2, 2);
  const name = args[1];
  if (typeof name !== "string") throw new PyException("TypeError", "attribute name must be string");
  try {
    ctx.getAttr(args[0]!, name);
    return true;
  } catch (err) {
    if (err instanceof PyException && err.pyType === "AttributeError") return false;
    throw err;
  }
}

function fn(name: string, impl: BuiltinImpl): [string, PyBuiltin] {
  return [name, new PyBuiltin(name, impl)];
}

const FUNCTIONS: [string, PyBuiltin][] = [
  fn("len", (args, kwargs, ctx) => {
    noKwargs("len", kwargs);
    arity("len", args, 1, 1);
    return length(args[0]!, ctx);
  }),
  fn("repr", (args, kwargs, ctx) => {
    noKwargs("repr", kwargs);
    arity("repr", args, 1, 1);
    const r = ctx.repr(args[0]!);
    allocate(r.length);
    return r;
  }),
  fn("ascii", (args, kwargs, ctx) => {
    noKwargs("ascii", kwargs);
    arity("ascii", args, 1, 1);
    return asciiRepr(ctx.repr(args[0]!));
  }),
  fn("format", (args, kwargs, ctx) => {
    noKwargs("format", kwargs);
    arity("format", args, 1, 2);
    const spec = args[1] ?? "";
    if (typeof spec !== "string")
      throw new PyException("TypeError", `format() argument 2 must be str, not ${typeName(spec)}`);
    return formatValue(args[0]!, spec, ctx);
  }),
  fn("sorted", (args, kwargs, ctx) => {
    arity("sorted", args, 1, 1);
    const [key, reverse] = bindArgs("sorted", [], kwargs, ["key", "reverse"]);
    const items = [...iterate(args[0]!, ctx)];
    sortValues(items, key, reverse !== undefined && truthy(reverse, ctx), ctx);
    return items;
  }),
  fn("reversed", (args, kwargs, ctx) => {
    noKwargs("reversed", kwargs);
    arity("reversed", args, 1, 1);
    return reversedOf(args[0]!, ctx);
  }),
  fn("enumerate", (args, kwargs, ctx) => {
    const [items, start] = bindArgs("enumerate", args, kwargs, ["iterable", "start"], 1);
    const s = start === undefined ? 0 : numericValue(start);
    if (s === undefined || start instanceof PyFloat)
      throw new PyException("TypeError", `'${typeName(start!)}' object cannot be interpreted as an integer`);
    return new PyIterator("enumerate", enumerateGen(iterate(items!, ctx), s));
  }),
  fn("zip", (args, kwargs, ctx) => {
    const [strict] = bindArgs("zip", [], kwargs, ["strict"]);
    const iters = args.map((a) => iterate(a, ctx)[Symbol.iterator]());
    return new PyIterator("zip", zipGen(iters, strict !== undefined && truthy(strict, ctx)));
  }),
  fn("map", (args, kwargs, ctx) => {
    noKwargs("map", kwargs);
    if (args.length < 2) throw new PyException("TypeError", "map() must have at least two arguments.");
    const iters = args.slice(1).map((a) => iterate(a, ctx)[Symbol.iterator]());
    return new PyIterator("map", mapGen(args[0]!, iters, ctx));
  }),
  fn("filter", (args, kwargs, ctx) => {
    noKwargs("filter", kwargs);
    arity("filter", args, 2, 2);
    return new PyIterator("filter", filterGen(args[0]!, iterate(args[1]!, ctx), ctx));
  }),
  fn("iter", (args, kwargs, ctx) => {
    noKwargs("iter", kwargs);
    arity("iter", args, 1, 1);
    return iterOf(args[0]!, ctx);
  }),
  fn("next", (args, kwargs) => {
    noKwargs("next", kwargs);
    arity("next", args, 1, 2);
    const it = args[0];
    if (!(it instanceof PyIterator)) throw new PyException("TypeError", `'${typeName(it!)}' object is not an iterator`);
    const r = it.next();
    if (r.done) {
      if (args.length > 1) return args[1]!;
      throw new PyException("StopIteration", "");
    }
    return r.value;
  }),
  fn("min", (args, kwargs, ctx) => minMax("min", args, kwargs, ctx)),
  fn("max", (args, kwargs, ctx) => minMax("max", args, kwargs, ctx)),
  fn("sum", sumBuiltin),
  fn("any", (args, kwargs, ctx) => {
    noKwargs("any", kwargs);
    arity("any", args, 1, 1);
    for (const v of iterate(args[0]!, ctx)) if (truthy(v, ctx)) return true;
    return false;
  }),
  fn("all", (args, kwargs, ctx) => {
    noKwargs("all", kwargs);
    arity("all", args, 1, 1);
    for (const v of iterate(args[0]!, ctx)) if (!truthy(v, ctx)) return false;
    return true;
  }),
  fn("abs", (args, kwargs, ctx) => {
    noKwargs("abs", kwargs);
    arity("abs", args, 1, 1);
    return absBuiltin(args[0]!, ctx);
  }),
  fn("round", (args, kwargs) => roundBuiltin(args, kwargs)),
  fn("divmod", (args, kwargs, ctx) => {
    noKwargs("divmod", kwargs);
    arity("divmod", args, 2, 2);
    return new PyTuple([binaryOp("FloorDiv", args[0]!, args[1]!, ctx), binaryOp("Mod", args[0]!, args[1]!, ctx)]);
  }),
  fn("pow", powBuiltin),
  fn("isinstance", (args, kwargs) => {
    noKwargs("isinstance", kwargs);
    arity("isinstance", args, 2, 2);
    return isInstance(args[0]!, args[1]!);
  }),
  fn("callable", (args, kwargs) => {
    noKwargs("callable", kwargs);
    arity("callable", args, 1, 1);
    const v = args[0]!;
    return (
      v instanceof PyFunction ||
      v instanceof PyBuiltin ||
      v instanceof PyType ||
      v instanceof PyExceptionType ||
      v instanceof HostObject
    );
  }),
  fn("getattr", getattrBuiltin),
  fn("hasattr", hasattrBuiltin),
  fn("ord", (args, kwargs) => {
    noKwargs("ord", kwargs);
    arity("ord", args, 1, 1);
    const s = args[0];
    if (typeof s !== "string")
      throw new PyException("TypeError", `ord() expected string of length 1, but ${typeName(s!)} found`);
    const cps = Array.from(s);
    if (cps.length !== 1)
      throw new PyException("TypeError", `ord() expected a character, but string of length ${cps.length} found`);
    return cps[0]!.codePointAt(0)!;
  }),
  fn("chr", (args, kwargs) => {
    noKwargs("chr", kwargs);
    arity("chr", args, 1, 1);
    const n = toRangeInt(args[0]!);
    if (n < 0 || n > 0x10ffff) throw new PyException("ValueError", "chr() arg not in range(0x110000)");
    return String.fromCodePoint(n);
  }),
  fn("hex", (args) => (arity("hex", args, 1, 1), radix(args[0]!, 16, "0x"))),
  fn("oct", (args) => (arity("oct", args, 1, 1), radix(args[0]!, 8, "0o"))),
  fn("bin", (args) => (arity("bin", args, 1, 1), radix(args[0]!, 2, "0b"))),
  fn("print", (args, kwargs, ctx) => {
    const [sep, end] = bindArgs("print", [], kwargs, ["sep", "end", "file", "flush"]);
    const text =
      args.map((a) => ctx.str(a)).join(sep === undefined || sep === null ? " " : ctx.str(sep)) +
      (end === undefined || end === null ? "\n" : ctx.str(end));
    ctx.output?.(text);
    return null;
  }),
];

/**
 * Builtins that would let package code reach outside its evaluation. Looking
 * one up is an error naming the builtin, rather than a NameError, so the author
 * knows why it fails.
 */
export const FORBIDDEN_BUILTINS = new Set([
  "open",
  "exec",
  "eval",
  "compile",
  "__import__",
  "vars",
  "dir",
  "input",
  "breakpoint",
  "help",
  "exit",
  "quit",
  "setattr",
  "delattr",
  "memoryview",
  "bytearray",
  "bytes",
  "object",
  "super",
  "classmethod",
  "staticmethod",
  "property",
  "id",
  "hash",
  "issubclass",
  "frozenset",
  "complex",
  "slice",
  "aiter",
  "anext",
  "__build_class__",
]);

/** The builtin namespace. */
export const BUILTINS: ReadonlyMap<string, PyValue> = new Map<string, PyValue>([
  ...Object.entries(TYPES),
  ...FUNCTIONS,
  ...[...EXCEPTION_TYPES.entries()],
  ["True", true],
  ["False", false],
  ["None", null],
]);
