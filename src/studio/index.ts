// The sample studio: a realistic Rez repository plus tantalus.yaml, used by
// the demo, the tests and the benchmarks.
export { generateStudio, DEFECTS_FILE, type GenerateOptions, type StudioSummary } from "./generate.js";
export { STUDIO_DEFECTS } from "./defects.js";
export { STUDIO_WORKFLOWS, PROJECTS_MOUNT } from "./workflows.js";
export { STUDIO_OS, OS_VERSIONS, studioPackages } from "./catalog/index.js";
export { STUDIO_TIERS, STUDIO_ALLOW_SYSTEM, renderStudioConfig } from "./studio-config.js";
export { parseScale, SCALE_PRESETS, type Scale } from "./scale.js";
export { STUDIO_MTIME } from "./tree.js";
export type { DefectKind, StudioDefect, WorkflowSpec, PackageSpec } from "./model.js";
