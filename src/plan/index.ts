/**
 * Layer planning: which variants go into which image layer, for all the studio's
 * workflow images together (planLayers), and the baselines it is compared with.
 */
export * from "./types.js";
export { planLayers } from "./shared.js";
export { planPerTier } from "./per-tier.js";
export { planByPopularity, popularityContest, type PopularityNode } from "./popularity.js";
export { studioReport, compareStrategies, type StudioReport, type ImageReport, type StrategyResult } from "./report.js";
export { syntheticStudio, SYNTHETIC_TIERS, type SyntheticOptions } from "./synthetic.js";
export { layerKey } from "./key.js";
export { checkBudget } from "./input.js";
export { planStudio, planInputFor, variantIdFor, IMAGE_TOP_LAYERS } from "./studio.js";
export type {
  PlanConfig,
  PlannedResolve,
  PlanInputOptions,
  StudioPlanInput,
  PlanStudioOptions,
  StudioPlan,
} from "./studio.js";
export { RootMeasurer, type RootSize } from "./measure.js";
export {
  TierAssigner,
  DEFAULT_TIERS,
  globRegex,
  type TierRule,
  type TierAssignment,
  type TierSource,
} from "./tiers.js";
export { formatBytes, renderImageLayers, renderComparison } from "./format.js";
