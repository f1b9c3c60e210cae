import type { JSValue, PyFunction, PyValue } from "../python/index.js";
import type { HostQuery } from "../python/modules.js";

/**
 * A `@late()` function: an attribute Rez evaluates when it is first read, with
 * `this` bound to the package or variant (for `requires`: during the solve).
 * Call it with Interpreter.callFunction(fn, [], new Map(), { globals }).
 */
export type LateFunction = PyFunction;

/**
 * Rex code (commands, pre_commands, ...): a `def commands():` from package.py
 * (kind "def") or a string of code from package.yaml or a string attribute
 * (kind "code"). Run it with Interpreter.runBody(fn, namespace), as Rez
 * executes the body in the rex namespace.
 */
export type RexCode = PyFunction;

export type LateBound<T> = T | LateFunction;

/**
 * A package definition as read from package.py / package.yaml, before any
 * resolve-time evaluation. Typed fields hold the standard Rez attributes
 * (validated against Rez's schema); `attributes` holds every public attribute,
 * standard or custom, as Python values in definition order (what `this.<name>`
 * sees); `lines` gives the line each attribute was last assigned on.
 */
export interface PackageDefinition {
  file: string;
  format: "py" | "yaml";
  name: string;
  version?: string;
  description?: string;
  authors?: string[];
  requires?: LateBound<string[]>;
  build_requires?: LateBound<string[]>;
  private_build_requires?: LateBound<string[]>;
  /** Variant requirement lists; never late-bound (Rez forbids it). */
  variants?: string[][];
  hashed_variants?: boolean;
  tools?: LateBound<string[]>;
  /** A URL/command string, or a list of [label, url] pairs. */
  help?: LateBound<string | string[][]>;
  relocatable?: LateBound<boolean | null>;
  cachable?: LateBound<boolean | null>;
  uuid?: string;
  timestamp?: number;
  format_version?: number;
  commands?: RexCode;
  pre_commands?: RexCode;
  post_commands?: RexCode;
  pre_build_commands?: RexCode;
  pre_test_commands?: RexCode;
  /** The custom `tantalus` attribute (image and workflow settings), as plain data. */
  tantalus?: { [key: string]: JSValue };
  /** Every public attribute (standard ones included), as Python values, in definition order. */
  attributes: Record<string, PyValue>;
  /** Line of each attribute's (last) definition, for error messages. */
  lines: Record<string, number>;
  /**
   * What loading the file asked the machine (platform.system(), os.environ,
   * os.path.exists...): its attributes depend on where it is loaded. Absent
   * when it asked nothing.
   */
  hostQueries?: HostQuery[];
  /** "cpython" when the host's CPython loaded it (`python: cpython`): its functions run there too. */
  evaluator?: "cpython";
  /**
   * Under `python: cpython`, for a file the built-in evaluator loaded: the file
   * as CPython loads it (on first call), for rex when the evaluator refuses a
   * construct only while commands() run (`os.path.expanduser` without HOME...).
   */
  cpython?: () => PackageDefinition;
}
