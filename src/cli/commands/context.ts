import type { Command } from "@commander-js/extra-typings";
import { printJson } from "../common.js";
import { contextProblems, loadContext, qualifiedVariantName, saveContext } from "../../context/context.js";
import { importRxt, saveRxt } from "../../context/rxt.js";
import { Repositories } from "../../rez/repository/index.js";

export function register(program: Command): void {
  const ctx = program.command("context").description("inspect, verify and convert resolved contexts (locks)");

  ctx
    .command("show")
    .description("print a context's request and resolved variants")
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
      "check that `tantalus build --context` can rebuild the context exactly: a solved resolve, every definition unchanged, every variant still in the context's search paths at the same install root",
    )
    .argument("<file>", "a Tantalus context (JSON)")
    .option("--json", "print the drift as JSON")
    .action((file, opts) => {
      const drift = contextProblems(loadContext(file), (paths) => new Repositories(paths));
      if (opts.json) printJson(drift);
      else if (drift.length === 0) process.stdout.write("context is current: nothing moved\n");
      else for (const d of drift) process.stderr.write(`${d.variant}: ${d.problem}\n`);
      if (drift.length > 0) process.exitCode = 1;
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
