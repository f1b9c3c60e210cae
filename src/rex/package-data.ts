/**
 * What rex reads from a package definition: its rex functions (pre_commands,
 * commands, post_commands) and its attributes as `this.<name>` sees them,
 * `@late()` ones evaluated on first read.
 */
import type { Variant } from "../rez/package.js";
import { PyFunction, type PyValue } from "../rez/python/values.js";
import type { RexPhase } from "./actions.js";
import { isOutsideSubset } from "../rez/definition/cpython.js";

export interface RexPackage {
  variant: Variant;
  /** The definition file (package.py / package.yaml). */
  file: string;
  rexFunction(phase: RexPhase): PyFunction | undefined;
  /**
   * Under `python: cpython`, for a definition the built-in evaluator loaded:
   * the same function as CPython loads it, for when the evaluator refuses a
   * construct while the commands run. Undefined otherwise.
   */
  cpythonFunction(phase: RexPhase): PyFunction | undefined;
  /** The attribute's value (late functions through evaluateLate); undefined when the package does not define it. */
  attribute(name: string, evaluateLate: (fn: PyFunction) => PyValue): PyValue | undefined;
}

/** Attributes a Rez Variant does not forward from its package. */
const NOT_ON_VARIANT = new Set(["variants"]);

export function rexPackageOf(variant: Variant): RexPackage {
  const def = variant.package.definition;
  return {
    variant,
    file: def.file,
    rexFunction: (phase) => def[phase],
    cpythonFunction: (phase) => def.cpython?.()[phase],
    attribute(name, evaluateLate) {
      if (NOT_ON_VARIANT.has(name) || !Object.prototype.hasOwnProperty.call(def.attributes, name)) return undefined;
      const v = def.attributes[name]!;
      if (!(v instanceof PyFunction && v.hasMark("late"))) return v;
      try {
        return evaluateLate(v);
      } catch (err) {
        // python: cpython: a construct the evaluator refuses only as it runs; CPython evaluates it.
        const again = isOutsideSubset(err) ? def.cpython?.().attributes[name] : undefined;
        if (!(again instanceof PyFunction)) throw err;
        return evaluateLate(again);
      }
    },
  };
}
