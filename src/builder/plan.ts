/**
 * The layer plan of a build: every workflow of the configuration planned
 * together by the studio planner (src/plan), so that a group of variants is
 * one layer, byte for byte, in every image that carries it. Variant ids are
 * root_map-aware (src/plan/studio.ts variantIdFor), so the plan of a studio
 * does not depend on the directory its repositories are in.
 */
import type { LoadedConfig } from "../config/index.js";
import { TantalusError } from "../errors.js";
import { planLayers } from "../plan/shared.js";
import { planInputFor, type PlannedResolve } from "../plan/studio.js";
import type { LayerPlan } from "../plan/types.js";
import type { RootMeasurer } from "../plan/measure.js";
import type { Variant } from "../rez/package.js";

export interface BuildLayer {
  /** The planner's key (equal keys are equal layers). */
  key: string;
  tier: string;
  /** Sorted by variant id. */
  variants: Variant[];
  /** Payload bytes and files, as measured for the plan. */
  bytes: number;
  files: number;
  images: string[];
}

export interface BuildPlan {
  plan: LayerPlan;
  layers: Map<string, BuildLayer>;
  /** Workflow -> its planned layer keys, bottom first. */
  imageLayers: Map<string, string[]>;
  warnings: string[];
}

export interface BuildPlanOptions {
  /** Measures each variant root once (and fingerprints it for the layer cache, see fingerprint.ts). */
  measurer?: RootMeasurer;
  baseLayers: number;
}

/**
 * The plan `tantalus plan` shows, for the same resolves: planInputFor with
 * its defaults (IMAGE_TOP_LAYERS reserved above the packages), only the base's
 * layer count is the build's own.
 */
export function planBuild(config: LoadedConfig, images: readonly PlannedResolve[], opts: BuildPlanOptions): BuildPlan {
  const prepared = planInputFor(config, images, {
    baseLayers: opts.baseLayers,
    ...(opts.measurer ? { measurer: opts.measurer } : {}),
  });
  const plan = planLayers(prepared.input);
  const layers = new Map<string, BuildLayer>();
  for (const l of plan.layers) {
    const variants = l.variants.map((id) => {
      const v = prepared.variants.get(id);
      if (!v) throw new TantalusError(`layer plan names variant ${id}, which no workflow resolved`);
      return v;
    });
    layers.set(l.key, { key: l.key, tier: l.tier, variants, bytes: l.bytes, files: l.files, images: l.images });
  }
  const imageLayers = new Map(plan.images.map((i) => [i.name, i.layers]));
  return { plan, layers, imageLayers, warnings: prepared.warnings };
}
