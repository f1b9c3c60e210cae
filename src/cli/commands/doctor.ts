import type { Command } from "@commander-js/extra-typings";
import { printJson } from "../common.js";

export function register(program: Command): void {
  program
    .command("doctor")
    .description(
      "report the container runtimes, GPU support, display and registry credentials this machine has, and what to install or fix",
    )
    .option("--json", "print the report as JSON")
    .option(
      "--config <file>",
      "configuration file (default: TANTALUS_CONFIG, else ./tantalus.yaml or the nearest in a parent folder), for the registry",
    )
    .action(async (opts: { json?: boolean; config?: string }) => {
      const [{ findConfig }, run] = await Promise.all([import("../common.js"), import("../../run/index.js")]);
      const loaded = findConfig(opts);
      const report = await run.diagnoseMachine({ registry: loaded?.config.registry ?? undefined });
      if (opts.json) printJson(report);
      else process.stdout.write(run.formatDoctor(report));
      if (!report.selected) process.exitCode = 1;
    });
}
