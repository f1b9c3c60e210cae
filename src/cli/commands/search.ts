import type { Command } from "@commander-js/extra-typings";
import { openRepositories, printJson } from "../common.js";
import { searchPackages } from "../../rez/query.js";
import { RequirementError } from "../../rez/version/index.js";
import { UsageError, formatLocation } from "../../errors.js";

export function register(program: Command): void {
  program
    .command("search")
    .description("find package families and versions by name pattern, like rez-search")
    .argument("[pattern]", "family glob, optionally with a version range: 'open*', 'usd-24+', 'py*<3.11'", "*")
    .option("--paths <paths>", "package search paths, colon-separated")
    .option(
      "--config <file>",
      "configuration file (default: TANTALUS_CONFIG, else ./tantalus.yaml or the nearest in a parent folder)",
    )
    .option("--versions", "list every matching package version, not just families")
    .option("--json", "print as JSON")
    .action((pattern, opts) => {
      const repos = openRepositories(opts);
      let hits: ReturnType<typeof searchPackages>;
      try {
        hits = searchPackages(repos, pattern);
      } catch (e) {
        // The range part of the pattern is parsed under a stand-in name: report the pattern the user typed.
        if (e instanceof RequirementError)
          throw new UsageError(
            `invalid search pattern '${pattern}': ${e.message.replace(/^invalid requirement '[^']*': /, "")}`,
          );
        throw e;
      }
      const listVersions = opts.versions || hits.ranged;
      repos.saveCaches();
      // Rez's search fails on a package it cannot load; the hits are still listed here, and each broken one named.
      const broken = hits.families.flatMap((f) => f.packages.filter((p) => p.broken));
      for (const p of broken) {
        const b = p.broken!;
        process.stderr.write(
          `${formatLocation({ file: b.file, line: b.line })}: error: ${p.qualifiedName} cannot be loaded: ${b.message}\n`,
        );
      }
      if (broken.length) process.exitCode = 1;
      if (opts.json) {
        printJson(
          hits.families.map((f) => ({
            name: f.name,
            versions: f.packages.map((p) => p.version.toString()),
            broken: f.packages.filter((p) => p.broken).map((p) => ({ version: p.version.toString(), ...p.broken! })),
          })),
        );
      } else if (listVersions) {
        for (const f of hits.families) for (const p of f.packages) process.stdout.write(`${p.qualifiedName}\n`);
      } else {
        for (const f of hits.families) process.stdout.write(`${f.name}\n`);
      }
      if (hits.families.length === 0) {
        process.stderr.write(`no package matches '${pattern}'\n`);
        process.exitCode = 1;
      }
    });
}
