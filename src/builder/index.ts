// Building workflow images: resolve, environment, layer plan, layers, images,
// and what follows (push, pull, export, listing, diff, garbage collection).
export {
  buildWorkflows,
  AuditRefusedError,
  type BuildOptions,
  type BuildReport,
  type BuildResult,
  type BuildStats,
  type BuiltLayer,
} from "./build.js";
export type { BuildEvent, BuildEventSink, LayerKind } from "./events.js";
export { ProgressDisplay, emptyLayerNote, formatBytes, type ProgressOptions, type ProgressStream } from "./progress.js";
export type { AuditGate, AuditInput, AuditOutcome } from "../audit/build-gate.js";
export { pullBase, resolveBaseImage, BASE_ROLE_ANNOTATION, type BaseImage, type BaseOptions } from "./base.js";
export { demoBaseImage, type DemoBaseOptions } from "./demo-base.js";
export { imageContext, imageContextJson, workflowDefinitionYaml } from "./environment.js";
export { planBuild, type BuildPlan, type BuildLayer, type BuildPlanOptions } from "./plan.js";
export {
  packageLayerSpec,
  preparePackageLayers,
  writePackageLayers,
  writeOneLayer,
  layerCacheKey,
  blobIsIntact,
  type WrittenLayer,
  type PreparedLayer,
} from "./layers.js";
export { LayerWorkerPool, type LayerTask } from "./worker-pool.js";
export { FingerprintingMeasurer, fingerprintPath, fingerprintSpec } from "./fingerprint.js";
export { imageLabels, parseQualifiedVariant, type QualifiedVariant } from "./labels.js";
export {
  pushImages,
  pushStoredImage,
  pullIntoStore,
  exportImages,
  checkExportDestination,
  storeBlobSource,
  storeBlobSink,
  storeTagFor,
  type PushedImage,
  type PulledIntoStore,
  type PushStoredOptions,
} from "./distribution.js";
export {
  listStoredImages,
  diffImages,
  collectGarbage,
  type StoredImage,
  type ImageDiff,
  type PackageChange,
  type LayerSummary,
  type CollectOptions,
  type CollectReport,
} from "./inventory.js";
export { workflowImageBuilder } from "./builder.js";
export {
  findStoredImage,
  tagStoredImage,
  inspectStoredImage,
  type StoredRef,
  type InspectedImage,
  type InspectedLayer,
} from "./stored.js";
