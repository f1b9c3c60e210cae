import path from "node:path";
import type { Command } from "@commander-js/extra-typings";
import { findConfig, openRepositories, printJson } from "../common.js";
import { TantalusError, UsageError } from "../../errors.js";

interface AuditOpts {
  all?: boolean;
  json?: boolean;
  suggest?: boolean;
  pollute?: boolean;
  config?: string;
  paths?: string;
  repair: boolean;
  donor: string[];
  base: string[];
  failFast?: boolean;
  insecure?: boolean;
  dev?: string[] | true;
}

export function register(program: Command): void {
  program
    .command("audit")
    .description(
      "find every shared library a workflow would load from the wrong place in its planned image " +
        "(missing, from the base OS, undeclared, conflicting, wrong architecture, host paths); exit 1 on errors",
    )
    .argument("[workflow]", "workflow of tantalus.yaml to audit")
    .option("--all", "audit every workflow")
    .option("--json", "print the findings as JSON")
    .option(
      "--suggest",
      "say which package or base-OS file provides each missing library, and print tantalus.yaml entries that repair it",
    )
    .option(
      "--pollute",
      "also plant decoy libraries in the base OS directories and report every load that would switch to one",
    )
    .option("--no-repair", "audit the image without the configured repairs (add_requires, repair layer)")
    .option(
      "--donor <dir>",
      "directory to take repaired system libraries from, before the base image (repeatable)",
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option(
      "--base <image>",
      "base image instead of the configuration's base.image (demo, a registry reference or docker://REF, containers-storage:NAME, oci:DIR, oci-archive:FILE, docker-archive:FILE, rootfs:FILE or rootfs:DIR); " +
        "given twice (--base A --base B): the migration report, every workflow on both bases side by side",
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option("--insecure", "allow plain HTTP to the registry of a base the store lacks")
    .option(
      "--fail-fast",
      "with --all: stop at the first workflow that cannot be audited (default: audit every other one, report each failure, exit 1)",
    )
    .option(
      "--config <file>",
      "configuration file (default: TANTALUS_CONFIG, else ./tantalus.yaml or the nearest in a parent folder)",
    )
    .option(
      "--paths <paths>",
      "package search paths, colon-separated (default: TANTALUS_PACKAGES_PATH, then tantalus.yaml)",
    )
    .option(
      "--dev [path...]",
      "audit the resolve `run --dev` would run: these dev repositories (default: dev.paths, else ~/packages) searched first",
    )
    .action(async (workflow: string | undefined, opts: AuditOpts) => {
      if (opts.all && workflow) throw new UsageError("give a workflow or --all, not both");
      if (!opts.all && !workflow) throw new UsageError("nothing to audit: give a workflow or --all");
      const audit = await import("../../audit/workflow/index.js");
      const { auditExitCode, auditJson, formatAuditReport } = await import("../../audit/report.js");
      const config = findConfig(opts, true);
      let repos = openRepositories(opts);
      if (opts.dev !== undefined) {
        if (opts.paths !== undefined) throw new UsageError("give either --dev or --paths, not both");
        // The same search order as run --dev, so a dev package's missing library is found before it reaches artists.
        const { configuredDevPaths } = await import("../../builder/dev-resolve.js");
        const { homedir } = await import("node:os");
        const devPaths =
          opts.dev === true ? configuredDevPaths(config, homedir()) : opts.dev.map((p) => path.resolve(p));
        const { Repositories } = await import("../../rez/repository/index.js");
        repos = new Repositories([...devPaths, ...repos.paths.filter((p) => !devPaths.includes(p))]);
        process.stderr.write(`tantalus: dev: auditing with ${devPaths.join(", ")} searched first\n`);
      }
      if (opts.base.length > 2)
        throw new UsageError(
          "give --base once (audit over that base) or twice (the migration from the first to the second)",
        );
      const loadBase = (reference: string | undefined) =>
        audit.loadBaseImage(reference ?? config.config.base.image, {
          store: config.store,
          configDir: reference !== undefined ? process.cwd() : config.dirOf(["base", "image"]),
          demoLibraries: config.config.audit.allow_system,
          // A registry base the store lacks is pulled, as the build would.
          fetch: async (ref) => {
            const [{ OciStore }, { pullBase }] = await Promise.all([
              import("../../image/layout/store.js"),
              import("../../builder/index.js"),
            ]);
            return pullBase(await OciStore.open(config.store), ref, { insecure: opts.insecure === true });
          },
        });
      const base = await loadBase(opts.base[0]);
      const donorDirs = opts.donor.map((d) => path.resolve(d));
      const common = { repos, base, repairs: opts.repair, donorDirs, pollute: opts.pollute ?? false };
      if (opts.base.length === 2) {
        const target = await loadBase(opts.base[1]);
        const { auditMigration } = await import("../../audit/migrate.js");
        const names = opts.all ? Object.keys(config.workflows).sort() : [workflow!];
        const report = auditMigration(config, names, {
          from: { reference: opts.base[0]!, image: base },
          to: { reference: opts.base[1]!, image: target },
          audit: { repos, repairs: opts.repair, donorDirs, pollute: opts.pollute ?? false },
          suggest: opts.suggest === true,
          failFast: opts.failFast === true || !opts.all,
        });
        repos.saveCaches();
        const { formatMigrationReport, migrationExitCode } = await import("../../audit/migrate.js");
        if (opts.json) printJson(report);
        else process.stdout.write(formatMigrationReport(report));
        process.exitCode = migrationExitCode(report);
        return;
      }
      // --all audits every workflow it can: one that does not resolve (or whose roots are missing) is reported, not a stop.
      const failed: { workflow: string; message: string }[] = [];
      const audits: Awaited<ReturnType<typeof audit.auditWorkflow>>[] = [];
      const { resolveWorkflow } = await import("../../workflow/resolve.js");
      for (const name of opts.all ? Object.keys(config.workflows).sort() : [workflow!]) {
        try {
          // Resolved as the build resolves it; --no-repair leaves the configured add_requires out too.
          const resolve = resolveWorkflow(config, name, { repos, overrides: opts.repair });
          audits.push(audit.auditResolve(config, resolve, base, common));
        } catch (e) {
          if (!opts.all || opts.failFast || !(e instanceof TantalusError) || e instanceof UsageError) throw e;
          failed.push({ workflow: name, message: e.message });
        }
      }
      let suggestions;
      if (opts.suggest) {
        const { SonameIndex, suggestRepairs } = await import("../../audit/suggest.js");
        const index = new SonameIndex(repos, path.join(audit.auditCacheDir(), "soname-index.json"));
        index.save();
        suggestions = suggestRepairs(audits, { index, base, config, donorDirs });
      }
      repos.saveCaches();
      if (opts.json) printJson({ ...auditJson(audits, suggestions), ...(failed.length > 0 ? { failed } : {}) });
      else process.stdout.write(formatAuditReport(audits, suggestions));
      for (const f of failed) process.stderr.write(`tantalus: error: ${f.workflow} not audited: ${f.message}\n`);
      process.exitCode = failed.length > 0 ? Math.max(1, auditExitCode(audits)) : auditExitCode(audits);
    });
}
