/**
 * Package definitions: package.py / package.yaml read into a PackageDefinition,
 * with Rez's load-time semantics (`@early()` evaluated, `@late()` and rex
 * functions kept, schema checked).
 */
export { readPackageFile, readPackageSource, decodePythonSource, type ReadOptions } from "./read.js";
export { REX_KEYS, INVALID_PACKAGE_ERROR, includedModules, type EvaluateOptions } from "./package-py.js";
export { dedent, checkLateValue } from "./schema.js";
export type { PackageDefinition, LateFunction, LateBound, RexCode } from "./types.js";
