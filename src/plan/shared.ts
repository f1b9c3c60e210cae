import { TantalusError } from "../errors.js";
import { assemblePlan } from "./assemble.js";
import {
  members,
  remove,
  setKey,
  setOf,
  size,
  size3,
  sizeMinus,
  union,
  wordsFor,
  emptySet,
  type ImageSet,
} from "./bitset.js";
import { Heap } from "./heap.js";
import { assertTiersFit, canonicalize, compareStrings, type CanonicalStudio } from "./input.js";
import { layerKey } from "./key.js";
import { refineLayers, type Atom } from "./refine.js";
import type { LayerPlan, PlanInput } from "./types.js";

/**
 * The studio-sharing layer plan: every workflow image planned together, each variant
 * in exactly one layer studio-wide, so a layer is byte-identical in every image that
 * has it and the registry stores each package's bytes once.
 *
 * 1. Variants of one tier used by exactly the same set of images form one group
 *    ("always used together"); a variant of at least bigLayerBytes is a group of its own.
 * 2. While an image has more groups than its budget leaves, merge two groups of one
 *    tier that both occur in an over-budget image. A merge costs bytes: every image
 *    that has one of the two groups now carries both. The merge chosen is the one
 *    with the least cost per over-budget image it relieves, never touching a big group
 *    while another merge is possible (a DCC layer must not change because a small tool did);
 *    ties go to the smaller layer, then to the lexically first variant ids.
 *    Small, rarely used groups are the cheap ones, so they are the ones grouped.
 * 3. A local search (refine.ts) then moves single groups between layers of their tier,
 *    or out to a layer of their own where an image has room left, whenever that lowers
 *    the bytes images carry: greedy merges often relieve more images than needed.
 * 4. Layers are ordered by tier, then by the number of images sharing them (most
 *    first), then by size, then by key, and every image takes this order restricted
 *    to its layers: images that share layers share the longest common prefix,
 *    which is what runtimes deduplicate (ChainIDs depend on order).
 */
export function planLayers(input: PlanInput): LayerPlan {
  const studio = canonicalize(input);
  assertTiersFit(studio);
  const { atoms, layers } = groupsWithinBudget(studio);
  return orderedPlan(studio, atoms, refineLayers(studio, atoms, layers));
}

/** A set of variants that will be one layer. */
interface Group {
  tier: number;
  images: ImageSet;
  imageCount: number;
  bytes: number;
  variants: number[];
  /** Smallest variant id in the group: a content-derived name for tie-breaks. */
  name: string;
  big: boolean;
  alive: boolean;
  /** The initial groups (atoms) this group is made of. */
  atoms: number[];
}

interface Merge {
  a: number;
  b: number;
  big: boolean;
  /** Extra bytes images carry after the merge. */
  cost: number;
  /** Over-budget images that lose one layer; only ever decreases, so it is refreshed lazily. */
  relief: number;
  bytes: number;
  lo: string;
  hi: string;
}

function cheaper(x: Merge, y: Merge): boolean {
  if (x.big !== y.big) return !x.big;
  const r = x.cost * y.relief - y.cost * x.relief;
  if (r !== 0) return r < 0;
  if (x.cost !== y.cost) return x.cost < y.cost;
  if (x.bytes !== y.bytes) return x.bytes < y.bytes;
  const lo = compareStrings(x.lo, y.lo);
  if (lo !== 0) return lo < 0;
  return compareStrings(x.hi, y.hi) < 0;
}

interface MergedGroups {
  /** The initial groups, each indivisible. */
  atoms: (Atom & { variants: number[] })[];
  /** Each layer as the atoms it is made of. */
  layers: number[][];
}

function groupsWithinBudget(studio: CanonicalStudio): MergedGroups {
  const words = wordsFor(studio.images.length);
  const groups: Group[] = [];
  const byTier: number[][] = studio.tiers.map(() => []);
  /** (tier, image set) -> the live group of small variants with exactly that usage. */
  const bySignature = new Map<string, number>();
  const count = new Int32Array(studio.images.length);
  const over = emptySet(words);

  const addGroup = (g: Group): number => {
    const id = groups.length;
    groups.push(g);
    byTier[g.tier]!.push(id);
    for (const i of members(g.images)) count[i]!++;
    const sig = `${g.tier}|${setKey(g.images)}`;
    if (!g.big && !bySignature.has(sig)) bySignature.set(sig, id);
    return id;
  };

  const unregister = (id: number): void => {
    const g = groups[id]!;
    const sig = `${g.tier}|${setKey(g.images)}`;
    if (bySignature.get(sig) === id) bySignature.delete(sig);
  };

  for (let n = 0; n < studio.variants.length; n++) {
    const v = studio.variants[n]!;
    if (v.images.length === 0) continue;
    const images = setOf(v.images, words);
    const big = v.bytes >= studio.bigLayerBytes;
    const sig = `${v.tier}|${setKey(images)}`;
    const existing = big ? undefined : bySignature.get(sig);
    if (existing !== undefined) {
      const g = groups[existing]!;
      g.variants.push(n);
      g.bytes += v.bytes;
      continue;
    }
    addGroup({
      tier: v.tier,
      images,
      imageCount: v.images.length,
      bytes: v.bytes,
      variants: [n],
      name: v.id,
      big,
      alive: true,
      atoms: [groups.length],
    });
  }
  // Small variants used together can add up to a big layer: protect it like a big variant.
  groups.forEach((g, id) => {
    if (!g.big && g.bytes >= studio.bigLayerBytes) {
      unregister(id);
      g.big = true;
    }
  });

  studio.images.forEach((image, i) => {
    if (count[i]! > image.available) over[i >>> 5]! |= 1 << (i & 31);
  });
  const atoms = groups.map((g) => ({
    tier: g.tier,
    images: members(g.images),
    bytes: g.bytes,
    big: g.big,
    variants: [...g.variants],
  }));
  const result = (): MergedGroups => ({ atoms, layers: groups.filter((g) => g.alive).map((g) => g.atoms) });
  if (size(over) === 0) return result();

  // Each live group owns at most one heap entry: its cheapest partner when last looked
  // at. A merge's key only gets worse over time (relief drops as images fit), so an
  // entry found out of date is recomputed and pushed back; one found current is the
  // cheapest merge of all (lazy greedy).
  const heap = new Heap<Merge>(cheaper);

  /** The cheapest merge of `a` with any live group of its tier, or none (allocates only the winner). */
  const bestPartner = (a: number): Merge | undefined => {
    const ga = groups[a]!;
    const tierGroups = byTier[ga.tier]!;
    let bx = -1;
    let bBig = false;
    let bCost = 0;
    let bRelief = 0;
    let bBytes = 0;
    for (let k = 0; k < tierGroups.length; k++) {
      const x = tierGroups[k]!;
      const gx = groups[x]!;
      if (x === a || !gx.alive) continue;
      const relief = size3(ga.images, gx.images, over);
      if (relief === 0) continue;
      const big = ga.big || gx.big;
      const cost = gx.bytes * sizeMinus(ga.images, gx.images) + ga.bytes * sizeMinus(gx.images, ga.images);
      const bytes = ga.bytes + gx.bytes;
      if (bx >= 0) {
        // The order of cheaper(), on plain numbers.
        if (big !== bBig) {
          if (big) continue;
        } else {
          const r = cost * bRelief - bCost * relief;
          if (r > 0) continue;
          if (r === 0) {
            if (cost > bCost) continue;
            if (cost === bCost) {
              if (bytes > bBytes) continue;
              if (bytes === bBytes && compareStrings(gx.name, groups[bx]!.name) >= 0) continue;
            }
          }
        }
      }
      bx = x;
      bBig = big;
      bCost = cost;
      bRelief = relief;
      bBytes = bytes;
    }
    if (bx < 0) return undefined;
    const gb = groups[bx]!;
    const [lo, hi] = compareStrings(ga.name, gb.name) < 0 ? [ga.name, gb.name] : [gb.name, ga.name];
    return { a, b: bx, big: bBig, cost: bCost, relief: bRelief, bytes: bBytes, lo, hi };
  };

  for (let id = 0; id < groups.length; id++) {
    if (size3(groups[id]!.images, groups[id]!.images, over) === 0) continue;
    const m = bestPartner(id);
    if (m) heap.push(m);
  }

  const fuse = (a: number, b: number): number => {
    const ga = groups[a]!;
    const gb = groups[b]!;
    ga.alive = false;
    gb.alive = false;
    unregister(a);
    unregister(b);
    // Both groups' images lose a layer only where they overlapped.
    const common = new Uint32Array(ga.images.length);
    for (let w = 0; w < common.length; w++) common[w] = ga.images[w]! & gb.images[w]!;
    const images = union(ga.images, gb.images);
    const bytes = ga.bytes + gb.bytes;
    for (const i of members(ga.images)) count[i]!--;
    for (const i of members(gb.images)) count[i]!--;
    const id = addGroup({
      tier: ga.tier,
      images,
      imageCount: size(images),
      bytes,
      variants: [...ga.variants, ...gb.variants],
      atoms: [...ga.atoms, ...gb.atoms],
      name: compareStrings(ga.name, gb.name) < 0 ? ga.name : gb.name,
      big: bytes >= studio.bigLayerBytes,
      alive: true,
    });
    for (const i of members(common)) {
      if (count[i]! <= studio.images[i]!.available) remove(over, i);
    }
    return id;
  };

  const dead = studio.tiers.map(() => 0);
  while (size(over) > 0) {
    const m = heap.pop();
    if (!m)
      throw new TantalusError("internal error: the layer planner ran out of merges with images still over budget");
    if (!groups[m.a]!.alive) continue;
    if (!groups[m.b]!.alive || size3(groups[m.a]!.images, groups[m.b]!.images, over) !== m.relief) {
      const again = bestPartner(m.a);
      if (again) heap.push(again);
      continue;
    }
    let id = fuse(m.a, m.b);
    // A merged group whose usage equals another's joins it: no image gains bytes.
    const g = groups[id]!;
    if (!g.big) {
      const twin = bySignature.get(`${g.tier}|${setKey(g.images)}`);
      if (twin !== undefined && twin !== id) id = fuse(twin, id);
    }
    // Dead groups stay in the tier lists until they are half of them.
    const tier = groups[id]!.tier;
    dead[tier] = dead[tier]! + 2;
    if (dead[tier] * 2 > byTier[tier]!.length) {
      byTier[tier] = byTier[tier]!.filter((x) => groups[x]!.alive);
      dead[tier] = 0;
    }
    const next = bestPartner(id);
    if (next) heap.push(next);
  }
  return result();
}

function orderedPlan(studio: CanonicalStudio, atoms: MergedGroups["atoms"], layers: number[][]): LayerPlan {
  const live = layers.map((members) => {
    const variants = members.flatMap((a) => atoms[a]!.variants).sort((a, b) => a - b);
    const images = [...new Set(members.flatMap((a) => atoms[a]!.images))].sort((a, b) => a - b);
    const bytes = members.reduce((s, a) => s + atoms[a]!.bytes, 0);
    return {
      tier: atoms[members[0]!]!.tier,
      images,
      bytes,
      variants,
      key: layerKey(variants.map((n) => studio.variants[n]!.id)),
    };
  });
  live.sort(
    (x, y) => x.tier - y.tier || y.images.length - x.images.length || y.bytes - x.bytes || compareStrings(x.key, y.key),
  );
  const perImage: number[][][] = studio.images.map(() => []);
  for (const { images, variants } of live) {
    for (const i of images) perImage[i]!.push(variants);
  }
  return assemblePlan(studio, "shared", perImage);
}
