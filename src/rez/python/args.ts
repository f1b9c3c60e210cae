/** Argument binding for functions implemented in TypeScript, with Python's error messages. */
import { PyException, type PyValue } from "./values.js";

/**
 * Binds positional and keyword arguments to parameter names. Returns one slot
 * per name (undefined when not given). `required` is how many leading names
 * must be given.
 */
export function bindArgs(
  fname: string,
  args: readonly PyValue[],
  kwargs: ReadonlyMap<string, PyValue>,
  names: readonly string[],
  required = 0,
  options: { positionalOnly?: number; keywordOnly?: readonly string[] } = {},
): (PyValue | undefined)[] {
  const keywordOnly = options.keywordOnly ?? [];
  const positionalNames = names.filter((n) => !keywordOnly.includes(n));
  if (args.length > positionalNames.length) {
    throw new PyException(
      "TypeError",
      positionalNames.length === 0
        ? `${fname}() takes no positional arguments`
        : `${fname}() takes at most ${positionalNames.length} argument${positionalNames.length === 1 ? "" : "s"} (${args.length} given)`,
    );
  }
  const slots = new Array<PyValue | undefined>(names.length).fill(undefined);
  for (let i = 0; i < args.length; i++) slots[names.indexOf(positionalNames[i]!)] = args[i];
  const positionalOnly = options.positionalOnly ?? 0;
  for (const [k, v] of kwargs) {
    const idx = names.indexOf(k);
    if (idx < 0 || (idx < positionalOnly && !keywordOnly.includes(k))) {
      throw new PyException("TypeError", `${fname}() got an unexpected keyword argument '${k}'`);
    }
    if (slots[idx] !== undefined) {
      throw new PyException("TypeError", `argument for ${fname}() given by name ('${k}') and position (${idx + 1})`);
    }
    slots[idx] = v;
  }
  for (let i = 0; i < required; i++) {
    if (slots[i] === undefined)
      throw new PyException("TypeError", `${fname}() missing required argument '${names[i]}' (pos ${i + 1})`);
  }
  return slots;
}

/** For functions that take no keyword arguments. */
export function noKwargs(fname: string, kwargs: ReadonlyMap<string, PyValue>): void {
  if (kwargs.size > 0) throw new PyException("TypeError", `${fname}() takes no keyword arguments`);
}

/** Checks a positional argument count. */
export function arity(fname: string, args: readonly PyValue[], min: number, max: number): void {
  if (args.length < min || args.length > max) {
    const expected = min === max ? `exactly ${min}` : args.length < min ? `at least ${min}` : `at most ${max}`;
    throw new PyException(
      "TypeError",
      `${fname}() takes ${expected} argument${(min === max ? min : args.length < min ? min : max) === 1 ? "" : "s"} (${args.length} given)`,
    );
  }
}
