import { InputError, TantalusError, UsageError, type SourceLocation } from "../errors.js";
import type { Variant } from "../rez/package.js";
import { solve } from "../solver/index.js";
import type { LateRequiresHook, PackageSource } from "../solver/index.js";
import { RootMeasurer } from "./measure.js";
import { compareStrategies, type StrategyResult } from "./report.js";
import { TierAssigner, type TierRule, type TierSource } from "./tiers.js";
import { MAX_BUDGET, type PlanImage, type PlanInput, type PlanVariant, type Strategy } from "./types.js";

/** What planning needs from tantalus.yaml: a structural view of LoadedConfig (src/config). */
export interface PlanStudioConfig {
  workflows?: Record<string, { request: readonly string[] }>;
  implicitPackages?: readonly string[];
  layers?: { budget?: number; tiers?: readonly TierRule[] };
  /** Per-package settings; `layer` forces a package's tier. */
  packages?: Record<string, { layer?: string }>;
  /** Where a value is written in the file, for errors. */
  locate?(path: (string | number)[]): SourceLocation;
}

export interface PlanStudioOptions {
  /** Workflows to plan; default all. The plan is only studio-wide when all are planned together. */
  workflows?: readonly string[];
  /** Overrides the configuration's layers.budget (default 100). */
  budget?: number;
  /**
   * Layers of the base image under every workflow image. Tantalus cannot count them
   * without pulling the base, so the caller says; the demo base is a single layer (default 1).
   */
  baseLayers?: number;
  reservedTop?: number;
  bigLayerBytes?: number;
  /** Implicit packages when the configuration has none (e.g. the host's ~platform/~arch/~os). */
  implicitPackages?: readonly string[];
  /** Shared across calls to measure each root once. */
  measurer?: RootMeasurer;
  /** Evaluates `@late()` requires during the resolves (see SolveOptions.lateRequires). */
  lateRequires?: LateRequiresHook;
}

export interface StudioPlanInput {
  input: PlanInput;
  /** Per variant id: the tier and where it came from (package hint, pattern, default). */
  tierSources: Record<string, TierSource>;
  warnings: string[];
  resolveSeconds: number;
  measureSeconds: number;
}

export interface StudioPlan extends StudioPlanInput {
  strategies: Record<Strategy, StrategyResult>;
}

/** A variant's id: its qualified name and repository, so one id is one install root. */
export function variantId(v: Variant): string {
  return `${v.qualifiedName}@${v.package.repository}`;
}

/**
 * Resolves the workflows, measures each resolved variant's root on disk, and assigns
 * tiers: the planner's input for the whole studio.
 */
export function studioPlanInput(config: PlanStudioConfig, repos: PackageSource, opts: PlanStudioOptions = {}): StudioPlanInput {
  const all = config.workflows ?? {};
  const names = opts.workflows && opts.workflows.length > 0 ? [...opts.workflows] : Object.keys(all).sort();
  if (names.length === 0) throw new UsageError("no workflow to plan: the configuration defines none");
  for (const n of names) {
    if (!all[n]) throw new UsageError(`no workflow '${n}' in the configuration (known: ${Object.keys(all).sort().join(", ")})`);
  }
  const where = (path: (string | number)[]): SourceLocation => config.locate?.(path) ?? { file: "tantalus.yaml" };
  const configBudget = config.layers?.budget;
  if (opts.budget === undefined && configBudget !== undefined && configBudget > MAX_BUDGET) {
    throw new InputError(`layers.budget ${configBudget} is above ${MAX_BUDGET}: dockerd refuses deeper layer chains ("max depth exceeded")`, where(["layers", "budget"]));
  }
  const tiers = tierAssigner(config, where);
  const implicit = config.implicitPackages ?? opts.implicitPackages ?? [];
  const measurer = opts.measurer ?? new RootMeasurer();
  const warnings = new Set<string>();
  const tierSources: Record<string, TierSource> = {};
  const byId = new Map<string, PlanVariant>();
  let resolveSeconds = 0;
  let measureSeconds = 0;

  const images: PlanImage[] = names.map((name) => {
    const t0 = performance.now();
    const result = solve(all[name]!.request, repos, { implicitPackages: implicit, lateRequires: opts.lateRequires });
    resolveSeconds += (performance.now() - t0) / 1000;
    if (result.status !== "solved") {
      throw new TantalusError(`workflow '${name}' does not resolve: ${result.failure?.explanation ?? result.failure?.description ?? result.status}`);
    }
    const idOf = new Map(result.resolved.map((v) => [v.name, variantId(v)]));
    const variants = result.resolved.map((v): PlanVariant => {
      const id = variantId(v);
      let pv = byId.get(id);
      if (!pv) {
        const t1 = performance.now();
        const size = measurer.measure(v.root);
        measureSeconds += (performance.now() - t1) / 1000;
        const tier = tiers.assign(v.package);
        if (tier.warning) warnings.add(tier.warning);
        tierSources[id] = tier.source;
        pv = { id, family: v.name, tier: tier.tier, bytes: size.bytes, files: size.files };
        byId.set(id, pv);
      }
      // The requires graph is per image (Nix's popularity ranks within one closure).
      const requires = v.requires.filter((r) => !r.conflict && !r.weak && idOf.has(r.name)).map((r) => idOf.get(r.name)!);
      return { ...pv, requires: [...new Set(requires)] };
    });
    return { name, baseLayers: opts.baseLayers ?? 1, variants };
  });

  const input: PlanInput = {
    images,
    tiers: tiers.tiers,
    budget: opts.budget ?? config.layers?.budget,
    reservedTop: opts.reservedTop,
    bigLayerBytes: opts.bigLayerBytes,
  };
  return { input, tierSources, warnings: [...warnings].sort(), resolveSeconds, measureSeconds };
}

function tierAssigner(config: PlanStudioConfig, where: (path: (string | number)[]) => SourceLocation): TierAssigner {
  const probe = new TierAssigner(config.layers?.tiers ?? []);
  const overrides = new Map<string, string>();
  for (const [name, settings] of Object.entries(config.packages ?? {})) {
    if (settings.layer === undefined) continue;
    if (!probe.tiers.includes(settings.layer)) {
      throw new InputError(`packages.${name}.layer '${settings.layer}' is not a tier of layers.tiers (${probe.tiers.join(", ")})`, where(["packages", name, "layer"]));
    }
    overrides.set(name, settings.layer);
  }
  return new TierAssigner(config.layers?.tiers ?? [], overrides);
}

/** Plans the studio's workflow images together, with the two baselines for comparison. */
export function planStudio(config: PlanStudioConfig, repos: PackageSource, opts: PlanStudioOptions = {}): StudioPlan {
  const prepared = studioPlanInput(config, repos, opts);
  return { ...prepared, strategies: compareStrategies(prepared.input) };
}
