import { compareStrings, type CanonicalStudio } from "./input.js";
import { layerKey } from "./key.js";
import type { LayerPlan, PlannedLayer, Strategy } from "./types.js";

const MIXED = "mixed";

/**
 * Turns per-image layer lists (variant numbers, bottom first) into a LayerPlan:
 * layers with equal content get one key and are listed once, with every image that
 * carries them. The global list is sorted by tier, then by how many images share a
 * layer, then by size, then by key.
 */
export function assemblePlan(studio: CanonicalStudio, strategy: Strategy, perImage: number[][][]): LayerPlan {
  const byKey = new Map<string, { layer: PlannedLayer; tierRank: number; images: Set<number> }>();
  const imageKeys: string[][] = [];
  perImage.forEach((layers, imageNo) => {
    const keys: string[] = [];
    for (const content of layers) {
      const sorted = [...content].sort((a, b) => a - b);
      const ids = sorted.map((n) => studio.variants[n]!.id);
      const key = layerKey(ids);
      let entry = byKey.get(key);
      if (!entry) {
        const tiers = new Set(sorted.map((n) => studio.variants[n]!.tier));
        const tierRank = tiers.size === 1 ? [...tiers][0]! : studio.tiers.length;
        const layer: PlannedLayer = {
          key,
          tier: tierRank < studio.tiers.length ? studio.tiers[tierRank]! : MIXED,
          variants: ids,
          bytes: sorted.reduce((s, n) => s + studio.variants[n]!.bytes, 0),
          files: sorted.reduce((s, n) => s + studio.variants[n]!.files, 0),
          images: [],
        };
        entry = { layer, tierRank, images: new Set() };
        byKey.set(key, entry);
      }
      entry.images.add(imageNo);
      keys.push(key);
    }
    imageKeys.push(keys);
  });

  const entries = [...byKey.values()];
  for (const e of entries) e.layer.images = [...e.images].sort((a, b) => a - b).map((i) => studio.images[i]!.name);
  entries.sort(
    (a, b) =>
      a.tierRank - b.tierRank ||
      b.layer.images.length - a.layer.images.length ||
      b.layer.bytes - a.layer.bytes ||
      compareStrings(a.layer.key, b.layer.key),
  );

  return {
    strategy,
    budget: studio.budget,
    tiers: [...studio.tiers],
    layers: entries.map((e) => e.layer),
    images: studio.images.map((image, i) => ({
      name: image.name,
      baseLayers: image.baseLayers,
      layers: imageKeys[i]!,
      topLayers: studio.reservedTop,
      packageBytes: image.variants.reduce((s, n) => s + studio.variants[n]!.bytes, 0),
    })),
    packageBytes: studio.variants.reduce((s, v) => s + (v.images.length > 0 ? v.bytes : 0), 0),
  };
}
