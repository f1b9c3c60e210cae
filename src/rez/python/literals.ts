/**
 * Python numeric literals, read exactly as CPython reads them. Shared by the
 * parser adapter and the package.py fast path, so both give the same values.
 *
 * The values a literal can be (LiteralValue) are defined here rather than in
 * values.ts, which imports the parser's node types: the parser attaches a
 * literal's value to its node, and a function value keeps its node, so
 * defining both in one place or the other would make the two modules import
 * each other.
 */

/** A Python float (kept apart from int, so `1.0` prints as Python prints it). */
export class PyFloat {
  constructor(readonly value: number) {}
}

/** Canonical int: a number when it is a safe integer, else a bigint. */
export function normInt(v: bigint): number | bigint {
  if (v >= -9007199254740991n && v <= 9007199254740991n) return Number(v);
  return v;
}

/** What a literal evaluates to: None, bool, str, int, float (a subset of PyValue). */
export type LiteralValue = null | boolean | string | number | bigint | PyFloat;

const DEC_INT = /^(?:[1-9](?:_?[0-9])*|0(?:_?0)*)$/;
const PREFIXED_INT = /^0(?:[xX](?:_?[0-9a-fA-F])+|[oO](?:_?[0-7])+|[bB](?:_?[01])+)$/;
const DIGITS = "[0-9](?:_?[0-9])*";
const FLOAT = new RegExp(
  `^(?:(?:${DIGITS})?\\.${DIGITS}|${DIGITS}\\.)(?:[eE][+-]?${DIGITS})?$|^${DIGITS}[eE][+-]?${DIGITS}$`,
);

/** The value of a Python int or float literal, or undefined when the text is not one. */
export function parseNumberLiteral(text: string): number | bigint | PyFloat | undefined {
  if (DEC_INT.test(text)) {
    const t = text.includes("_") ? text.replace(/_/g, "") : text;
    if (t.length <= 15) return Number(t);
    return normInt(BigInt(t));
  }
  if (PREFIXED_INT.test(text)) {
    return normInt(BigInt(text.replace(/_/g, "").toLowerCase()));
  }
  if (FLOAT.test(text)) {
    // Number() rounds decimal text correctly, exactly like CPython's float parsing.
    return new PyFloat(Number(text.replace(/_/g, "")));
  }
  return undefined;
}
