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

const MEMO_LIMIT = 200_000;
const unions = new Map<string, Requirement>();

const singles = new WeakMap<VersionRange, Map<string, Requirement>>();

/** Rez's extraction: `Requirement(name, union of the ranges)`. */
export function unionRequirement(name: string, ranges: readonly VersionRange[]): Requirement {
  if (ranges.length === 1) {
    let m = singles.get(ranges[0]!);
    if (m === undefined) {
      m = new Map();
      singles.set(ranges[0]!, m);
    }
    let r = m.get(name);
    if (r === undefined) {
      r = Requirement.construct(name, VersionRange.fromBounds(ranges[0]!.bounds));
      m.set(name, r);
    }
    return r;
  }
  const key = name + "\0" + ranges.map(rangeId).sort((a, b) => a - b).join(",");
  let req = unions.get(key);
  if (req === undefined) {
    // Rez: ranges[0].union(ranges[1:]), one sort-and-merge over all the bounds
    const u = VersionRange.fromBounds(ranges.flatMap((r) => r.bounds));
    req = Requirement.construct(name, u);
    if (unions.size >= MEMO_LIMIT) unions.clear();
    unions.set(key, req);
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
