import type { Command } from "@commander-js/extra-typings";
import { TantalusError, UsageError, describeSystemError } from "../../errors.js";
import type { LayerCompression } from "../../image/types.js";
import { checkRegistryReference, findConfig, printJson } from "../common.js";
import type { LoadedConfig } from "../../config/index.js";
import { parseBaseReference, resolveLocalBase } from "../../image/base-reference.js";
import { parseTime } from "../time.js";

interface BuildOpts {
  all?: boolean;
  context?: string;
  compression?: string;
  level?: string;
  jobs?: string;
  output?: string;
  push?: string | boolean;
  insecure?: boolean;
  allowAuditErrors?: boolean;
  verify?: boolean;
  store?: string;
  config?: string;
  base?: string;
  progress?: boolean;
  json?: boolean;
  failFast?: boolean;
  paths?: string;
  time?: string;
}

const COMPRESSIONS: LayerCompression[] = ["gzip", "zstd", "none"];

function wholeNumber(flag: string, text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n < min || n > max)
    throw new UsageError(`invalid ${flag} '${text}': expected a whole number from ${min} to ${max}`);
  return n;
}

export function register(program: Command): void {
  program
    .command("build")
    .description(
      "build workflow images into the local store: resolve, capture the environment, plan the layers of all workflows together, " +
        "write the layers (an unchanged package is never archived again) and tag each image with its workflow name",
    )
    .argument("[workflow...]", "workflows of tantalus.yaml to build")
    .option("--all", "build every workflow")
    .option(
      "--context <file>",
      "build exactly this saved resolve (tantalus resolve -o FILE) for the one WORKFLOW named",
    )
    .option("--compression <kind>", "layer compression: gzip, zstd or none (default: image.compression, else gzip)")
    .option("--level <n>", "compression level: gzip 1-9 (default 6), zstd 1-19 (default 3)")
    .option("--jobs <n>", "layers archived and compressed at once (default: CPUs, at most 4)")
    .option("--output <dest>", "also export: oci:DIR[:TAG], oci-archive:FILE[:TAG] or docker-archive:FILE[:NAME:TAG]")
    .option(
      "--push [ref]",
      "push to a registry: REGISTRY/REPO[:TAG] for one image, REGISTRY/PREFIX for several (each to PREFIX/<workflow>:latest); without REF, to the configuration's registry as a prefix",
    )
    .option(
      "--insecure",
      "allow plain HTTP to the registry (a local registry without TLS), for the push and a registry base image",
    )
    .option(
      "--base <image>",
      "build on this base instead of base.image (the spellings of base.image): the package layers of a build on another base are reused, only the base, repair and top layers change",
    )
    .option("--allow-audit-errors", "write images even when the library audit finds errors")
    .option(
      "--verify",
      "read back every blob reused from the store and check its digest (a corrupted one is moved aside and rebuilt)",
    )
    .option(
      "--store <dir>",
      "image store (default: TANTALUS_STORE, else the configuration's store, else ~/.cache/tantalus/store)",
    )
    .option(
      "--config <file>",
      "configuration file (default: TANTALUS_CONFIG, else ./tantalus.yaml or the nearest in a parent folder)",
    )
    .option(
      "--paths <paths>",
      "package search paths, colon-separated, instead of the configured ones: the image is tagged WORKFLOW:dev-<user>-<hash>, never WORKFLOW",
    )
    .option(
      "--time <time>",
      "ignore packages released after this time (as resolve --time): the image is tagged WORKFLOW:dev-<user>-<hash>, never WORKFLOW",
    )
    .option("--no-progress", "no progress lines on stderr")
    .option("--json", "print the result (images, digests, layers, timings) as JSON")
    .option(
      "--fail-fast",
      "stop at the first workflow that cannot be built (default: build every other one, report each failure, exit 1)",
    )
    .action(async (workflows, opts: BuildOpts) => {
      if (opts.all && workflows.length > 0) throw new UsageError("give WORKFLOW names or --all, not both");
      if (!opts.all && workflows.length === 0) throw new UsageError("name the workflows to build, or pass --all");
      if (opts.compression !== undefined && !COMPRESSIONS.includes(opts.compression as LayerCompression)) {
        throw new UsageError(`invalid --compression '${opts.compression}': expected gzip, zstd or none`);
      }
      const level = wholeNumber("--level", opts.level, 1, 19);
      const jobs = wholeNumber("--jobs", opts.jobs, 1, 64);
      // --paths is not a layer of the configuration here: a build from other repositories is a developer's
      // build, which must not move the workflow's tag (BuildOptions.devUser).
      const configured = findConfig({ ...opts, paths: undefined }, true);
      const config = opts.base !== undefined ? onBase(configured, opts.base) : configured;
      const packagePaths = opts.paths !== undefined ? findConfig(opts).packagesPath : undefined;
      if (packagePaths !== undefined && packagePaths.length === 0)
        throw new UsageError(`--paths ${JSON.stringify(opts.paths)} names no package repository`);
      const timestamp = opts.time !== undefined ? parseTime(opts.time) : undefined;
      const pushTarget = opts.push === undefined ? undefined : opts.push === true ? config.config.registry : opts.push;
      if (opts.push === true && !pushTarget)
        throw new UsageError("--push without a reference needs `registry:` in the configuration");
      // Everything the command line says is checked before the build starts, not after it wrote every layer.
      const count = opts.all ? Object.keys(config.workflows).length : new Set(workflows).size;
      if (pushTarget) {
        await checkRegistryReference(opts.push === true ? "registry (tantalus.yaml)" : "--push", pushTarget);
        const { parseReference } = await import("../../image/remote/reference.js");
        const parsed = parseReference(pushTarget);
        if ((opts.push === true || count > 1) && (parsed.tag !== undefined || parsed.digest !== undefined)) {
          throw new UsageError(
            `--push ${pushTarget}: with ${count} images, give a repository prefix (each image goes to PREFIX/<workflow>:latest), not a tag`,
          );
        }
      }

      const [build, { libraryAuditGate }] = await Promise.all([
        import("../../builder/index.js"),
        import("../../audit/workflow/gate.js"),
      ]);
      if (opts.output) build.checkExportDestination(opts.output, count);
      const display = opts.progress === false ? undefined : new build.ProgressDisplay(process.stderr);
      // Without the display, warnings still reach stderr (only the progress lines go).
      const show: (e: import("../../builder/index.js").BuildEvent) => void =
        display?.event ?? ((e) => e.type === "warning" && process.stderr.write(`tantalus: warning: ${e.message}\n`));
      // The step a failing file operation belongs to, for its message ("... while writing 3 package layer(s)").
      let step = "resolving";
      const onEvent = (e: import("../../builder/index.js").BuildEvent): void => {
        if (e.type === "step") step = e.message;
        show(e);
      };
      try {
        const report = await build.buildWorkflows(config, workflows, {
          ...(opts.context !== undefined ? { contextFile: opts.context } : {}),
          ...(packagePaths !== undefined ? { packagePaths } : {}),
          ...(timestamp !== undefined ? { timestamp } : {}),
          ...(opts.store !== undefined ? { store: opts.store } : {}),
          ...(opts.compression !== undefined ? { compression: opts.compression as LayerCompression } : {}),
          ...(level !== undefined ? { level } : {}),
          ...(jobs !== undefined ? { jobs } : {}),
          registry: { insecure: opts.insecure === true },
          audit: libraryAuditGate(config),
          allowAuditErrors: opts.allowAuditErrors === true,
          verify: opts.verify === true,
          keepGoing: opts.failFast !== true,
          onEvent,
        });
        const images = report.results.map((r) => ({ workflow: r.workflow, ref: r.tag }));
        step = `exporting to ${opts.output}`;
        if (opts.output) await build.exportImages(report.store, images, opts.output, onEvent);
        step = `pushing to ${pushTarget}`;
        const pushed = pushTarget
          ? await build.pushImages(report.store, images, pushTarget, {
              insecure: opts.insecure === true,
              prefix: opts.push === true,
              onEvent,
            })
          : [];
        display?.close();
        if (report.failed.length > 0) process.exitCode = 1;
        if (opts.json) {
          printJson({
            store: report.store.dir,
            base: { name: report.base.name, digest: report.base.image.manifestDescriptor.digest },
            images: report.results.map((r) => ({
              workflow: r.workflow,
              tags: r.tags,
              digest: r.digest,
              size: r.size,
              request: r.request,
              resolve: r.resolve,
              layers: r.layers.map((l) => ({
                kind: l.kind,
                digest: l.digest,
                size: l.size,
                cached: l.cached,
                ...(l.variants ? { variants: l.variants, tier: l.tier } : {}),
              })),
              emptyLayers: r.emptyLayers,
              ...(r.audit ? { audit: r.audit } : {}),
            })),
            pushed: pushed.map((p) => ({
              workflow: p.workflow,
              reference: p.target,
              digest: p.result.digest,
              blobs: p.result.blobs,
            })),
            failed: report.failed,
            stats: report.stats,
          });
          return;
        }
        const s = report.stats;
        const fmt = build.formatBytes;
        const lines = [
          `built ${report.results.length} image(s) in ${s.seconds.toFixed(1)} s: ${s.layers} layer(s), ${s.layersReused} reused from the cache, ` +
            `${s.layersWritten} written (${fmt(s.bytesArchived)} archived -> ${fmt(s.bytesStored)} stored)`,
          `base ${report.base.name} ${report.base.image.manifestDescriptor.digest}; store ${report.store.dir}`,
        ];
        const width = Math.max(...report.results.map((r) => r.workflow.length));
        for (const r of report.results) {
          lines.push(
            `  ${r.workflow.padEnd(width)}  ${r.digest}  ${String(r.layers.length).padStart(3)} layers  ${fmt(r.size)}${r.emptyLayers.length ? `  ${build.emptyLayerNote(r.emptyLayers)}` : ""}`,
          );
        }
        for (const r of report.results)
          if (r.tag !== r.workflow)
            lines.push(
              `  ${r.workflow}: tagged ${r.tag} only (a resolve other than the configured one never moves the tag ${r.workflow})`,
            );
        for (const p of pushed) lines.push(`pushed ${p.workflow} -> ${p.target}@${p.result.digest}`);
        process.stdout.write(lines.join("\n") + "\n");
        for (const f of report.failed) process.stderr.write(`tantalus: error: ${f.workflow} not built: ${f.message}\n`);
      } catch (err) {
        const system = describeSystemError(
          err,
          step,
          step.startsWith("exporting") ? opts.output : `into the image store ${opts.store ?? config.store}`,
        );
        throw system === undefined ? err : new TantalusError(system);
      } finally {
        display?.close();
      }
    });
}

/**
 * The configuration with base.image replaced by `--base` (a path relative to the working directory, as
 * every command-line path is): the build plans, audits and labels the images as if the file named it.
 */
function onBase(config: LoadedConfig, spec: string): LoadedConfig {
  parseBaseReference(spec);
  const image = resolveLocalBase(spec, process.cwd());
  return {
    ...config,
    config: { ...config.config, base: { ...config.config.base, image } },
    dirOf: (p) => (p[0] === "base" && p[1] === "image" ? process.cwd() : config.dirOf(p)),
  };
}
