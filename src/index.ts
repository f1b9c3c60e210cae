// Library API: everything the CLI does is reachable from here. The Rez core is
// exported flat (it is the vocabulary); each stage is a namespace, named after
// its folder, so that short names (ET, DT, Layer...) do not collide.
export * from "./errors.js";
export { VERSION } from "./version.js";

export * from "./rez/version/index.js";
export { Package, Variant, summarize, hashedVariantDir, type PackageSummary } from "./rez/package.js";
export {
  Repositories,
  FilesystemRepository,
  RepositoryIndexCache,
  defaultCacheDir,
  packagePathsFrom,
  type PackageSource,
  type LoadProblem,
  type RepositoryCounts,
} from "./rez/repository/index.js";
export { readPackageFile, readPackageSource, type PackageDefinition } from "./rez/definition/index.js";
export { hostSystem, implicitPackagesFor, type SystemInfo } from "./rez/system.js";
export { solve, type SolveOptions, type SolveResult } from "./solver/index.js";
export * from "./context/context.js";
export { toRxt, saveRxt, importRxt } from "./context/rxt.js";
export { rootMapper } from "./context/root-map.js";

export * as python from "./rez/python/index.js";
export * as rex from "./rex/index.js";
export * as config from "./config/index.js";
export * as studio from "./studio/index.js";
export * as workflow from "./workflow/index.js";
export * as plan from "./plan/index.js";
export * as image from "./image/index.js";
export * as remote from "./image/remote/index.js";
export * as linker from "./linker/index.js";
export * as audit from "./audit/index.js";
export * as build from "./builder/index.js";
export * as run from "./run/index.js";
