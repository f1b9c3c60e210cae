/**
 * Errors that leave the Python evaluator. Inside the interpreter, Python-level
 * exceptions travel as PyException (catchable by try/except); everything that
 * package code must not be able to swallow (a forbidden construct, the step
 * limit, a failure in the embedding program) travels as FatalPythonError. At the
 * boundary both become a PythonError: an InputError naming the file and line.
 */
import { InputError, TantalusError, type SourceLocation } from "../../errors.js";

const SUBSET_NOTE = "(only a safe subset of Python is evaluated)";

/** The way out for Python the evaluator does not run: Rez runs it with CPython, and so does the opt-in setting. */
export const CPYTHON_HINT =
  "a definition that needs it is loaded by the host's CPython with the setting 'python: cpython' (in tantalus.yaml, or TANTALUS_PYTHON=cpython)";

/** The message for a construct outside the subset, e.g. `'open()' is not allowed ...`. */
export function notAllowedMessage(construct: string, plural = false): string {
  return `${construct} ${plural ? "are" : "is"} not allowed in a package definition ${SUBSET_NOTE}; ${CPYTHON_HINT}`;
}

export type FatalKind = "not-allowed" | "step-limit" | "memory-limit" | "host";

/** Uncatchable error raised inside the interpreter; gets its location from the line being evaluated. */
export class FatalPythonError extends Error {
  location?: SourceLocation;
  functionName?: string;

  constructor(
    readonly kind: FatalKind,
    message: string,
    readonly original?: unknown,
  ) {
    super(message);
  }
}

/** An error from evaluating package code, with the file and line it happened at. */
export class PythonError extends InputError {
  constructor(
    message: string,
    location: SourceLocation | undefined,
    /** The Python exception type for uncaught Python exceptions (e.g. "KeyError"); undefined otherwise. */
    readonly pyType: string | undefined,
    /** "exception" for an uncaught Python exception, else the kind of fatal error. */
    readonly kind: "exception" | FatalKind,
    /** The error a host callback threw, for kind "host". */
    readonly original?: unknown,
  ) {
    super(message, location);
  }
}

/** True for errors that already carry a location and must pass through unchanged. */
export function isLocatedError(err: unknown): err is TantalusError {
  return err instanceof TantalusError && err.location !== undefined;
}
