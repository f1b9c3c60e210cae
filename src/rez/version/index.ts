/**
 * Rez's version model (`rez.version`, Rez 3.4.0): versions, version ranges,
 * requirements and requirement lists, with Rez's exact ordering, syntax,
 * rendering and merge rules. Checked against real Rez by rez-identity.test.ts.
 */
export { VersionError, RequirementError } from "./errors.js";
export { Version, compareVersions } from "./version.js";
export { Bound } from "./bound.js";
export { VersionRange } from "./range.js";
export { Requirement, RequirementList, isValidPackageName, parsePackageRequest } from "./requirement.js";
