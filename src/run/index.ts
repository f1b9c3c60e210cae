// Running workflows: the runtimes, the launch plan, `tantalus run` and `tantalus doctor`.
export {
  runWorkflow,
  prepareRun,
  launch,
  exitStatus,
  type RunOptions,
  type PreparedRun,
  type LaunchOptions,
} from "./run.js";
export { ensureImage, pullWorkflowImage, type ImageSource, type EnsureImageOptions } from "./image.js";
export { buildLaunchPlan, planGpu, type PlanInput } from "./plan.js";
export {
  defaultRunSettings,
  applyFlags,
  parseRuntime,
  parseNetwork,
  parseGpu,
  GPU_MODES,
  type RunSettings,
  type RunFlags,
  type GpuMode,
} from "./settings.js";
export { settingsFromConfig, loadRunConfig, type RunConfig } from "./config.js";
export { currentIdentity, withGroupNames, parseIdOutput, type Identity, type GroupRef } from "../util/identity.js";
export { parseVolume, finalizeMounts, containerPathOf, type Mount } from "./mounts.js";
export { DEFAULT_PASSTHROUGH, LICENCE_VARIABLES, selectPassthrough, licenceHosts } from "./passthrough.js";
export {
  planDisplay,
  parseDisplay,
  parseXauthority,
  serializeXauthority,
  cookiesForDisplay,
  type DisplayPlan,
  type XauthEntry,
} from "./display.js";
export { detectGpu, hasNvidiaGpu, type GpuInfo } from "./gpu.js";
export { mergePasswd, mergeGroup, imageAccountFiles, accountFilesFor, type AccountFiles } from "./passwd.js";
export { diagnoseMachine, formatDoctor, type DoctorReport, type DoctorOptions } from "./doctor.js";
export { runCacheDir } from "./cache.js";
export { shellQuote, shellJoin } from "./quote.js";
export { DEFAULT_RUNTIME_ORDER, RUNTIMES, selectRuntime, type SelectedRuntime } from "./runtimes/index.js";
export * from "./runtimes/types.js";
