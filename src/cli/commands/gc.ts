import { existsSync } from "node:fs";
import { homedir } from "node:os";
import type { Command } from "@commander-js/extra-typings";
import { UsageError } from "../../errors.js";
import { findConfig, printJson } from "../common.js";
import { storeDirOf } from "./images.js";

interface GcOpts {
  keep?: string;
  pin: string[];
  dryRun?: boolean;
  includePulled?: boolean;
  minAge?: string;
  store?: string;
  config?: string;
  json?: boolean;
  devRetention?: string;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** "0", "90s", "30m", "12h", "7d" → milliseconds. */
export function parseAge(text: string, flag = "--min-age"): number {
  const m = /^(\d+)([smhd]?)$/.exec(text.trim());
  if (!m)
    throw new UsageError(`invalid ${flag} '${text}': expected a number with an optional unit s, m, h or d (e.g. 24h)`);
  const unit = { "": 1000, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as "" | "s" | "m" | "h" | "d"];
  return Number(m[1]) * unit;
}

export function register(program: Command): void {
  program
    .command("gc")
    .description(
      "remove blobs no image in the store references; with --keep N, first untag all but the N newest images of each workflow " +
        "(a workflow's current image and --pin tags are always kept; images fetched with `tantalus pull` are kept unless --include-pulled)",
    )
    .option("--keep <n>", "images to keep per workflow")
    .option("--pin <tag>", "never untag this tag or digest (repeatable)", collect, [] as string[])
    .option("--include-pulled", "with --keep, count and untag images fetched with `tantalus pull` like local builds")
    .option("--dry-run", "show what would be removed, remove nothing")
    .option(
      "--dev-retention <age>",
      "untag developers' images (WORKFLOW:dev-<user>-<hash>, and run --request's request:<hash>) tagged longer ago than this, and remove what run --dev keeps in the run cache (kept resolves, environment folders) unused as long (default: dev.retention, else 7d)",
    )
    .option("--min-age <age>", "keep unreferenced blobs younger than this, for builds in flight (default 24h)")
    .option(
      "--store <dir>",
      "image store (default: TANTALUS_STORE, else the configuration's store, else ~/.cache/tantalus/store)",
    )
    .option(
      "--config <file>",
      "configuration file (default: TANTALUS_CONFIG, else ./tantalus.yaml or the nearest in a parent folder)",
    )
    .option("--json", "print the report as JSON")
    .action(async (opts: GcOpts) => {
      let keep: number | undefined;
      if (opts.keep !== undefined) {
        keep = Number(opts.keep);
        if (!/^\d+$/.test(opts.keep) || keep < 1)
          throw new UsageError(`invalid --keep '${opts.keep}': expected a whole number of images, at least 1`);
      }
      const minAgeMs = opts.minAge !== undefined ? parseAge(opts.minAge) : undefined;
      const devRetentionMs = parseAge(
        opts.devRetention ?? findConfig(opts).config.dev.retention,
        opts.devRetention !== undefined ? "--dev-retention" : "dev.retention",
      );
      const [{ OciStore }, build] = await Promise.all([
        import("../../image/layout/store.js"),
        import("../../builder/index.js"),
      ]);
      // What run --dev keeps (<run cache>/dev: kept resolves, environment folders), unused for the same retention as dev tags.
      const [{ runCacheDir }, { pruneDevFiles }] = await Promise.all([
        import("../../run/cache.js"),
        import("../../run/dev.js"),
      ]);
      const devFiles = pruneDevFiles(
        runCacheDir(process.env, process.env.HOME || homedir()),
        devRetentionMs,
        opts.dryRun === true,
      );
      const would = opts.dryRun ? "would remove" : "removed";
      const devFileLines = devFiles.length
        ? [
            `${would} ${devFiles.length} file(s) of dev launches (kept resolves, environment folders) unused for the dev retention`,
            ...devFiles.map((d) => `  ${d}`),
          ]
        : [];
      const dir = storeDirOf(opts);
      if (!existsSync(`${dir}/oci-layout`)) {
        // Nothing was built with this store yet: nothing to collect, and not an error (gc may be a new user's first command).
        if (opts.json)
          printJson({
            dryRun: opts.dryRun === true,
            removedTags: [],
            removedBlobs: [],
            freedBytes: 0,
            keptBlobs: 0,
            pinned: [],
            runtimeCopies: [],
            auditCopies: [],
            devFiles,
          });
        else process.stdout.write([`no image store at ${dir} yet: nothing to collect`, ...devFileLines, ""].join("\n"));
        return;
      }
      const store = await OciStore.open(dir);
      const report = await build.collectGarbage(store, {
        ...(keep !== undefined ? { keep } : {}),
        pins: opts.pin,
        dryRun: opts.dryRun === true,
        includePulled: opts.includePulled === true,
        ...(minAgeMs !== undefined ? { minAgeMs } : {}),
        devRetentionMs,
      });
      // The copies runs loaded into podman under this store's names, for images the store no longer has.
      const { removeUnreferencedPodmanCopies } = await import("../../run/runtimes/podman.js");
      const runtimeCopies = await removeUnreferencedPodmanCopies(store, process.env, opts.dryRun === true);
      // The audit's unpacked copies of images from this store that no image in it uses any longer.
      const { removeUnusedAuditCopies } = await import("../../audit/workflow/base.js");
      const auditCopies = await removeUnusedAuditCopies(store, opts.dryRun === true);
      if (opts.json) {
        printJson({ dryRun: opts.dryRun === true, ...report, runtimeCopies, auditCopies, devFiles });
        return;
      }
      const lines = [
        `${would} ${report.removedTags.length} tag(s) and ${report.removedBlobs.length} blob(s), ${build.formatBytes(report.freedBytes)}; ${report.keptBlobs} blob(s) kept`,
        // A dry run untags nothing: its lines must not read as done.
        ...report.removedTags.map((t) => `  ${opts.dryRun ? "would untag" : "untagged"} ${t}`),
        ...(auditCopies.length
          ? [
              `${would} ${auditCopies.length} unpacked base(s) of the audit that no image uses`,
              ...auditCopies.map((d) => `  ${d}`),
            ]
          : []),
        ...(runtimeCopies.length
          ? [
              `${would} ${runtimeCopies.length} podman image name(s) of images no longer in the store`,
              ...runtimeCopies.map((n) => `  ${n}`),
            ]
          : []),
        ...devFileLines,
      ];
      process.stdout.write(lines.join("\n") + "\n");
    });
}
