import type { Command } from "@commander-js/extra-typings";
import { findConfig, printJson } from "../common.js";
import {
  contextProblems,
  decisionChanges,
  loadContext,
  qualifiedVariantName,
  saveContext,
  type ContextDrift,
  type DecisionChange,
  type ResolvedContext,
} from "../../context/context.js";
import { importRxt, saveRxt } from "../../context/rxt.js";
import { Repositories } from "../../rez/repository/index.js";
import { configuredRepositoryOptions, configuredSolveOptions, type LoadedConfig } from "../../config/index.js";
import { implicitPackagesOf, resolveDecisions } from "../../workflow/resolve.js";
import { solve } from "../../solver/index.js";
import { lateOptionsOf, lateRequiresHook } from "../../rex/index.js";

/** A decision the configuration takes differently, with where the configuration sets it. */
interface DecisionWarning extends DecisionChange {
  /** The configuration's origin of the value: `file:line`, a variable, or "default". */
  origin: string;
}

/**
 * The lock's recorded decisions against the current configuration's, and,
 * when any differs, the lock's request (implicit packages as the lock has
 * them) solved again over the lock's search paths under the configuration:
 * other variants are a problem (verify fails), the same ones only a warning.
 */
function decisionCheck(
  ctx: ResolvedContext,
  config: LoadedConfig,
): { warnings: DecisionWarning[]; problems: ContextDrift[] } {
  const options = configuredSolveOptions(config);
  const changes = decisionChanges(ctx, resolveDecisions(options, implicitPackagesOf(config), config.target));
  const originOf = (key: string): string => {
    let o = config.origin([key]);
    if (key === "target" && o.kind === "default") o = config.origin(["implicit_packages"]);
    const loc = o.location;
    return loc ? `${loc.file}${loc.line !== undefined ? `:${loc.line}` : ""}` : o.source;
  };
  const warnings = changes.map((c) => ({ ...c, origin: originOf(c.key) }));
  if (warnings.length === 0 || ctx.status !== "solved") return { warnings, problems: [] };
  const repos = new Repositories(ctx.packagePaths, configuredRepositoryOptions(config));
  const again = solve(ctx.request, repos, {
    ...options,
    implicitPackages: ctx.implicitPackages,
    ...(ctx.timestamp !== null ? { timestamp: ctx.timestamp } : {}),
    lateRequires: lateRequiresHook(lateOptionsOf(config)),
  });
  const locked = ctx.resolved.map(qualifiedVariantName);
  if (again.status !== "solved")
    return {
      warnings,
      problems: [
        {
          variant: "(context)",
          problem: `under the current configuration the request does not resolve (${again.failure?.description ?? "failed"})`,
        },
      ],
    };
  const now = again.resolved.map((v) => v.qualifiedName);
  const same = now.length === locked.length && [...now].sort().join(" ") === [...locked].sort().join(" ");
  return same
    ? { warnings, problems: [] }
    : {
        warnings,
        problems: [
          {
            variant: "(context)",
            problem: `under the current configuration the request resolves to ${now.join(" ")} instead of ${locked.join(" ")}`,
          },
        ],
      };
}

export function register(program: Command): void {
  const ctx = program.command("context").description("inspect, verify and convert resolved contexts (locks)");

  ctx
    .command("show")
    .description(
      "print a context's request, the decisions recorded with it (filter, orderers, select mode, system) and its resolved variants",
    )
    .argument("<file>", "a Tantalus context (JSON)")
    .option("--json", "print the context as JSON")
    .action((file, opts) => {
      const c = loadContext(file);
      if (opts.json) return printJson(c);
      const lines = [
        `request: ${[...c.request, ...c.implicitPackages].join(" ")}`,
        `status: ${c.status}`,
        `created: ${c.created} by ${c.tool.name} ${c.tool.version}${c.importedBy ? ` (imported from a .rxt by tantalus ${c.importedBy.version})` : ""}`,
      ];
      if (c.timestamp !== null)
        lines.push(`time filter: ${c.timestamp} (${new Date(c.timestamp * 1000).toISOString()})`);
      // What decided the resolve besides the request; a lock written before these were kept says so.
      const notRecorded = "(not recorded: an older lock)";
      if (c.system) lines.push(`resolved for: ${c.system.platform} ${c.system.arch} ${c.system.os}`);
      lines.push(
        `package filter: ${c.packageFilter === undefined ? notRecorded : c.packageFilter.length === 0 ? "none" : JSON.stringify(c.packageFilter)}`,
      );
      lines.push(
        `package orderers: ${c.packageOrderers === undefined ? notRecorded : c.packageOrderers === null ? "none" : JSON.stringify(c.packageOrderers)}`,
      );
      if (c.variantSelectMode) lines.push(`variant select mode: ${c.variantSelectMode}`);
      lines.push(`resolved packages (${c.resolved.length}):`);
      for (const v of c.resolved) lines.push(`  ${qualifiedVariantName(v)}  ${v.root}`);
      process.stdout.write(lines.join("\n") + "\n");
    });

  ctx
    .command("verify")
    .description(
      "check that `tantalus build --context` can rebuild the context exactly: a solved resolve, every definition unchanged, every variant still in the context's search paths at the same install root; and whether the current configuration would decide the resolve differently",
    )
    .argument("<file>", "a Tantalus context (JSON)")
    .option("--config <file>", "configuration file whose decisions are compared (default: ./tantalus.yaml)")
    .option("--json", "print the drift as JSON (the decision warnings still go to stderr)")
    .addHelpText(
      "after",
      `
The lock records what decided its resolve besides the request: the package
filter, the package orderers, the variant select mode and the system resolved
for. Each one the current configuration decides differently is a warning line
(the lock's value, the configuration's and where the configuration sets it; a
lock older than these records says "not recorded"), and the lock's request is
then solved again over its own search paths under the configuration.

Exit status: 0 when the context is current, even with decision warnings, as
long as the configuration still resolves the request to the lock's variants;
1 when anything moved (drift) or the configuration would resolve other
variants (or none).`,
    )
    .action((file, opts) => {
      const context = loadContext(file);
      const drift = contextProblems(context, (paths) => new Repositories(paths));
      const { warnings, problems } = decisionCheck(context, findConfig(opts));
      const all = [...drift, ...problems];
      // Warnings go to stderr in both forms: --json prints the drift list alone, as before.
      for (const w of warnings)
        process.stderr.write(
          `warning: ${w.decision}: the lock's ${w.lock}, the configuration's ${w.configuration} (${w.key}, ${w.origin})\n`,
        );
      if (opts.json) printJson(all);
      else {
        if (all.length === 0)
          process.stdout.write(
            warnings.length === 0
              ? "context is current: nothing moved\n"
              : "context is current: nothing moved, and the configuration resolves the same variants\n",
          );
        else for (const d of all) process.stderr.write(`${d.variant}: ${d.problem}\n`);
      }
      if (all.length > 0) process.exitCode = 1;
    });

  ctx
    .command("import")
    .description("read a Rez .rxt context (rez-env --output) and write a Tantalus context")
    .argument("<rxt>", "the Rez context file")
    .requiredOption("-o, --output <file>", "the Tantalus context to write")
    .action((rxt, opts) => {
      const c = importRxt(rxt, (paths) => new Repositories(paths));
      saveContext(opts.output, c);
      process.stdout.write(`imported ${c.resolved.length} variants from ${rxt} into ${opts.output}\n`);
    });

  ctx
    .command("export")
    .description("write a Tantalus context as a Rez .rxt (rez-env --input accepts it)")
    .argument("<file>", "a Tantalus context (JSON)")
    .requiredOption("-o, --output <rxt>", "the Rez context to write")
    .action((file, opts) => {
      saveRxt(opts.output, loadContext(file));
      process.stdout.write(`wrote ${opts.output}\n`);
    });
}
