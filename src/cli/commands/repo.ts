import type { Command } from "@commander-js/extra-typings";
import { openRepositories, printJson } from "../common.js";
import { formatLocation } from "../../errors.js";

export function register(program: Command): void {
  const repo = program.command("repo").description("inspect package repositories");
  repo
    .command("check")
    .description("load every package and variant, and report each error with its file and line")
    .option(
      "--paths <paths>",
      "package search paths, colon-separated (default: TANTALUS_PACKAGES_PATH, then tantalus.yaml)",
    )
    .option(
      "--config <file>",
      "configuration file (default: TANTALUS_CONFIG, else ./tantalus.yaml or the nearest in a parent folder)",
    )
    .option("--json", "print the counts and problems as JSON")
    .option("--no-cache", "read every package file, ignoring the index cache")
    .option(
      "--verbose",
      "also list the packages whose definition asked the host (platform, environment, file system), and what they asked, and those the host's CPython loaded (python: cpython)",
    )
    .action((opts) => {
      const repos = openRepositories(opts, { cache: opts.cache });
      const t0 = performance.now();
      const counts = repos.loadAll();
      const seconds = (performance.now() - t0) / 1000;
      const all = repos.problems;
      const problems = all.filter((p) => !p.warning);
      const warnings = all.filter((p) => p.warning);
      const asked = repos.hostDependent;
      if (opts.json) {
        printJson({
          paths: repos.paths,
          ...counts,
          errors: problems,
          warnings,
          ...(opts.verbose ? { hostQueries: asked, cpython: repos.cpythonLoaded } : {}),
          seconds,
        });
      } else {
        if (opts.verbose) {
          // Their attributes hold for this host (or the configured target); elsewhere they may load differently.
          for (const { file, queries } of asked) {
            process.stdout.write(
              `${file}: asks the host (${queries.length} question${queries.length === 1 ? "" : "s"}):\n`,
            );
            for (const q of queries)
              process.stdout.write(`  line ${q.line ?? "?"}: ${q.query} -> ${JSON.stringify(q.answer)} (${q.kind})\n`);
          }
          // Whatever these asked the host is not recorded: CPython runs them as Rez would.
          for (const file of repos.cpythonLoaded)
            process.stdout.write(`${file}: loaded by CPython (python: cpython)\n`);
        }
        for (const p of all) {
          process.stderr.write(
            `${formatLocation({ file: p.file, line: p.line })}: ${p.warning ? "warning" : "error"}: ${p.message}\n`,
          );
        }
        process.stdout.write(
          `${counts.families} families, ${counts.packages} packages, ${counts.variants} variants, ` +
            `${problems.length} error${problems.length === 1 ? "" : "s"}` +
            (warnings.length ? `, ${warnings.length} warning${warnings.length === 1 ? "" : "s"}` : "") +
            ` (${seconds.toFixed(2)} s)\n`,
        );
      }
      if (problems.length > 0) process.exitCode = 1;
    });
}
