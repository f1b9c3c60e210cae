import { Requirement, VersionRange } from "../rez/version/index.js";

/*
 * Range arithmetic the solver repeats with the same operands over and over
 * (the same variants are extracted and merged in phase after phase), memoised
 * by object identity. Requirement.parse and these functions hand back the same
 * objects for the same inputs, so the memo tables stay small.
 */

const rangeIds = new WeakMap<VersionRange, number>();
let nextRangeId = 1;

function rangeId(r: VersionRange): number {
  let id = rangeIds.get(r);
  if (id === undefined) {
    id = nextRangeId++;
    rangeIds.set(r, id);
  }
  return id;
}

const scratch: VersionRange[] = [];

function boundsOf(r: VersionRange) {
  return r.bounds;
}

/** Unions memoised in a trie keyed by the ranges (in id order), then by name. */
interface UnionNode {
  next: Map<VersionRange, UnionNode> | null;
  byName: Map<string, Requirement> | null;
}
const unionRoot: UnionNode = { next: null, byName: null };

/** Rez's extraction: `Requirement(name, union of the ranges)`. */
export function unionRequirement(name: string, ranges: readonly VersionRange[]): Requirement {
  // walk the ranges in id order (insertion sort into a scratch array: a few ranges)
  const sorted = scratch;
  sorted.length = 0;
  for (const r of ranges) {
    const id = rangeId(r);
    let j = sorted.length - 1;
    sorted.push(r);
    while (j >= 0 && rangeId(sorted[j]!) > id) {
      sorted[j + 1] = sorted[j]!;
      j--;
    }
    sorted[j + 1] = r;
  }
  let node = unionRoot;
  for (let i = 0; i < sorted.length; i++) {
    const r = sorted[i]!;
    node.next ??= new Map();
    let n = node.next.get(r);
    if (n === undefined) {
      n = { next: null, byName: null };
      node.next.set(r, n);
    }
    node = n;
  }
  node.byName ??= new Map();
  let req = node.byName.get(name);
  if (req === undefined) {
    // Rez: ranges[0].union(ranges[1:]), one sort-and-merge over all the bounds
    req = Requirement.construct(name, VersionRange.fromBounds(ranges.flatMap(boundsOf)));
    node.byName.set(name, req);
  }
  return req;
}

const merges = new WeakMap<Requirement, Map<Requirement, Requirement | null>>();

/** Rez `Requirement.merged`, memoised. */
export function mergedRequirement(a: Requirement, b: Requirement): Requirement | null {
  let m = merges.get(a);
  if (m === undefined) {
    m = new Map();
    merges.set(a, m);
  }
  let r = m.get(b);
  if (r === undefined) {
    r = a.merged(b);
    m.set(b, r);
  }
  return r;
}

const conflictTests = new WeakMap<Requirement, Map<Requirement, boolean>>();

/** Rez `Requirement.conflicts_with`, memoised. */
export function requirementsConflict(a: Requirement, b: Requirement): boolean {
  let m = conflictTests.get(a);
  if (m === undefined) {
    m = new Map();
    conflictTests.set(a, m);
  }
  let r = m.get(b);
  if (r === undefined) {
    r = a.conflictsWith(b);
    m.set(b, r);
  }
  return r;
}

/**
 * Rez `RequirementList(reqs)`: requirements on one name merged, in
 * first-occurrence order; stops at the first conflict.
 */
export class MergedRequirements {
  readonly byName = new Map<string, Requirement>();
  readonly order: string[] = [];
  conflict: [Requirement, Requirement] | null = null;
  /** Position in the input of the requirement that conflicted. */
  conflictIndex = -1;

  constructor(reqs: readonly Requirement[]) {
    for (let i = 0; i < reqs.length; i++) {
      const r = reqs[i]!;
      const existing = this.byName.get(r.name);
      if (existing === undefined) {
        this.byName.set(r.name, r);
        this.order.push(r.name);
        continue;
      }
      const m = mergedRequirement(existing, r);
      if (m === null) {
        this.conflict = [existing, r];
        this.conflictIndex = i;
        return;
      }
      this.byName.set(r.name, m);
    }
  }
}
