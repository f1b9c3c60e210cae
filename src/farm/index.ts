// The farm: images travel through the studio's registry by digest and run as scheduler jobs, launched as `tantalus run` launches.
export {
  submitFarmJob,
  pinnedStoredImage,
  FARM_ENGINES,
  DEFAULT_NODE_STORE,
  type FarmEngine,
  type FarmSubmitOptions,
  type FarmSubmission,
} from "./submit.js";
export { runFarmTask, pinnedReference, SCHEDULER_PASSTHROUGH, type FarmTaskOptions } from "./task.js";
export {
  slurmScript,
  submitSlurmScript,
  slurmJobStatus,
  parseScontrolJobs,
  parseSacct,
  checkArraySpec,
  isFinished,
  type SlurmJobSpec,
  type SlurmTaskStatus,
} from "./slurm.js";
export {
  kubernetesManifest,
  manifestName,
  MANIFEST_KINDS,
  type ManifestKind,
  type ManifestOptions,
} from "./kubernetes.js";
