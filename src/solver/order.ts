import { InputError } from "../errors.js";
import { Version, VersionRange, isValidPackageName } from "../rez/version/index.js";
import type { Bound } from "../rez/version/index.js";
import { Fallback, Reversed, TokenList, type PyValue } from "./pycompare.js";

/*
 * Rez's package orderers (`rez/package_order.py`). An orderer gives each version
 * of a family a sort key; the solver tries the largest key first (and uses the
 * same keys to rank the ranges variants ask for). Orderers change preference,
 * never validity.
 */

/** The packages (name and timestamp per version) an orderer may inspect. */
export interface OrdererFamilies {
  /** All versions of a family in the repositories, unfiltered, with their timestamps. */
  versionsOf(name: string): ReadonlyArray<{ version: Version; timestamp: number | undefined }>;
}

export abstract class PackageOrderer {
  abstract readonly type: string;
  /** Families this orderer is for; `["*"]` means every family. */
  readonly packages: readonly string[];

  constructor(packages?: readonly string[] | string | null) {
    if (packages === undefined || packages === null) this.packages = ["*"];
    else if (typeof packages === "string") this.packages = [packages];
    else this.packages = [...packages].sort();
  }

  /** Rez `sort_key_implementation`: the part of the key specific to this orderer. */
  abstract keyOf(name: string, version: Version, families: OrdererFamilies): PyValue;

  /** Rez's `to_pod` form. */
  abstract toPod(): Record<string, unknown>;
}

/** `sorted`: by version, latest first unless `descending` is false. */
export class SortedOrder extends PackageOrderer {
  readonly type = "sorted";
  constructor(
    readonly descending: boolean,
    packages?: readonly string[] | string | null,
  ) {
    super(packages);
  }
  keyOf(_name: string, version: Version): PyValue {
    return this.descending ? version : new Reversed(version);
  }
  toPod(): Record<string, unknown> {
    return { type: this.type, descending: this.descending, packages: this.packages };
  }
}

/** `no_order`: keeps the order the repository lists the versions in. */
export class NullOrder extends PackageOrderer {
  readonly type = "no_order";
  keyOf(): PyValue {
    return 0;
  }
  toPod(): Record<string, unknown> {
    return { type: this.type, packages: this.packages };
  }
}

/** `version_split`: versions up to `firstVersion` first (latest first), then the newer ones. */
export class VersionSplitOrder extends PackageOrderer {
  readonly type = "version_split";
  constructor(
    readonly firstVersion: Version,
    packages?: readonly string[] | string | null,
  ) {
    super(packages);
  }
  keyOf(_name: string, version: Version): PyValue {
    // Rez's `version <= first_version`, i.e. `version < first or version == first`.
    const le = versionLess(version, this.firstVersion) || version.equals(this.firstVersion);
    return [le ? 1 : 0, version];
  }
  toPod(): Record<string, unknown> {
    return { type: this.type, first_version: this.firstVersion.toString(), packages: this.packages };
  }
}

/**
 * `soft_timestamp`: versions released before `timestamp` first (latest first),
 * then the newer ones oldest first; with `rank`, newer versions that only
 * change below that rank are allowed before the timestamp's cut.
 */
export class TimestampOrder extends PackageOrderer {
  readonly type = "soft_timestamp";
  private readonly firstAfter = new Map<string, Version | null>();
  private readonly keys = new Map<string, PyValue>();

  constructor(
    readonly timestamp: number,
    readonly rank = 0,
    packages?: readonly string[] | string | null,
  ) {
    super(packages);
  }

  keyOf(name: string, version: Version, families: OrdererFamilies): PyValue {
    const cacheKey = `${name}\0${version.toString()}`;
    let key = this.keys.get(cacheKey);
    if (key === undefined) {
      key = this.computeKey(name, version, families);
      this.keys.set(cacheKey, key);
    }
    return key;
  }

  private computeKey(name: string, version: Version, families: OrdererFamilies): PyValue {
    let first = this.firstAfter.get(name);
    if (first === undefined) {
      first = this.computeFirstAfter(name, families);
      this.firstAfter.set(name, first);
    }
    // Python: `True` when every version is before T, else int(version < first_after).
    const isBefore = first === null ? 1 : versionLess(version, first) ? 1 : 0;
    if (isBefore) return [isBefore, version];
    if (this.rank) {
      if (version.isInf) throw new OrdererError("Version.inf cannot be trimmed");
      const tail = version.tokens.slice(this.rank - 1);
      return [0, new Reversed(version.trim(this.rank - 1)), new TokenList(Version.parse(tail.join(".")))];
    }
    return [0, new Reversed(version)];
  }

  private computeFirstAfter(name: string, families: OrdererFamilies): Version | null {
    // Rez lists the family through iter_packages, which rejects names such as ".eph".
    if (!isValidPackageName(name)) throw new OrdererError(`Not a valid package name: '${name}'`);
    const desc = [...families.versionsOf(name)].sort((a, b) => b.version.compare(a.version));
    let firstAfter: Version | null = null;
    let i: number;
    for (i = 0; i < desc.length; i++) {
      const p = desc[i]!;
      if (!p.timestamp) continue;
      if (p.timestamp > this.timestamp) firstAfter = p.version;
      else break;
    }
    if (!this.rank) return firstAfter;
    if (desc.length === 0) {
      throw new OrdererError("cannot access local variable 'package' where it is not associated with a value");
    }
    // Rez leaves the loop variables at the last package seen (the break point, or the end).
    const last = Math.min(i, desc.length - 1);
    const trimmed = desc[last]!.version.trim(this.rank - 1);
    for (let k = last - 1; k >= 0; k--) {
      const v = desc[k]!.version;
      if (!v.trim(this.rank - 1).equals(trimmed)) return v;
    }
    return null;
  }

  toPod(): Record<string, unknown> {
    return { type: this.type, timestamp: this.timestamp, rank: this.rank, packages: this.packages };
  }
}

/** `per_family`: a different orderer per family, with an optional default. */
export class PerFamilyOrder extends PackageOrderer {
  readonly type = "per_family";
  constructor(
    readonly orderDict: ReadonlyMap<string, PackageOrderer>,
    readonly defaultOrder: PackageOrderer | null = null,
  ) {
    super([...orderDict.keys()]);
  }
  keyOf(name: string, version: Version, families: OrdererFamilies): PyValue {
    const o = this.orderDict.get(name) ?? this.defaultOrder;
    if (!o) throw new OrdererError(`package family orderer per_family does not apply to package family '${name}'`);
    return o.keyOf(name, version, families);
  }
  toPod(): Record<string, unknown> {
    const groups = new Map<PackageOrderer, string[]>();
    for (const [fam, o] of this.orderDict) {
      const g = groups.get(o) ?? [];
      g.push(fam);
      groups.set(o, g);
    }
    const orderers = [...groups].map(([o, fams]) => ({ ...o.toPod(), packages: fams.sort() }));
    return this.defaultOrder
      ? { type: this.type, orderers, default_order: this.defaultOrder.toPod() }
      : { type: this.type, orderers };
  }
}

/** Raised where Rez's orderer code raises (it aborts the solve). */
export class OrdererError extends Error {}

function versionLess(a: Version, b: Version): boolean {
  if (a.isInf) return false;
  if (b.isInf) return true;
  return a.compare(b) < 0;
}

/** The orderer Rez's `get_orderer` picks: the first naming the family, else one for `*`, else latest-first. */
export class OrdererList {
  private readonly byPackage = new Map<string, PackageOrderer>();
  static readonly DEFAULT = new SortedOrder(true);

  constructor(readonly orderers: readonly PackageOrderer[] = []) {
    for (const o of orderers) {
      for (const p of o.packages) if (!this.byPackage.has(p)) this.byPackage.set(p, o);
    }
    const raises = (o: PackageOrderer): boolean =>
      o instanceof TimestampOrder ||
      (o instanceof PerFamilyOrder &&
        ([...o.orderDict.values()].some(raises) || (o.defaultOrder !== null && raises(o.defaultOrder))));
    this.keysCanRaise = orderers.some(raises);
  }

  get isEmpty(): boolean {
    return this.orderers.length === 0;
  }

  /** Whether computing a key can raise (soft_timestamp lists families, which Rez may reject). */
  readonly keysCanRaise: boolean = false;

  forFamily(name: string): PackageOrderer {
    return this.byPackage.get(name) ?? this.byPackage.get("*") ?? OrdererList.DEFAULT;
  }
}

/** Rez's `sort_key(name, version)`: the orderer's key, falling back to the version. */
export function versionSortKey(
  orderer: PackageOrderer,
  name: string,
  version: Version,
  families: OrdererFamilies,
): Fallback {
  return new Fallback(orderer.keyOf(name, version, families), version);
}

const rangeKeys = new WeakMap<PackageOrderer, WeakMap<VersionRange, Map<string, PyValue>>>();

/** Rez's `sort_key(name, range)`: per bound, ((key(lower), -2|-1), (key(upper), 2|1)); `0` for no range. */
export function rangeSortKey(
  orderer: PackageOrderer,
  name: string,
  range: VersionRange | null,
  families: OrdererFamilies,
): PyValue {
  if (range === null) return 0;
  let byRange = rangeKeys.get(orderer);
  if (byRange === undefined) {
    byRange = new WeakMap();
    rangeKeys.set(orderer, byRange);
  }
  let byName = byRange.get(range);
  if (byName === undefined) {
    byName = new Map();
    byRange.set(range, byName);
  }
  let key = byName.get(name);
  if (key === undefined) {
    key = computeRangeSortKey(orderer, name, range, families);
    byName.set(name, key);
  }
  return key;
}

function computeRangeSortKey(
  orderer: PackageOrderer,
  name: string,
  range: VersionRange,
  families: OrdererFamilies,
): PyValue {
  return range.bounds.map((b: Bound) => [
    [versionSortKey(orderer, name, b.lower, families), b.lowerInclusive ? -2 : -1],
    [versionSortKey(orderer, name, b.upper, families), b.upperInclusive ? 2 : 1],
  ]);
}

/**
 * Orderers from Rez's POD form (the `package_orderers` setting): a list of
 * `{type: sorted|version_split|soft_timestamp|per_family|no_order, packages?, ...}`.
 */
export function orderersFromPod(data: unknown, where = "package_orderers"): PackageOrderer[] {
  if (!Array.isArray(data)) throw new InputError(`${where}: expected a list of orderers`, { file: where });
  return data.map((d, i) => ordererFromPod(d, `${where}[${i}]`));
}

export function ordererFromPod(data: unknown, where = "orderer"): PackageOrderer {
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new InputError(`${where}: expected a mapping with a 'type'`, { file: where });
  }
  const d = data as Record<string, unknown>;
  const packages = d.packages as string[] | string | undefined;
  switch (d.type) {
    case "sorted":
      if (typeof d.descending !== "boolean")
        throw new InputError(`${where}: 'sorted' needs 'descending: true|false'`, { file: where });
      return new SortedOrder(d.descending, packages);
    case "no_order":
      return new NullOrder(packages);
    case "version_split":
      if (typeof d.first_version !== "string")
        throw new InputError(`${where}: 'version_split' needs 'first_version'`, { file: where });
      return new VersionSplitOrder(Version.parse(d.first_version), packages);
    case "soft_timestamp":
      if (typeof d.timestamp !== "number")
        throw new InputError(`${where}: 'soft_timestamp' needs a numeric 'timestamp'`, { file: where });
      return new TimestampOrder(d.timestamp, typeof d.rank === "number" ? d.rank : 0, packages);
    case "per_family": {
      if (!Array.isArray(d.orderers)) throw new InputError(`${where}: 'per_family' needs 'orderers'`, { file: where });
      const dict = new Map<string, PackageOrderer>();
      d.orderers.forEach((o: unknown, i: number) => {
        const od = { ...(o as Record<string, unknown>) };
        const fams = od.packages;
        delete od.packages;
        if (!Array.isArray(fams)) throw new InputError(`${where}.orderers[${i}]: expected 'packages'`, { file: where });
        const orderer = ordererFromPod(od, `${where}.orderers[${i}]`);
        for (const f of fams as string[]) dict.set(f, orderer);
      });
      const def = d.default_order ? ordererFromPod(d.default_order, `${where}.default_order`) : null;
      return new PerFamilyOrder(dict, def);
    }
    default:
      throw new InputError(
        `${where}: unknown orderer type '${String(d.type)}': expected sorted, version_split, soft_timestamp, per_family or no_order`,
        {
          file: where,
        },
      );
  }
}
