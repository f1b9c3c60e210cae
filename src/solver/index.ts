/**
 * Tantalus's resolver: Rez 3.4's solver (SOLVER_VERSION 2, version_priority
 * variant selection), reimplemented to give identical resolves, much faster.
 */
export { solve, type SolveOptions, type SolveResult } from "./solve.js";
export type { PackageSource } from "./model.js";
export { MemorySource, type PackageData } from "./memory-source.js";
export type { LateRequiresContext, LateRequiresHook } from "./context.js";
export type { FailureKind, SolveFailure, RequirementSource, ConflictDetail, ReductionDetail } from "./failure.js";
export {
  PackageFilter,
  PackageFilterList,
  FilterRule,
  GlobRule,
  RegexRule,
  RangeRule,
  TimestampRule,
  parseFilterRule,
} from "./filter.js";
export {
  PackageOrderer,
  SortedOrder,
  NullOrder,
  VersionSplitOrder,
  TimestampOrder,
  PerFamilyOrder,
  orderersFromPod,
  ordererFromPod,
} from "./order.js";
