import type { LoadedConfig, ResolveSettingsOf } from "../config/index.js";
import { InputError, TantalusError, UsageError, type SourceLocation } from "../errors.js";
import type { Variant } from "../rez/package.js";
import { rootMapper } from "../context/root-map.js";
import type { WorkflowResolve, ResolvedWorkflows } from "../workflow/resolve.js";
import { RootMeasurer } from "./measure.js";
import { compareStrategies, type StrategyResult } from "./report.js";
import { TierAssigner, type TierSource } from "./tiers.js";
import { MAX_BUDGET, type PlanImage, type PlanInput, type PlanVariant, type Strategy } from "./types.js";

/** What planning reads from tantalus.yaml. */
export type PlanConfig = Pick<LoadedConfig, "workflows" | "implicitPackages" | "layers" | "packages" | "locate"> &
  ResolveSettingsOf & {
    config: { image: { root_map: Record<string, string> } };
  };

/** What the planner reads of a workflow's resolve (src/workflow): its variants and their requirements as solved. */
export type PlannedResolve = Pick<WorkflowResolve, "name" | "variants" | "requires">;

/**
 * Layers above the planned ones in every workflow image: the top layer
 * (environment, entrypoint, context, workflow) and room for the repair layer
 * the audit may ask for. Reserved whether or not an image gets a repair
 * layer, and whether or not the build audits, so the plan, hence every
 * image, is the same either way, and `tantalus plan` shows what `build` writes.
 */
export const IMAGE_TOP_LAYERS = 2;

export interface PlanInputOptions {
  /** Overrides the configuration's layers.budget. */
  budget?: number;
  /**
   * Layers of the base image under every workflow image. The build knows them from the
   * base manifest; without it the demo base's single layer is assumed (default 1).
   */
  baseLayers?: number;
  /** Layers above the planned ones (default IMAGE_TOP_LAYERS: the top layer and the repair layer). */
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
 * it requires in each image (as the solve saw them: late requires evaluated, add_requires applied).
 */
export function planInputFor(
  config: PlanConfig,
  images: readonly PlannedResolve[],
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
      const reqs = image.requires.get(v.name) ?? v.requires;
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
      reservedTop: opts.reservedTop ?? IMAGE_TOP_LAYERS,
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

export interface PlanStudioOptions extends PlanInputOptions {
  /** Workflows that must resolve (those the caller shows); the others are planned when they resolve. */
  required?: readonly string[];
}

export interface StudioPlan extends StudioPlanInput {
  strategies: Record<Strategy, StrategyResult>;
  failed: { workflow: string; message: string }[];
  resolveSeconds: number;
}

/**
 * Plans the images of the resolved workflows together (the studio plan) and
 * with the two baselines. The resolves are the workflow stage's (every
 * workflow, as the build resolves them for its plan); a workflow that does
 * not resolve is left out with a warning, as a build leaves it out, unless it
 * is one of `required`.
 */
export function planStudio(config: PlanConfig, resolved: ResolvedWorkflows, opts: PlanStudioOptions = {}): StudioPlan {
  for (const name of opts.required ?? []) {
    if (!config.workflows[name]) {
      throw new UsageError(
        `no workflow '${name}' in the configuration (known: ${Object.keys(config.workflows).sort().join(", ") || "none"})`,
      );
    }
  }
  const failed = resolved.failed.map((f) => ({ workflow: f.workflow, message: f.message }));
  const requiredFailure = resolved.failed.find((f) => opts.required?.includes(f.workflow));
  if (requiredFailure) throw requiredFailure.error;
  const images = [...resolved.resolves.values()];
  if (images.length === 0) {
    if (failed.length === 0) throw new UsageError("no workflow to plan: the configuration defines none");
    throw new TantalusError(`no workflow resolves:\n${failed.map((f) => `  ${f.message}`).join("\n")}`);
  }
  const prepared = planInputFor(config, images, opts);
  return {
    ...prepared,
    warnings: [...failed.map((f) => `${f.message} (left out of the layer plan)`), ...prepared.warnings],
    strategies: compareStrategies(prepared.input),
    failed,
    resolveSeconds: resolved.seconds,
  };
}
