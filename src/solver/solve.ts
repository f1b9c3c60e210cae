import path from "node:path";
import { closestName } from "../util/suggest.js";
import type { Variant } from "../rez/package.js";
import { Requirement, RequirementList } from "../rez/version/index.js";
import {
  BrokenPackageReachedError,
  MissingFamilyError,
  MissingVersionError,
  SolveContext,
  type LateRequiresHook,
  type VariantSelectMode,
} from "./context.js";
import { explainFailure } from "./explain.js";
import { PackageFilterList, TimestampRule } from "./filter.js";
import type { FailureReason, SolveFailure } from "./failure.js";
import { InternalConflictError, sourceCache, type PackageSource } from "./model.js";
import { OrdererError, OrdererList, type PackageOrderer } from "./order.js";
import { Phase, PhaseStatus } from "./phase.js";
import { PyCompareError } from "./pycompare.js";
import { Scope } from "./scope.js";

export interface SolveOptions {
  /** Appended to the request (Rez's implicit packages, e.g. `~platform==linux`). */
  implicitPackages?: readonly (string | Requirement)[];
  /** Ignore packages released after this epoch time (`rez-env --time`). */
  timestamp?: number;
  /** Rez's `package_filter`. */
  packageFilter?: PackageFilterList | null;
  /** Rez's `package_orderers`. */
  orderers?: readonly PackageOrderer[];
  /** Rez's `variant_select_mode` (default version_priority). */
  variantSelectMode?: VariantSelectMode;
  /** Rez's `error_on_missing_variant_requires` (default true): false skips a variant needing a missing family. */
  errorOnMissingVariantRequires?: boolean;
  /** Resolve for a build: every package's `build_requires` count too. */
  building?: boolean;
  /** Evaluates `@late()` requires; called once per package per solve. */
  lateRequires?: LateRequiresHook;
  /** Stop after this many failed steps (Rez's `max_fails`). */
  maxFails?: number;
  /** Stop after this many seconds (Rez's `time_limit`). */
  timeLimit?: number;
  /** Search paths named in messages; defaults to `source.paths`. */
  paths?: readonly string[];
}

export interface SolveResult {
  status: "solved" | "failed" | "aborted";
  /** Resolved variants in Rez's resolve order (dependencies first). */
  resolved: Variant[];
  /** Resolved ephemeral ranges (`.foo-1`), in resolve order. */
  ephemerals: Requirement[];
  /** The request after merging (Rez's `request_list`). */
  request: Requirement[];
  failure?: SolveFailure;
  /** Solve steps (Rez `num_solves`). */
  steps: number;
  /** Failed steps (Rez `num_fails`). */
  fails: number;
  /** Every family the solve asked the source for, found or not, sorted: the part of the repositories the result depends on. */
  families: string[];
  /** What Rez prints on stderr while solving (each variant skipped for a missing family), in order. */
  warnings?: string[];
}

/**
 * Resolve `request` against `source` exactly as Rez 3.4's solver does
 * (SOLVER_VERSION 2, `version_priority`): the same variants in the same order,
 * the same failures with the same descriptions. Rez's PackageFamilyNotFoundError
 * and PackageNotFoundError become failures (kinds missing-family and
 * missing-version); a malformed requirement string throws InputError.
 */
export function solve(
  request: readonly (string | Requirement)[],
  source: PackageSource,
  options: SolveOptions = {},
): SolveResult {
  const reqs = [...request, ...(options.implicitPackages ?? [])].map(toRequirement);
  const requestList = new RequirementList(reqs);

  let filter = options.packageFilter ?? null;
  if (options.timestamp) {
    filter = filter ? filter.copy() : new PackageFilterList();
    filter.addExclusion(TimestampRule.after(options.timestamp));
  }
  const ctx = new SolveContext({
    cache: sourceCache(source),
    paths: options.paths ?? source.paths ?? [],
    building: options.building ?? false,
    filter,
    orderers: new OrdererList(options.orderers ?? []),
    requestList,
    lateRequires: options.lateRequires,
    ...(options.variantSelectMode !== undefined ? { variantSelectMode: options.variantSelectMode } : {}),
    ...(options.errorOnMissingVariantRequires !== undefined
      ? { errorOnMissingVariantRequires: options.errorOnMissingVariantRequires }
      : {}),
  });
  const result = new Solver(ctx, options).run();
  const missing = result.failure?.kind === "missing-family" ? result.failure.missing?.requirement : undefined;
  const names = (source as { familyNames?: () => string[] }).familyNames;
  if (missing !== undefined && typeof names === "function") {
    // A mistyped name is the usual cause: say which family was probably meant.
    const near = closestName(missing, names.call(source));
    if (near !== undefined) result.failure!.explanation += `; did you mean ${near}?`;
  }
  return result;
}

function toRequirement(r: string | Requirement): Requirement {
  if (typeof r !== "string") return r;
  return Requirement.parse(r);
}

class Solver {
  private readonly stack: Phase[] = [];
  /** Rez keeps every failed phase; only the first is ever reported (the last is the top of the stack). */
  private firstFailed: Phase | null = null;
  private lastFailed: Phase | null = null;
  private failedCount = 0;
  private steps = 0;
  private abortReason: string | null = null;
  private failedByCallback = false;
  private readonly start = performance.now();

  constructor(
    private readonly ctx: SolveContext,
    private readonly options: SolveOptions,
  ) {}

  run(): SolveResult {
    const ctx = this.ctx;
    const requestList = ctx.requestList;
    if (requestList.conflict) {
      const [a, b] = requestList.conflict;
      const phase = new Phase([], PhaseStatus.Failed, [], {
        type: "conflict",
        dependency: a,
        conflicting: b,
        dependencyFrom: { kind: "request" },
        conflictingFrom: { kind: "request" },
      });
      this.stack.push(phase);
      return this.result();
    }
    try {
      const scopes = requestList.requirements.map((r) => Scope.create(ctx, r, { kind: "request", requirement: r }));
      this.stack.push(
        new Phase(
          scopes,
          PhaseStatus.Pending,
          scopes.map((_, i) => i),
        ),
      );
      while (this.status() === "unsolved") {
        this.step();
        if (this.status() === "unsolved" && !this.callback()) break;
      }
    } catch (e) {
      return this.errorResult(e);
    }
    return this.result();
  }

  /** Rez `Solver.status`. */
  private status(): "unsolved" | "solved" | "failed" {
    if (this.failedByCallback) return "failed";
    const top = this.stack[this.stack.length - 1]!;
    const st = top.status;
    if (st === PhaseStatus.Cyclic) return "failed";
    if (this.stack.length > 1) return st === PhaseStatus.Solved ? "solved" : "unsolved";
    if (st === PhaseStatus.Pending || st === PhaseStatus.Exhausted) return "unsolved";
    return st === PhaseStatus.Solved ? "solved" : "failed";
  }

  /** Rez `solve_step`: pop, split if exhausted, solve, push. */
  private step(): void {
    let phase = this.stack.pop()!;
    if (phase.status === PhaseStatus.Failed) {
      this.firstFailed ??= phase;
      this.lastFailed = phase;
      this.failedCount++;
      phase = this.stack.pop()!;
    }
    if (phase.status === PhaseStatus.Exhausted) {
      const [a, b] = phase.split(this.ctx);
      this.stack.push(b);
      phase = a;
    }
    const next = phase.solve(this.ctx);
    this.steps++;
    this.stack.push(next.status === PhaseStatus.Solved ? next.finalise(this.ctx) : next);
  }

  private get numFails(): number {
    const top = this.stack[this.stack.length - 1];
    if (!top) return this.failedCount;
    return this.failedCount + (top.status === PhaseStatus.Failed || top.status === PhaseStatus.Cyclic ? 1 : 0);
  }

  /** ResolvedContext's callback: max_fails, then the time limit. False stops the solve. */
  private callback(): boolean {
    const maxFails = this.options.maxFails ?? -1;
    if (maxFails !== -1 && this.numFails >= maxFails) {
      if (this.numFails) {
        this.abortReason = `fail limit reached: aborted after ${this.numFails} failures`;
        this.failedByCallback = true;
        return false;
      }
      return true;
    }
    const limit = this.options.timeLimit ?? -1;
    if (limit !== -1 && (performance.now() - this.start) / 1000 > limit) {
      this.abortReason = "time limit exceeded";
      return false;
    }
    return true;
  }

  private result(): SolveResult {
    const ctx = this.ctx;
    const base = {
      request: [...ctx.requestList.requirements],
      steps: this.steps,
      fails: this.numFails,
      families: [...ctx.asked].sort(),
      ...(ctx.warnings.length ? { warnings: [...ctx.warnings] } : {}),
    };
    const st = this.status();
    if (st === "solved") {
      const final = this.stack[this.stack.length - 1]!;
      return {
        ...base,
        status: "solved",
        resolved: final.solvedVariants(ctx).map((v) => v.variant),
        ephemerals: final.solvedEphemerals(),
      };
    }
    if (st === "unsolved") {
      return {
        ...base,
        status: "aborted",
        resolved: [],
        ephemerals: [],
        failure: {
          kind: "time-limit",
          description: this.abortReason ?? "",
          explanation: `the solve was stopped: ${this.abortReason}`,
        },
      };
    }
    // Rez `_get_failed_phase`: the cycle (or the callback's) failure is the last one, otherwise the first
    const top = this.stack[this.stack.length - 1]!;
    const topFailed = top.status === PhaseStatus.Failed || top.status === PhaseStatus.Cyclic;
    const useLast = top.status === PhaseStatus.Cyclic || this.failedByCallback;
    const phase = useLast ? (topFailed ? top : this.lastFailed!) : (this.firstFailed ?? top);
    const failure = explainFailure(phase.failure as FailureReason, phase);
    if (this.failedByCallback) {
      failure.kind = "max-fails";
      failure.description = `${this.abortReason}:\n${failure.description}`;
      failure.explanation = `${this.abortReason}; the last failure: ${failure.explanation}`;
    }
    return { ...base, status: "failed", resolved: [], ephemerals: [], failure };
  }

  /** Rez raises for these; they end the solve without backtracking. */
  private errorResult(e: unknown): SolveResult {
    const base = {
      request: [...this.ctx.requestList.requirements],
      steps: this.steps,
      fails: this.numFails,
      families: [...this.ctx.asked].sort(),
      ...(this.ctx.warnings.length ? { warnings: [...this.ctx.warnings] } : {}),
      status: "failed" as const,
      resolved: [],
      ephemerals: [],
    };
    if (e instanceof MissingFamilyError) {
      const chain = e.requiredBy.length ? ` (required by ${e.requiredBy.join(", ")})` : " (requested)";
      const where = this.ctx.paths.length ? ` in ${this.ctx.paths.join(", ")}` : "";
      return {
        ...base,
        failure: {
          kind: "missing-family",
          description: e.message,
          explanation: `no package family '${e.family}' exists${where}${chain}`,
          missing: { requirement: e.family, requiredBy: e.requiredBy.map((n) => [n]) },
        },
      };
    }
    if (e instanceof MissingVersionError) {
      const r = e.requirement;
      return {
        ...base,
        failure: {
          kind: "missing-version",
          description: e.message,
          explanation: `no version of ${r.name} satisfies ${r.toString()}${e.requiredBy.length ? ` (required by ${e.requiredBy.join(", ")})` : " (requested)"}${this.hiddenNote(r.name)}`,
          missing: { requirement: r.toString(), requiredBy: e.requiredBy.map((n) => [n]) },
        },
      };
    }
    if (e instanceof BrokenPackageReachedError) {
      const f = e.failure;
      const by = e.requiredBy.length ? `required by ${e.requiredBy.join(", ")}` : "requested";
      return {
        ...base,
        failure: {
          kind: "broken-package",
          description: e.message,
          // One sentence that stands alone (env, shell and build print only this): where, why, and what to do.
          explanation:
            `${e.pkg.qualifiedName} (in the range ${e.requirement.toString()}, ${by}) does not load: ` +
            `${f.file}${f.line !== undefined ? `:${f.line}` : ""}: ${f.message}; Rez refuses such a resolve too rather than pick another version: ` +
            `fix the definition, or hide the version with an .ignore${e.pkg.version.toString()} file in ${path.dirname(e.pkg.base)}`,
          missing: { requirement: e.requirement.toString(), requiredBy: e.requiredBy.map((n) => [n]) },
          broken: {
            package: e.pkg.qualifiedName,
            file: f.file,
            ...(f.line !== undefined ? { line: f.line } : {}),
            message: f.message,
          },
        },
      };
    }
    if (e instanceof InternalConflictError) {
      return {
        ...base,
        failure: {
          kind: "internal-conflict",
          description: e.message,
          explanation: `${e.variant.str} requires both ${e.first.toString()} and ${e.second.toString()}, which cannot both hold`,
        },
      };
    }
    if (e instanceof PyCompareError || e instanceof OrdererError) {
      // Rez itself crashes here (its orderers or sort keys raise); report what it raises
      return {
        ...base,
        failure: {
          kind: "error",
          description: e.message,
          explanation: `Rez's solver raises an error here: ${e.message}`,
        },
      };
    }
    throw e;
  }

  private hiddenNote(name: string): string {
    const fam = this.ctx.family(name);
    if (!fam) return "";
    let hidden = 0;
    for (let i = 0; i < fam.info.size; i++) if (!fam.visible(i)) hidden++;
    return hidden ? ` (${hidden} of its ${fam.info.size} versions are hidden by package filters or the timestamp)` : "";
  }
}
