/**
 * The layer plan of a build: every workflow of the configuration planned
 * together by the studio planner (src/plan), so that a group of variants is
 * one layer, byte for byte, in every image that carries it.
 *
 * Variant ids are `qualified-name@<repository as the image sees it>`: the
 * planner orders layers by id where everything else ties, so ids must not
 * contain the build machine's paths, or two checkouts of the same studio
 * would order layers differently and give different images.
 */
import type { LoadedConfig } from "../config/index.js";
import { InputError, TantalusError } from "../errors.js";
import { planLayers } from "../plan/shared.js";
import { RootMeasurer } from "../plan/measure.js";
import { TierAssigner } from "../plan/tiers.js";
import type { LayerPlan, PlanImage, PlanVariant } from "../plan/types.js";
import type { Variant } from "../rez/package.js";
import { rootMapper } from "../rex/interpret.js";

export interface BuildLayer {
  /** The planner's key (equal keys are equal layers). */
  key: string;
  tier: string;
  /** Sorted by id. */
  variants: Variant[];
  /** Payload bytes and files, as measured for the plan. */
  bytes: number;
  files: number;
  images: string[];
}

export interface BuildPlan {
  plan: LayerPlan;
  layers: Map<string, BuildLayer>;
  /** Workflow -> its planned layer keys, bottom first. */
  imageLayers: Map<string, string[]>;
  warnings: string[];
}

export interface PlanImageInput {
  name: string;
  variants: readonly Variant[];
}

export interface BuildPlanOptions {
  rootMap: Readonly<Record<string, string>>;
  baseLayers: number;
  /** Layers above the planned ones (top, repair). */
  reservedTop: number;
}

export function planBuild(config: LoadedConfig, images: readonly PlanImageInput[], opts: BuildPlanOptions): BuildPlan {
  const mapRoot = rootMapper(opts.rootMap);
  const tiers = tierAssigner(config);
  const measurer = new RootMeasurer();
  const warnings = new Set<string>();
  const byId = new Map<string, { pv: PlanVariant; variant: Variant }>();

  const idOf = (v: Variant): string => `${v.qualifiedName}@${mapRoot(v.package.repository)}`;
  const planImages: PlanImage[] = images.map((image) => {
    const ids = new Map(image.variants.map((v) => [v.name, idOf(v)]));
    const variants = image.variants.map((v): PlanVariant => {
      const id = idOf(v);
      let known = byId.get(id);
      if (known && known.variant.root !== v.root) {
        throw new InputError(
          `image.root_map puts ${known.variant.root} and ${v.root} (both ${v.qualifiedName}) at the same image path ${mapRoot(v.root)}`,
          config.locate(["image", "root_map"]),
        );
      }
      if (!known) {
        const size = measurer.measure(v.root);
        const tier = tiers.assign(v.package);
        if (tier.warning) warnings.add(tier.warning);
        known = { pv: { id, family: v.name, tier: tier.tier, bytes: size.bytes, files: size.files }, variant: v };
        byId.set(id, known);
      }
      const requires = v.requires.filter((r) => !r.conflict && !r.weak && ids.has(r.name)).map((r) => ids.get(r.name)!);
      return { ...known.pv, requires: [...new Set(requires)] };
    });
    return { name: image.name, baseLayers: opts.baseLayers, variants };
  });

  const plan = planLayers({
    images: planImages,
    tiers: tiers.tiers,
    budget: config.layers.budget,
    reservedTop: opts.reservedTop,
  });
  const layers = new Map<string, BuildLayer>();
  for (const l of plan.layers) {
    const variants = l.variants.map((id) => {
      const hit = byId.get(id);
      if (!hit) throw new TantalusError(`layer plan names variant ${id}, which no workflow resolved`);
      return hit.variant;
    });
    layers.set(l.key, { key: l.key, tier: l.tier, variants, bytes: l.bytes, files: l.files, images: l.images });
  }
  const imageLayers = new Map(plan.images.map((i) => [i.name, i.layers]));
  return { plan, layers, imageLayers, warnings: [...warnings].sort() };
}

/** Tiers from layers.tiers, with packages.<name>.layer forcing a package's tier. */
function tierAssigner(config: LoadedConfig): TierAssigner {
  const probe = new TierAssigner(config.layers.tiers);
  const overrides = new Map<string, string>();
  for (const [name, settings] of Object.entries(config.packages)) {
    if (settings.layer === undefined) continue;
    if (!probe.tiers.includes(settings.layer)) {
      throw new InputError(`packages.${name}.layer '${settings.layer}' is not a tier of layers.tiers (${probe.tiers.join(", ")})`, config.locate(["packages", name, "layer"]));
    }
    overrides.set(name, settings.layer);
  }
  return new TierAssigner(config.layers.tiers, overrides);
}
