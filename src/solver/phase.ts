import type { Requirement } from "../rez/version/index.js";
import { BrokenPackageReachedError, MissingFamilyError, MissingVersionError, type SolveContext } from "./context.js";
import type { FailureReason, Provenance } from "./failure.js";
import { dependencyOrder, findCycle, type FamilyGraph } from "./graph.js";
import { MergedRequirements } from "./memo.js";
import type { VariantInfo } from "./model.js";
import { Scope, lastReductions } from "./scope.js";

export const enum PhaseStatus {
  Pending,
  Exhausted,
  Solved,
  Failed,
  Cyclic,
}

/**
 * Rez `_ResolvePhase`: a full state of the solve, an ordered list of scopes.
 * Phases share scopes (scopes are immutable), so a split costs one array copy.
 * Each phase owns its array: the solver discards a phase once it has solved or
 * split it, so solve() and split() take the array over instead of copying it.
 */
export class Phase {
  constructor(
    readonly scopes: readonly Scope[],
    readonly status: PhaseStatus,
    /** Scope indices changed since the last reduction (Rez `changed_scopes_i`). */
    readonly changed: readonly number[],
    readonly failure: FailureReason | null = null,
    /** Scope index by family name; shared with phases of the same scopes positions. */
    readonly index: ScopeIndex = ScopeIndex.of(scopes),
    /**
     * Every scope before this one is solved (no slice, or a single variant).
     * Scopes only shrink, so it only moves forward, except when a conflict
     * scope before it widens into a slice.
     */
    readonly settled = 0,
  ) {}

  /**
   * Rez `_ResolvePhase.solve`: extract, merge, intersect, add and reduce until
   * nothing changes. Only scopes replaced since their last extraction can have
   * anything to extract (a copy forgets what was extracted), so the extraction
   * pass visits just those, in phase order, as Rez's full pass would find them.
   */
  solve(ctx: SolveContext): Phase {
    if (this.status !== PhaseStatus.Pending) return this;
    const scopes = this.scopes as Scope[];
    let index = this.index;
    let ownIndex = false;
    // flags per scope index: replaced since the last reduction / since the last extraction
    let changed: Uint8Array = new Uint8Array(scopes.length + 16);
    let dirty: Uint8Array = new Uint8Array(scopes.length + 16);
    let changedCount = 0;
    let settled = this.settled;
    for (const i of this.changed) {
      changed[i] = 1;
      dirty[i] = 1;
      changedCount++;
    }

    for (;;) {
      const prevCount = scopes.length;
      const widened: number[] = [];

      for (;;) {
        // EXTRACT: each scope's common dependencies, alphabetically
        const extracted: Requirement[] = [];
        const extractedBy: Scope[] = [];
        for (let i = 0; i < scopes.length; i++) {
          if (dirty[i] === 0) continue;
          dirty[i] = 0;
          const s = scopes[i]!;
          const slice = s.slice;
          if (slice === null) continue;
          const before = extracted.length;
          const next = slice.extractAll(ctx, extracted);
          if (next === null) continue;
          for (let k = before; k < extracted.length; k++) extractedBy.push(s);
          scopes[i] = s.withSlice(next);
        }
        if (extracted.length === 0) break;

        // MERGE
        const merged = new MergedRequirements(extracted);
        if (merged.conflict) {
          const [a, b] = merged.conflict;
          const bIndex = merged.conflictIndex;
          const before = extractedBy.filter((_, i) => i < bIndex && extracted[i]!.name === a.name);
          return new Phase(
            scopes,
            PhaseStatus.Failed,
            [],
            {
              type: "conflict",
              dependency: a,
              conflicting: b,
              dependencyFrom: { kind: "extracted", requesters: before },
              conflictingFrom: { kind: "extracted", requesters: [extractedBy[bIndex]!] },
            },
            index,
          );
        }

        // INTERSECT, in phase order
        const hits: number[] = [];
        for (const name of merged.order) {
          const i = index.get(name);
          if (i !== undefined) hits.push(i);
        }
        if (hits.length > 1) sortSmall(hits);
        for (const i of hits) {
          const s = scopes[i]!;
          const req = merged.byName.get(s.name)!;
          const s2 = s.intersect(ctx, req.range!);
          if (s2 === null) {
            return new Phase(
              scopes,
              PhaseStatus.Failed,
              [],
              {
                type: "conflict",
                dependency: req,
                conflicting: s.request,
                dependencyFrom: requestersOf(req.name, extracted, extractedBy),
                conflictingFrom: { kind: "scope", scope: s },
              },
              index,
            );
          }
          if (s2 !== s) {
            scopes[i] = s2;
            if (changed[i] === 0) {
              changed[i] = 1;
              changedCount++;
            }
            dirty[i] = 1;
            // '~foo-1' meeting a real requirement on foo widens into a normal scope
            if (s.isConflict && !s2.isConflict) {
              widened.push(i);
              if (i < settled) settled = i;
            }
          }
        }

        // ADD, in merged order
        for (const name of merged.order) {
          if (index.has(name)) continue;
          const req = merged.byName.get(name)!;
          const from = requestersOf(name, extracted, extractedBy);
          const requesters = from.requesters.map(nameOf);
          let scope: Scope;
          try {
            scope = Scope.create(ctx, req, { kind: "extracted", requirement: req, requesters });
          } catch (e) {
            if (e instanceof MissingFamilyError) {
              const message = `package family not found: ${name}, was required by: ${requesters.join(", ")} (searched: ${ctx.searchedText()})`;
              // Rez: with error_on_missing_variant_requires off, this phase fails (its other variants are tried).
              if (!ctx.errorOnMissingVariantRequires && requesters.length > 0) {
                ctx.warn(message);
                return new Phase(
                  scopes,
                  PhaseStatus.Failed,
                  [],
                  { type: "missing-family", family: name, requesters, message },
                  index,
                );
              }
              throw new MissingFamilyError(message, name, requesters);
            }
            if (e instanceof MissingVersionError)
              throw new MissingVersionError(e.requirement, from.requesters.map(labelOf));
            if (e instanceof BrokenPackageReachedError)
              throw new BrokenPackageReachedError(e.pkg, e.failure, e.requirement, from.requesters.map(labelOf));
            throw e;
          }
          if (!ownIndex) {
            index = index.fork();
            ownIndex = true;
          }
          scopes.push(scope);
          index.add(name, scopes.length - 1);
          if (scopes.length > dirty.length) {
            dirty = grow(dirty);
            changed = grow(changed);
          }
          dirty[scopes.length - 1] = 1;
        }
      }

      const n = scopes.length;
      if (n === prevCount && changedCount === 0 && widened.length === 0) break;

      // REDUCE
      const failed = new Reducer(ctx, scopes, index).run(prevCount, changed, widened, dirty);
      if (failed) return new Phase(scopes, PhaseStatus.Failed, [], failed, index);
      changed.fill(0);
      changedCount = 0;
    }

    // nothing is left to extract now, so a scope is solved when it has one variant at most
    while (settled < scopes.length && scopes[settled]!.isSolved(ctx)) settled++;
    const status = settled === scopes.length ? PhaseStatus.Solved : PhaseStatus.Exhausted;
    return new Phase(scopes, status, [], null, index, settled);
  }

  /** Rez `split`: the first scope with several variants splits; both phases restart from it. */
  split(ctx: SolveContext): [Phase, Phase] {
    for (let i = this.settled; i < this.scopes.length; i++) {
      const s = this.scopes[i]!;
      if (s.slice === null || s.slice.length === 1) continue;
      const [a, b] = s.slice.split(ctx);
      const next = this.scopes.slice();
      const first = this.scopes as Scope[];
      first[i] = s.withSlice(a);
      next[i] = s.withSlice(b);
      return [
        new Phase(first, PhaseStatus.Pending, [i], null, this.index, i),
        new Phase(next, PhaseStatus.Pending, [i], null, this.index, i),
      ];
    }
    throw new Error("unexpected solver state: an exhausted phase has no scope to split");
  }

  /**
   * Rez `finalise`: fail on a dependency cycle, otherwise order the resolved
   * families dependencies-first, then request order, then alphabetically.
   */
  finalise(ctx: SolveContext): Phase {
    const live = this.scopes.filter((s) => !s.isConflict);
    const byName = new Map(live.map((s) => [s.name, s] as const));
    const edges = new Map<string, string[]>();
    for (const s of live) {
      const v = s.solvedVariant(ctx);
      if (!v) continue;
      const out: string[] = [];
      for (const r of v.requires.list) if (!r.conflict && !out.includes(r.name)) out.push(r.name);
      edges.set(s.name, out);
    }
    const g: FamilyGraph = { nodes: live.map((s) => s.name), edges };
    const cycle = findCycle(g);
    if (cycle) {
      const pkgs = cycle.map((name) => byName.get(name)!.solvedVariant(ctx)!.variant.package.qualifiedName);
      return new Phase(this.scopes, PhaseStatus.Cyclic, [], { type: "cycle", packages: pkgs });
    }
    const order = dependencyOrder(
      g,
      ctx.requestList.requirements.map((r) => r.name),
    );
    return new Phase(
      order.map((n) => byName.get(n)!),
      PhaseStatus.Solved,
      [],
    );
  }

  solvedVariants(ctx: SolveContext): VariantInfo[] {
    const out: VariantInfo[] = [];
    for (const s of this.scopes) {
      const v = s.solvedVariant(ctx);
      if (v) out.push(v);
    }
    return out;
  }

  solvedEphemerals(): Requirement[] {
    return this.scopes.filter((s) => s.isEphemeral && !s.isConflict).map((s) => s.request);
  }
}

/** "foo-1.2", or "foo" with its remaining versions when several are left. */
export function labelOf(s: Scope): string {
  if (!s.slice) return s.request.toString();
  const pkgs = s.slice.fam.info.packages;
  const idx = [...new Set(s.slice.entries.map((e) => e.pkg))].sort((a, b) => a - b);
  const versions = idx.map((i) => pkgs[i]!.version.toString());
  if (versions.length === 1) return versions[0] ? `${s.name}-${versions[0]}` : s.name;
  if (versions.length <= 3) return `${s.name}-${versions.join("|")}`;
  return `${s.name} (${versions.length} versions)`;
}

function requestersOf(
  name: string,
  extracted: readonly Requirement[],
  extractedBy: readonly Scope[],
): Provenance & { kind: "extracted" } {
  const requesters: Scope[] = [];
  for (let i = 0; i < extracted.length; i++) if (extracted[i]!.name === name) requesters.push(extractedBy[i]!);
  return { kind: "extracted", requesters };
}

/**
 * Rez's reduction loop. Pending pairs (x, y) mean "reduce scope x by scope y's
 * request"; they are processed from the largest pair down, and every scope
 * that shrinks pushes (j, x) for all j, which run next (last in, first out).
 * Pairs that cannot do anything (y's family is not among x's requirements) are
 * skipped without being materialised; since scopes only shrink during the
 * loop, skipping them leaves the order of the others unchanged.
 */
class Reducer {
  /** Scopes that may mention a family, ascending (a superset; checked when popped). */
  private readonly candidates = new Map<string, number[]>();

  constructor(
    private readonly ctx: SolveContext,
    private readonly scopes: Scope[],
    private readonly index: ScopeIndex,
  ) {}

  /** Reducing scope x by scope y can remove something only if x's variants mention y's family. */
  private canReduce(x: number, y: number): boolean {
    if (x === y) return false;
    const sx = this.scopes[x]!;
    if (sx.slice === null) return false;
    const sy = this.scopes[y]!;
    if (sy.slice === null && sy.request.range === null) return false;
    return sx.slice.mentions(this.ctx, sy.name);
  }

  private mentioning(name: string): number[] {
    let list = this.candidates.get(name);
    if (list === undefined) {
      list = [];
      for (const fam of this.ctx.mentioners(name)) {
        const j = this.index.get(fam);
        if (j !== undefined) list.push(j);
      }
      sortSmall(list);
      this.candidates.set(name, list);
    }
    return list;
  }

  /** Pairs (x, y) for every y (x's mentioned families that have a scope). */
  private everyY(x: number, n: number, pairs: number[]): void {
    const slice = this.scopes[x]!.slice;
    if (slice === null) return;
    const m = slice.content(this.ctx).famRequires;
    const names = slice.fam.info.names;
    for (let w = 0; w < m.length; w++) {
      let bits = m[w]!;
      while (bits !== 0) {
        const y = this.index.get(names[(w << 5) + 31 - Math.clz32(bits & -bits)]!);
        if (y !== undefined && this.canReduce(x, y)) pairs.push(x * n + y);
        bits &= bits - 1;
      }
    }
  }

  run(prevCount: number, changed: Uint8Array, widened: readonly number[], dirty: Uint8Array): FailureReason | null {
    const scopes = this.scopes;
    const n = scopes.length;
    // Rez's initial set: prev x changed, prev x added, added x all, widened x all.
    const list: number[] = [];
    for (let x = prevCount; x < n; x++) this.everyY(x, n, list);
    for (const x of widened) if (x < prevCount) this.everyY(x, n, list);
    for (let y = 0; y < n; y++) {
      if (y < prevCount && changed[y] === 0) continue;
      for (const x of this.mentioning(scopes[y]!.name)) {
        if (x >= prevCount || widened.includes(x)) continue;
        if (this.canReduce(x, y)) list.push(x * n + y);
      }
    }
    // processed largest pair first
    const pairs = Int32Array.from(list).sort().reverse();

    const colX: number[] = [];
    const colList: number[][] = [];
    const colPos: number[] = [];
    let ip = 0;
    for (;;) {
      let x: number;
      let y: number;
      if (colX.length) {
        // pairs (j, x) for j = n-1 .. 0, only those j that may mention x's family
        const top = colX.length - 1;
        const cx = colX[top]!;
        const list = colList[top]!;
        let p = colPos[top]!;
        while (p >= 0 && !this.canReduce(list[p]!, cx)) p--;
        if (p < 0) {
          colX.pop();
          colList.pop();
          colPos.pop();
          continue;
        }
        colPos[top] = p - 1;
        x = list[p]!;
        y = cx;
      } else if (ip < pairs.length) {
        const pair = pairs[ip++]!;
        x = Math.floor(pair / n);
        y = pair - x * n;
        if (!this.canReduce(x, y)) continue;
      } else {
        break;
      }
      const sx = scopes[x]!;
      const reduced = sx.slice!.reduceBy(this.ctx, scopes[y]!.asReducer());
      if (reduced === null) return { type: "reduction", reductions: lastReductions(), reducedScope: sx };
      if (reduced !== sx.slice) {
        scopes[x] = sx.withSlice(reduced);
        dirty[x] = 1;
        const list = this.mentioning(sx.name);
        colX.push(x);
        colList.push(list);
        colPos.push(list.length - 1);
      }
    }
    return null;
  }
}

function ascending(a: number, b: number): number {
  return a - b;
}

/** Ascending, in place: insertion sort for the short lists here, without the native sort's copy. */
function sortSmall(a: number[]): void {
  if (a.length > 64) {
    a.sort(ascending);
    return;
  }
  for (let i = 1; i < a.length; i++) {
    const v = a[i]!;
    let j = i - 1;
    while (j >= 0 && a[j]! > v) {
      a[j + 1] = a[j]!;
      j--;
    }
    a[j + 1] = v;
  }
}

function nameOf(s: Scope): string {
  return s.name;
}

function grow(flags: Uint8Array): Uint8Array {
  const g = new Uint8Array(flags.length * 2);
  g.set(flags);
  return g;
}

/**
 * Scope positions by family name. Phases of one lineage share a base map;
 * a phase that adds scopes forks an index and adds to a small map of its own,
 * which is folded into a new base once it grows.
 */
export class ScopeIndex {
  private constructor(
    private base: Map<string, number>,
    private own: Map<string, number> | null,
  ) {}

  static of(scopes: readonly Scope[]): ScopeIndex {
    const m = new Map<string, number>();
    for (let i = 0; i < scopes.length; i++) m.set(scopes[i]!.name, i);
    return new ScopeIndex(m, null);
  }

  get(name: string): number | undefined {
    if (this.own !== null) {
      const i = this.own.get(name);
      if (i !== undefined) return i;
    }
    return this.base.get(name);
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  fork(): ScopeIndex {
    if (this.own === null) return new ScopeIndex(this.base, new Map());
    if (this.own.size < 32) return new ScopeIndex(this.base, new Map(this.own));
    const flat = new Map(this.base);
    for (const [k, v] of this.own) flat.set(k, v);
    return new ScopeIndex(flat, new Map());
  }

  /** Only on an index just forked by the phase being solved. */
  add(name: string, i: number): void {
    this.own!.set(name, i);
  }
}
