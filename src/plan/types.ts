/**
 * The layer plan's data model. A plan decides which Rez variants go into which
 * image layer, for every workflow image of the studio at once, so that a layer
 * is the same bytes (same diffID, same ChainID prefix) in every image that has it.
 */

/** One resolved variant as the planner sees it: an install root of known size. */
export interface PlanVariant {
  /** Unique studio-wide, e.g. "usd-24.08[1]@/studio/packages": the same id means the same root. */
  id: string;
  /** Package family (Rez package name), e.g. "usd". */
  family: string;
  /** Layer tier, one of PlanInput.tiers. */
  tier: string;
  /** Bytes of the variant's payload (regular files under its root). */
  bytes: number;
  /** Regular files under its root, when measured. */
  files?: number;
  /** Ids of the variants of the same image this one requires (the Rez resolve graph); used by Nix's popularity layering. */
  requires?: string[];
}

/** One workflow image to plan. */
export interface PlanImage {
  name: string;
  /** Layers of the base image (OS) under the planned layers; they count against the budget. */
  baseLayers: number;
  variants: PlanVariant[];
}

export interface PlanInput {
  images: PlanImage[];
  /** Tier names in layer order, lowest first, e.g. ["platform", "apps", "rest"]. */
  tiers: string[];
  /** Most layers an image may have, base and top included. Default 100; above 125 is an error. */
  budget?: number;
  /** Layers kept above the planned ones (environment, entrypoint, context). Default 1. */
  reservedTop?: number;
  /**
   * A group of variants this large keeps a layer to itself unless an image cannot fit
   * otherwise, so that a small package's update never re-ships a DCC. Default 64 MiB.
   */
  bigLayerBytes?: number;
}

export interface PlannedLayer {
  /** Stable id derived from the layer's content (its variant ids): equal keys are equal layers. */
  key: string;
  /** The tier of every variant in it; "mixed" only in strategies that ignore tiers (Nix popularity). */
  tier: string;
  /** Variant ids, sorted. */
  variants: string[];
  bytes: number;
  files: number;
  /** Names of the images that carry this layer, sorted. */
  images: string[];
}

export interface ImageLayers {
  name: string;
  baseLayers: number;
  /** Planned layer keys, bottom first (after the base layers, before the top layers). */
  layers: string[];
  topLayers: number;
  /** Bytes of the image's own variants. */
  packageBytes: number;
}

export type Strategy = "shared" | "per-tier" | "popularity";

export interface LayerPlan {
  strategy: Strategy;
  budget: number;
  tiers: string[];
  /** Every distinct layer, in the global order (for "shared": each image's layers are this order restricted to it). */
  layers: PlannedLayer[];
  /** Images sorted by name. */
  images: ImageLayers[];
  /** Bytes of the distinct variants of all images: what storing each package once costs. */
  packageBytes: number;
}

/** Defaults and hard limits; sources in docs and research notes (images.md §2). */
export const DEFAULT_BUDGET = 100;
/** dockerd's layer store refuses deeper chains (moby layer/layer_store.go maxLayerDepth). */
export const MAX_BUDGET = 125;
export const DEFAULT_RESERVED_TOP = 1;
export const DEFAULT_BIG_LAYER_BYTES = 64 * 1024 * 1024;
