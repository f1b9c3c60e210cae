import { solve, PackageFilterList, orderersFromPod, type SolveResult } from "../../src/solver/index.js";
import { MemorySource, type PackageData } from "../../src/solver/memory-source.js";

/**
 * Cases written by scripts/rez-oracle/solver_random.py: a repository, a
 * request, solve options, and what Rez 3.4's Solver answered.
 */
export interface OracleCase {
  id: string;
  packages: Record<string, Array<Omit<PackageData, "name">>>;
  request: string[];
  options: {
    building?: boolean;
    timestamp?: number;
    packageFilter?: Array<{ excludes?: string[]; includes?: string[] }>;
    orderers?: unknown[];
    maxFails?: number;
  };
  repoPath: string;
  /** Versions of each family in the order Rez's repository listed them. */
  listing: Record<string, string[]>;
  expected: {
    status: "solved" | "failed" | "aborted" | "error";
    steps?: number;
    resolved?: string[];
    ephemerals?: string[];
    cyclic?: boolean;
    failureDescription?: string;
    errorType?: string;
    errorMessage?: string;
  };
}

export interface OracleFile {
  cases: OracleCase[];
}

/** Rez's exceptions and what Tantalus reports instead (a failure of that kind). */
const ERROR_KINDS: Record<string, string> = {
  PackageFamilyNotFoundError: "missing-family",
  PackageNotFoundError: "missing-version",
  ResolveError: "internal-conflict",
  TypeError: "error",
  RuntimeError: "error",
  UnboundLocalError: "error",
  PackageRequestError: "error",
};

export function sourceOf(c: OracleCase): MemorySource {
  const pkgs: PackageData[] = [];
  for (const [name, list] of Object.entries(c.packages)) {
    const order = c.listing[name] ?? list.map((p) => p.version);
    const byVersion = new Map(list.map((p) => [p.version, p]));
    for (const v of order) pkgs.push({ ...byVersion.get(v)!, name });
  }
  return new MemorySource(pkgs, [c.repoPath]);
}

export function runCase(c: OracleCase): SolveResult {
  const o = c.options;
  return solve(c.request, sourceOf(c), {
    building: o.building,
    timestamp: o.timestamp,
    packageFilter: o.packageFilter ? PackageFilterList.fromPod(o.packageFilter) : null,
    orderers: o.orderers ? orderersFromPod(o.orderers) : undefined,
    maxFails: o.maxFails,
  });
}

/** Differences between Rez's answer and ours (empty when they agree). */
export function compareCase(c: OracleCase, r: SolveResult = runCase(c)): string[] {
  const e = c.expected;
  const diffs: string[] = [];
  const f = r.failure;
  if (e.status === "error") {
    const kind = ERROR_KINDS[e.errorType!] ?? "?";
    if (r.status !== "failed" || f?.kind !== kind)
      diffs.push(`expected ${e.errorType} (${kind}), got ${r.status} ${f?.kind ?? ""}`);
    else if (f.description !== e.errorMessage)
      diffs.push(`message: expected ${JSON.stringify(e.errorMessage)}, got ${JSON.stringify(f.description)}`);
    return diffs;
  }
  if (r.status !== e.status)
    diffs.push(`status: expected ${e.status}, got ${r.status} (${f?.kind ?? ""}: ${f?.description ?? ""})`);
  if (e.steps !== undefined && r.steps !== e.steps) diffs.push(`steps: expected ${e.steps}, got ${r.steps}`);
  if (e.status === "solved") {
    const got = r.resolved.map((v) => v.qualifiedName);
    if (JSON.stringify(got) !== JSON.stringify(e.resolved))
      diffs.push(`resolve: expected ${e.resolved!.join(" ")}, got ${got.join(" ")}`);
    const eph = r.ephemerals.map(String);
    if (JSON.stringify(eph) !== JSON.stringify(e.ephemerals ?? []))
      diffs.push(`ephemerals: expected ${(e.ephemerals ?? []).join(" ")}, got ${eph.join(" ")}`);
  } else if (e.status === "failed" && r.status === "failed") {
    if (e.cyclic) {
      // Rez walks its graph in hash order, so which cycle it prints varies; the kind must agree
      if (f?.kind !== "cycle") diffs.push(`expected a cycle, got ${f?.kind}: ${f?.description}`);
    } else if (f?.description !== e.failureDescription) {
      diffs.push(
        `description: expected ${JSON.stringify(e.failureDescription)}, got ${JSON.stringify(f?.description)}`,
      );
    }
  }
  return diffs;
}
