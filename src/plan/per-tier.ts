import { assemblePlan } from "./assemble.js";
import { assertTiersFit, canonicalize } from "./input.js";
import type { LayerPlan, PlanInput } from "./types.js";

/**
 * The comparison baseline from the 2021 ASWF meeting: one layer per tier per image
 * ("OS, VFX Reference Platform, DCC, everything else"). Two images share a tier's
 * layer only when they resolved exactly the same variants in that tier.
 */
export function planPerTier(input: PlanInput): LayerPlan {
  const studio = canonicalize(input);
  assertTiersFit(studio);
  const perImage = studio.images.map((image) => {
    const byTier: number[][] = studio.tiers.map(() => []);
    for (const n of image.variants) byTier[studio.variants[n]!.tier]!.push(n);
    return byTier.filter((layer) => layer.length > 0);
  });
  return assemblePlan(studio, "per-tier", perImage);
}
