/**
 * The resolves a build starts from: each workflow's request solved against
 * the configured repositories, or a saved context (the lock) rebuilt exactly,
 * after checking that the package definitions it names did not move.
 */
import type { LoadedConfig, WorkflowConfig } from "../config/index.js";
import { configuredRepositoryOptions, configuredSolveOptions, getWorkflow } from "../config/index.js";
import {
  contextProblems,
  loadContext,
  makeContext,
  variantsOfContext,
  type ResolvedContext,
} from "../context/context.js";
import { InputError, TantalusError } from "../errors.js";
import type { Package, Variant } from "../rez/package.js";
import { Repositories, type RepositoryObservation } from "../rez/repository/index.js";
import { hostSystem, implicitPackagesFor } from "../rez/system.js";
import { lateRequiresHook } from "../rex/late.js";
import { solve, type LateRequiresHook } from "../solver/index.js";
import { applyPackageOverrides, overrideLateRequires } from "../audit/repair.js";

export interface WorkflowResolve {
  name: string;
  definition: WorkflowConfig;
  /** The resolve with host paths (what `tantalus resolve -o` writes). */
  context: ResolvedContext;
  variants: Variant[];
  /** "resolved" or the context file it was read from. */
  origin: string;
  /** `@late()` requires as the solve evaluated them, by package (not known for a saved context). */
  lateRequires?: ReadonlyMap<Package, readonly string[]>;
  /** The families the solve asked for, as the repositories held them (for the workflow's stamp). */
  observation?: RepositoryObservation;
}

export interface ResolveSettings {
  /** Package search paths; default: the configuration's packages_path (TANTALUS_PACKAGES_PATH and --paths are layers of it). */
  packagePaths?: string[];
  /** Default: the configuration's implicit_packages, else the host's ~platform/~arch/~os. */
  implicitPackages?: string[];
}

/** The repositories a configuration reads, opened once per build. */
export function openBuildRepositories(config: LoadedConfig, settings: ResolveSettings = {}): Repositories {
  const paths = settings.packagePaths ?? config.packagesPath;
  if (paths.length === 0) {
    throw new InputError(
      "no package repositories: set packages_path in the configuration (or TANTALUS_PACKAGES_PATH)",
      config.locate(["packages_path"]),
    );
  }
  // Observed, so each workflow's stamp can later tell with stats alone whether its resolve still holds.
  // Rooted and loaded as the configuration says (use_variant_shortlinks, target), as tantalus resolve reads them.
  return new Repositories(paths, { observe: true, ...configuredRepositoryOptions(config) });
}

export function implicitPackagesOf(config: LoadedConfig, settings: ResolveSettings = {}): string[] {
  return settings.implicitPackages ?? config.implicitPackages ?? implicitPackagesFor(hostSystem());
}

/** Solve a workflow's request; a failed resolve is an error naming the workflow. */
export function resolveWorkflow(
  config: LoadedConfig,
  name: string,
  repos: Repositories,
  implicit: readonly string[],
): WorkflowResolve {
  const definition = getWorkflow(config, name);
  const evaluate = lateRequiresHook();
  const late = new Map<Package, readonly string[]>();
  const recording: LateRequiresHook = (pkg, ctx) => {
    const r = evaluate(pkg, ctx);
    late.set(pkg, r);
    return r;
  };
  // The configuration's add_requires (packages.<name>.add_requires) apply at resolve time, as the audit assumes.
  // The configuration's filters, orderers and variant selection (Rez's, or tantalus.yaml's), as tantalus resolve uses.
  const result = solve(definition.request, applyPackageOverrides(repos, config), {
    ...configuredSolveOptions(config),
    implicitPackages: [...implicit],
    lateRequires: overrideLateRequires(recording, config),
    paths: repos.paths,
  });
  if (result.status !== "solved") {
    const why = result.failure?.explanation ?? result.failure?.description ?? result.status;
    throw new TantalusError(
      `workflow ${name} does not resolve (${definition.request.join(" ")}): ${why}`,
      config.locate(["workflows", name, "request"]),
    );
  }
  const context = makeContext({
    request: [...definition.request],
    implicitPackages: [...implicit],
    packagePaths: repos.paths,
    status: "solved",
    resolved: result.resolved,
    ephemerals: result.ephemerals.map(String),
  });
  const observation = repos.observing ? repos.observation(result.families) : undefined;
  return {
    name,
    definition,
    context,
    variants: result.resolved,
    origin: "resolved",
    lateRequires: late,
    ...(observation ? { observation } : {}),
  };
}

/**
 * A saved context for `name`: refused when it failed to resolve, or when a
 * package definition or install root it names changed or disappeared
 * (rebuilding it would not give the image it describes).
 */
export function workflowFromContext(config: LoadedConfig, name: string, file: string): WorkflowResolve {
  const definition = getWorkflow(config, name);
  const context = loadContext(file);
  // The lock's own search paths: the lock names where each variant came from.
  let repos: Repositories | undefined;
  const problems = contextProblems(context, (paths) => (repos = new Repositories(paths)));
  if (problems.length > 0) {
    if (context.status !== "solved") throw new InputError(`the context is ${problems[0]!.problem}`, { file });
    const lines = problems.map((d) => `  ${d.variant}: ${d.problem}`);
    throw new InputError(
      `the packages moved since this context was saved, so it can no longer be rebuilt exactly:\n${lines.join("\n")}\n` +
        `resolve again (tantalus resolve --workflow ${name} -o ${file}) or build without --context`,
      { file },
    );
  }
  return { name, definition, context, variants: variantsOfContext(context, repos!), origin: file };
}

/** Variants in the order Rez resolved them, as qualified names. */
export function resolveNames(r: WorkflowResolve): string[] {
  return r.variants.map((v) => v.qualifiedName);
}
