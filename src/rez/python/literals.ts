/**
 * Python numeric literals, read exactly as CPython reads them. Shared by the
 * parser adapter and the package.py fast path, so both give the same values.
 */
import { PyFloat, normInt } from "./values.js";

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
