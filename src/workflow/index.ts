// The workflow stage: a workflow of tantalus.yaml resolved once per command (request, implicit packages,
// add_requires, @late requires, filters, time, repositories) and the environment its image ships.
export {
  resolveWorkflow,
  resolveWorkflows,
  solveWorkflow,
  WorkflowUnresolvedError,
  workflowFromContext,
  openWorkflowRepositories,
  implicitPackagesOf,
  resolveNames,
  resolveDecisions,
  type WorkflowResolve,
  type ResolvedWorkflows,
  type ResolveWorkflowOptions,
  type WorkflowSolve,
  type WorkflowStageConfig,
} from "./resolve.js";
export { applyPackageOverrides, overrideLateRequires, type OverrideConfig } from "./overrides.js";
export {
  captureEnvironment,
  applyEnvAdditions,
  type CaptureOptions,
  type CapturedEnvironment,
  type CommandHostQuery,
  type EnvAddition,
} from "./environment.js";
