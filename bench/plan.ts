/**
 * Studio layer sharing: the studio plan against one-layer-per-tier images and Nix's
 * popularity layering applied image by image, on the sample studio and on large
 * synthetic studios. Prints Σ image sizes, unique bytes stored, their ratio to the
 * distinct packages' bytes, layers per image and planning time.
 * Run: npm run bench -- plan [--studio DIR] [--scale small|default|large] [--budget N]
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { generateStudio } from "../src/studio/index.js";
import { loadConfig } from "../src/config/index.js";
import { Repositories } from "../src/rez/repository/index.js";
import { planStudio } from "../src/plan/studio.js";
import { resolveWorkflows } from "../src/workflow/resolve.js";
import { compareStrategies, syntheticStudio } from "../src/plan/index.js";
import { renderComparison } from "../src/plan/format.js";
import { option } from "./common.js";

export async function run(args: string[]): Promise<void> {
  const budget = Number(option(args, "--budget") ?? 100);
  let dir = option(args, "--studio");
  let scratch: string | undefined;
  if (!dir) {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), "tantalus-bench-plan-"));
    dir = path.join(scratch, "studio");
    const scale = option(args, "--scale") ?? "default";
    const t0 = performance.now();
    const s = await generateStudio(dir, { scale });
    console.log(
      `sample studio (scale ${scale}): ${s.variants} variants, ${s.workflows.length} workflows, generated in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
  }
  try {
    const config = loadConfig(path.join(dir, "tantalus.yaml"));
    const repos = new Repositories(config.packagesPath);
    // The configured budget, then a tight one: the sample's images have 20-30 variants,
    // so at 100 layers even one layer per variant fits.
    for (const b of [budget, 12]) {
      const t0 = performance.now();
      const studio = planStudio(config, resolveWorkflows(config, undefined, { repos }), { budget: b });
      console.log(
        `\n== sample studio, budget ${b}: resolve ${studio.resolveSeconds.toFixed(2)} s, measure ${studio.measureSeconds.toFixed(2)} s, ` +
          `total ${((performance.now() - t0) / 1000).toFixed(2)} s`,
      );
      console.log(renderComparison(studio.strategies));
    }
  } finally {
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  }

  for (const [workflows, variants] of [
    [40, 2000],
    [120, 6000],
  ] as const) {
    for (const b of [budget, 20]) {
      const input = { ...syntheticStudio({ seed: 1, workflows, variants }), budget: b };
      const used = new Set(input.images.flatMap((i) => i.variants.map((v) => v.id))).size;
      const per = input.images.map((i) => i.variants.length);
      console.log(
        `\n== synthetic studio: ${workflows} workflows, ${variants} variants in the repository (${used} used, ` +
          `${Math.min(...per)}-${Math.max(...per)} per image), budget ${b}`,
      );
      console.log(renderComparison(compareStrategies(input)));
    }
  }
}
