import { configuredSolveOptions, type LoadedConfig, type ResolveSettingsOf } from "../config/index.js";
import { InputError, TantalusError, UsageError, type SourceLocation } from "../errors.js";
import type { Package, Variant } from "../rez/package.js";
import { hostSystem, implicitPackagesFor } from "../rez/system.js";
import { Requirement } from "../rez/version/index.js";
import { lateRequiresHook } from "../rex/index.js";
import { rootMapper } from "../rex/interpret.js";
import { solve, type LateRequiresHook, type PackageSource } from "../solver/index.js";
import { RootMeasurer } from "./measure.js";
import { compareStrategies, type StrategyResult } from "./report.js";
import { TierAssigner, type TierSource } from "./tiers.js";
import { MAX_BUDGET, type PlanImage, type PlanInput, type PlanVariant, type Strategy } from "./types.js";

/** What planning reads from tantalus.yaml. */
export type PlanConfig = Pick<LoadedConfig, "workflows" | "implicitPackages" | "layers" | "packages" | "locate"> &
  ResolveSettingsOf & {
    config: { image: { root_map: Record<string, string> } };
  };

/** One workflow's resolve, as the planner needs it. */
export interface ResolvedImage {
  name: string;
  /** Resolved variants in Rez's order. */
  variants: readonly Variant[];
  /** Requirements evaluated for `@late()` requires during the solve, by package: the requires graph needs them. */
  lateRequires?: ReadonlyMap<Package, readonly string[]>;
}

export interface PlanInputOptions {
  /** Overrides the configuration's layers.budget. */
  budget?: number;
  /**
   * Layers of the base image under every workflow image. The build knows them from the
   * base manifest; without it the demo base's single layer is assumed (default 1).
   */
  baseLayers?: number;
  /** Layers above the planned ones (default 1: environment, entrypoint, context). */
  reservedTop?: number;
  bigLayerBytes?: number;
  /** Shared across calls to measure each root once. */
  measurer?: RootMeasurer;
}

export interface StudioPlanInput {
  input: PlanInput;
  /** Variant id -> the resolved variant. */
  variants: Map<string, Variant>;
  /** Per variant id: where its tier came from. */
  tierSources: Record<string, TierSource>;
  warnings: string[];
  measureSeconds: number;
}

/**
 * A variant's id: its qualified name and its repository as the image sees it
 * (image.root_map applied), so the plan, and so the layer order, never depends on
 * where the build machine mounts the repositories.
 */
export function variantIdFor(rootMap: Readonly<Record<string, string>>): (v: Variant) => string {
  const map = rootMapper(rootMap);
  return (v) => `${v.qualifiedName}@${map(v.package.repository)}`;
}

/**
 * The planner's input for resolved workflow images: each variant measured on disk
 * (regular files under its root), given its tier (tiers.ts), and linked to the variants
 * it requires in each image (late requires as evaluated, when given).
 */
export function planInputFor(
  config: PlanConfig,
  images: readonly ResolvedImage[],
  opts: PlanInputOptions = {},
): StudioPlanInput {
  const where = (path: (string | number)[]): SourceLocation => config.locate(path);
  const configBudget = config.layers.budget;
  if (opts.budget === undefined && configBudget > MAX_BUDGET) {
    throw new InputError(
      `layers.budget ${configBudget} is above ${MAX_BUDGET}: dockerd refuses deeper layer chains ("max depth exceeded")`,
      where(["layers", "budget"]),
    );
  }
  const tiers = tierAssigner(config, where);
  const idOf = variantIdFor(config.config.image.root_map);
  const measurer = opts.measurer ?? new RootMeasurer();
  const warnings = new Set<string>();
  const tierSources: Record<string, TierSource> = {};
  const known = new Map<string, { pv: PlanVariant; variant: Variant }>();
  let measureSeconds = 0;

  const planImages: PlanImage[] = images.map((image) => {
    const ids = new Map(image.variants.map((v) => [v.name, idOf(v)]));
    const variants = image.variants.map((v): PlanVariant => {
      const id = idOf(v);
      let hit = known.get(id);
      if (hit && hit.variant.root !== v.root) {
        throw new InputError(
          `image.root_map puts ${hit.variant.root} and ${v.root} (both ${v.qualifiedName}) at the same image path`,
          where(["image", "root_map"]),
        );
      }
      if (!hit) {
        const t0 = performance.now();
        const size = measurer.measure(v.root);
        measureSeconds += (performance.now() - t0) / 1000;
        const tier = tiers.assign(v.package);
        if (tier.warning) warnings.add(tier.warning);
        tierSources[id] = tier.source;
        hit = { pv: { id, family: v.name, tier: tier.tier, bytes: size.bytes, files: size.files }, variant: v };
        known.set(id, hit);
      }
      // The requires graph is per image: Nix ranks popularity within one closure.
      const late = image.lateRequires?.get(v.package);
      const reqs = late ? [...late.map((s) => Requirement.parse(s)), ...v.variantRequires] : v.requires;
      const requires = reqs.filter((r) => !r.conflict && !r.weak && ids.has(r.name)).map((r) => ids.get(r.name)!);
      return { ...hit.pv, requires: [...new Set(requires)] };
    });
    return { name: image.name, baseLayers: opts.baseLayers ?? 1, variants };
  });

  return {
    input: {
      images: planImages,
      tiers: tiers.tiers,
      budget: opts.budget ?? configBudget,
      reservedTop: opts.reservedTop,
      bigLayerBytes: opts.bigLayerBytes,
    },
    variants: new Map([...known].map(([id, h]) => [id, h.variant])),
    tierSources,
    warnings: [...warnings].sort(),
    measureSeconds,
  };
}

/** Tiers from layers.tiers, with packages.<name>.layer forcing a package's tier. */
function tierAssigner(config: PlanConfig, where: (path: (string | number)[]) => SourceLocation): TierAssigner {
  const probe = new TierAssigner(config.layers.tiers);
  const overrides = new Map<string, string>();
  for (const [name, settings] of Object.entries(config.packages)) {
    if (settings.layer === undefined) continue;
    if (!probe.tiers.includes(settings.layer)) {
      throw new InputError(
        `packages.${name}.layer '${settings.layer}' is not a tier of layers.tiers (${probe.tiers.join(", ")})`,
        where(["packages", name, "layer"]),
      );
    }
    overrides.set(name, settings.layer);
  }
  return new TierAssigner(config.layers.tiers, overrides);
}

export interface ResolveStudioOptions {
  /** Evaluates `@late()` requires (default: rex's evaluator, as Rez runs them during a solve). */
  lateRequires?: LateRequiresHook;
  /** Implicit packages when the configuration has none (default: the host's ~platform, ~arch, ~os). */
  implicitPackages?: readonly string[];
}

export interface StudioResolves {
  images: ResolvedImage[];
  /** Workflows that do not resolve: left out of the plan, as a build leaves them out. */
  failed: { workflow: string; message: string }[];
  resolveSeconds: number;
}

/** Resolves every workflow of the configuration, sorted by name. */
export function resolveStudio(
  config: PlanConfig,
  repos: PackageSource,
  opts: ResolveStudioOptions = {},
): StudioResolves {
  const names = Object.keys(config.workflows).sort();
  const implicit = config.implicitPackages ?? opts.implicitPackages ?? implicitPackagesFor(hostSystem());
  const evaluate = opts.lateRequires ?? lateRequiresHook();
  const images: ResolvedImage[] = [];
  const failed: StudioResolves["failed"] = [];
  const t0 = performance.now();
  for (const name of names) {
    const late = new Map<Package, readonly string[]>();
    const recording: LateRequiresHook = (pkg, ctx) => {
      const r = evaluate(pkg, ctx);
      late.set(pkg, r);
      return r;
    };
    const request = config.workflows[name]!.request;
    // Under the configuration's filters, orderers and variant selection, as build resolves each workflow.
    const result = solve(request, repos, {
      ...configuredSolveOptions(config),
      implicitPackages: implicit,
      lateRequires: recording,
    });
    if (result.status === "solved") images.push({ name, variants: result.resolved, lateRequires: late });
    else {
      const why = result.failure?.explanation ?? result.failure?.description ?? result.status;
      failed.push({ workflow: name, message: `workflow ${name} does not resolve (${request.join(" ")}): ${why}` });
    }
  }
  return { images, failed, resolveSeconds: (performance.now() - t0) / 1000 };
}

export interface PlanStudioOptions extends PlanInputOptions, ResolveStudioOptions {
  /** Workflows that must resolve (those the caller shows); the others are planned when they resolve. */
  required?: readonly string[];
}

export interface StudioPlan extends StudioPlanInput {
  strategies: Record<Strategy, StrategyResult>;
  failed: StudioResolves["failed"];
  resolveSeconds: number;
}

/**
 * Resolves every workflow, then plans their images together (the studio plan) and
 * with the two baselines. A workflow that does not resolve is left out with a warning,
 * as a build leaves it out, unless it is one of `required`.
 */
export function planStudio(config: PlanConfig, repos: PackageSource, opts: PlanStudioOptions = {}): StudioPlan {
  for (const name of opts.required ?? []) {
    if (!config.workflows[name]) {
      throw new UsageError(
        `no workflow '${name}' in the configuration (known: ${Object.keys(config.workflows).sort().join(", ") || "none"})`,
      );
    }
  }
  const resolves = resolveStudio(config, repos, opts);
  const requiredFailure = resolves.failed.find((f) => opts.required?.includes(f.workflow));
  if (requiredFailure)
    throw new TantalusError(requiredFailure.message, config.locate(["workflows", requiredFailure.workflow, "request"]));
  if (resolves.images.length === 0) {
    if (resolves.failed.length === 0) throw new UsageError("no workflow to plan: the configuration defines none");
    throw new TantalusError(`no workflow resolves:\n${resolves.failed.map((f) => `  ${f.message}`).join("\n")}`);
  }
  const prepared = planInputFor(config, resolves.images, opts);
  return {
    ...prepared,
    warnings: [...resolves.failed.map((f) => `${f.message} (left out of the layer plan)`), ...prepared.warnings],
    strategies: compareStrategies(prepared.input),
    failed: resolves.failed,
    resolveSeconds: resolves.resolveSeconds,
  };
}
