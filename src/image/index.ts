// Daemonless OCI image core: types, the content-addressed store, the layer
// writer, image assembly, local sources and sinks. Registry I/O is in ./remote.
export * from "./types.js";
export * from "./contract.js";
export { findWorkflowImage, type ImageBuilder } from "./workflow-image.js";
export * from "./entrypoint.js";
export { demoBaseContent, DEMO_BASE_LIBRARIES, type DemoBaseContent } from "./demo-base.js";
export * from "./digest.js";
export { canonicalJson } from "./canonical-json.js";
export { rfc3339, sourceDateEpoch } from "./epoch.js";
export {
  OciStore,
  BlobWriter,
  BlobNotFoundError,
  StoreAnnotation,
  defaultWorkflowOf,
  isValidRefName,
  selectPlatform,
  type BlobInfo,
  type BlobSource,
  type ExpectedBlob,
  type GcOptions,
  type GcReport,
  type ImageEntry,
  type OpenOptions,
} from "./layout/store.js";
export type {
  BlobIngester,
  BlobReader,
  ImageReader,
  ImageStore,
  PrivateArea,
  StoreLocation,
  StoreMaintenance,
  Tagger,
  TagRequest,
} from "./layout/interfaces.js";
export type { LockOptions } from "./layout/lock.js";
export type { LayerSource, LayerSpec } from "./layer/spec.js";
export { normalizeImagePath } from "./layer/spec.js";
export { planLayer, type LayerPlan, type PlannedEntry } from "./layer/plan.js";
export { DEFAULT_LAYER_MTIME } from "./layer/tar.js";
export { DEFAULT_LEVEL, createCompressor, createDecompressor, sniffCompression } from "./layer/compress.js";
export { LayerCache, LAYER_FORMAT_VERSION, type LayerCacheEntry } from "./layer/cache.js";
export { fingerprintTree, fingerprintLayerSpec } from "./layer/fingerprint.js";
export { writeLayer, type LayerOptions, type LayerResult } from "./layer/writer.js";
export {
  DEFAULT_CREATED,
  applyConfigChanges,
  assembleConfig,
  chainIds,
  ociLayerDescriptor,
  writeImage,
  type BuiltImage,
  type ConfigChanges,
  type ImageSpec,
  type NewLayer,
} from "./mutate.js";
export { copyBlob, copyImage } from "./copy.js";
export { unpackImage, ensureMountPoint, makeOwnerOnly, type MountPoints, type UnpackStats } from "./unpack.js";
export { forEachLayerMember, type LayerMember } from "./layer/reader.js";
export { BASE_SPELLINGS, parseBaseReference, type BaseReference } from "./base-reference.js";
export { parseLocalReference, formatLocalReference, type LocalReference, type LocalTransport } from "./reference.js";
export * from "./sources/index.js";
export {
  exportImage,
  exportOciLayout,
  exportOciArchive,
  exportDockerArchive,
  toDockerRepoTag,
  type ExportOptions,
} from "./sinks/index.js";
