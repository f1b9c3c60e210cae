import { TantalusError } from "../errors.js";
import {
  DEFAULT_BIG_LAYER_BYTES,
  DEFAULT_BUDGET,
  DEFAULT_RESERVED_TOP,
  MAX_BUDGET,
  type PlanInput,
  type PlanVariant,
} from "./types.js";

/**
 * The planner's input in canonical form: images sorted by name, variants sorted by
 * id and numbered, so that every strategy is a function of the content of the input
 * and never of the order it was given in.
 */
export interface CanonicalStudio {
  budget: number;
  reservedTop: number;
  bigLayerBytes: number;
  tiers: string[];
  /** Sorted by id; an index into this array is a variant's number. */
  variants: CanonicalVariant[];
  /** Sorted by name; an index into this array is an image's number. */
  images: CanonicalImage[];
}

export interface CanonicalVariant {
  id: string;
  family: string;
  tier: number;
  bytes: number;
  files: number;
  /** Numbers of the images that contain this variant, ascending. */
  images: number[];
}

export interface CanonicalImage {
  name: string;
  baseLayers: number;
  /** Variant numbers, ascending. */
  variants: number[];
  /** Layers left for planned content: budget - base - top. */
  available: number;
  /** Per variant number: the ids it requires inside this image (popularity layering). */
  requires: Map<number, number[]>;
}

export function checkBudget(budget: number): void {
  if (!Number.isInteger(budget) || budget < 1) {
    throw new TantalusError(
      `invalid layer budget ${budget}: expected a whole number of layers from 1 to ${MAX_BUDGET}`,
    );
  }
  if (budget > MAX_BUDGET) {
    throw new TantalusError(
      `layer budget ${budget} is above ${MAX_BUDGET}: dockerd refuses to stack more than ${MAX_BUDGET} layers ` +
        `("max depth exceeded", moby layer/layer_store.go maxLayerDepth), so such an image could not run`,
    );
  }
}

export function canonicalize(input: PlanInput): CanonicalStudio {
  const budget = input.budget ?? DEFAULT_BUDGET;
  checkBudget(budget);
  const reservedTop = input.reservedTop ?? DEFAULT_RESERVED_TOP;
  if (!Number.isInteger(reservedTop) || reservedTop < 0)
    throw new TantalusError(`invalid reservedTop ${reservedTop}: expected a whole number >= 0`);
  const bigLayerBytes = input.bigLayerBytes ?? DEFAULT_BIG_LAYER_BYTES;
  if (!(bigLayerBytes > 0))
    throw new TantalusError(`invalid bigLayerBytes ${bigLayerBytes}: expected a positive number of bytes`);

  const tierIndex = new Map<string, number>();
  input.tiers.forEach((t, i) => {
    if (tierIndex.has(t)) throw new TantalusError(`tier '${t}' is listed twice`);
    tierIndex.set(t, i);
  });

  const byId = new Map<string, PlanVariant>();
  const imageNames = new Set<string>();
  for (const image of input.images) {
    if (imageNames.has(image.name)) throw new TantalusError(`two images are named '${image.name}'`);
    imageNames.add(image.name);
    if (!Number.isInteger(image.baseLayers) || image.baseLayers < 0) {
      throw new TantalusError(`image '${image.name}': invalid base layer count ${image.baseLayers}`);
    }
    const seen = new Set<string>();
    for (const v of image.variants) {
      if (seen.has(v.id)) throw new TantalusError(`image '${image.name}' lists variant '${v.id}' twice`);
      seen.add(v.id);
      if (!tierIndex.has(v.tier)) {
        throw new TantalusError(
          `variant '${v.id}' of image '${image.name}' is in tier '${v.tier}', which is not one of the tiers (${input.tiers.join(", ")})`,
        );
      }
      if (!Number.isFinite(v.bytes) || v.bytes < 0)
        throw new TantalusError(`variant '${v.id}': invalid size ${v.bytes}`);
      const prior = byId.get(v.id);
      if (!prior) byId.set(v.id, v);
      else if (prior.bytes !== v.bytes || prior.tier !== v.tier || prior.family !== v.family) {
        // One id is one install root: two descriptions of it mean the caller measured or tiered it twice.
        throw new TantalusError(
          `variant '${v.id}' is described differently in two images (bytes, tier or family differ)`,
        );
      }
    }
  }

  const ids = [...byId.keys()].sort(compareStrings);
  const number = new Map(ids.map((id, i) => [id, i]));
  const variants: CanonicalVariant[] = ids.map((id) => {
    const v = byId.get(id)!;
    return { id, family: v.family, tier: tierIndex.get(v.tier)!, bytes: v.bytes, files: v.files ?? 0, images: [] };
  });

  const sortedImages = [...input.images].sort((a, b) => compareStrings(a.name, b.name));
  const images: CanonicalImage[] = sortedImages.map((image, imageNo) => {
    const nums = image.variants.map((v) => number.get(v.id)!).sort((a, b) => a - b);
    const inImage = new Set(nums);
    for (const n of nums) variants[n]!.images.push(imageNo);
    const requires = new Map<number, number[]>();
    for (const v of image.variants) {
      const deps = (v.requires ?? [])
        .filter((r) => r !== v.id)
        .map((r) => {
          const n = number.get(r);
          if (n === undefined || !inImage.has(n)) {
            throw new TantalusError(
              `variant '${v.id}' of image '${image.name}' requires '${r}', which is not in that image`,
            );
          }
          return n;
        });
      requires.set(
        number.get(v.id)!,
        [...new Set(deps)].sort((a, b) => a - b),
      );
    }
    return {
      name: image.name,
      baseLayers: image.baseLayers,
      variants: nums,
      available: budget - image.baseLayers - reservedTop,
      requires,
    };
  });

  return { budget, reservedTop, bigLayerBytes, tiers: [...input.tiers], variants, images };
}

/** An image must have at least one layer per tier it uses: a plan below that does not exist. */
export function assertTiersFit(studio: CanonicalStudio): void {
  for (const image of studio.images) {
    const tiers = new Set(image.variants.map((n) => studio.variants[n]!.tier));
    if (image.variants.length > 0 && image.available < tiers.size) {
      throw new TantalusError(
        `image '${image.name}' cannot fit in ${studio.budget} layers: ${image.baseLayers} base + ${studio.reservedTop} top ` +
          `leave ${Math.max(image.available, 0)}, but its packages span ${tiers.size} tier(s) (${[...tiers].map((t) => studio.tiers[t]).join(", ")}) ` +
          `and layers never mix tiers`,
      );
    }
  }
}

/** Code-point order, independent of the locale. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
