import { Requirement, VersionRange } from "../rez/version/index.js";
import { type Bits, intersects, isSubset, newBits, setBit } from "./bits.js";
import { Entry, MissingVersionError, type FamilyState, type SolveContext } from "./context.js";
import type { VariantInfo } from "./model.js";
import { requirementsConflict, unionRequirement } from "./memo.js";

/** A variant removed because one of its requirements conflicts with another scope (Rez `Reduction`). */
export interface Reduction {
  variant: VariantInfo;
  dependency: Requirement;
  /** The other scope's request at the time. */
  conflicting: ScopeRequest;
}

/** What a scope asks of other scopes when they are reduced by it. */
export type ScopeRequest = { kind: "versions"; scope: Scope } | { kind: "requirement"; requirement: Requirement; scope: Scope };

/** What only depends on which variants a slice holds; memoised per family by content. */
export class SliceContent {
  constructor(
    /** Local name ids every variant requires (Rez `common_fams`). */
    readonly common: Bits,
    /** Local name ids any variant mentions, conflicts included (Rez `fam_requires`). */
    readonly famRequires: Bits,
  ) {}
  /** Extracted requirement per local name id. */
  readonly extractions = new Map<number, Requirement>();
}

// The variants the last reduceBy removed (Rez keeps them for the failure text).
const reductionsOut: Reduction[] = [];

export function lastReductions(): Reduction[] {
  return reductionsOut.slice();
}

/** Lazily computed facts shared by copies that only differ in what was extracted. */
class SliceFacts {
  len = -1;
  mask: Bits | null = null;
  content: SliceContent | null = null;
  request: Requirement | null = null;
}

/**
 * Rez `_PackageVariantSlice`: the variants of one family still possible in a
 * phase, grouped by package. Immutable except for sorting, which (as in Rez)
 * reorders in place and is seen by every phase sharing the slice.
 */
export class Slice {
  readonly fam: FamilyState;
  entries: Entry[];
  sorted: boolean;
  /** Local name ids already extracted (Rez `extracted_fams`); null for none. */
  readonly extracted: Bits | null;
  private readonly facts: SliceFacts;

  constructor(fam: FamilyState, entries: Entry[], sorted: boolean, extracted: Bits | null, facts?: SliceFacts) {
    this.fam = fam;
    this.entries = entries;
    this.sorted = sorted;
    this.extracted = extracted;
    this.facts = facts ?? new SliceFacts();
  }

  get name(): string {
    return this.fam.info.name;
  }

  get length(): number {
    const f = this.facts;
    if (f.len < 0) {
      let n = 0;
      for (const e of this.entries) n += e.variants.length;
      f.len = n;
    }
    return f.len;
  }

  /** The versions left, as a bitset over the family. */
  get mask(): Bits {
    const f = this.facts;
    if (f.mask === null) {
      const m = newBits(this.fam.info.size);
      for (const e of this.entries) setBit(m, e.pkg);
      f.mask = m;
    }
    return f.mask;
  }

  /** Rez's scope request `name==v1|==v2|...` (only needed for messages). */
  get request(): Requirement {
    const f = this.facts;
    if (f.request === null) {
      f.request = Requirement.construct(this.name, VersionRange.fromVersions(this.entries.map((e) => this.fam.info.packages[e.pkg]!.version)));
    }
    return f.request;
  }

  /** Rez `first_variant`: sorts the first entry's variants. */
  firstVariant(ctx: SolveContext): VariantInfo {
    const e = this.entries[0]!;
    ctx.sortEntry(e);
    return e.variants[0]!;
  }

  /** Rez `_update_fam_info`, memoised by the set of variants. */
  content(ctx: SolveContext): SliceContent {
    const f = this.facts;
    if (f.content !== null) return f.content;
    // Rez reads the first variant first (which sorts the first entry), then all.
    this.firstVariant(ctx);
    const key = this.contentKey();
    let c = this.fam.contents.get(key);
    if (c === undefined) {
      let common: Bits | null = null;
      let all = new Uint32Array(1);
      for (const e of this.entries) {
        for (const v of e.variants) {
          const r = v.requires;
          if (common === null) common = r.names.slice();
          else for (let w = 0; w < common.length; w++) common[w]! &= w < r.names.length ? r.names[w]! : 0;
          if (r.allNames.length > all.length) {
            const grown = new Uint32Array(r.allNames.length);
            grown.set(all);
            all = grown;
          }
          for (let w = 0; w < r.allNames.length; w++) all[w]! |= r.allNames[w]!;
        }
      }
      c = new SliceContent(common!, all);
      this.fam.contents.set(key, c);
    }
    f.content = c;
    return c;
  }

  /** Identifies the set of variants: the versions, plus the variants of any partial package. */
  private contentKey(): string {
    let partial = "";
    for (const e of this.entries) {
      if (e.variants.length !== this.fam.variants(e.pkg).length) {
        partial += ";" + e.pkg + ":" + e.variants.map((v) => v.index).sort().join(",");
      }
    }
    return this.mask.join(",") + partial;
  }

  /** The slice mentions family `name` in some variant (conflicts included). */
  mentions(ctx: SolveContext, name: string): boolean {
    const id = this.fam.info.nameIds.get(name);
    if (id === undefined) return false;
    const m = this.content(ctx).famRequires;
    const w = id >>> 5;
    return w < m.length && (m[w]! & (1 << (id & 31))) !== 0;
  }

  /** Calls `fn` with every family some variant mentions (conflicts included). */
  forEachMentioned(ctx: SolveContext, fn: (name: string) => void): void {
    const m = this.content(ctx).famRequires;
    const names = this.fam.info.names;
    for (let w = 0; w < m.length; w++) {
      let bits = m[w]!;
      while (bits !== 0) {
        const b = 31 - Math.clz32(bits & -bits);
        fn(names[(w << 5) + b]!);
        bits &= bits - 1;
      }
    }
  }

  /** The alphabetically first common family not yet extracted, or -1. */
  private nextExtraction(ctx: SolveContext): number {
    const common = this.content(ctx).common;
    const ex = this.extracted;
    const names = this.fam.info.names;
    let best = -1;
    for (let w = 0; w < common.length; w++) {
      let bits = common[w]! & ~(ex !== null && w < ex.length ? ex[w]! : 0);
      while (bits !== 0) {
        const b = 31 - Math.clz32(bits & -bits);
        const id = (w << 5) + b;
        if (best < 0 || names[id]! < names[best]!) best = id;
        bits &= bits - 1;
      }
    }
    return best;
  }

  extractable(ctx: SolveContext): boolean {
    return this.nextExtraction(ctx) >= 0;
  }

  /** Rez `extract`: the alphabetically first common dependency, as the union of the variants' ranges. */
  extract(ctx: SolveContext): [Slice, Requirement] | null {
    const id = this.nextExtraction(ctx);
    if (id < 0) return null;
    const c = this.content(ctx);
    let req = c.extractions.get(id);
    if (req === undefined) {
      const ranges: VersionRange[] = [];
      let last: VersionRange | null = null;
      for (const e of this.entries) {
        for (const v of e.variants) {
          const r = v.requires.byLocal[id]!.range!;
          if (r !== last && !ranges.includes(r)) ranges.push(r);
          last = r;
        }
      }
      req = unionRequirement(this.fam.info.names[id]!, ranges);
      c.extractions.set(id, req);
    }
    const ex = new Uint32Array(Math.max(this.extracted?.length ?? 0, (id >>> 5) + 1));
    if (this.extracted) ex.set(this.extracted);
    ex[id >>> 5]! |= 1 << (id & 31);
    return [new Slice(this.fam, this.entries, this.sorted, ex, this.facts), req];
  }

  /** Rez `intersect`: keep packages whose version is in `range`; this slice when none goes, null when all go. */
  intersect(range: VersionRange): Slice | null {
    if (range.isAny) return this;
    const m = this.fam.info.rangeMask(range);
    let kept = 0;
    for (const e of this.entries) if ((m[e.pkg >>> 5]! & (1 << (e.pkg & 31))) !== 0) kept++;
    if (kept === 0) return null;
    if (kept === this.entries.length) return this;
    const entries = this.entries.filter((e) => (m[e.pkg >>> 5]! & (1 << (e.pkg & 31))) !== 0);
    return this.copy(entries);
  }

  /** Rez `reduce_by`: drop variants whose requirement on the other scope's family conflicts with it. */
  reduceBy(ctx: SolveContext, other: ScopeRequest): Slice | null {
    reductionsOut.length = 0;
    if (other.kind === "requirement" && other.requirement.range === null) return this;
    const name = other.scope.name;
    if (!this.mentions(ctx, name)) return this;
    const id = this.fam.info.nameIds.get(name)!;
    let changed = false;
    const entries: Entry[] = [];
    for (const e of this.entries) {
      let kept: VariantInfo[] | null = null;
      const vs = e.variants;
      for (let j = 0; j < vs.length; j++) {
        const v = vs[j]!;
        const req = v.requires.byLocal[id];
        if (req !== undefined && conflicts(req, other)) {
          reductionsOut.push({ variant: v, dependency: req, conflicting: other });
          if (kept === null) kept = vs.slice(0, j);
        } else if (kept !== null) {
          kept.push(v);
        }
      }
      if (kept === null) entries.push(e);
      else {
        changed = true;
        if (kept.length) entries.push(new Entry(e.pkg, kept, false));
      }
    }
    if (entries.length === 0) return null;
    return changed ? this.copy(entries) : this;
  }

  /** Rez `_copy`: a new slice; what was extracted is forgotten, so narrowing spreads. */
  copy(entries: Entry[]): Slice {
    return new Slice(this.fam, entries, this.sorted, null);
  }

  /** Rez `sort_versions`: best package first, once (shared by every phase holding this slice). */
  sortVersions(ctx: SolveContext): void {
    if (this.sorted) return;
    this.entries = ctx.sortEntries(this.name, this.fam, this.entries);
    this.sorted = true;
  }

  private isExtracted(id: number): boolean {
    const ex = this.extracted;
    return ex !== null && id >>> 5 < ex.length && (ex[id >>> 5]! & (1 << (id & 31))) !== 0;
  }

  /**
   * Rez `split`: the preferred part keeps the longest prefix of the sorted
   * variants that still shares a dependency not yet extracted (so the next solve
   * step can extract it), or just the first variant.
   */
  split(ctx: SolveContext): [Slice, Slice] {
    this.sortVersions(ctx);
    let fams: number[] = [];
    if (this.length > 2) {
      const first = this.firstVariant(ctx).requires;
      for (const q of first.list) {
        if (q.conflict) continue;
        const id = this.fam.info.nameIds.get(q.name)!;
        if (!this.isExtracted(id)) fams.push(id);
      }
    }
    if (fams.length === 0) {
      ctx.sortEntry(this.entries[0]!);
      return this.splitAt(ctx, 0, 1);
    }
    let prev: [number, number] | null = null;
    for (let i = 0; i < this.entries.length; i++) {
      const e = this.entries[i]!;
      ctx.sortEntry(e);
      for (let j = 0; j < e.variants.length; j++) {
        const r = e.variants[j]!.requires;
        fams = fams.filter((id) => r.hasName(id));
        if (fams.length === 0) return this.splitAt(ctx, prev![0], prev![1]);
        prev = [i, j + 1];
      }
    }
    throw new Error(`unexpected solver state: common families still in slice being split: ${this.name}`);
  }

  private splitAt(ctx: SolveContext, i: number, n: number): [Slice, Slice] {
    const e = this.entries[i]!;
    let head: Entry[];
    let tail: Entry[];
    if (n < e.variants.length) {
      ctx.sortEntry(e);
      head = this.entries.slice(0, i);
      head.push(new Entry(e.pkg, e.variants.slice(0, n), true));
      tail = [new Entry(e.pkg, e.variants.slice(n), true), ...this.entries.slice(i + 1)];
    } else {
      head = this.entries.slice(0, i + 1);
      tail = this.entries.slice(i + 1);
    }
    return [this.copy(head), this.copy(tail)];
  }

  /** The single remaining variant (callers check length 1). */
  onlyVariant(ctx: SolveContext): VariantInfo {
    return this.firstVariant(ctx);
  }
}

function conflicts(req: Requirement, other: ScopeRequest): boolean {
  if (req.range === null) return false;
  if (other.kind === "versions") {
    const slice = other.scope.slice!;
    const m = slice.fam.info.rangeMask(req.range);
    // conflict (or weak): conflicts when its range covers every version left;
    // normal: when it allows none of them
    return req.conflict ? isSubset(slice.mask, m) : !intersects(slice.mask, m);
  }
  return requirementsConflict(req, other.requirement);
}

export const enum ScopeKind {
  Normal = 0,
  Conflict = 1,
  Ephemeral = 2,
}

/** How a scope came to be: for explanations only. */
export type ScopeOrigin =
  | { kind: "request"; requirement: Requirement }
  | { kind: "extracted"; requirement: Requirement; requesters: readonly string[] };

/**
 * Rez `_PackageScope`: one family in a phase. Normal scopes hold a slice; a
 * conflict scope (`!foo`, `~foo` from the request) and an ephemeral scope
 * (`.foo`) hold only their requirement.
 */
export class Scope {
  readonly name: string;
  readonly kind: ScopeKind;
  readonly slice: Slice | null;
  private readonly req: Requirement | null;
  readonly origin: ScopeOrigin;

  private constructor(name: string, kind: ScopeKind, slice: Slice | null, req: Requirement | null, origin: ScopeOrigin) {
    this.name = name;
    this.kind = kind;
    this.slice = slice;
    this.req = req;
    this.origin = origin;
  }

  /** Rez `_PackageScope(request)`: throws MissingFamilyError / MissingVersionError as Rez raises. */
  static create(ctx: SolveContext, req: Requirement, origin: ScopeOrigin): Scope {
    if (req.ephemeral) return new Scope(req.name, ScopeKind.Ephemeral, null, req, origin);
    if (req.conflict) return new Scope(req.name, ScopeKind.Conflict, null, req, origin);
    const fam = ctx.familyOrThrow(req.name);
    const entries = fam.intersection(fam.info.rangeMask(req.range!));
    if (!entries) throw new MissingVersionError(Requirement.construct(req.name, req.range));
    return new Scope(req.name, ScopeKind.Normal, new Slice(fam, entries, false, null), null, origin);
  }

  withSlice(slice: Slice): Scope {
    return new Scope(this.name, ScopeKind.Normal, slice, null, this.origin);
  }

  /** Rez `package_request`. */
  get request(): Requirement {
    return this.slice ? this.slice.request : this.req!;
  }

  /** What reductions test against. */
  asReducer(): ScopeRequest {
    return this.slice ? { kind: "versions", scope: this } : { kind: "requirement", requirement: this.req!, scope: this };
  }

  /** Rez `is_conflict` (a `!.foo` ephemeral counts too). */
  get isConflict(): boolean {
    return this.slice === null && this.req!.conflict;
  }

  get isEphemeral(): boolean {
    return this.kind === ScopeKind.Ephemeral;
  }

  /** Rez `intersect`: null when nothing is left. */
  intersect(ctx: SolveContext, range: VersionRange): Scope | null {
    if (this.kind === ScopeKind.Ephemeral) {
      const own = this.req!;
      const r = own.conflict ? range.subtract(own.range!) : range.intersection(own.range!);
      if (r === null) return null;
      if (r.equals(own.range!)) return this;
      return new Scope(this.name, ScopeKind.Ephemeral, null, Requirement.construct(this.name, r), this.origin);
    }
    if (this.slice) {
      const s = this.slice.intersect(range);
      if (s === null) return null;
      return s === this.slice ? this : this.withSlice(s);
    }
    // a request-level conflict scope meets a real requirement: it becomes a normal scope
    const own = this.req!;
    const r = own.range === null ? range : range.subtract(own.range);
    if (r === null) return null;
    const fam = ctx.familyOrThrow(this.name);
    const entries = fam.intersection(fam.info.rangeMask(r));
    if (!entries) return null;
    return this.withSlice(new Slice(fam, entries, false, null));
  }

  /** Rez `_is_solved`. */
  isSolved(ctx: SolveContext): boolean {
    if (this.slice === null) return true;
    return this.slice.length === 1 && !this.slice.extractable(ctx);
  }

  /** Rez `_get_solved_variant`. */
  solvedVariant(ctx: SolveContext): VariantInfo | null {
    if (this.slice && this.slice.length === 1 && !this.slice.extractable(ctx)) return this.slice.onlyVariant(ctx);
    return null;
  }
}
