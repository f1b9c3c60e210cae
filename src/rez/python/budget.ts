/**
 * The memory budget of one evaluation. Package code is untrusted input: a line
 * such as `x = [[0] * 10000000 for i in range(100)]` must end as a Python-style
 * MemoryError at its line, not as V8's heap-out-of-memory abort after gigabytes.
 *
 * The step limit bounds what loops can build one element at a time; what it
 * cannot see is the work a single operation does (repetition, concatenation,
 * slicing, copying an iterable into a list, joining, padding). Those operations
 * charge the number of elements or characters they produce here, and an
 * evaluation that has produced more than the limit in total stops. The count is
 * cumulative (there is no garbage collector to ask what is still alive), which
 * makes it deterministic: the same package fails at the same line everywhere.
 * Real package definitions produce a few thousand units; the default limit is
 * four orders of magnitude above that and keeps the heap far below V8's limit.
 *
 * A module-level meter rather than a parameter: evaluation is synchronous, the
 * Interpreter resets it when an outermost evaluation starts, and operations deep
 * in ops/methods need no context threaded through to charge it.
 */
import { FatalPythonError } from "./errors.js";

export const DEFAULT_MEMORY_LIMIT = 16 * 1024 * 1024;

let used = 0;
let limit = DEFAULT_MEMORY_LIMIT;

/** Starts a fresh budget (the Interpreter calls this when an outermost evaluation starts). */
export function resetMemoryBudget(newLimit: number = DEFAULT_MEMORY_LIMIT): void {
  used = 0;
  limit = newLimit;
}

/** Charges `units` elements or characters; throws MemoryError (uncatchable by package code) past the limit. */
export function allocate(units: number): void {
  used += units;
  if (used > limit) {
    used = 0; // so that code running after the error (another file) is not charged for this one
    throw new FatalPythonError(
      "memory-limit",
      `MemoryError: the code built more than ${limit.toLocaleString("en-US")} list items or string characters (package code runs with a memory limit)`,
    );
  }
}
