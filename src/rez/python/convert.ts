/** Conversion between Python values and plain JSON-like JavaScript values. */
import { pyRepr } from "./repr.js";
import { PyDict, PyDictView, PyFloat, PyRange, PySet, PyTuple, typeName, type PyValue } from "./values.js";

export type JSValue = null | boolean | number | bigint | string | JSValue[] | { [key: string]: JSValue };

/**
 * Python value -> plain data: tuples and sets become arrays, dicts become
 * objects (keys must be strings), floats become numbers. Throws a TypeError
 * (with the offending type and path) for functions and other non-data values.
 */
export function toJS(v: PyValue, path = "value"): JSValue {
  switch (typeof v) {
    case "string":
    case "number":
    case "bigint":
    case "boolean":
      return v;
    default:
      break;
  }
  if (v === null) return null;
  if (v instanceof PyFloat) return v.value;
  if (Array.isArray(v)) return v.map((x, i) => toJS(x, `${path}[${i}]`));
  if (v instanceof PyTuple) return v.items.map((x, i) => toJS(x, `${path}[${i}]`));
  if (v instanceof PySet || v instanceof PyRange || v instanceof PyDictView) {
    return [...(v instanceof PyRange ? Array.from({ length: v.length }, (_, i) => v.at(i)) : v)].map((x, i) =>
      toJS(x, `${path}[${i}]`),
    );
  }
  if (v instanceof PyDict) {
    const out: { [key: string]: JSValue } = {};
    for (const [k, x] of v.entries()) {
      if (typeof k !== "string") throw new TypeError(`${path}: dict key ${pyRepr(k)} is not a string`);
      Object.defineProperty(out, k, {
        value: toJS(x, `${path}[${pyRepr(k)}]`),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  throw new TypeError(`${path}: a ${typeName(v)} is not plain data`);
}

/** Plain data -> Python value: integral numbers become int, other numbers float, objects dicts. */
export function fromJS(v: JSValue | undefined): PyValue {
  if (v === undefined || v === null) return null;
  if (typeof v === "number")
    return Number.isSafeInteger(v) ? v : Number.isInteger(v) && Number.isFinite(v) ? BigInt(v) : new PyFloat(v);
  if (typeof v === "string" || typeof v === "boolean" || typeof v === "bigint") return v;
  if (Array.isArray(v)) return v.map(fromJS);
  const d = new PyDict();
  for (const [k, x] of Object.entries(v)) d.set(k, fromJS(x));
  return d;
}
