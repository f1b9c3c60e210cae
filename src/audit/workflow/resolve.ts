/**
 * A workflow's resolve as the audit needs it: the variants (with the
 * configured `add_requires` applied), the requirements each resolved package
 * really has (late-bound ones as evaluated during the solve), and the
 * requirement closure of each package within the resolve.
 */
import type { LoadedConfig, ResolveSettingsOf } from "../../config/index.js";
import { configuredRepositoryOptions, configuredSolveOptions, getWorkflow } from "../../config/index.js";
import { TantalusError } from "../../errors.js";
import type { Package, Variant } from "../../rez/package.js";
import { Repositories } from "../../rez/repository/index.js";
import { hostSystem, implicitPackagesFor } from "../../rez/system.js";
import { Requirement } from "../../rez/version/index.js";
import { solve, type LateRequiresHook, type PackageSource } from "../../solver/index.js";
import { lateRequiresHook } from "../../rex/index.js";
import { applyPackageOverrides, overrideLateRequires } from "../repair.js";
import { requireInstallRoots } from "../../context/context.js";

export interface WorkflowResolve {
  workflow: string;
  request: string[];
  implicitPackages: string[];
  packagePaths: string[];
  /** Resolved variants in Rez's resolve order. */
  variants: Variant[];
  /** Each resolved package's requirements (package + variant, late ones evaluated), by package name. */
  requires: Map<string, Requirement[]>;
}

export interface ResolveWorkflowOptions {
  /** Repositories to resolve from (default: the configuration's packages_path). */
  repos?: PackageSource & { readonly paths?: readonly string[] };
  /** Evaluates `@late()` requires (default: rex's evaluator, as Rez evaluates them during a solve). */
  lateRequires?: LateRequiresHook;
  /** Apply the configuration's add_requires (default true). */
  overrides?: boolean;
}

export type ResolveConfig = Pick<
  LoadedConfig,
  "workflows" | "implicitPackages" | "packagesPath" | "packages" | "dir" | "displayFile"
> &
  ResolveSettingsOf;

export function resolveWorkflow(
  config: ResolveConfig,
  name: string,
  opts: ResolveWorkflowOptions = {},
): WorkflowResolve {
  const wf = getWorkflow(config as LoadedConfig, name);
  const repos = opts.repos ?? new Repositories(config.packagesPath, configuredRepositoryOptions(config));
  const overrides = opts.overrides ?? true;
  const source = overrides ? applyPackageOverrides(repos, config) : repos;
  const implicit = config.implicitPackages ?? implicitPackagesFor(hostSystem());
  // Record what each late requires evaluated to: the closure needs it.
  const late = new Map<Package, readonly string[]>();
  const evaluate = opts.lateRequires ?? lateRequiresHook();
  const hook = overrides ? overrideLateRequires(evaluate, config)! : evaluate;
  const recording: LateRequiresHook = (pkg, ctx) => {
    const r = hook(pkg, ctx);
    late.set(pkg, r);
    return r;
  };
  // The configuration's filters, orderers and variant selection, as tantalus resolve and build use them.
  const result = solve(wf.request, source, {
    ...configuredSolveOptions(config),
    implicitPackages: implicit,
    lateRequires: recording,
    paths: repos.paths,
  });
  if (result.status !== "solved") {
    throw new TantalusError(
      `workflow '${name}' does not resolve: ${result.failure?.explanation ?? result.failure?.description ?? result.status}`,
    );
  }
  // Without the payloads there is nothing to audit, and "clean" would be a lie.
  requireInstallRoots(result.resolved, `workflow '${name}'`);
  const requires = new Map<string, Requirement[]>();
  for (const v of result.resolved) {
    const evaluated = late.get(v.package);
    const pkgReqs = evaluated ? evaluated.map((s) => Requirement.parse(s)) : v.package.requires;
    requires.set(v.name, [...pkgReqs, ...v.variantRequires]);
  }
  return {
    workflow: name,
    request: [...wf.request],
    implicitPackages: [...implicit],
    packagePaths: [...(repos.paths ?? config.packagesPath)],
    variants: result.resolved,
    requires,
  };
}

/**
 * Requirement closures within the resolve, by package qualified name: a
 * package requires itself, what it requires (not weakly: `~foo` only limits
 * foo's version), and what those require.
 */
export function requirementClosures(resolve: WorkflowResolve): Map<string, Set<string>> {
  const idOf = new Map(resolve.variants.map((v) => [v.name, v.package.qualifiedName]));
  const direct = new Map<string, string[]>();
  for (const v of resolve.variants) {
    const deps = (resolve.requires.get(v.name) ?? v.requires)
      .filter((r) => !r.weak && !r.conflict && idOf.has(r.name))
      .map((r) => idOf.get(r.name)!);
    direct.set(v.package.qualifiedName, deps);
  }
  const closures = new Map<string, Set<string>>();
  for (const id of direct.keys()) {
    const seen = new Set<string>([id]);
    const stack = [id];
    while (stack.length > 0)
      for (const d of direct.get(stack.pop()!) ?? []) if (!seen.has(d)) (seen.add(d), stack.push(d));
    closures.set(id, seen);
  }
  return closures;
}
