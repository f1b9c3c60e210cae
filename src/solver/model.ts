import type { Package, Variant } from "../rez/package.js";
import { Requirement, RequirementList, type VersionRange } from "../rez/version/index.js";
import type { PackageSource } from "../rez/repository/index.js";
import { type Bits, newBits, setBit } from "./bits.js";

export type { PackageSource } from "../rez/repository/index.js";

/**
 * One family as the solver sees it, shared by every solve over the same source:
 * its packages in ascending version order (bit i of a version set is
 * packages[i]), the order the source listed them in (Rez keeps that order until
 * it sorts a slice), and version sets of the ranges asked of it.
 */
export class FamilyInfo {
  readonly name: string;
  readonly packages: readonly Package[];
  /** Indices into `packages`, in the source's listing order. */
  readonly listing: readonly number[];
  private readonly masks = new Map<VersionRange, Bits>();
  private readonly variantInfos: [Array<VariantInfo[] | undefined>, Array<VariantInfo[] | undefined>];
  /**
   * Every family name this family's variants require, numbered on first sight,
   * so a set of names is a small bitset ("local name ids").
   */
  readonly nameIds = new Map<string, number>();
  readonly names: string[] = [];

  constructor(name: string, listed: readonly Package[]) {
    this.name = name;
    // The source already dropped equal versions of later search paths; equal
    // versions within one listing keep the first, as Rez's iter_packages does.
    const order = listed.map((p, i) => i).sort((a, b) => listed[a]!.version.compare(listed[b]!.version) || a - b);
    const packages: Package[] = [];
    const rank = new Array<number>(listed.length);
    for (const i of order) {
      const last = packages[packages.length - 1];
      if (last !== undefined && last.version.equals(listed[i]!.version)) {
        rank[i] = -1;
        continue;
      }
      rank[i] = packages.length;
      packages.push(listed[i]!);
    }
    this.packages = packages;
    this.listing = rank.filter((r) => r >= 0);
    this.variantInfos = [[], []];
  }

  get size(): number {
    return this.packages.length;
  }

  private readonly mentionCache: [MentionSummary | undefined, MentionSummary | undefined] = [undefined, undefined];

  /**
   * Every family name any of this family's packages requires (requires,
   * variants, and build_requires when building), read from the raw lists:
   * a superset of what any set of its variants mentions. `late` is true when
   * some package computes its requires at resolve time (they could name anything).
   */
  mentions(building: boolean): MentionSummary {
    const k = building ? 1 : 0;
    let m = this.mentionCache[k];
    if (m === undefined) {
      const names = new Set<string>();
      let late = false;
      for (const p of this.packages) {
        // a broken package ends any solve that reaches it: it requires nothing
        if (p.broken) continue;
        if (p.hasLateRequires) late = true;
        for (const r of p.requires) names.add(r.name);
        for (const v of p.variants) for (const r of v.variantRequires) names.add(r.name);
        if (building) for (const r of p.buildRequires) names.add(r.name);
      }
      m = { names: [...names], late };
      this.mentionCache[k] = m;
    }
    return m;
  }

  localId(name: string): number {
    let id = this.nameIds.get(name);
    if (id === undefined) {
      id = this.names.length;
      this.names.push(name);
      this.nameIds.set(name, id);
    }
    return id;
  }

  /** The family's versions contained in `range`. */
  rangeMask(range: VersionRange): Bits {
    let m = this.masks.get(range);
    if (m === undefined) {
      m = newBits(this.packages.length);
      for (let i = 0; i < this.packages.length; i++) if (range.contains(this.packages[i]!.version)) setBit(m, i);
      this.masks.set(range, m);
    }
    return m;
  }

  /** The variants of package `i` with their requirements (building adds build_requires). */
  staticVariants(i: number, building: boolean): VariantInfo[] {
    const cache = this.variantInfos[building ? 1 : 0];
    let vs = cache[i];
    if (vs === undefined) {
      const pkg = this.packages[i]!;
      vs = pkg.variants.map((v) => new VariantInfo(v, this, i, building ? pkg.buildRequires : null, null));
      cache[i] = vs;
    }
    return vs;
  }
}

export interface MentionSummary {
  names: readonly string[];
  late: boolean;
}

let nextVariantId = 0;

/** Thrown when a variant's own requirements conflict (Rez's ResolveError; it ends the solve). */
export class InternalConflictError extends Error {
  constructor(
    readonly variant: VariantInfo,
    readonly first: Requirement,
    readonly second: Requirement,
  ) {
    super(
      `The package ${variant.str} has an internal requirements conflict: ${first.toString()} <--!--> ${second.toString()}`,
    );
  }
}

/**
 * A variant with its requirements merged as Rez's `RequirementList` merges them
 * (`requires + variant requires [+ build_requires]`), parsed on first use: a
 * solve reads the requirements of only the variants it reaches.
 */
export class VariantInfo {
  readonly id = nextVariantId++;
  readonly variant: Variant;
  readonly family: FamilyInfo;
  readonly pkgIdx: number;
  private readonly buildRequires: readonly Requirement[] | null;
  private readonly lateRequires: readonly Requirement[] | null;
  private compiled?: CompiledRequires;
  private failed?: InternalConflictError;

  constructor(
    variant: Variant,
    family: FamilyInfo,
    pkgIdx: number,
    buildRequires: readonly Requirement[] | null,
    lateRequires: readonly Requirement[] | null,
  ) {
    this.variant = variant;
    this.family = family;
    this.pkgIdx = pkgIdx;
    this.buildRequires = buildRequires;
    this.lateRequires = lateRequires;
  }

  get index(): number | null {
    return this.variant.index;
  }

  /** Rez's `str(PackageVariant)`: `name-version[index]`. */
  get str(): string {
    return `${this.variant.package.qualifiedName}[${this.variant.index ?? ""}]`;
  }

  get requires(): CompiledRequires {
    if (this.compiled) return this.compiled;
    if (this.failed) throw this.failed;
    const pkgReqs = this.lateRequires ?? this.variant.package.requires;
    let all: Requirement[] = [...pkgReqs, ...this.variant.variantRequires];
    if (this.buildRequires && this.buildRequires.length) all = all.concat(this.buildRequires);
    const list = new RequirementList(all);
    if (list.conflict) {
      this.failed = new InternalConflictError(this, list.conflict[0], list.conflict[1]);
      throw this.failed;
    }
    this.compiled = new CompiledRequires(list.requirements, this.family);
    return this.compiled;
  }
}

export class CompiledRequires {
  /** Merged requirements in first-occurrence order. */
  readonly list: readonly Requirement[];
  readonly byName: Map<string, Requirement>;
  /** The requirement on each local name id of the family. */
  readonly byLocal: Array<Requirement | undefined>;
  /** Local name id of each requirement of `list`. */
  readonly ids: readonly number[];
  /** Local ids of non-conflict requirements (Rez `request_fams`). */
  readonly names: Bits;
  /** Every local id, conflicts included (what a reduction must look at). */
  readonly allNames: Bits;

  constructor(list: readonly Requirement[], family: FamilyInfo) {
    this.list = list;
    this.byName = new Map();
    this.byLocal = [];
    const ids = list.map((r) => family.localId(r.name));
    this.ids = ids;
    const words = (family.names.length + 31) >>> 5 || 1;
    this.names = new Uint32Array(words);
    this.allNames = new Uint32Array(words);
    for (let i = 0; i < list.length; i++) {
      const r = list[i]!;
      const id = ids[i]!;
      this.byName.set(r.name, r);
      this.byLocal[id] = r;
      this.allNames[id >>> 5]! |= 1 << (id & 31);
      if (!r.conflict) this.names[id >>> 5]! |= 1 << (id & 31);
    }
  }

  hasName(id: number): boolean {
    const w = id >>> 5;
    return w < this.names.length && (this.names[w]! & (1 << (id & 31))) !== 0;
  }
}

/** Families of one source, loaded once and shared by all solves over it. */
export class SourceCache {
  private readonly families = new Map<string, FamilyInfo | null>();

  constructor(readonly source: PackageSource) {}

  family(name: string): FamilyInfo | null {
    let f = this.families.get(name);
    if (f === undefined) {
      const pkgs = this.source.family(name);
      f = pkgs && pkgs.length ? new FamilyInfo(name, pkgs) : null;
      this.families.set(name, f);
    }
    return f;
  }
}

const caches = new WeakMap<PackageSource, SourceCache>();

export function sourceCache(source: PackageSource): SourceCache {
  let c = caches.get(source);
  if (!c) {
    c = new SourceCache(source);
    caches.set(source, c);
  }
  return c;
}
