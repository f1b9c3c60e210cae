/**
 * Resolving a workflow of tantalus.yaml: the one place where a workflow's
 * request, the implicit packages, the configured `add_requires`, the
 * `@late()` requires, the package filters and time, and the repositories
 * become a resolve. Every command that works on a workflow (plan, audit,
 * build and so run, env -w, resolve -w) resolves it here once and hands the
 * WorkflowResolve down, so the plan, the audit, the build's audit gate and
 * the environment all see the same packages with the same requirements;
 * when each resolved on its own, they disagreed (an `add_requires` on a
 * `@late()` package the gate did not see, a plan without `add_requires`).
 */
import type { LoadedConfig, ResolveSettingsOf, WorkflowConfig } from "../config/index.js";
import {
  configuredPythonOption,
  configuredRepositoryOptions,
  configuredSolveOptions,
  getWorkflow,
} from "../config/index.js";
import {
  contextProblems,
  loadContext,
  makeContext,
  namedSystem,
  variantsOfContext,
  type ResolveDecisions,
  type ResolvedContext,
} from "../context/context.js";
import { InputError, TantalusError, type SourceLocation } from "../errors.js";
import type { Package, Variant } from "../rez/package.js";
import { Repositories, type RepositoryObservation } from "../rez/repository/index.js";
import { hostSystem, implicitPackagesFor } from "../rez/system.js";
import { Requirement } from "../rez/version/index.js";
import { lateOptionsOf, lateRequiresHook } from "../rex/late.js";
import type { PackageFilterList } from "../solver/filter.js";
import type { PackageOrderer } from "../solver/order.js";
import type { VariantSelectMode } from "../solver/context.js";
import type { SystemInfo } from "../rez/system.js";
import { solve, type LateRequiresHook, type PackageSource, type SolveResult } from "../solver/index.js";
import { applyPackageOverrides, overrideLateRequires } from "./overrides.js";

/** A workflow resolved: what every stage after the resolve reads. */
export interface WorkflowResolve {
  /** The workflow's name in tantalus.yaml. */
  name: string;
  definition: WorkflowConfig;
  /** What was solved: the workflow's request, then requirements given on the command line. */
  request: string[];
  implicitPackages: string[];
  /** The repositories, in search order. */
  packagePaths: string[];
  /** Packages released after this instant were ignored (epoch seconds), when set. */
  timestamp?: number;
  /** The lock, with host paths (what `tantalus resolve -o` writes and the image's context.json maps). */
  context: ResolvedContext;
  /** Resolved variants in Rez's resolve order. */
  variants: Variant[];
  /**
   * Each resolved variant's requirements as the solve saw them, by family:
   * the package's (a `@late()` function's as evaluated, `add_requires`
   * included) then the variant's. The requires graph of the plan and the
   * audit's requirement closures both read this, never the definitions again.
   */
  requires: ReadonlyMap<string, readonly Requirement[]>;
  /** Whether the configuration's add_requires were applied (off only for `audit --no-repair`). */
  overrides: boolean;
  /** "resolved", or the context file the resolve was read from. */
  origin: string;
  /** The families the solve asked for, as observing repositories held them (the workflow's stamp). */
  observation?: RepositoryObservation;
}

/** What the stage reads from tantalus.yaml. */
export type WorkflowStageConfig = Pick<
  LoadedConfig,
  "workflows" | "implicitPackages" | "packages" | "packagesPath" | "files" | "displayFile" | "locate"
> &
  ResolveSettingsOf;

export interface ResolveWorkflowOptions {
  /** The repositories (opened once per command, shared by its resolves); default: the configuration's packages_path. */
  repos?: PackageSource & { readonly paths?: readonly string[] };
  /** Default: the configuration's implicit_packages, else the host's ~platform/~arch/~os; [] for --no-implicit. */
  implicitPackages?: readonly string[];
  /** Requirements appended to the workflow's request (`resolve -w W foo`, `env -w W foo`). */
  extraRequest?: readonly string[];
  /** Ignore packages released after this epoch time (--time). */
  timestamp?: number;
  /** The package filter instead of the configuration's (rez-env's --exclude/--include/--no-filters applied to it); null: none. */
  packageFilter?: PackageFilterList | null;
  /** Apply the configuration's add_requires (default true; `audit --no-repair` turns them off). */
  overrides?: boolean;
  /** Evaluates `@late()` requires (default: rex's evaluator, as Rez evaluates them during a solve). */
  lateRequires?: LateRequiresHook;
}

/**
 * Does this resolve differ from the workflow's configured one (search paths,
 * implicit packages or time given on the command line)? Its image must then
 * never move the workflow's tag (src/image/dev-tag.ts).
 */
export function differsFromConfigured(settings: {
  packagePaths?: readonly string[];
  implicitPackages?: readonly string[];
  timestamp?: number;
}): boolean {
  return (
    settings.packagePaths !== undefined || settings.implicitPackages !== undefined || settings.timestamp !== undefined
  );
}

/** The repositories a configuration reads, opened once per command. */
export function openWorkflowRepositories(
  config: Pick<LoadedConfig, "packagesPath" | "locate"> & ResolveSettingsOf,
  opts: { packagePaths?: readonly string[]; observe?: boolean } = {},
): Repositories {
  const paths = opts.packagePaths ?? config.packagesPath;
  if (paths.length === 0) {
    throw new InputError(
      "no package repositories: set packages_path in the configuration (or TANTALUS_PACKAGES_PATH)",
      config.locate(["packages_path"]),
    );
  }
  // Rooted and loaded as the configuration says (use_variant_shortlinks, target), as rez-env reads them.
  return new Repositories([...paths], {
    ...(opts.observe ? { observe: true } : {}),
    ...configuredRepositoryOptions(config),
  });
}

/** The implicit packages of a configuration: its implicit_packages, else the host's ~platform/~arch/~os. */
export function implicitPackagesOf(
  config: Pick<LoadedConfig, "implicitPackages">,
  given?: readonly string[],
): string[] {
  return [...(given ?? config.implicitPackages ?? implicitPackagesFor(hostSystem()))];
}

/**
 * What decided a resolve besides its request, for the lock (and its .rxt) to
 * record as Rez's context does: the package filter and orderers in their POD
 * forms, the variant selection, and the platform resolved for (a configured
 * target, else what the implicit packages name; with neither, the host's,
 * left out of the lock and asked when it is needed).
 */
export function resolveDecisions(
  solveOptions: {
    packageFilter?: PackageFilterList | null;
    orderers?: readonly PackageOrderer[];
    variantSelectMode?: VariantSelectMode;
  },
  implicitPackages: readonly string[],
  target?: SystemInfo,
): ResolveDecisions {
  const orderers = (solveOptions.orderers ?? []).map((o) => o.toPod());
  // Only what is known without asking the host (lsb_release): a lock without it was resolved for the host.
  const system = target ?? namedSystem(implicitPackages);
  return {
    packageFilter: solveOptions.packageFilter?.toPod() ?? [],
    packageOrderers: orderers.length > 0 ? orderers : null,
    variantSelectMode: solveOptions.variantSelectMode ?? "version_priority",
    ...(system ? { system } : {}),
  };
}

/** A solve of a workflow's request, solved or not (`resolve -w` prints a failure as `resolve` does). */
export interface WorkflowSolve {
  result: SolveResult;
  /** Set when the solve succeeded. */
  resolve?: WorkflowResolve;
  request: string[];
  implicitPackages: string[];
  packagePaths: string[];
}

/** Solves workflow `name`'s request with everything the configuration says about it. */
export function solveWorkflow(
  config: WorkflowStageConfig,
  name: string,
  opts: ResolveWorkflowOptions = {},
): WorkflowSolve {
  const definition = getWorkflow(config as LoadedConfig, name);
  const repos = opts.repos ?? openWorkflowRepositories(config);
  const overrides = opts.overrides ?? true;
  const implicit = implicitPackagesOf(config, opts.implicitPackages);
  const request = [...definition.request, ...(opts.extraRequest ?? [])];
  const packagePaths = [...(repos.paths ?? config.packagesPath)];
  // What each late requires evaluated to, overrides included: the requires graph needs it.
  const late = new Map<Package, readonly string[]>();
  const evaluate = opts.lateRequires ?? lateRequiresHook(lateOptionsOf(config));
  const hook = overrides ? overrideLateRequires(evaluate, config) : evaluate;
  const recording: LateRequiresHook = (pkg, ctx) => {
    const r = hook(pkg, ctx);
    late.set(pkg, r);
    return r;
  };
  // The configuration's filters, orderers and variant selection (Rez's, or tantalus.yaml's), as rez-env uses them.
  const solveOptions = {
    ...configuredSolveOptions(config),
    ...(opts.packageFilter !== undefined ? { packageFilter: opts.packageFilter } : {}),
  };
  const result = solve(request, overrides ? applyPackageOverrides(repos, config) : repos, {
    ...solveOptions,
    implicitPackages: implicit,
    lateRequires: recording,
    paths: packagePaths,
    ...(opts.timestamp !== undefined ? { timestamp: opts.timestamp } : {}),
  });
  const out: WorkflowSolve = { result, request, implicitPackages: implicit, packagePaths };
  if (result.status !== "solved") return out;
  const context = makeContext({
    request,
    implicitPackages: implicit,
    packagePaths,
    timestamp: opts.timestamp ?? null,
    status: "solved",
    resolved: result.resolved,
    ephemerals: result.ephemerals.map(String),
    decidedBy: resolveDecisions(solveOptions, implicit, config.target),
  });
  const observation = repos instanceof Repositories && repos.observing ? repos.observation(result.families) : undefined;
  out.resolve = {
    name,
    definition,
    request,
    implicitPackages: implicit,
    packagePaths,
    ...(opts.timestamp !== undefined ? { timestamp: opts.timestamp } : {}),
    context,
    variants: result.resolved,
    requires: requiresOf(result.resolved, (pkg) => late.get(pkg)),
    overrides,
    origin: "resolved",
    ...(observation ? { observation } : {}),
  };
  return out;
}

/** Resolves workflow `name`; one that does not resolve is an error naming the workflow and its request in tantalus.yaml. */
export function resolveWorkflow(
  config: WorkflowStageConfig,
  name: string,
  opts: ResolveWorkflowOptions = {},
): WorkflowResolve {
  const solved = solveWorkflow(config, name, opts);
  if (solved.resolve) return solved.resolve;
  const r = solved.result;
  const why = r.failure?.explanation ?? r.failure?.description ?? r.status;
  throw new WorkflowUnresolvedError(name, solved.request, why, config.locate(["workflows", name, "request"]));
}

/**
 * A workflow whose request does not resolve, with its parts kept apart, so a
 * caller whose "workflow" is not in tantalus.yaml (`run --request`) can say it
 * in its own words instead of naming a file line the user never wrote.
 */
export class WorkflowUnresolvedError extends TantalusError {
  constructor(
    readonly workflow: string,
    readonly request: readonly string[],
    /** The solver's explanation. */
    readonly why: string,
    location?: SourceLocation,
  ) {
    super(`workflow ${workflow} does not resolve (${request.join(" ")}): ${why}`, location);
  }
}

export interface ResolvedWorkflows {
  /** By workflow name, in name order. */
  resolves: Map<string, WorkflowResolve>;
  /** Workflows that do not resolve, each with why. */
  failed: { workflow: string; message: string; error: TantalusError }[];
  seconds: number;
}

/**
 * Resolves `names` (every workflow of the configuration when omitted),
 * sharing the repositories and so the solver's family cache. A workflow
 * that does not resolve is reported in `failed`, for the caller to decide:
 * the plan and the build leave it out of the studio-wide layer plan, and
 * fail when it is one they were asked for.
 */
export function resolveWorkflows(
  config: WorkflowStageConfig,
  names: readonly string[] | undefined,
  opts: ResolveWorkflowOptions = {},
): ResolvedWorkflows {
  const t0 = performance.now();
  const repos = opts.repos ?? openWorkflowRepositories(config);
  const resolves = new Map<string, WorkflowResolve>();
  const failed: ResolvedWorkflows["failed"] = [];
  for (const name of [...(names ?? Object.keys(config.workflows))].sort()) {
    try {
      resolves.set(name, resolveWorkflow(config, name, { ...opts, repos }));
    } catch (e) {
      if (!(e instanceof TantalusError)) throw e;
      failed.push({ workflow: name, message: e.message, error: e });
    }
  }
  return { resolves, failed, seconds: (performance.now() - t0) / 1000 };
}

/**
 * A saved context for workflow `name`: refused when it failed to resolve, or
 * when a package definition or install root it names changed or disappeared
 * (rebuilding it would not give the image it describes). The lock does not
 * record what `@late()` requires evaluated to, so they are evaluated again,
 * with the configuration's add_requires, as the solve would have.
 */
export function workflowFromContext(
  config: WorkflowStageConfig,
  name: string,
  file: string,
  opts: Pick<ResolveWorkflowOptions, "lateRequires" | "overrides"> = {},
): WorkflowResolve {
  const definition = getWorkflow(config as LoadedConfig, name);
  const context = loadContext(file);
  // The lock's own search paths: the lock names where each variant came from.
  let repos: Repositories | undefined;
  const problems = contextProblems(
    context,
    (paths) => (repos = new Repositories(paths, configuredPythonOption(config))),
  );
  if (problems.length > 0) {
    if (context.status !== "solved") throw new InputError(`the context is ${problems[0]!.problem}`, { file });
    const lines = problems.map((d) => `  ${d.variant}: ${d.problem}`);
    throw new InputError(
      `the packages moved since this context was saved, so it can no longer be rebuilt exactly:\n${lines.join("\n")}\n` +
        `resolve again (tantalus resolve --workflow ${name} -o ${file}) or build without --context`,
      { file },
    );
  }
  const overrides = opts.overrides ?? true;
  const source = overrides ? applyPackageOverrides(repos!, config) : repos!;
  const variants = variantsOfContext(context, source);
  const evaluate = opts.lateRequires ?? lateRequiresHook(lateOptionsOf(config));
  const hook = overrides ? overrideLateRequires(evaluate, config) : evaluate;
  const request = context.request.map((r) => Requirement.parse(r));
  const late = new Map<Package, readonly string[]>();
  const lateOf = (pkg: Package): readonly string[] | undefined => {
    if (!pkg.hasLateRequires) return undefined;
    let r = late.get(pkg);
    if (!r) late.set(pkg, (r = hook(pkg, { building: false, request })));
    return r;
  };
  return {
    name,
    definition,
    request: [...context.request],
    implicitPackages: [...context.implicitPackages],
    packagePaths: [...context.packagePaths],
    ...(context.timestamp !== null ? { timestamp: context.timestamp } : {}),
    context,
    variants,
    requires: requiresOf(variants, lateOf),
    overrides,
    origin: file,
  };
}

/** Each variant's requirements: its package's (late ones as evaluated) then its own, by family. */
function requiresOf(
  variants: readonly Variant[],
  lateOf: (pkg: Package) => readonly string[] | undefined,
): Map<string, Requirement[]> {
  const out = new Map<string, Requirement[]>();
  for (const v of variants) {
    const evaluated = lateOf(v.package);
    out.set(v.name, evaluated ? [...evaluated.map((s) => Requirement.parse(s)), ...v.variantRequires] : v.requires);
  }
  return out;
}

/** Variants in the order Rez resolved them, as qualified names. */
export function resolveNames(r: WorkflowResolve): string[] {
  return r.variants.map((v) => v.qualifiedName);
}
