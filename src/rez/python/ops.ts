/**
 * Python's operators and protocols on values: truth, iteration, len, `in`,
 * arithmetic, comparison, indexing and slicing. Exact where Python is exact
 * (big ints, floor division and modulo signs, float division by zero, str code
 * points), raising the TypeError/ValueError Python raises otherwise.
 */
import { allocate } from "./budget.js";
import { percentFormat } from "./format.js";
import {
  HostObject,
  PyDict,
  PyDictView,
  PyException,
  PyFloat,
  PyIterator,
  PyRange,
  PySet,
  PyTuple,
  compareNumbers,
  normInt,
  numericValue,
  pyEquals,
  typeName,
  type CallContext,
  type PyValue,
} from "./values.js";

/** A slice in a subscript (`a[1:2]`); only lives inside subscript evaluation. */
export class PySlice {
  constructor(
    readonly start: PyValue,
    readonly stop: PyValue,
    readonly step: PyValue,
  ) {}
}

export type BinaryOperator =
  | "Add"
  | "Sub"
  | "Mult"
  | "Div"
  | "FloorDiv"
  | "Mod"
  | "Pow"
  | "LShift"
  | "RShift"
  | "BitOr"
  | "BitXor"
  | "BitAnd"
  | "MatMult";

const OPERATOR_SYMBOL: Record<BinaryOperator, string> = {
  Add: "+",
  Sub: "-",
  Mult: "*",
  Div: "/",
  FloorDiv: "//",
  Mod: "%",
  Pow: "** or pow()",
  LShift: "<<",
  RShift: ">>",
  BitOr: "|",
  BitXor: "^",
  BitAnd: "&",
  MatMult: "@",
};

// ---------------------------------------------------------------------------
// Strings as code point sequences

const SURROGATE = /[\uD800-\uDFFF]/;

/** The code points of a string when it has astral characters; undefined when UTF-16 indexing is already exact. */
export function codePoints(s: string): string[] | undefined {
  return SURROGATE.test(s) ? Array.from(s) : undefined;
}

export function strLength(s: string): number {
  const cps = codePoints(s);
  return cps ? cps.length : s.length;
}

/** Compares strings by code point, as Python does (JS compares UTF-16 units). */
export function strCompare(a: string, b: string): number {
  if (!SURROGATE.test(a) && !SURROGATE.test(b)) return a < b ? -1 : a > b ? 1 : 0;
  const ca = Array.from(a);
  const cb = Array.from(b);
  const n = Math.min(ca.length, cb.length);
  for (let i = 0; i < n; i++) {
    const x = ca[i]!.codePointAt(0)!;
    const y = cb[i]!.codePointAt(0)!;
    if (x !== y) return x < y ? -1 : 1;
  }
  return ca.length - cb.length < 0 ? -1 : ca.length > cb.length ? 1 : 0;
}

// ---------------------------------------------------------------------------
// Protocols

export function truthy(v: PyValue, ctx: CallContext): boolean {
  switch (typeof v) {
    case "boolean":
      return v;
    case "string":
      return v.length > 0;
    case "number":
      return v !== 0;
    case "bigint":
      return v !== 0n;
    default:
      break;
  }
  if (v === null) return false;
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof PyFloat) return v.value !== 0; // NaN is true, as in Python
  if (v instanceof PyTuple) return v.items.length > 0;
  if (v instanceof PyDict || v instanceof PySet) return v.size > 0;
  if (v instanceof PyRange) return v.length > 0;
  if (v instanceof PyDictView) return v.dict.size > 0;
  if (v instanceof HostObject) return v.truthy(ctx);
  return true;
}

/**
 * Iteration charges the memory budget with the container's size: builtins that
 * copy an iterable (list(), sorted(), set(), join...) take no evaluation steps,
 * so this is what bounds `[list(big) for i in range(100)]`.
 */
export function iterate(v: PyValue, ctx: CallContext): Iterable<PyValue> {
  if (Array.isArray(v)) {
    allocate(v.length);
    return iterateList(v);
  }
  if (typeof v === "string") {
    allocate(v.length);
    return codePoints(v) ?? v;
  }
  if (v instanceof PyTuple) {
    allocate(v.items.length);
    return v.items;
  }
  if (v instanceof PyDict) {
    allocate(v.size);
    return [...v.keys()];
  }
  if (v instanceof PySet) {
    allocate(v.size);
    return [...v];
  }
  if (v instanceof PyRange) return iterateRange(v, ctx);
  if (v instanceof PyIterator) return v;
  if (v instanceof PyDictView) return [...v];
  if (v instanceof HostObject) {
    const it = v.iterate(ctx);
    if (it !== undefined) return it;
  }
  throw new PyException("TypeError", `'${typeName(v)}' object is not iterable`);
}

/** Lists are iterated by index, so appends during the loop are seen, as in Python. */
function* iterateList(list: PyValue[]): Generator<PyValue> {
  for (let i = 0; i < list.length; i++) yield list[i]!;
}

/** Ranges count evaluation steps, so `list(range(10**9))` hits the step limit instead of exhausting memory. */
function* iterateRange(r: PyRange, ctx: CallContext): Generator<PyValue> {
  const n = r.length;
  for (let i = 0; i < n; i++) {
    ctx.step();
    allocate(1);
    yield r.at(i);
  }
}

export function length(v: PyValue, ctx: CallContext): number {
  if (typeof v === "string") return strLength(v);
  if (Array.isArray(v)) return v.length;
  if (v instanceof PyTuple) return v.items.length;
  if (v instanceof PyDict || v instanceof PySet) return v.size;
  if (v instanceof PyRange) return v.length;
  if (v instanceof PyDictView) return v.dict.size;
  if (v instanceof HostObject) {
    const n = v.length(ctx);
    if (n !== undefined) return n;
  }
  throw new PyException("TypeError", `object of type '${typeName(v)}' has no len()`);
}

export function contains(container: PyValue, item: PyValue, ctx: CallContext): boolean {
  if (typeof container === "string") {
    if (typeof item !== "string")
      throw new PyException("TypeError", `'in <string>' requires string as left operand, not ${typeName(item)}`);
    return container.includes(item);
  }
  if (Array.isArray(container)) return container.some((x) => pyEquals(x, item));
  if (container instanceof PyTuple) return container.items.some((x) => pyEquals(x, item));
  if (container instanceof PyDict) return container.has(item);
  if (container instanceof PySet) return container.has(item);
  if (container instanceof PyRange) {
    const n = numericValue(item);
    if (typeof n !== "number" || !Number.isInteger(n)) return false;
    if (container.step > 0 ? n < container.start || n >= container.stop : n > container.start || n <= container.stop)
      return false;
    return (n - container.start) % container.step === 0;
  }
  if (container instanceof PyDictView) {
    if (container.kind === "dict_keys") return container.dict.has(item);
    for (const x of container) if (pyEquals(x, item)) return true;
    return false;
  }
  if (container instanceof HostObject) return container.contains(item, ctx);
  if (container instanceof PyIterator) {
    for (const x of container) if (pyEquals(x, item)) return true;
    return false;
  }
  throw new PyException("TypeError", `argument of type '${typeName(container)}' is not iterable`);
}

// ---------------------------------------------------------------------------
// Integers

function big(v: number | bigint): bigint {
  return typeof v === "bigint" ? v : BigInt(v);
}

export function intAdd(a: number | bigint, b: number | bigint): number | bigint {
  if (typeof a === "number" && typeof b === "number") {
    const r = a + b;
    if (Number.isSafeInteger(r)) return r;
  }
  return normInt(big(a) + big(b));
}

export function intSub(a: number | bigint, b: number | bigint): number | bigint {
  if (typeof a === "number" && typeof b === "number") {
    const r = a - b;
    if (Number.isSafeInteger(r)) return r;
  }
  return normInt(big(a) - big(b));
}

export function intMul(a: number | bigint, b: number | bigint): number | bigint {
  if (typeof a === "number" && typeof b === "number") {
    const r = a * b;
    if (Number.isSafeInteger(r)) return r === 0 ? 0 : r;
  }
  return normInt(big(a) * big(b));
}

function intFloorDivMod(a: number | bigint, b: number | bigint, what: "//" | "%"): [number | bigint, number | bigint] {
  const bb = big(b);
  if (bb === 0n)
    throw new PyException(
      "ZeroDivisionError",
      what === "//" ? "integer division or modulo by zero" : "integer modulo by zero",
    );
  const ab = big(a);
  let q = ab / bb;
  let r = ab % bb;
  if (r !== 0n && r < 0n !== bb < 0n) {
    q -= 1n;
    r += bb;
  }
  return [normInt(q), normInt(r)];
}

const MAX_POW_BITS = 1_000_000;

function intPow(a: number | bigint, b: number | bigint): PyValue {
  if (big(b) < 0n) {
    const x = Number(a);
    if (x === 0) throw new PyException("ZeroDivisionError", "0.0 cannot be raised to a negative power");
    return new PyFloat(Math.pow(x, Number(b)));
  }
  const base = big(a);
  const exp = big(b);
  if (base === 0n || base === 1n) return normInt(exp === 0n ? 1n : base);
  if (base === -1n) return exp % 2n === 0n ? 1 : -1;
  const bits = (base < 0n ? -base : base).toString(2).length;
  if (Number(exp) * bits > MAX_POW_BITS)
    throw new PyException("OverflowError", "integer result too large for a package definition");
  return normInt(base ** exp);
}

// ---------------------------------------------------------------------------
// Floats (CPython's float_divmod)

function floatDivMod(a: number, b: number): [number, number] {
  if (b === 0) throw new PyException("ZeroDivisionError", "float divmod()");
  let mod = a % b;
  let div = (a - mod) / b;
  if (mod) {
    if (b < 0 !== mod < 0) {
      mod += b;
      div -= 1;
    }
  } else {
    mod = b < 0 ? -0 : 0;
  }
  let floordiv: number;
  if (div) {
    floordiv = Math.floor(div);
    if (div - floordiv > 0.5) floordiv += 1;
  } else {
    floordiv = a / b < 0 ? -0 : 0;
  }
  return [floordiv, mod];
}

function floatPow(x: number, y: number): PyFloat {
  if (x === 0 && y < 0) throw new PyException("ZeroDivisionError", "0.0 cannot be raised to a negative power");
  if (x < 0 && !Number.isInteger(y) && Number.isFinite(y)) {
    throw new PyException(
      "ValueError",
      "a negative number raised to a fractional power gives a complex number, which is not supported",
    );
  }
  if (x === 1 || y === 0) return new PyFloat(1);
  return new PyFloat(Math.pow(x, y));
}

// ---------------------------------------------------------------------------
// Binary operators

function unsupported(op: BinaryOperator, a: PyValue, b: PyValue): PyException {
  return new PyException(
    "TypeError",
    `unsupported operand type(s) for ${OPERATOR_SYMBOL[op]}: '${typeName(a)}' and '${typeName(b)}'`,
  );
}

function repeatCount(n: PyValue): number | undefined {
  if (typeof n === "number") return n;
  if (typeof n === "boolean") return n ? 1 : 0;
  if (typeof n === "bigint") throw new PyException("OverflowError", "cannot fit 'int' into an index-sized integer");
  return undefined;
}

const MAX_REPEAT_LENGTH = 10_000_000;

function repeatSeq<T>(items: readonly T[], n: number): T[] {
  if (n <= 0 || items.length === 0) return [];
  if (items.length * n > MAX_REPEAT_LENGTH)
    throw new PyException("MemoryError", "sequence repetition too large for a package definition");
  allocate(items.length * n);
  const out: T[] = [];
  for (let i = 0; i < n; i++) for (const x of items) out.push(x);
  return out;
}

function repeatStr(s: string, n: number): string {
  if (n <= 0) return "";
  if (s.length * n > MAX_REPEAT_LENGTH)
    throw new PyException("MemoryError", "string repetition too large for a package definition");
  allocate(s.length * n);
  return s.repeat(n);
}

export function binaryOp(op: BinaryOperator, a: PyValue, b: PyValue, ctx: CallContext): PyValue {
  // Numbers (bool counts as int).
  const na = numericValue(a);
  const nb = numericValue(b);
  if (na !== undefined && nb !== undefined) {
    const isFloat = a instanceof PyFloat || b instanceof PyFloat;
    if (!isFloat) return intOp(op, na, nb, a, b);
    return floatOp(op, Number(na), Number(nb), a, b);
  }
  if (a instanceof HostObject || b instanceof HostObject) {
    const r = a instanceof HostObject ? a.binaryOp(op, b, false, ctx) : undefined;
    if (r !== undefined) return r;
    const r2 = b instanceof HostObject ? b.binaryOp(op, a, true, ctx) : undefined;
    if (r2 !== undefined) return r2;
    if (op === "Mod" && typeof a === "string") return percentFormat(a, b, ctx);
    throw unsupported(op, a, b);
  }
  switch (op) {
    case "Add":
      if (typeof a === "string") {
        if (typeof b === "string") {
          // V8 joins strings without copying them: only the new part costs memory.
          allocate(b.length);
          return a + b;
        }
        throw new PyException("TypeError", `can only concatenate str (not "${typeName(b)}") to str`);
      }
      if (Array.isArray(a)) {
        if (Array.isArray(b)) {
          allocate(a.length + b.length);
          return a.concat(b);
        }
        throw new PyException("TypeError", `can only concatenate list (not "${typeName(b)}") to list`);
      }
      if (a instanceof PyTuple) {
        if (b instanceof PyTuple) {
          allocate(a.items.length + b.items.length);
          return new PyTuple([...a.items, ...b.items]);
        }
        throw new PyException("TypeError", `can only concatenate tuple (not "${typeName(b)}") to tuple`);
      }
      break;
    case "Mult": {
      const [seq, count] = na !== undefined ? [b, repeatCount(a)] : [a, repeatCount(b)];
      if (count !== undefined) {
        if (typeof seq === "string") return repeatStr(seq, count);
        if (Array.isArray(seq)) return repeatSeq(seq, count);
        if (seq instanceof PyTuple) return new PyTuple(repeatSeq(seq.items, count));
      }
      if (typeof seq === "string" || Array.isArray(seq) || seq instanceof PyTuple) {
        throw new PyException(
          "TypeError",
          `can't multiply sequence by non-int of type '${typeName(na !== undefined ? a : b)}'`,
        );
      }
      break;
    }
    case "Mod":
      if (typeof a === "string") return percentFormat(a, b, ctx);
      break;
    case "BitOr":
      if (a instanceof PyDict && b instanceof PyDict) {
        const d = a.copy();
        for (const [k, v] of b.entries()) d.set(k, v);
        return d;
      }
      if (isSetLike(a) && isSetLike(b)) return setUnion(a, b);
      break;
    case "BitAnd":
      if (isSetLike(a) && isSetLike(b)) return new PySet([...setItems(a)].filter((x) => setHas(b, x)));
      break;
    case "Sub":
      if (isSetLike(a) && isSetLike(b)) return new PySet([...setItems(a)].filter((x) => !setHas(b, x)));
      break;
    case "BitXor":
      if (isSetLike(a) && isSetLike(b)) {
        return new PySet([
          ...[...setItems(a)].filter((x) => !setHas(b, x)),
          ...[...setItems(b)].filter((x) => !setHas(a, x)),
        ]);
      }
      break;
    default:
      break;
  }
  throw unsupported(op, a, b);
}

function isSetLike(v: PyValue): v is PySet | PyDictView {
  return v instanceof PySet || (v instanceof PyDictView && v.kind === "dict_keys");
}

function setItems(v: PySet | PyDictView): Iterable<PyValue> {
  return v;
}

function setHas(v: PySet | PyDictView, x: PyValue): boolean {
  return v instanceof PySet ? v.has(x) : v.dict.has(x);
}

function setUnion(a: PySet | PyDictView, b: PySet | PyDictView): PySet {
  const s = new PySet(a);
  for (const x of b) s.add(x);
  return s;
}

function intOp(op: BinaryOperator, a: number | bigint, b: number | bigint, ra: PyValue, rb: PyValue): PyValue {
  switch (op) {
    case "Add":
      return intAdd(a, b);
    case "Sub":
      return intSub(a, b);
    case "Mult":
      return intMul(a, b);
    case "Div": {
      if (big(b) === 0n) throw new PyException("ZeroDivisionError", "division by zero");
      if (typeof a === "number" && typeof b === "number") return new PyFloat(a / b);
      return new PyFloat(bigTrueDiv(big(a), big(b)));
    }
    case "FloorDiv":
      return intFloorDivMod(a, b, "//")[0];
    case "Mod":
      return intFloorDivMod(a, b, "%")[1];
    case "Pow":
      return intPow(a, b);
    case "LShift": {
      if (big(b) < 0n) throw new PyException("ValueError", "negative shift count");
      if (big(b) > BigInt(MAX_POW_BITS))
        throw new PyException("OverflowError", "shift count too large for a package definition");
      return normInt(big(a) << big(b));
    }
    case "RShift":
      if (big(b) < 0n) throw new PyException("ValueError", "negative shift count");
      return normInt(big(a) >> big(b));
    case "BitOr":
      if (typeof ra === "boolean" && typeof rb === "boolean") return ra || rb;
      return normInt(big(a) | big(b));
    case "BitAnd":
      if (typeof ra === "boolean" && typeof rb === "boolean") return ra && rb;
      return normInt(big(a) & big(b));
    case "BitXor":
      if (typeof ra === "boolean" && typeof rb === "boolean") return ra !== rb;
      return normInt(big(a) ^ big(b));
    default:
      throw unsupported(op, ra, rb);
  }
}

/** Correctly rounded int/int for big ints (CPython rounds the exact quotient). */
function bigTrueDiv(a: bigint, b: bigint): number {
  const neg = a < 0n !== b < 0n;
  let x = a < 0n ? -a : a;
  const y = b < 0n ? -b : b;
  // Scale so the quotient has 64+ significant bits, then let Number() round once.
  let shift = 0n;
  const need = BigInt(y.toString(2).length - x.toString(2).length + 66);
  if (need > 0n) {
    x <<= need;
    shift = need;
  }
  const q = x / y;
  const r = x % y;
  const qq = (q << 1n) | (r === 0n ? 0n : 1n); // sticky bit
  const value = Number(qq) / 2 / Math.pow(2, Number(shift));
  return neg ? -value : value;
}

function floatOp(op: BinaryOperator, a: number, b: number, ra: PyValue, rb: PyValue): PyValue {
  switch (op) {
    case "Add":
      return new PyFloat(a + b);
    case "Sub":
      return new PyFloat(a - b);
    case "Mult":
      return new PyFloat(a * b);
    case "Div":
      if (b === 0) throw new PyException("ZeroDivisionError", "float division by zero");
      return new PyFloat(a / b);
    case "FloorDiv":
      if (b === 0) throw new PyException("ZeroDivisionError", "float floor division by zero");
      return new PyFloat(floatDivMod(a, b)[0]);
    case "Mod":
      if (b === 0) throw new PyException("ZeroDivisionError", "float modulo");
      return new PyFloat(floatDivMod(a, b)[1]);
    case "Pow":
      return floatPow(a, b);
    default:
      throw unsupported(op, ra, rb);
  }
}

/** Augmented assignment: lists, dicts and sets are updated in place, as Python's `+=`, `|=`... do. */
export function inplaceOp(op: BinaryOperator, a: PyValue, b: PyValue, ctx: CallContext): PyValue {
  if (Array.isArray(a)) {
    if (op === "Add") {
      const items = [...iterate(b, ctx)];
      for (const x of items) a.push(x);
      return a;
    }
    if (op === "Mult") {
      const n = repeatCount(b);
      if (n !== undefined) {
        const copy = repeatSeq(a, n);
        a.length = 0;
        for (const x of copy) a.push(x);
        return a;
      }
    }
  }
  if (a instanceof PyDict && op === "BitOr") {
    if (b instanceof PyDict) for (const [k, v] of b.entries()) a.set(k, v);
    else updateDictFromPairs(a, b, ctx);
    return a;
  }
  if (a instanceof PySet && isSetLike(b)) {
    if (op === "BitOr") {
      for (const x of b) a.add(x);
      return a;
    }
    if (op === "BitAnd") {
      for (const x of [...a]) if (!setHas(b, x)) a.delete(x);
      return a;
    }
    if (op === "Sub") {
      for (const x of b) a.delete(x);
      return a;
    }
    if (op === "BitXor") {
      for (const x of [...b])
        if (a.has(x)) a.delete(x);
        else a.add(x);
      return a;
    }
  }
  return binaryOp(op, a, b, ctx);
}

/** dict.update / dict() from an iterable of key-value pairs. */
export function updateDictFromPairs(d: PyDict, pairs: PyValue, ctx: CallContext): void {
  let i = 0;
  for (const item of iterate(pairs, ctx)) {
    const kv = [...iterate(item, ctx)];
    if (kv.length !== 2) {
      throw new PyException(
        "ValueError",
        `dictionary update sequence element #${i} has length ${kv.length}; 2 is required`,
      );
    }
    d.set(kv[0]!, kv[1]!);
    i++;
  }
}

export function unaryOp(op: "UAdd" | "USub" | "Invert" | "Not", v: PyValue, ctx: CallContext): PyValue {
  if (op === "Not") return !truthy(v, ctx);
  const n = numericValue(v);
  if (n === undefined) {
    if (v instanceof HostObject) {
      const r = v.unaryOp(op, ctx);
      if (r !== undefined) return r;
    }
    const sym = op === "UAdd" ? "+" : op === "USub" ? "-" : "~";
    throw new PyException("TypeError", `bad operand type for unary ${sym}: '${typeName(v)}'`);
  }
  if (v instanceof PyFloat) {
    if (op === "Invert") throw new PyException("TypeError", "bad operand type for unary ~: 'float'");
    return op === "UAdd" ? v : new PyFloat(-v.value);
  }
  const i = n;
  if (op === "UAdd") return i;
  if (op === "USub") return typeof i === "number" ? (i === 0 ? 0 : -i) : normInt(-i);
  return typeof i === "number" ? -i - 1 : normInt(-i - 1n);
}

// ---------------------------------------------------------------------------
// Comparison

export type CompareOperator = "Eq" | "NotEq" | "Lt" | "LtE" | "Gt" | "GtE" | "Is" | "IsNot" | "In" | "NotIn";

const COMPARE_SYMBOL: Record<string, string> = { Lt: "<", LtE: "<=", Gt: ">", GtE: ">=" };

export function compareOp(op: CompareOperator, a: PyValue, b: PyValue, ctx: CallContext): boolean {
  switch (op) {
    case "Eq":
      return pyEquals(a, b);
    case "NotEq":
      return !pyEquals(a, b);
    case "Is":
      return a === b || (a === null && b === null);
    case "IsNot":
      return !(a === b);
    case "In":
      return contains(b, a, ctx);
    case "NotIn":
      return !contains(b, a, ctx);
    default:
      break;
  }
  if (a instanceof PySet && b instanceof PySet) return setCompare(op, a, b);
  const c = orderCompare(a, b, op);
  if (c === undefined) return false; // NaN
  switch (op) {
    case "Lt":
      return c < 0;
    case "LtE":
      return c <= 0;
    case "Gt":
      return c > 0;
    default:
      return c >= 0;
  }
}

function setCompare(op: CompareOperator, a: PySet, b: PySet): boolean {
  const subset = (x: PySet, y: PySet): boolean => [...x].every((v) => y.has(v));
  switch (op) {
    case "Lt":
      return a.size < b.size && subset(a, b);
    case "LtE":
      return subset(a, b);
    case "Gt":
      return a.size > b.size && subset(b, a);
    default:
      return subset(b, a);
  }
}

/**
 * Three-way ordering for <, <=, >, >= and sorting. Undefined means "unordered"
 * (NaN). Throws TypeError for types Python cannot order.
 */
export function orderCompare(a: PyValue, b: PyValue, op: CompareOperator = "Lt"): number | undefined {
  const na = numericValue(a);
  const nb = numericValue(b);
  if (na !== undefined && nb !== undefined) return compareNumbers(na, nb);
  if (typeof a === "string" && typeof b === "string") return strCompare(a, b);
  if (Array.isArray(a) && Array.isArray(b)) return seqCompare(a, b, op);
  if (a instanceof PyTuple && b instanceof PyTuple) return seqCompare(a.items, b.items, op);
  if (a instanceof HostObject) {
    const r = a.compare(b);
    if (r !== undefined) return r;
  }
  if (b instanceof HostObject) {
    const r = b.compare(a);
    if (r !== undefined) return -r;
  }
  throw new PyException(
    "TypeError",
    `'${COMPARE_SYMBOL[op] ?? "<"}' not supported between instances of '${typeName(a)}' and '${typeName(b)}'`,
  );
}

function seqCompare(a: readonly PyValue[], b: readonly PyValue[], op: CompareOperator): number | undefined {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (!pyEquals(a[i]!, b[i]!)) return orderCompare(a[i]!, b[i]!, op);
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

// ---------------------------------------------------------------------------
// Indexing and slicing

/** An int usable as an index (bool included); throws the TypeError Python raises otherwise. */
export function toIndex(v: PyValue, what: string): number {
  if (typeof v === "number") return v;
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "bigint") throw new PyException("IndexError", `cannot fit 'int' into an index-sized integer`);
  throw new PyException("TypeError", `${what} indices must be integers or slices, not ${typeName(v)}`);
}

function sliceBound(v: PyValue): number | undefined {
  if (v === null) return undefined;
  if (typeof v === "number") return v;
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "bigint") return v < 0n ? -Number.MAX_SAFE_INTEGER : Number.MAX_SAFE_INTEGER;
  throw new PyException("TypeError", "slice indices must be integers or None or have an __index__ method");
}

/** PySlice_AdjustIndices: the concrete (start, stop, step, count) of a slice over a sequence of `len`. */
export function sliceIndices(s: PySlice, len: number): { start: number; stop: number; step: number; count: number } {
  const stepRaw = sliceBound(s.step);
  const step = stepRaw ?? 1;
  if (step === 0) throw new PyException("ValueError", "slice step cannot be zero");
  let start = sliceBound(s.start);
  let stop = sliceBound(s.stop);
  if (start === undefined) start = step < 0 ? len - 1 : 0;
  else if (start < 0) {
    start += len;
    if (start < 0) start = step < 0 ? -1 : 0;
  } else if (start >= len) start = step < 0 ? len - 1 : len;
  if (stop === undefined) stop = step < 0 ? -1 : len;
  else if (stop < 0) {
    stop += len;
    if (stop < 0) stop = step < 0 ? -1 : 0;
  } else if (stop >= len) stop = step < 0 ? len - 1 : len;
  let count = 0;
  if (step < 0) {
    if (stop < start) count = Math.floor((start - stop - 1) / -step) + 1;
  } else if (start < stop) count = Math.floor((stop - start - 1) / step) + 1;
  return { start, stop, step, count };
}

function sliceSeq<T>(items: readonly T[], s: PySlice): T[] {
  const { start, step, count } = sliceIndices(s, items.length);
  allocate(count);
  if (step === 1) return items.slice(start, start + count);
  const out: T[] = [];
  for (let i = 0, j = start; i < count; i++, j += step) out.push(items[j]!);
  return out;
}

function normIndex(i: number, len: number, what: string): number {
  const j = i < 0 ? i + len : i;
  if (j < 0 || j >= len) throw new PyException("IndexError", `${what} index out of range`);
  return j;
}

export function getItem(obj: PyValue, key: PyValue | PySlice, ctx: CallContext): PyValue {
  if (Array.isArray(obj)) {
    if (key instanceof PySlice) return sliceSeq(obj, key);
    return obj[normIndex(toIndex(key, "list"), obj.length, "list")]!;
  }
  if (obj instanceof PyDict) {
    if (key instanceof PySlice) throw new PyException("TypeError", "unhashable type: 'slice'");
    const v = obj.get(key);
    if (v === undefined) throw new PyException("KeyError", ctx.repr(key));
    return v;
  }
  if (typeof obj === "string") {
    const cps = codePoints(obj);
    if (key instanceof PySlice) {
      if (cps) return sliceSeq(cps, key).join("");
      const { start, step, count } = sliceIndices(key, obj.length);
      if (step === 1) return obj.slice(start, start + count);
      let out = "";
      for (let i = 0, j = start; i < count; i++, j += step) out += obj[j];
      return out;
    }
    const i = toIndex(key, "string");
    if (cps) return cps[normIndex(i, cps.length, "string")]!;
    return obj[normIndex(i, obj.length, "string")]!;
  }
  if (obj instanceof PyTuple) {
    if (key instanceof PySlice) return new PyTuple(sliceSeq(obj.items, key));
    return obj.items[normIndex(toIndex(key, "tuple"), obj.items.length, "tuple")]!;
  }
  if (obj instanceof PyRange) {
    if (key instanceof PySlice) {
      const { start, step, count } = sliceIndices(key, obj.length);
      const first = obj.at(start);
      return new PyRange(first, first + count * step * obj.step, step * obj.step);
    }
    return obj.at(normIndex(toIndex(key, "range"), obj.length, "range object"));
  }
  if (obj instanceof HostObject) {
    if (key instanceof PySlice) {
      // A tuple-like host object (sys.version_info) slices as a tuple does.
      const seq = obj.asTuple();
      if (seq) return new PyTuple(sliceSeq(seq, key));
      throw new PyException("TypeError", `'${obj.pyTypeName}' object does not support slicing`);
    }
    return obj.getItem(key, ctx);
  }
  throw new PyException("TypeError", `'${typeName(obj)}' object is not subscriptable`);
}

export function setItem(obj: PyValue, key: PyValue | PySlice, value: PyValue, ctx: CallContext): void {
  if (Array.isArray(obj)) {
    if (key instanceof PySlice) {
      const items = [...iterate(value, ctx)];
      const { start, step, count } = sliceIndices(key, obj.length);
      if (step === 1) {
        obj.splice(start, count, ...items);
        return;
      }
      if (items.length !== count) {
        throw new PyException(
          "ValueError",
          `attempt to assign sequence of size ${items.length} to extended slice of size ${count}`,
        );
      }
      for (let i = 0, j = start; i < count; i++, j += step) obj[j] = items[i]!;
      return;
    }
    obj[normIndex(toIndex(key, "list"), obj.length, "list assignment")] = value;
    return;
  }
  if (obj instanceof PyDict) {
    if (key instanceof PySlice) throw new PyException("TypeError", "unhashable type: 'slice'");
    obj.set(key, value);
    return;
  }
  if (obj instanceof HostObject && !(key instanceof PySlice)) {
    obj.setItem(key, value, ctx);
    return;
  }
  throw new PyException("TypeError", `'${typeName(obj)}' object does not support item assignment`);
}

export function delItem(obj: PyValue, key: PyValue | PySlice, ctx: CallContext): void {
  if (Array.isArray(obj)) {
    if (key instanceof PySlice) {
      const { start, step, count } = sliceIndices(key, obj.length);
      if (step === 1) obj.splice(start, count);
      else {
        const drop = new Set<number>();
        for (let i = 0, j = start; i < count; i++, j += step) drop.add(j);
        const kept = obj.filter((_, i) => !drop.has(i));
        obj.length = 0;
        obj.push(...kept);
      }
      return;
    }
    obj.splice(normIndex(toIndex(key, "list"), obj.length, "list assignment"), 1);
    return;
  }
  if (obj instanceof PyDict) {
    if (key instanceof PySlice || !obj.delete(key)) throw new PyException("KeyError", ctx.repr(key as PyValue));
    return;
  }
  if (obj instanceof HostObject && !(key instanceof PySlice)) {
    obj.delItem(key, ctx);
    return;
  }
  throw new PyException("TypeError", `'${typeName(obj)}' object doesn't support item deletion`);
}
