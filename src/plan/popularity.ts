import { TantalusError } from "../errors.js";
import { assemblePlan } from "./assemble.js";
import { canonicalize, compareStrings } from "./input.js";
import type { LayerPlan, PlanInput } from "./types.js";

export interface PopularityNode {
  id: string;
  /** Ids this node references (self-references are ignored, as Nix drops them). */
  requires: readonly string[];
}

/**
 * Nix's "popularity contest" (nixpkgs references-by-popularity / flatten_references_graph
 * popularity_contest.py), re-implemented on a Rez requires graph:
 * roots are the nodes nothing else references; the graph is unfolded into a tree from
 * the roots (a shared node appears under every parent), and each node's popularity is
 * the count the contest assigns: +1 per occurrence as a child, and for everything below
 * a child, the child's own count plus one. Sorted by popularity, most popular first,
 * ties by id ascending (Nix's package_name order); unreachable nodes (only in cycles,
 * which Nix graphs cannot have) come last by id.
 */
export function popularityContest(nodes: readonly PopularityNode[]): { id: string; popularity: number }[] {
  const refs = new Map<string, string[]>();
  for (const n of nodes) refs.set(n.id, [...new Set(n.requires.filter((r) => r !== n.id && r !== undefined))]);
  for (const [id, rs] of refs) {
    for (const r of rs)
      if (!refs.has(r)) throw new TantalusError(`'${id}' references '${r}', which is not in the graph`);
  }
  const referenced = new Set<string>();
  for (const rs of refs.values()) for (const r of rs) referenced.add(r);
  const roots = [...refs.keys()].filter((id) => !referenced.has(id)).sort(compareStrings);

  // contest(subtree under `id`): memoised like Nix's popularity_cache.
  const memo = new Map<string, Map<string, number>>();
  const active = new Set<string>();
  const contest = (id: string): Map<string, number> => {
    const known = memo.get(id);
    if (known) return known;
    active.add(id);
    const pop = new Map<string, number>();
    for (const child of refs.get(id)!) {
      if (active.has(child)) continue; // a cycle: Rez resolves are acyclic, stay total anyway
      pop.set(child, (pop.get(child) ?? 0) + 1);
      for (const [sub, p] of contest(child)) pop.set(sub, (pop.get(sub) ?? 0) + p + 1);
    }
    active.delete(id);
    memo.set(id, pop);
    return pop;
  };

  const total = new Map<string, number>();
  for (const root of roots) {
    total.set(root, (total.get(root) ?? 0) + 1);
    for (const [sub, p] of contest(root)) total.set(sub, (total.get(sub) ?? 0) + p + 1);
  }
  const ranked = [...total].map(([id, popularity]) => ({ id, popularity }));
  ranked.sort((a, b) => b.popularity - a.popularity || compareStrings(a.id, b.id));
  const missing = [...refs.keys()].filter((id) => !total.has(id)).sort(compareStrings);
  return [...ranked, ...missing.map((id) => ({ id, popularity: 0 }))];
}

/**
 * nixpkgs `buildLayeredImage` applied to each image on its own: the image's variants
 * ranked by popularity in its own requires graph, the first (available - 1) in a layer
 * each, every other variant merged into one last layer (Nix's limit_layers), tiers
 * ignored. A single-variant layer is the same in every image that has it; the merged
 * tail rarely is.
 */
export function planByPopularity(input: PlanInput): LayerPlan {
  const studio = canonicalize(input);
  const perImage = studio.images.map((image) => {
    if (image.variants.length === 0) return [];
    if (image.available < 1) {
      throw new TantalusError(
        `image '${image.name}' cannot fit in ${studio.budget} layers: ${image.baseLayers} base + ${studio.reservedTop} top leave no layer for its packages`,
      );
    }
    const nodes = image.variants.map((n) => ({
      id: studio.variants[n]!.id,
      requires: image.requires.get(n)!.map((r) => studio.variants[r]!.id),
    }));
    const number = new Map(image.variants.map((n) => [studio.variants[n]!.id, n]));
    const order = popularityContest(nodes).map((r) => number.get(r.id)!);
    const singles = order.slice(0, image.available - 1).map((n) => [n]);
    const rest = order.slice(image.available - 1);
    return rest.length > 0 ? [...singles, rest] : singles;
  });
  return assemblePlan(studio, "popularity", perImage);
}
