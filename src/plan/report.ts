import { planLayers } from "./shared.js";
import { planPerTier } from "./per-tier.js";
import { planByPopularity } from "./popularity.js";
import type { LayerPlan, PlanInput, Strategy } from "./types.js";

export interface ImageReport {
  name: string;
  /** Total layers: base + planned + top. */
  layers: number;
  plannedLayers: number;
  /** Bytes of the planned layers (base and top layers are the same in every strategy and not counted). */
  bytes: number;
  /** Bytes of the image's own variants: what it would weigh with no layer sharing constraint. */
  packageBytes: number;
}

export interface StudioReport {
  strategy: Strategy;
  images: ImageReport[];
  /** Σ image sizes: what pulling every image separately would transfer. */
  imageBytes: number;
  /** Bytes of distinct layers: what a registry or a node's layer store keeps. */
  uniqueBytes: number;
  /** Bytes of the distinct variants of all images: the floor for uniqueBytes. */
  packageBytes: number;
  /** uniqueBytes / packageBytes (1 when every package's bytes are stored once). */
  ratio: number;
  /** Σ image sizes / Σ images' own package bytes: what images carry beyond their packages. */
  imageOverhead: number;
  distinctLayers: number;
  /** Layers carried by two images or more. */
  sharedLayers: number;
  layersPerImage: { min: number; max: number; mean: number };
  /** Per distinct layer: how many images carry it (plan order). */
  shares: { key: string; tier: string; bytes: number; images: number }[];
}

export function studioReport(plan: LayerPlan): StudioReport {
  const byKey = new Map(plan.layers.map((l) => [l.key, l]));
  const images: ImageReport[] = plan.images.map((image) => ({
    name: image.name,
    layers: image.baseLayers + image.layers.length + image.topLayers,
    plannedLayers: image.layers.length,
    bytes: image.layers.reduce((s, k) => s + byKey.get(k)!.bytes, 0),
    packageBytes: image.packageBytes,
  }));
  const imageBytes = images.reduce((s, i) => s + i.bytes, 0);
  const uniqueBytes = plan.layers.reduce((s, l) => s + l.bytes, 0);
  const ownBytes = images.reduce((s, i) => s + i.packageBytes, 0);
  const counts = images.map((i) => i.layers);
  return {
    strategy: plan.strategy,
    images,
    imageBytes,
    uniqueBytes,
    packageBytes: plan.packageBytes,
    ratio: plan.packageBytes === 0 ? 1 : uniqueBytes / plan.packageBytes,
    imageOverhead: ownBytes === 0 ? 1 : imageBytes / ownBytes,
    distinctLayers: plan.layers.length,
    sharedLayers: plan.layers.filter((l) => l.images.length > 1).length,
    layersPerImage: {
      min: counts.length ? Math.min(...counts) : 0,
      max: counts.length ? Math.max(...counts) : 0,
      mean: counts.length ? counts.reduce((s, c) => s + c, 0) / counts.length : 0,
    },
    shares: plan.layers.map((l) => ({ key: l.key, tier: l.tier, bytes: l.bytes, images: l.images.length })),
  };
}

export interface StrategyResult {
  plan: LayerPlan;
  report: StudioReport;
  /** Wall time of planning, milliseconds. */
  millis: number;
}

/** The studio plan and the two baselines it is judged against, on the same input. */
export function compareStrategies(input: PlanInput): Record<Strategy, StrategyResult> {
  const run = (f: (i: PlanInput) => LayerPlan): StrategyResult => {
    const t0 = performance.now();
    const plan = f(input);
    const millis = performance.now() - t0;
    return { plan, report: studioReport(plan), millis };
  };
  return { shared: run(planLayers), "per-tier": run(planPerTier), popularity: run(planByPopularity) };
}
