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
export type ScopeRequest =
  { kind: "versions"; scope: Scope } | { kind: "requirement"; requirement: Requirement; scope: Scope };

/**
 * What only depends on which variants a slice holds. A slice made from another
 * (by intersection, reduction or split) holds a subset of its variants, so
 * when the parent's variants all name the same families ("uniform"), the
 * child's name sets are the parent's, and a family the parent requires in one
 * single way is required in that way by the child too.
 */
export class SliceContent {
  // per local name id: distinct requirements and extraction, as short
  // association lists (a content is asked about a handful of families)
  private readonly reqIds: number[] = [];
  private readonly reqLists: Array<readonly Requirement[]> = [];
  private readonly extIds: number[] = [];
  private readonly extReqs: Requirement[] = [];

  constructor(
    /**
     * Local name ids every variant requires (Rez `common_fams`), in alphabetical
     * order of the names: the order extraction takes them in.
     */
    readonly common: readonly number[],
    /** Local name ids any variant mentions, conflicts included (Rez `fam_requires`). */
    readonly famRequires: Bits,
    /** Every variant has the same requirement names (and conflict flags). */
    readonly uniform: boolean,
    private readonly parent: SliceContent | null,
  ) {}

  private knownReqs(id: number): readonly Requirement[] | undefined {
    const i = this.reqIds.indexOf(id);
    return i < 0 ? undefined : this.reqLists[i];
  }

  private knownExtraction(id: number): Requirement | undefined {
    const i = this.extIds.indexOf(id);
    return i < 0 ? undefined : this.extReqs[i];
  }

  /**
   * Rez's extraction of local id `id`: the requirement on it with the union of
   * the variants' ranges. A parent that requires it in the same ways gives the
   * same answer.
   */
  extraction(id: number, entries: readonly Entry[], name: string): Requirement {
    let req = this.knownExtraction(id);
    if (req === undefined) {
      const reqs = this.reqs(id, entries);
      const p = this.parent;
      const fromParent = p !== null ? p.knownExtraction(id) : undefined;
      if (fromParent !== undefined && p!.knownReqs(id) === reqs) req = fromParent;
      else {
        const ranges: VersionRange[] = [];
        for (let i = 0; i < reqs.length; i++) {
          const r = reqs[i]!.range!;
          if (!ranges.includes(r)) ranges.push(r);
        }
        req = unionRequirement(name, ranges);
      }
      this.extIds.push(id);
      this.extReqs.push(req);
    }
    return req;
  }

  /**
   * The distinct requirements (by identity) the variants have on local id `id`.
   * A subset of the parent's: when the scan finds them all, the parent's list
   * is reused (so is its extraction).
   */
  reqs(id: number, entries: readonly Entry[]): readonly Requirement[] {
    let r = this.knownReqs(id);
    if (r === undefined) {
      const p = this.parent?.knownReqs(id);
      if (p !== undefined && p.length === 1) r = p;
      else {
        const out: Requirement[] = [];
        const all = p === undefined ? -1 : p.length;
        scan: for (let i = 0; i < entries.length; i++) {
          const vs = entries[i]!.variants;
          for (let j = 0; j < vs.length; j++) {
            const q = vs[j]!.requires.byLocal[id];
            if (q !== undefined && out[out.length - 1] !== q && !out.includes(q)) {
              out.push(q);
              if (out.length === all) break scan;
            }
          }
        }
        r = out.length === all ? p! : out;
      }
      this.reqIds.push(id);
      this.reqLists.push(r);
    }
    return r;
  }

  /**
   * Requirements that include every one the variants have on `id`: the
   * parent's when known (cheap), else the exact list. Enough to show that no
   * variant conflicts with something.
   */
  reqsAtMost(id: number, entries: readonly Entry[]): readonly Requirement[] {
    return this.knownReqs(id) ?? this.parent?.knownReqs(id) ?? this.reqs(id, entries);
  }
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
  constructor(readonly parent: SliceContent | null = null) {}
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
  /**
   * How many common families were extracted (Rez `extracted_fams`). A slice
   * starts with none and extraction always takes the alphabetically first
   * remaining one, so the extracted set is the first `extracted` of `common`.
   */
  readonly extracted: number;
  private readonly facts: SliceFacts;

  constructor(fam: FamilyState, entries: Entry[], sorted: boolean, extracted: number, facts?: SliceFacts) {
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
      const es = this.entries;
      for (let i = 0; i < es.length; i++) n += es[i]!.variants.length;
      f.len = n;
    }
    return f.len;
  }

  /** The versions left, as a bitset over the family. */
  get mask(): Bits {
    const f = this.facts;
    if (f.mask === null) {
      const m = newBits(this.fam.info.size);
      const es = this.entries;
      for (let i = 0; i < es.length; i++) setBit(m, es[i]!.pkg);
      f.mask = m;
    }
    return f.mask;
  }

  /** Rez's scope request `name==v1|==v2|...` (only needed for messages). */
  get request(): Requirement {
    const f = this.facts;
    if (f.request === null) {
      f.request = Requirement.construct(
        this.name,
        VersionRange.fromVersions(this.entries.map((e) => this.fam.info.packages[e.pkg]!.version)),
      );
    }
    return f.request;
  }

  /** Rez `first_variant`: sorts the first entry's variants. */
  firstVariant(ctx: SolveContext): VariantInfo {
    const e = this.entries[0]!;
    ctx.sortEntry(e);
    return e.variants[0]!;
  }

  /** Rez `_update_fam_info`: the families all variants require, and those any mentions. */
  content(ctx: SolveContext): SliceContent {
    const f = this.facts;
    if (f.content !== null) return f.content;
    // Rez reads the first variant first (which sorts the first entry), then all.
    this.firstVariant(ctx);
    const parent = f.parent;
    if (parent !== null && parent.uniform) {
      f.content = new SliceContent(parent.common, parent.famRequires, true, parent);
      return f.content;
    }
    let common: Bits | null = null;
    let all: Bits | null = null;
    let uniform = true;
    let firstAll: Bits | null = null;
    for (const e of this.entries) {
      for (const v of e.variants) {
        const r = v.requires;
        if (common === null) {
          common = r.names.slice();
          all = r.allNames.slice();
          firstAll = r.allNames;
          continue;
        }
        if (uniform && r.allNames !== firstAll && !sameBits(r.allNames, firstAll!)) uniform = false;
        for (let w = 0; w < common.length; w++) common[w]! &= w < r.names.length ? r.names[w]! : 0;
        if (r.allNames.length > all!.length) {
          const grown = new Uint32Array(r.allNames.length);
          grown.set(all!);
          all = grown;
        }
        for (let w = 0; w < r.allNames.length; w++) all![w]! |= r.allNames[w]!;
      }
    }
    // uniform needs the same names and no name required by some variants as a conflict
    // and by others as a requirement: then every name is common or a conflict in all
    if (uniform) {
      for (const e of this.entries) {
        for (const v of e.variants) if (!sameBits(v.requires.names, common!)) uniform = false;
        if (!uniform) break;
      }
    }
    const names = this.fam.info.names;
    const commonIds: number[] = [];
    for (let w = 0; w < common!.length; w++) {
      let bits = common![w]!;
      while (bits !== 0) {
        commonIds.push((w << 5) + 31 - Math.clz32(bits & -bits));
        bits &= bits - 1;
      }
    }
    // alphabetical order (insertion sort: a handful of ids)
    for (let i = 1; i < commonIds.length; i++) {
      const id = commonIds[i]!;
      let j = i - 1;
      while (j >= 0 && names[commonIds[j]!]! > names[id]!) {
        commonIds[j + 1] = commonIds[j]!;
        j--;
      }
      commonIds[j + 1] = id;
    }
    const c = new SliceContent(commonIds, all!, uniform, parent);
    f.content = c;
    return c;
  }

  /** The slice mentions family `name` in some variant (conflicts included). */
  mentions(ctx: SolveContext, name: string): boolean {
    const id = this.fam.info.nameIds.get(name);
    if (id === undefined) return false;
    const m = this.content(ctx).famRequires;
    const w = id >>> 5;
    return w < m.length && (m[w]! & (1 << (id & 31))) !== 0;
  }

  extractable(ctx: SolveContext): boolean {
    return this.extracted < this.content(ctx).common.length;
  }

  /**
   * Rez's repeated `extract` until nothing is left: the remaining common
   * dependencies in alphabetical order (each the union of the variants'
   * ranges), and the slice with all of them extracted; null when none remain.
   */
  extractAll(ctx: SolveContext, out: Requirement[]): Slice | null {
    const c = this.content(ctx);
    const n = c.common.length;
    if (this.extracted >= n) return null;
    const names = this.fam.info.names;
    for (let k = this.extracted; k < n; k++) {
      const id = c.common[k]!;
      out.push(c.extraction(id, this.entries, names[id]!));
    }
    return new Slice(this.fam, this.entries, this.sorted, n, this.facts);
  }

  /** Rez `intersect`: keep packages whose version is in `range`; this slice when none goes, null when all go. */
  intersect(range: VersionRange): Slice | null {
    if (range.isAny) return this;
    const m = this.fam.info.rangeMask(range);
    if (isSubset(this.mask, m)) return this;
    let kept = 0;
    for (const e of this.entries) if ((m[e.pkg >>> 5]! & (1 << (e.pkg & 31))) !== 0) kept++;
    if (kept === 0) return null;
    if (kept === this.entries.length) return this;
    const entries: Entry[] = [];
    for (const e of this.entries) if ((m[e.pkg >>> 5]! & (1 << (e.pkg & 31))) !== 0) entries.push(e);
    return this.copy(entries);
  }

  /** Rez `reduce_by`: drop variants whose requirement on the other scope's family conflicts with it. */
  reduceBy(ctx: SolveContext, other: ScopeRequest): Slice | null {
    reductionsOut.length = 0;
    if (other.kind === "requirement" && other.requirement.range === null) return this;
    const name = other.scope.name;
    if (!this.mentions(ctx, name)) return this;
    const id = this.fam.info.nameIds.get(name)!;
    // most reductions remove nothing: test each distinct requirement once first
    let any = false;
    const c = this.content(ctx);
    const reqs = c.reqsAtMost(id, this.entries);
    if (other.kind === "versions") {
      const target = other.scope.slice!;
      for (let i = 0; i < reqs.length; i++) {
        if (conflictsVersions(reqs[i]!, target)) {
          any = true;
          break;
        }
      }
    } else {
      for (let i = 0; i < reqs.length; i++) {
        if (conflicts(reqs[i]!, other)) {
          any = true;
          break;
        }
      }
    }
    if (!any) return this;
    let changed = false;
    const entries: Entry[] = [];
    for (const e of this.entries) {
      let kept: VariantInfo[] | null = null;
      const vs = e.variants;
      for (let j = 0; j < vs.length; j++) {
        const v = vs[j]!;
        const req = v.requires.byLocal[id];
        if (
          req !== undefined &&
          (other.kind === "versions" ? conflictsVersions(req, other.scope.slice!) : conflicts(req, other))
        ) {
          reductionsOut.push({ variant: v, dependency: req, conflicting: other });
          if (kept === null) kept = vs.slice(0, j);
        } else if (kept !== null) {
          kept.push(v);
        }
      }
      if (kept === null) entries.push(e);
      else {
        changed = true;
        if (kept.length) entries.push(new Entry(e.pkg, kept, ctx.inheritsOrder(vs, kept)));
      }
    }
    if (entries.length === 0) return null;
    return changed ? this.copy(entries) : this;
  }

  /** Rez `_copy`: a new slice; what was extracted is forgotten, so narrowing spreads. */
  copy(entries: Entry[]): Slice {
    return new Slice(this.fam, entries, this.sorted, 0, new SliceFacts(this.facts.content));
  }

  /** Rez `sort_versions`: best package first, once (shared by every phase holding this slice). */
  sortVersions(ctx: SolveContext): void {
    if (this.sorted) return;
    this.entries = ctx.sortEntries(this.name, this.fam, this.entries);
    this.sorted = true;
  }

  private isExtracted(ctx: SolveContext, id: number): boolean {
    const common = this.content(ctx).common;
    for (let k = 0; k < this.extracted; k++) if (common[k] === id) return true;
    return false;
  }

  /**
   * Rez `split`: the preferred part keeps the longest prefix of the sorted
   * variants that still shares a dependency not yet extracted (so the next solve
   * step can extract it), or just the first variant.
   */
  split(ctx: SolveContext): [Slice, Slice] {
    this.sortVersions(ctx);
    const fams: number[] = [];
    if (this.length > 2) {
      const first = this.firstVariant(ctx).requires;
      for (const q of first.list) {
        if (q.conflict) continue;
        const id = this.fam.info.nameIds.get(q.name)!;
        if (!this.isExtracted(ctx, id)) fams.push(id);
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
        let k = 0;
        for (const id of fams) if (r.hasName(id)) fams[k++] = id;
        fams.length = k;
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

/** Rez `conflicts_with` against a scope's exact versions, on bitsets. */
function sameBits(a: Bits, b: Bits): boolean {
  const n = Math.max(a.length, b.length);
  for (let w = 0; w < n; w++) if ((a[w] ?? 0) !== (b[w] ?? 0)) return false;
  return true;
}

function conflictsVersions(req: Requirement, slice: Slice): boolean {
  if (req.range === null) return false;
  const m = slice.fam.info.rangeMask(req.range);
  // conflict (or weak): conflicts when its range covers every version left;
  // normal: when it allows none of them
  return req.conflict ? isSubset(slice.mask, m) : !intersects(slice.mask, m);
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

  private constructor(
    name: string,
    kind: ScopeKind,
    slice: Slice | null,
    req: Requirement | null,
    origin: ScopeOrigin,
  ) {
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
    const entries = fam.intersection(fam.info.rangeMask(req.range!), req.range!);
    if (!entries) throw new MissingVersionError(Requirement.construct(req.name, req.range));
    return new Scope(req.name, ScopeKind.Normal, new Slice(fam, entries, false, 0), null, origin);
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
    return this.slice
      ? { kind: "versions", scope: this }
      : { kind: "requirement", requirement: this.req!, scope: this };
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
    const entries = fam.intersection(fam.info.rangeMask(r), r);
    if (!entries) return null;
    return this.withSlice(new Slice(fam, entries, false, 0));
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
