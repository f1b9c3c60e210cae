import type { Command } from "@commander-js/extra-typings";
import { findConfig, openRepositories, printJson } from "../common.js";
import { UsageError } from "../../errors.js";
import { hostSystem, implicitPackagesFor } from "../../rez/system.js";
import { planStudio } from "../../plan/studio.js";
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

export function register(program: Command): void {
  program
    .command("plan")
    .description(
      "plan the image layers of every workflow together: each package in one layer shared by every image that uses it, " +
        "within the layer budget; shows the layers and the studio's storage against two baselines",
    )
    .argument("[workflow...]", "workflows whose layers to show (all are planned together either way)")
    .option("--all", "show every workflow's layers (the default without WORKFLOW)")
    .option("--budget <n>", `most layers per image, base and top included (default: layers.budget, else 100; at most ${MAX_BUDGET})`)
    .option("--base-layers <n>", "layers of the base image under every workflow image (default 1, the demo base)")
    .option("--summary", "print only the studio summary, not each image's layers")
    .option("--paths <paths>", "package search paths, colon-separated")
    .option("--config <file>", "configuration file (default: ./tantalus.yaml)")
    .option("--json", "print the plan, the per-image layers and the strategy reports as JSON")
    .action((workflows, opts: PlanOpts) => {
      if (opts.all && workflows.length > 0) throw new UsageError("give WORKFLOW names or --all, not both");
      const budget = wholeNumber("--budget", opts.budget, 1, MAX_BUDGET);
      const baseLayers = wholeNumber("--base-layers", opts.baseLayers, 0, MAX_BUDGET);
      const config = findConfig(opts, true)!;
      const repos = openRepositories(opts);
      const known = Object.keys(config.workflows);
      for (const w of workflows) {
        if (!known.includes(w)) throw new UsageError(`no workflow '${w}' in the configuration (known: ${known.sort().join(", ")})`);
      }
      const result = planStudio(config, repos, { budget, baseLayers, implicitPackages: implicitPackagesFor(hostSystem()) });
      for (const w of result.warnings) process.stderr.write(`tantalus: warning: ${w}\n`);
      const shared = result.strategies.shared.plan;

      if (opts.json) {
        const shown = workflows.length > 0 ? workflows : known;
        printJson({
          budget: shared.budget,
          tiers: shared.tiers,
          layers: shared.layers,
          images: shared.images.filter((i) => shown.includes(i.name)),
          reports: Object.fromEntries(
            (Object.entries(result.strategies) as [Strategy, (typeof result.strategies)[Strategy]][]).map(([s, r]) => [s, { ...r.report, millis: r.millis }]),
          ),
          resolveSeconds: result.resolveSeconds,
          measureSeconds: result.measureSeconds,
          warnings: result.warnings,
        });
        return;
      }
      const out: string[] = [];
      out.push(
        `Layer plan of ${shared.images.length} workflow images, at most ${shared.budget} layers each ` +
          `(base + planned + top), tiers bottom first: ${shared.tiers.join(", ")}`,
        "",
      );
      if (!opts.summary) out.push(renderImageLayers(shared, workflows));
      out.push(renderComparison(result.strategies));
      process.stdout.write(out.join("\n") + "\n");
    });
}
