import fs from "node:fs";
import { createHash } from "node:crypto";
import type { Variant } from "../rez/package.js";
import { hostSystem, type SystemInfo } from "../rez/system.js";
import type { PackageSource } from "../rez/repository/index.js";
import { sameStamp, stampOf, type FileStamp } from "../rez/repository/observation.js";
import { Version } from "../rez/version/index.js";
import { InputError, TantalusError, systemErrorText } from "../errors.js";
import { writeFileAtomic } from "../util/atomic.js";
import { PackageFilterList } from "../solver/filter.js";
import { orderersFromPod } from "../solver/order.js";
import { VERSION } from "../version.js";

export const CONTEXT_FORMAT = "tantalus.context/v1";

/** One resolved variant, with what is needed to find it again and to prove it did not move. */
export interface ContextVariant {
  name: string;
  version: string;
  /** Variant index; null for a package without variants. */
  index: number | null;
  /** Repository root (package search path entry) the variant came from. */
  repository: string;
  /** Install root of the variant (`{root}`). */
  root: string;
  /** The package definition file. */
  file: string;
  /** sha256 of the package definition file's bytes when the context was made. */
  digest: string;
  /** The variant's requirements as resolved (for the graph and for audits). */
  requires: string[];
  /**
   * Set when the install root did not exist when the context was made (a
   * package with nothing installed but its definition): its absence later is
   * no drift, its appearance is. Absent otherwise, so contexts of packages
   * that all have files read as before.
   */
  rootMissing?: true;
}

/** A resolved context: Tantalus's lock file, from which the same image is rebuilt later. */
export interface ResolvedContext {
  format: typeof CONTEXT_FORMAT;
  /** What made the resolve: Tantalus, or Rez for a context imported from a .rxt. */
  tool: { name: "tantalus" | "rez"; version: string };
  /** For a context imported from a Rez .rxt: the Tantalus that imported it. */
  importedBy?: { name: "tantalus"; version: string };
  /** The request as the user gave it (without implicit packages). */
  request: string[];
  implicitPackages: string[];
  packagePaths: string[];
  /** Time filter (epoch seconds): packages released later were ignored; null = none. */
  timestamp: number | null;
  building: boolean;
  status: "solved" | "failed";
  failure?: { kind: string; description: string; explanation?: string };
  resolved: ContextVariant[];
  /** Resolved ephemeral requirements (`.name-range`), as strings. */
  ephemerals: string[];
  /** When the context was made (ISO 8601). Not used for image content, so images stay reproducible. */
  created: string;
  /**
   * What decided the resolve besides the request, as Rez's .rxt keeps it. Absent
   * in locks written before they were recorded (read as "not recorded", never as
   * "none"): Rez's package_filter in its POD form (`[{excludes: [...], includes:
   * [...]}]`, [] for none) ...
   */
  packageFilter?: PackageFilterPod[];
  /** ... Rez's package_orderers (each orderer's POD form), null for none ... */
  packageOrderers?: Record<string, unknown>[] | null;
  /** ... the variant_select_mode (Rez reads it from its configuration and does not keep it; the lock does) ... */
  variantSelectMode?: "version_priority" | "intersection_priority";
  /** ... and the platform resolved for (Rez's platform/arch/os; a configured target's when there is one). */
  system?: SystemInfo;
}

/** One filter of Rez's package_filter in the form a .rxt holds (PackageFilter.to_pod). */
export interface PackageFilterPod {
  excludes?: string[];
  includes?: string[];
}

/** What decided a resolve besides its request (see ResolvedContext), given to makeContext. */
export interface ResolveDecisions {
  packageFilter: PackageFilterPod[];
  packageOrderers: Record<string, unknown>[] | null;
  variantSelectMode: "version_priority" | "intersection_priority";
  /** Omitted when only this host could say (no target, implicit packages that do not name it): asked when needed. */
  system?: SystemInfo;
}

export interface ContextInput {
  request: string[];
  implicitPackages: string[];
  packagePaths: string[];
  timestamp?: number | null;
  building?: boolean;
  status: "solved" | "failed";
  resolved: Variant[];
  ephemerals?: string[];
  failure?: { kind: string; description: string; explanation?: string };
  decidedBy?: ResolveDecisions;
}

/**
 * The system a context was resolved for: the one it recorded, else what Rez's
 * default implicit packages (`~platform==P ~arch==A ~os==O`) name, the missing
 * facts taken from this host.
 */
export function contextSystem(ctx: Pick<ResolvedContext, "implicitPackages" | "system">): SystemInfo {
  return ctx.system ?? systemFromImplicits(ctx.implicitPackages);
}

/** The system implicit packages name when they name all of it (`~platform==P ~arch==A ~os==O`), without asking the host. */
export function namedSystem(implicits: readonly string[]): SystemInfo | undefined {
  const found: Partial<SystemInfo> = {};
  for (const s of implicits) {
    const m = /^~(platform|arch|os)==(.+)$/.exec(s.trim());
    if (m) found[m[1] as keyof SystemInfo] = m[2]!;
  }
  return found.platform && found.arch && found.os ? (found as SystemInfo) : undefined;
}

/** The system implicit packages name (`~platform==P ~arch==A ~os==O`); missing facts come from the host. */
export function systemFromImplicits(implicits: readonly string[]): SystemInfo {
  const found: Partial<SystemInfo> = {};
  for (const s of implicits) {
    const m = /^~(platform|arch|os)==(.+)$/.exec(s.trim());
    if (m) found[m[1] as keyof SystemInfo] = m[2]!;
  }
  if (found.platform && found.arch && found.os) return found as SystemInfo;
  return { ...hostSystem(), ...found };
}

const digestCache = new Map<string, { stamp: FileStamp; digest: string }>();

/** sha256 of a file, remembered per process while its stat stamp (time, size, inode) stays the same. */
export function fileDigest(file: string): string {
  const stamp = stampOf(fs.statSync(file));
  const hit = digestCache.get(file);
  if (hit && sameStamp(hit.stamp, stamp)) return hit.digest;
  const digest = "sha256:" + createHash("sha256").update(fs.readFileSync(file)).digest("hex");
  digestCache.set(file, { stamp, digest });
  return digest;
}

export function makeContext(input: ContextInput): ResolvedContext {
  return {
    format: CONTEXT_FORMAT,
    tool: { name: "tantalus", version: VERSION },
    request: [...input.request],
    implicitPackages: [...input.implicitPackages],
    packagePaths: [...input.packagePaths],
    timestamp: input.timestamp ?? null,
    building: input.building ?? false,
    status: input.status,
    ...(input.failure ? { failure: input.failure } : {}),
    resolved: input.resolved.map(toContextVariant),
    ephemerals: input.ephemerals ?? [],
    created: new Date().toISOString(),
    ...(input.decidedBy
      ? {
          packageFilter: input.decidedBy.packageFilter,
          packageOrderers: input.decidedBy.packageOrderers,
          variantSelectMode: input.decidedBy.variantSelectMode,
          ...(input.decidedBy.system ? { system: { ...input.decidedBy.system } } : {}),
        }
      : {}),
  };
}

export function toContextVariant(v: Variant): ContextVariant {
  return {
    name: v.name,
    version: v.version.toString(),
    index: v.index,
    repository: v.package.repository,
    root: v.root,
    file: v.package.file,
    digest: fileDigest(v.package.file),
    requires: v.requires.map(String),
    ...(fs.existsSync(v.root) ? {} : { rootMissing: true as const }),
  };
}

export function qualifiedVariantName(v: { name: string; version: string; index: number | null }): string {
  return `${v.version ? `${v.name}-${v.version}` : v.name}[${v.index ?? ""}]`;
}

export function saveContext(file: string, ctx: ResolvedContext): void {
  writeFileAtomic(file, JSON.stringify(ctx, null, 2) + "\n");
}

/** Reads a context file, checking its shape; every problem names the file. */
export function loadContext(file: string): ResolvedContext {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new InputError(`cannot read context: ${systemErrorText(err)}`, { file });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new InputError(`not a JSON context: ${(err as Error).message}`, { file, line: jsonErrorLine(text, err) });
  }
  return validateContext(data, file);
}

function validateContext(data: unknown, file: string): ResolvedContext {
  const fail = (what: string): never => {
    throw new InputError(`invalid context: ${what}`, { file });
  };
  if (typeof data !== "object" || data === null) fail("expected a JSON object");
  const d = data as Record<string, unknown>;
  if (d.format !== CONTEXT_FORMAT) {
    fail(`expected "format": "${CONTEXT_FORMAT}" (a Rez .rxt file is read with --rxt / importRxt)`);
  }
  const strArray = (k: string) => {
    const v = d[k];
    if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) fail(`"${k}" must be an array of strings`);
  };
  strArray("request");
  strArray("implicitPackages");
  strArray("packagePaths");
  strArray("ephemerals");
  if (d.status !== "solved" && d.status !== "failed") fail(`"status" must be "solved" or "failed"`);
  if (d.timestamp !== null && typeof d.timestamp !== "number") fail(`"timestamp" must be a number or null`);
  if (!Array.isArray(d.resolved)) fail(`"resolved" must be an array`);
  (d.resolved as unknown[]).forEach((r, i) => {
    const v = r as Record<string, unknown>;
    for (const k of ["name", "version", "repository", "root", "file", "digest"]) {
      if (typeof v?.[k] !== "string") fail(`resolved[${i}].${k} must be a string`);
    }
    if (v.index !== null && typeof v.index !== "number") fail(`resolved[${i}].index must be a number or null`);
    if (!Array.isArray(v.requires)) fail(`resolved[${i}].requires must be an array`);
    if (v.rootMissing !== undefined && v.rootMissing !== true)
      fail(`resolved[${i}].rootMissing must be true when present`);
  });
  // What decided the resolve: absent in older locks, checked when present.
  const rules = (x: unknown) => x === undefined || (Array.isArray(x) && x.every((r) => typeof r === "string"));
  if (
    d.packageFilter !== undefined &&
    (!Array.isArray(d.packageFilter) ||
      d.packageFilter.some(
        (f: unknown) =>
          typeof f !== "object" ||
          f === null ||
          !rules((f as PackageFilterPod).excludes) ||
          !rules((f as PackageFilterPod).includes),
      ))
  )
    fail(`"packageFilter" must be a list of {excludes: [rule...], includes: [rule...]}`);
  if (
    d.packageOrderers !== undefined &&
    d.packageOrderers !== null &&
    (!Array.isArray(d.packageOrderers) ||
      d.packageOrderers.some((o: unknown) => typeof o !== "object" || o === null || Array.isArray(o)))
  )
    fail(`"packageOrderers" must be null or a list of orderers`);
  // The shapes above are not enough: a rule or an orderer Rez cannot read would pass `context
  // show`/`verify` and be exported into an .rxt that Rez then refuses. Read them as the solver does.
  const readable = (what: string, read: () => unknown) => {
    try {
      read();
    } catch (err) {
      fail(`"${what}": ${err instanceof TantalusError ? err.message : String(err)}`);
    }
  };
  if (Array.isArray(d.packageFilter))
    readable("packageFilter", () => PackageFilterList.fromPod(d.packageFilter as PackageFilterPod[]));
  if (Array.isArray(d.packageOrderers))
    readable("packageOrderers", () => orderersFromPod(d.packageOrderers, "packageOrderers"));
  if (
    d.variantSelectMode !== undefined &&
    d.variantSelectMode !== "version_priority" &&
    d.variantSelectMode !== "intersection_priority"
  )
    fail(`"variantSelectMode" must be "version_priority" or "intersection_priority"`);
  if (d.system !== undefined) {
    const s = d.system as Record<string, unknown> | null;
    if (typeof s !== "object" || s === null || ["platform", "arch", "os"].some((k) => typeof s[k] !== "string"))
      fail(`"system" must be {platform, arch, os} strings`);
  }
  return data as ResolvedContext;
}

function jsonErrorLine(text: string, err: unknown): number | undefined {
  const m = /position (\d+)/.exec((err as Error).message);
  if (!m) return undefined;
  return text.slice(0, Number(m[1])).split("\n").length;
}

export interface ContextDrift {
  variant: string;
  problem: string;
}

/** The variants whose install root does not exist on this machine (payloads not mounted, or removed). */
export function missingInstallRoots(ctx: ResolvedContext): { variant: string; root: string }[] {
  return ctx.resolved
    .filter((v) => !fs.existsSync(v.root))
    .map((v) => ({ variant: qualifiedVariantName(v), root: v.root }));
}

/**
 * Refuses a resolve whose install roots are not all on this machine: an
 * image built from it would have empty package layers, and an audit of it
 * would find nothing to complain about. `what` names the resolve ("workflow rough_layout").
 */
export function requireInstallRoots(variants: readonly { qualifiedName: string; root: string }[], what: string): void {
  const missing = variants.filter((v) => !fs.existsSync(v.root));
  if (missing.length === 0) return;
  const lines = missing.map((m) => `  ${m.qualifiedName}: install root ${m.root} is gone`);
  throw new TantalusError(
    `${what}: ${missing.length} of ${variants.length} install roots are missing (are the package payloads mounted on this machine?):\n${lines.join("\n")}`,
  );
}

/**
 * Checks that every variant of the context is still where it was, with the same
 * definition: a rebuild from a context that drifted would not be the same image.
 */
export function verifyContext(ctx: ResolvedContext): ContextDrift[] {
  const drift: ContextDrift[] = [];
  for (const v of ctx.resolved) {
    const q = qualifiedVariantName(v);
    if (!fs.existsSync(v.file)) {
      drift.push({ variant: q, problem: `package definition ${v.file} is gone` });
      continue;
    }
    const now = "sha256:" + createHash("sha256").update(fs.readFileSync(v.file)).digest("hex");
    if (now !== v.digest)
      drift.push({ variant: q, problem: `package definition ${v.file} changed (${v.digest} -> ${now})` });
    // A missing root is drift whether or not it existed when the context was made:
    // `build --context` refuses both (requireInstallRoots), so `context verify` must not call them current.
    const exists = fs.existsSync(v.root);
    if (!exists && !v.rootMissing) drift.push({ variant: q, problem: `install root ${v.root} is gone` });
    if (!exists && v.rootMissing)
      drift.push({
        variant: q,
        problem: `install root ${v.root} is missing (it was missing when the context was made too)`,
      });
    if (exists && v.rootMissing)
      drift.push({
        variant: q,
        problem: `install root ${v.root} appeared (it did not exist when the context was made)`,
      });
  }
  return drift;
}

/**
 * Everything that stops `tantalus build --context` from rebuilding exactly
 * this lock, so `context verify` and the build agree: a failed resolve, a
 * definition changed or gone, an install root gone (verifyContext), a
 * variant the lock's own search paths no longer hold, or one now at another
 * root. `repos` opens the lock's search paths (ctx.packagePaths).
 */
export function contextProblems(ctx: ResolvedContext, repos: (paths: string[]) => PackageSource): ContextDrift[] {
  if (ctx.status !== "solved") {
    return [
      {
        variant: "(context)",
        problem: `a failed resolve (${ctx.failure?.description ?? "no description"}): nothing to build`,
      },
    ];
  }
  const drift = verifyContext(ctx);
  if (drift.length > 0) return drift;
  const source = repos(ctx.packagePaths);
  const out: ContextDrift[] = [];
  for (const cv of ctx.resolved) {
    let variant: Variant;
    try {
      variant = variantsOfContext({ ...ctx, resolved: [cv] }, source)[0]!;
    } catch (e) {
      if (!(e instanceof TantalusError)) throw e;
      out.push({ variant: qualifiedVariantName(cv), problem: e.message });
      continue;
    }
    if (variant.root !== cv.root)
      out.push({
        variant: qualifiedVariantName(cv),
        problem: `is now at ${variant.root}, the context says ${cv.root}`,
      });
  }
  return out;
}

/** A decision the lock recorded that the current configuration would take differently. */
export interface DecisionChange {
  /** "package filter", "package orderers", "variant select mode", "resolved for". */
  decision: string;
  /** The lock's value as shown, or "not recorded" (a lock written before decisions were kept). */
  lock: string;
  /** The configuration's value as shown. */
  configuration: string;
  /** The configuration's key that sets it (package_filter, package_orderers, variant_select_mode, target). */
  key: string;
}

/**
 * The decisions (ResolveDecisions) on which the lock and `configured` (what
 * the current configuration decides, workflow/resolve.ts resolveDecisions)
 * differ, one per decision; a decision an older lock did not record is listed
 * as "not recorded" whatever the configuration says, since nothing shows they
 * agree. Only the comparison: whether the variants would differ is the
 * caller's re-solve.
 */
export function decisionChanges(ctx: ResolvedContext, configured: ResolveDecisions): DecisionChange[] {
  const NOT_RECORDED = "not recorded";
  const older = ctx.packageFilter === undefined;
  const filter = (f: PackageFilterPod[] | undefined) =>
    f === undefined ? NOT_RECORDED : f.length === 0 ? "none" : JSON.stringify(f);
  const orderers = (o: Record<string, unknown>[] | null | undefined) =>
    o === undefined ? NOT_RECORDED : o === null ? "none" : JSON.stringify(o);
  // A lock leaves the system out when only the host it was made on could name it.
  const system = (x: SystemInfo | undefined, lock: boolean) =>
    x ? `${x.platform} ${x.arch} ${x.os}` : lock && older ? NOT_RECORDED : "the resolving host (not named)";
  const rows: DecisionChange[] = [
    {
      decision: "package filter",
      key: "package_filter",
      lock: filter(ctx.packageFilter),
      configuration: filter(configured.packageFilter),
    },
    {
      decision: "package orderers",
      key: "package_orderers",
      lock: orderers(ctx.packageOrderers),
      configuration: orderers(configured.packageOrderers),
    },
    {
      decision: "variant select mode",
      key: "variant_select_mode",
      lock: ctx.variantSelectMode ?? NOT_RECORDED,
      configuration: configured.variantSelectMode,
    },
    {
      decision: "resolved for",
      key: "target",
      lock: system(ctx.system, true),
      configuration: system(configured.system, false),
    },
  ];
  return rows.filter((r) => r.lock !== r.configuration);
}

/** Finds the context's variants in the repositories (the package objects rex and the build need). */
export function variantsOfContext(ctx: ResolvedContext, source: PackageSource): Variant[] {
  return ctx.resolved.map((cv) => {
    const family = source.family(cv.name);
    const version = Version.parse(cv.version);
    const pkg =
      family?.find((p) => p.version.equals(version) && p.repository === cv.repository) ??
      family?.find((p) => p.version.equals(version));
    if (!pkg) {
      throw new TantalusError(
        `context variant ${qualifiedVariantName(cv)} is not in the package paths (${ctx.packagePaths.join(":")})`,
      );
    }
    const variant = pkg.variants.find((x) => x.index === cv.index);
    if (!variant)
      throw new TantalusError(`package ${pkg.qualifiedName} has no variant [${cv.index ?? ""}] any more (${pkg.file})`);
    return variant;
  });
}
