import { describeLoadFailure, type LoadFailure, type Package } from "../rez/package.js";
import { InputError } from "../errors.js";
import { Requirement, type RequirementList, type VersionRange } from "../rez/version/index.js";
import type { Bits } from "./bits.js";
import type { PackageFilterList } from "./filter.js";
import { FamilyInfo, SourceCache, VariantInfo } from "./model.js";
import { OrdererList, rangeSortKey, versionSortKey, type OrdererFamilies } from "./order.js";
import { pySortInPlace, type PyValue } from "./pycompare.js";

/** What a `@late()` requires function may look at (Rez's late-binding context). */
export interface LateRequiresContext {
  building: boolean;
  /** The merged request of the solve. */
  request: readonly Requirement[];
}

export type LateRequiresHook = (pkg: Package, ctx: LateRequiresContext) => readonly string[];

/** Rez raised PackageFamilyNotFoundError: the solve ends (no backtracking). */
export class MissingFamilyError extends Error {
  constructor(
    message: string,
    readonly family: string,
    readonly requiredBy: readonly string[],
  ) {
    super(message);
  }
}

/** Rez raised PackageNotFoundError: the solve ends (no backtracking). */
export class MissingVersionError extends Error {
  constructor(
    readonly requirement: Requirement,
    readonly requiredBy: readonly string[] = [],
  ) {
    super(`Package could not be found: ${requirement.toString()}`);
  }
}

/**
 * Rez raised ResourceError ("Problem loading <file>: ...") while loading a
 * package in a range the solve asked for: the solve ends (no backtracking),
 * so a broken definition is never resolved around.
 */
export class BrokenPackageReachedError extends Error {
  constructor(
    readonly pkg: Package,
    readonly failure: LoadFailure,
    readonly requirement: Requirement,
    readonly requiredBy: readonly string[] = [],
  ) {
    super(describeLoadFailure(failure));
  }
}

/**
 * A family within one solve: the shared FamilyInfo plus what depends on this
 * solve's options: which packages the filters hide, and Rez's per-package
 * variant lists, which splits sort in place.
 */
export class FamilyState {
  readonly info: FamilyInfo;
  private readonly ctx: SolveContext;
  /** 1 = visible, 2 = hidden by a filter, 0 = not checked yet. */
  private readonly visibility: Uint8Array;
  private readonly variantLists: Array<VariantInfo[] | undefined>;

  constructor(info: FamilyInfo, ctx: SolveContext) {
    this.info = info;
    this.ctx = ctx;
    this.visibility = new Uint8Array(info.size);
    this.variantLists = new Array<VariantInfo[] | undefined>(info.size);
  }

  get name(): string {
    return this.info.name;
  }

  visible(i: number): boolean {
    let v = this.visibility[i]!;
    if (v === 0) {
      const f = this.ctx.filter;
      v = f && f.excludes(this.info.packages[i]!) ? 2 : 1;
      this.visibility[i] = v;
    }
    return v === 1;
  }

  /** Rez's cached variant list of package i (the same array every time; sorting mutates it). */
  variants(i: number): VariantInfo[] {
    let vs = this.variantLists[i];
    if (vs === undefined) {
      const pkg = this.info.packages[i]!;
      if (pkg.hasLateRequires) {
        const late = this.ctx.lateRequiresOf(pkg);
        const build = this.ctx.building ? pkg.buildRequires : null;
        vs = pkg.variants.map((v) => new VariantInfo(v, this.info, i, build, late));
      } else {
        // a one-variant list is never reordered, so it can be shared
        const sv = this.info.staticVariants(i, this.ctx.building);
        vs = sv.length === 1 ? sv : sv.slice();
      }
      this.variantLists[i] = vs;
    }
    return vs;
  }

  /**
   * Rez `_PackageVariantList.get_intersection`: visible packages in `mask`, in
   * listing order. Rez loads each package here, after the filters, so the
   * first broken one in the range ends the solve (`range` names it).
   */
  intersection(mask: Bits, range: VersionRange): Entry[] | null {
    const out: Entry[] = [];
    for (const i of this.info.listing) {
      if ((mask[i >>> 5]! & (1 << (i & 31))) === 0) continue;
      if (!this.visible(i)) continue;
      const broken = this.info.packages[i]!.broken;
      if (broken)
        throw new BrokenPackageReachedError(this.info.packages[i]!, broken, Requirement.construct(this.name, range));
      const vs = this.variants(i);
      out.push(new Entry(i, vs, this.ctx.isKnownSorted(vs)));
    }
    return out.length ? out : null;
  }
}

/** Rez `_PackageEntry`: one package's remaining variants in a slice. */
export class Entry {
  constructor(
    readonly pkg: number,
    readonly variants: VariantInfo[],
    public sorted: boolean,
  ) {}
}

/** Rez's variant_select_mode. */
export type VariantSelectMode = "version_priority" | "intersection_priority";

/** Everything one solve shares: options, the request, families, and memoised keys. */
export class SolveContext {
  readonly cache: SourceCache;
  readonly paths: readonly string[];
  readonly building: boolean;
  readonly filter: PackageFilterList | null;
  readonly orderers: OrdererList;
  readonly requestList: RequirementList;
  /** Rez's variant_select_mode. */
  readonly variantSelectMode: VariantSelectMode;
  /** Rez's error_on_missing_variant_requires. */
  readonly errorOnMissingVariantRequires: boolean;
  /** What Rez prints to stderr during the solve (a skipped variant's missing family), in order. */
  readonly warnings: string[] = [];
  private readonly lateHook: LateRequiresHook | undefined;
  private readonly fams = new Map<string, FamilyState | null>();
  private readonly variantKeys = new Map<VariantInfo, PyValue>();
  private readonly lateCache = new Map<Package, Requirement[]>();
  readonly ordererFamilies: OrdererFamilies;

  constructor(opts: {
    cache: SourceCache;
    paths: readonly string[];
    building: boolean;
    filter: PackageFilterList | null;
    orderers: OrdererList;
    requestList: RequirementList;
    lateRequires?: LateRequiresHook;
    variantSelectMode?: VariantSelectMode;
    errorOnMissingVariantRequires?: boolean;
  }) {
    this.variantSelectMode = opts.variantSelectMode ?? "version_priority";
    this.errorOnMissingVariantRequires = opts.errorOnMissingVariantRequires ?? true;
    this.cache = opts.cache;
    this.paths = opts.paths;
    this.building = opts.building;
    this.filter = opts.filter && !opts.filter.isEmpty ? opts.filter : null;
    this.orderers = opts.orderers;
    this.requestList = opts.requestList;
    this.lateHook = opts.lateRequires;
    const cache = this.cache;
    const asked = this.asked;
    this.ordererFamilies = {
      versionsOf(name: string) {
        asked.add(name);
        const f = cache.family(name);
        return f ? f.packages.map((p) => ({ version: p.version, timestamp: p.timestamp })) : [];
      },
    };
  }

  warn(message: string): void {
    this.warnings.push(message);
  }

  /** Every family this solve asked the source for, found or not (what its result depends on). */
  readonly asked = new Set<string>();

  /** The family, or null when no repository has it. */
  family(name: string): FamilyState | null {
    let f = this.fams.get(name);
    if (f === undefined) {
      this.asked.add(name);
      const info = this.cache.family(name);
      f = info ? new FamilyState(info, this) : null;
      this.fams.set(name, f);
      if (info) this.indexMentions(info);
    }
    return f;
  }

  // Families of this solve that may mention each name (from their raw requirement lists).
  private readonly mentionedBy = new Map<string, string[]>();
  private readonly lateFamilies: string[] = [];

  private indexMentions(info: FamilyInfo): void {
    const m = info.mentions(this.building);
    if (m.late) this.lateFamilies.push(info.name);
    for (const n of m.names) {
      const list = this.mentionedBy.get(n);
      if (list) list.push(info.name);
      else this.mentionedBy.set(n, [info.name]);
    }
  }

  /** Families of this solve whose variants may mention `name` (a superset). */
  mentioners(name: string): readonly string[] {
    const list = this.mentionedBy.get(name) ?? NO_NAMES;
    return this.lateFamilies.length ? [...list, ...this.lateFamilies] : list;
  }

  searchedText(): string {
    return this.paths.join("; ");
  }

  /** Rez `_get_variant_slice`: the visible packages of `name` in `range` (family must exist). */
  familyOrThrow(name: string): FamilyState {
    const f = this.family(name);
    if (!f)
      throw new MissingFamilyError(`package family not found: ${name} (searched: ${this.searchedText()})`, name, []);
    return f;
  }

  lateRequiresOf(pkg: Package): Requirement[] {
    let r = this.lateCache.get(pkg);
    if (r === undefined) {
      if (!this.lateHook) {
        throw new InputError(
          `${pkg.qualifiedName}: 'requires' is a @late() function and no evaluator was given to run it`,
          {
            file: pkg.file,
          },
        );
      }
      const strs = this.lateHook(pkg, { building: this.building, request: this.requestList.requirements });
      r = strs.map((s) => {
        try {
          return Requirement.parse(s);
        } catch (e) {
          throw new InputError(`@late requires returned '${s}': ${(e as Error).message}`, { file: pkg.file });
        }
      });
      this.lateCache.set(pkg, r);
    }
    return r;
  }

  /**
   * Variant lists known to be in sort order. With the default orderer every
   * key is a tuple of versions, ints and strings (a total order), so any
   * subsequence of a sorted list is sorted too and Rez's re-sort of it changes
   * nothing; keys holding a `~foo` without range may raise in Python, so lists
   * with such a key are left out.
   */
  private readonly knownSorted = new WeakSet<VariantInfo[]>();
  private readonly rawKeys = new Set<VariantInfo>();

  /** `vs` is a subsequence of `from`: it is in order when `from` is. */
  inheritsOrder(from: VariantInfo[], vs: VariantInfo[]): boolean {
    if (!this.orderers.isEmpty || !this.knownSorted.has(from)) return false;
    this.knownSorted.add(vs);
    return true;
  }

  isKnownSorted(vs: VariantInfo[]): boolean {
    return this.knownSorted.has(vs);
  }

  /** Rez `_PackageEntry.sort`: best variant first (by variant_select_mode). */
  sortEntry(entry: Entry): void {
    if (entry.sorted) return;
    const vs = entry.variants;
    // One variant needs no order; Rez still computes its key, which only
    // matters when an orderer can raise while doing so.
    if (vs.length < 2 && !this.orderers.keysCanRaise) {
      entry.sorted = true;
      return;
    }
    if (this.knownSorted.has(vs)) {
      entry.sorted = true;
      return;
    }
    const keys: PyValue[] = [];
    let raw = false;
    for (const v of vs) {
      keys.push(this.variantKey(v));
      if (this.rawKeys.has(v)) raw = true;
    }
    pySortInPlace(vs, keys, true);
    entry.sorted = true;
    if (!raw && this.orderers.isEmpty) this.knownSorted.add(vs);
  }

  /**
   * Rez's version_priority variant key: (requested_key, -len(additional_key),
   * additional_key, index). The requested part ranks the variant's ranges on the
   * requested families, earliest request first; then fewer extra families; then
   * the extra ranges in the variant's order; then the higher index.
   * intersection_priority puts len(requested_key) first: the variant naming
   * more of the requested families wins.
   */
  variantKey(v: VariantInfo): PyValue {
    let key = this.variantKeys.get(v);
    if (key !== undefined) return key;
    const reqs = v.requires;
    const requested: PyValue[] = [];
    const names = new Set<string>();
    let raw = false;
    const request = this.requestList.requirements;
    for (let i = 0; i < request.length; i++) {
      const r = request[i]!;
      if (r.conflict) continue;
      const q = reqs.byName.get(r.name);
      if (q === undefined) continue;
      requested.push([-i, rangeSortKey(this.orderers.forFamily(q.name), q.name, q.range, this.ordererFamilies)]);
      if (q.range === null) raw = true;
      names.add(q.name);
    }
    const additional: PyValue[] = [];
    for (const q of reqs.list) {
      if (q.conflict || names.has(q.name)) continue;
      additional.push([rangeSortKey(this.orderers.forFamily(q.name), q.name, q.range, this.ordererFamilies), q.name]);
    }
    key =
      this.variantSelectMode === "intersection_priority"
        ? [requested.length, requested, -additional.length, additional, v.index ?? NONE_INDEX]
        : [requested, -additional.length, additional, v.index ?? NONE_INDEX];
    this.variantKeys.set(v, key);
    if (raw) this.rawKeys.add(v);
    return key;
  }

  /** Rez `sort_versions`: entries by the family orderer's key, best first (stable). */
  sortEntries(name: string, fam: FamilyState, entries: readonly Entry[]): Entry[] {
    const orderer = this.orderers.forFamily(name);
    if (orderer === OrdererList.DEFAULT) {
      let inOrder = true;
      for (let i = 1; i < entries.length && inOrder; i++) if (entries[i]!.pkg > entries[i - 1]!.pkg) inOrder = false;
      return inOrder ? entries.slice() : [...entries].sort(latestFirst);
    }
    const keyed = entries.map((e) => ({
      e,
      k: versionSortKey(orderer, name, fam.info.packages[e.pkg]!.version, this.ordererFamilies),
    }));
    const arr = keyed.map((x) => x.e);
    pySortInPlace(
      arr,
      keyed.map((x) => x.k),
      true,
    );
    return arr;
  }
}

const NO_NAMES: readonly string[] = [];

function latestFirst(a: Entry, b: Entry): number {
  return b.pkg - a.pkg;
}

// Python's None never meets an int here: a package without variants has one variant.
const NONE_INDEX = -1;
