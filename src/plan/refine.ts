import type { CanonicalStudio } from "./input.js";

/** Variants of one tier used by exactly the same images (or one big variant): never split. */
export interface Atom {
  tier: number;
  /** Image numbers, ascending. */
  images: number[];
  bytes: number;
  big: boolean;
}

/**
 * Local search after the greedy merging: move one atom at a time to another layer of
 * its tier, or to a layer of its own, when that lowers the bytes images carry without
 * taking any image over its budget. Greedy merges relieve every over-budget image
 * they touch, so some images end below budget and some merges turn out larger than
 * needed; this gives those bytes back. Big layers receive nothing. Every accepted move
 * strictly lowers Σ image bytes, so the search ends; moves are tried in a fixed order,
 * so it is deterministic.
 */
export function refineLayers(studio: CanonicalStudio, atoms: Atom[], layers: number[][], maxPasses = 8): number[][] {
  const nImages = studio.images.length;
  const avail = studio.images.map((i) => i.available);
  const layerOf = new Int32Array(atoms.length).fill(-1);
  interface LayerState {
    tier: number;
    bytes: number;
    /** Per image: atoms of this layer the image uses. */
    uses: Int32Array;
    carriers: number;
    big: boolean;
    atoms: number;
  }
  const state: LayerState[] = [];
  const count = new Int32Array(nImages);
  const newLayer = (tier: number): number => {
    state.push({ tier, bytes: 0, uses: new Int32Array(nImages), carriers: 0, big: false, atoms: 0 });
    return state.length - 1;
  };
  const place = (a: number, l: number): void => {
    const atom = atoms[a]!;
    const s = state[l]!;
    layerOf[a] = l;
    s.bytes += atom.bytes;
    s.atoms++;
    s.big ||= atom.big || s.bytes >= studio.bigLayerBytes;
    for (const i of atom.images) {
      if (s.uses[i]!++ === 0) {
        s.carriers++;
        count[i]!++;
      }
    }
  };
  const unplace = (a: number): void => {
    const atom = atoms[a]!;
    const s = state[layerOf[a]!]!;
    s.bytes -= atom.bytes;
    s.atoms--;
    for (const i of atom.images) {
      if (--s.uses[i]! === 0) {
        s.carriers--;
        count[i]!--;
      }
    }
    layerOf[a] = -1;
  };
  for (const members of layers) {
    const l = newLayer(atoms[members[0]!]!.tier);
    for (const a of members) place(a, l);
  }
  const byTier: number[][] = studio.tiers.map(() => []);
  state.forEach((s, l) => byTier[s.tier]!.push(l));

  const NEW = -1;
  for (let pass = 0; pass < maxPasses; pass++) {
    let moved = false;
    for (let a = 0; a < atoms.length; a++) {
      const atom = atoms[a]!;
      if (atom.big) continue;
      const from = layerOf[a]!;
      const src = state[from]!;
      if (src.atoms === 1) continue; // alone already: moving it elsewhere only adds bytes or changes nothing
      let losers = 0;
      for (const i of atom.images) if (src.uses[i] === 1) losers++;
      const srcDelta = (src.bytes - atom.bytes) * (src.carriers - losers) - src.bytes * src.carriers;

      let bestTarget = 0;
      let bestDelta = 0;
      const consider = (to: number): void => {
        const dst = to === NEW ? undefined : state[to]!;
        let gainers = 0;
        for (const i of atom.images) {
          const gains = dst ? dst.uses[i] === 0 : true;
          const loses = src.uses[i] === 1;
          if (gains) gainers++;
          if (gains && !loses && count[i]! + 1 > avail[i]!) return;
        }
        const dstBytes = dst ? dst.bytes : 0;
        const dstCarriers = dst ? dst.carriers : 0;
        const delta = srcDelta + (dstBytes + atom.bytes) * (dstCarriers + gainers) - dstBytes * dstCarriers;
        if (delta < bestDelta) {
          bestDelta = delta;
          bestTarget = to;
        }
      };
      consider(NEW);
      for (const to of byTier[atom.tier]!) {
        if (to === from || state[to]!.atoms === 0 || state[to]!.big) continue;
        consider(to);
      }
      if (bestDelta < 0) {
        unplace(a);
        let to = bestTarget;
        if (to === NEW) {
          to = newLayer(atom.tier);
          byTier[atom.tier]!.push(to);
        }
        place(a, to);
        moved = true;
      }
    }
    if (!moved) break;
  }

  const out: number[][] = state.map(() => []);
  layerOf.forEach((l, a) => out[l]!.push(a));
  return out.filter((m) => m.length > 0);
}
