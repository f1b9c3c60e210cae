import fs from "node:fs";
import path from "node:path";
import type { Command } from "@commander-js/extra-typings";
import { findConfig, openRepositories, printJson } from "../common.js";
import { getWorkflow, type LoadedConfig } from "../../config/index.js";
import { UsageError } from "../../errors.js";
import { OciStore } from "../../image/layout/store.js";
import { parseReference } from "../../image/remote/reference.js";
import { parseBaseReference } from "../../image/base-reference.js";
import { storeTagFor } from "../../builder/distribution.js";
import { planStudio } from "../../plan/studio.js";
import { resolveWorkflows } from "../../workflow/resolve.js";
import { renderComparison, renderImageLayers } from "../../plan/format.js";
import { MAX_BUDGET, type Strategy } from "../../plan/types.js";

interface PlanOpts {
  all?: boolean;
  budget?: string;
  baseLayers?: string;
  paths?: string;
  config?: string;
  json?: boolean;
  summary?: boolean;
}

function wholeNumber(flag: string, text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n < min || n > max) {
    const why = flag === "--budget" && n > MAX_BUDGET ? ` (dockerd cannot stack more than ${MAX_BUDGET} layers)` : "";
    throw new UsageError(`invalid ${flag} '${text}': expected a whole number from ${min} to ${max}${why}`);
  }
  return n;
}

/**
 * Layers of the configured base: 1 for the demo base, the stored manifest's count for a
 * registry base already in the store, else 1 assumed (the plan never pulls).
 */
export async function baseLayersOf(config: LoadedConfig): Promise<{ count: number; source: string }> {
  const spec = config.config.base.image;
  const base = parseBaseReference(spec);
  if (base.kind === "demo") return { count: 1, source: "demo base" };
  if (base.kind === "registry" && fs.existsSync(path.join(config.store, "oci-layout"))) {
    try {
      const store = await OciStore.open(config.store, { readOnly: true });
      const desc = await store.resolve(storeTagFor(parseReference(base.reference)));
      if (desc)
        return { count: (await store.loadImage(desc)).manifest.layers.length, source: `${spec} in ${config.store}` };
    } catch {
      // An unreadable store is the build's problem; the plan falls back to an assumption.
    }
  }
  return { count: 1, source: `assumed for ${spec}: pass --base-layers N, or build once so the store has it` };
}

export function register(program: Command): void {
  program
    .command("plan")
    .description(
      "plan the image layers of every workflow together: each package in one layer shared by every image that uses it, " +
        "within the layer budget; shows the layers and the studio's storage against two baselines",
    )
    .argument("[workflow...]", "workflows whose layers to show (all are planned together either way)")
    .option("--all", "show every workflow's layers (the default without WORKFLOW)")
    .option(
      "--budget <n>",
      `most layers per image, base and top included (default: layers.budget, else 100; at most ${MAX_BUDGET})`,
    )
    .option(
      "--base-layers <n>",
      "layers of the base image (default: 1 for the demo base, else read from the store when the base is there)",
    )
    .option("--summary", "print only the studio summary, not each image's layers")
    .option("--paths <paths>", "package search paths, colon-separated")
    .option(
      "--config <file>",
      "configuration file (default: TANTALUS_CONFIG, else ./tantalus.yaml or the nearest in a parent folder)",
    )
    .option("--json", "print the plan, the per-image layers and the strategy reports as JSON")
    .action(async (workflows, opts: PlanOpts) => {
      if (opts.all && workflows.length > 0) throw new UsageError("give WORKFLOW names or --all, not both");
      const budget = wholeNumber("--budget", opts.budget, 1, MAX_BUDGET);
      const given = wholeNumber("--base-layers", opts.baseLayers, 0, MAX_BUDGET);
      const config = findConfig(opts, true);
      // A mistyped name is refused before the studio is resolved, with the nearest name, as build and run do.
      for (const w of workflows) getWorkflow(config, w);
      const repos = openRepositories(opts);
      const base = given !== undefined ? { count: given, source: "--base-layers" } : await baseLayersOf(config);
      // Every workflow resolved as the build resolves it (add_requires, @late requires), once, for the plan.
      const resolves = resolveWorkflows(config, undefined, { repos });
      repos.saveCaches();
      const result = planStudio(config, resolves, { budget, baseLayers: base.count, required: workflows });
      for (const w of result.warnings) process.stderr.write(`tantalus: warning: ${w}\n`);
      // As audit --all and build --all: every other workflow is planned and shown, and the command still fails.
      if (result.failed.length > 0) process.exitCode = 1;
      const shared = result.strategies.shared.plan;
      const shown = workflows.length > 0 ? workflows : shared.images.map((i) => i.name);

      if (opts.json) {
        printJson({
          budget: shared.budget,
          tiers: shared.tiers,
          baseLayers: { ...base },
          layers: shared.layers,
          images: shared.images.filter((i) => shown.includes(i.name)),
          reports: Object.fromEntries(
            (Object.keys(result.strategies) as Strategy[]).map((s) => [
              s,
              { ...result.strategies[s].report, millis: result.strategies[s].millis },
            ]),
          ),
          failed: result.failed,
          resolveSeconds: result.resolveSeconds,
          measureSeconds: result.measureSeconds,
          warnings: result.warnings,
        });
        return;
      }
      const out: string[] = [
        `Layer plan of ${shared.images.length} workflow images, at most ${shared.budget} layers each ` +
          `(base + planned + top), tiers bottom first: ${shared.tiers.join(", ")}`,
        `Base: ${base.count} layer(s) (${base.source})`,
        "",
      ];
      if (!opts.summary) out.push(renderImageLayers(shared, shown));
      out.push(renderComparison(result.strategies));
      process.stdout.write(out.join("\n") + "\n");
    });
}
