import fs from "node:fs";
import path from "node:path";
import type { Command } from "@commander-js/extra-typings";
import { findConfig, openRepositories } from "../common.js";
import { getWorkflow } from "../../config/index.js";
import { TantalusError, UsageError, systemErrorText } from "../../errors.js";
import { baseLayersOf } from "./plan.js";

interface ReportOpts {
  all?: boolean;
  html?: string;
  migration?: string;
  paths?: string;
  config?: string;
  store?: string;
}

/** The migration report's JSON (`audit --base A --base B --json` writes it); a file that is not JSON is one sentence. */
function readMigration(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new TantalusError(`cannot read the migration report ${file}: ${systemErrorText(e)}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new TantalusError(`the migration report ${file} is not JSON: ${(e as Error).message}`);
  }
}

export function register(program: Command): void {
  program
    .command("report")
    .description(
      "write a static web report of the studio: workflows × layers, each image's layer stack, resolve graphs, " +
        "library audits with their fix list, and the store's images over time (no server: open DIR/index.html)",
    )
    .argument("[workflow...]", "workflows to show images, graphs and audits of (the plan is always the whole studio's)")
    .option("--all", "every workflow (the default without WORKFLOW)")
    .option("--html <dir>", "folder to write the site to (replaced whole if it holds an earlier report)")
    .option(
      "--migration <file>",
      "also show this two-base migration report (the JSON of `tantalus audit --all --base A --base B --json`)",
    )
    .option("--paths <paths>", "package search paths, colon-separated")
    .option("--store <dir>", "image store to read (default: TANTALUS_STORE, else the configuration's store)")
    .option(
      "--config <file>",
      "configuration file (default: TANTALUS_CONFIG, else ./tantalus.yaml or the nearest in a parent folder)",
    )
    .action(async (workflows, opts: ReportOpts) => {
      if (opts.all && workflows.length > 0) throw new UsageError("give WORKFLOW names or --all, not both");
      if (opts.html === undefined) throw new UsageError("where to write the report: give --html DIR");
      const migration = opts.migration !== undefined ? readMigration(opts.migration) : undefined;
      const [{ collectReport, writeSite, checkReportTarget }, audit] = await Promise.all([
        import("../../report/index.js"),
        import("../../audit/workflow/index.js"),
      ]);
      // A folder that is not a report is refused before anything is resolved, not after.
      checkReportTarget(path.resolve(opts.html));
      const config = findConfig(opts, true);
      // A mistyped name is refused before the studio is resolved, with the nearest name, as build and run do.
      for (const w of workflows) getWorkflow(config, w);
      const repos = openRepositories(opts);
      let base: Awaited<ReturnType<typeof audit.loadBaseImage>> | { unavailable: string };
      try {
        // The audit's base, as `tantalus audit` loads it; the report never pulls (it only reads).
        base = await audit.loadBaseImage(config.config.base.image, {
          store: config.store,
          configDir: config.dirOf(["base", "image"]),
          demoLibraries: config.config.audit.allow_system,
        });
      } catch (e) {
        if (!(e instanceof TantalusError)) throw e;
        base = { unavailable: e.message };
      }
      const t0 = performance.now();
      const result = await collectReport(config, {
        repos,
        workflows,
        baseLayers: await baseLayersOf(config),
        base,
        ...(migration !== undefined ? { migration } : {}),
      });
      repos.saveCaches();
      for (const w of result.data.warnings) process.stderr.write(`tantalus: warning: ${w}\n`);
      for (const f of result.notAudited)
        process.stderr.write(`tantalus: warning: ${f.workflow} not audited: ${f.message}\n`);
      const site = writeSite(opts.html, result.data);
      const seconds = ((performance.now() - t0) / 1000).toFixed(1);
      process.stdout.write(
        `report written to ${site.dir} (${site.pages.length} pages, ${(site.bytes / 1024).toFixed(0)} KiB, ${seconds} s): ` +
          `open ${path.join(site.dir, "index.html")}\n`,
      );
      if (result.data.failed.length > 0) process.exitCode = 1;
    });
}
