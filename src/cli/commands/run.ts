import type { Command } from "@commander-js/extra-typings";
import { UsageError } from "../../errors.js";
import { afterDoubleDash } from "../argv.js";

interface RunOpts {
  command?: string;
  runtime?: string;
  build?: boolean;
  dryRun?: boolean;
  volume: string[];
  env: string[];
  network?: string;
  gpu?: string;
  display?: boolean;
  config?: string;
  store?: string;
  tag?: string;
  norc?: boolean;
  paths?: string;
  time?: string;
  dev?: string[] | true;
  request?: string;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function register(program: Command): void {
  program
    .command("run")
    .description(
      "start a workflow's image with this machine's container runtime, as yourself, with your files, licences, GPU and display; run COMMAND or get a shell",
    )
    .argument("[workflow]", "workflow name (tantalus.yaml); none with --request")
    .argument("[program...]", "after --: a program and its arguments to run directly instead of -c/the shell")
    .option(
      "-c, --command <command>",
      "run COMMAND with /bin/sh in the workflow's environment (default: an interactive shell)",
    )
    .option(
      "--runtime <runtime>",
      "auto, podman, docker, apptainer or ch-run (default: run.runtime, else auto: podman > docker > apptainer > ch-run)",
    )
    .option(
      "--no-build",
      "never build the image; fail if it is missing or its stamp does not show it current (tantalus.yaml, a package definition or payload changed)",
    )
    .option(
      "--dry-run",
      "print the exact runtime command line instead of running it (an out-of-date image is built first, as a real run would)",
    )
    .option("-v, --volume <SRC[:DST][:ro]>", "bind-mount a host path (repeatable)", collect, [] as string[])
    .option("-e, --env <NAME[=VALUE]>", "set a variable, or pass the host's NAME (repeatable)", collect, [] as string[])
    .option("--network <mode>", "host (default), bridge (licence servers added as hosts) or none")
    .option("--gpu <mode>", "auto (default), all (fail without one) or none")
    .option("--no-display", "do not pass the X11/Wayland display")
    .option(
      "--config <file>",
      "configuration file (default: TANTALUS_CONFIG, else ./tantalus.yaml or the nearest in a parent folder)",
    )
    .option(
      "--store <dir>",
      "image store (default: TANTALUS_STORE, else the configuration's store, else ~/.cache/tantalus/store)",
    )
    .option("--tag <tag>", "run this store tag or manifest digest instead of the workflow's current image")
    .option(
      "--paths <paths>",
      "package search paths, colon-separated, instead of the configured ones: runs an image built for them, tagged WORKFLOW:dev-<user>-<hash> (the workflow's tag never moves)",
    )
    .option(
      "--time <time>",
      "ignore packages released after this time (as resolve --time): runs an image built for that resolve, tagged WORKFLOW:dev-<user>-<hash> (the workflow's tag never moves)",
    )
    .option(
      "--dev [path...]",
      "run the workflow's current image with the packages of these dev repositories (default: dev.paths, else ~/packages) mounted in, resolved first; nothing is built, the store is not written",
    )
    .option(
      "--request <requirements>",
      'run an ad-hoc request instead of a workflow ("maya-2025 layout_tools"): built like one, through the same layer cache, tagged request:<hash>',
    )
    .option("--norc", "the interactive shell does not read your startup file (~/.bashrc, ~/.zshrc), as rez-env --norc")
    .action(async (workflowArg, programArgs, opts: RunOpts, self: { parent: unknown }) => {
      if (opts.request !== undefined) {
        // No workflow: everything after -- is the program (commander took its first word for WORKFLOW).
        const argv = workflowArg !== undefined ? [workflowArg, ...programArgs] : programArgs;
        // A word before -- is a workflow name given beside --request, not the program: running it as one
        // would fail inside the container with 127, far from the mistake.
        if (argv.length > (afterDoubleDash(self, argv)?.length ?? 0))
          throw new UsageError(
            `--request runs an ad-hoc request, not a workflow: '${argv[0]}' is given before --; put a program after -- (run --request "REQ" -- PROGRAM ARGS), or leave out --request to run the workflow`,
          );
        if (opts.command !== undefined && argv.length > 0)
          throw new UsageError("give either -c COMMAND or a program after --, not both");
        if (opts.dev !== undefined || opts.paths !== undefined || opts.time !== undefined || opts.tag !== undefined)
          throw new UsageError("--request runs its own image: give no --dev, --paths, --time or --tag with it");
        const [run, adHoc] = await Promise.all([import("../../run/run.js"), import("../adhoc-run.js")]);
        const request = await adHoc.adHocRequest(opts.request);
        const { env, identity, settings, source } = await adHoc.adHocRunSettings(request, opts);
        process.exitCode = await run.runWorkflow({
          workflow: request.name,
          command: opts.command,
          argv: argv.length > 0 ? argv : undefined,
          settings,
          source,
          noBuild: opts.build === false,
          dryRun: opts.dryRun === true,
          env,
          identity,
        });
        return;
      }
      if (workflowArg === undefined) throw new UsageError("name the workflow to run (or give --request REQUIREMENTS)");
      const workflow = workflowArg;
      if (opts.command !== undefined && programArgs.length > 0)
        throw new UsageError("give either -c COMMAND or a program after --, not both");
      // Only what a launch needs is loaded: `tantalus run` is on the artist's critical path.
      const [run, { runSettingsFor }] = await Promise.all([import("../../run/run.js"), import("../run-settings.js")]);
      const { env, identity, files, configFiles, settings, storeDir } = await runSettingsFor(workflow, opts);
      const source: import("../../run/image.js").ImageSource = { storeDir };
      if (opts.dev !== undefined) {
        if (opts.tag !== undefined || opts.paths !== undefined || opts.time !== undefined)
          throw new UsageError("--dev runs the workflow's current image: give no --tag, --paths or --time with it");
        const dev = await import("../dev-run.js");
        const launch = await dev.devLaunchFor(workflow, opts.dev === true ? [] : opts.dev, {
          storeDir,
          files,
          configFiles,
          env,
          home: identity.home,
          noBuild: opts.build === false,
        });
        settings.mounts.push(...launch.mounts);
        settings.env.push(...launch.env);
        process.exitCode = await run.runWorkflow({
          workflow,
          command: opts.command,
          argv: programArgs.length > 0 ? programArgs : undefined,
          settings,
          source,
          tag: launch.ref,
          dryRun: opts.dryRun === true,
          env,
          identity,
        });
        return;
      }
      if (settings.registry) source.registry = settings.registry;
      if (opts.paths !== undefined || opts.time !== undefined) {
        if (opts.tag !== undefined) throw new UsageError("give either --tag or --paths/--time, not both");
        // Another search path or time is another resolve: built (through the layer cache) into a dev tag, never the workflow's.
        const [{ findConfig }, { parseTime }] = await Promise.all([import("../common.js"), import("../time.js")]);
        const timestamp = opts.time !== undefined ? parseTime(opts.time) : undefined;
        let packagePaths: string[] | undefined;
        if (opts.paths !== undefined) {
          packagePaths = findConfig({ config: opts.config, paths: opts.paths }).packagesPath;
          if (packagePaths.length === 0)
            throw new UsageError(`--paths ${JSON.stringify(opts.paths)} names no package repository`);
        }
        const resolveOpts = {
          ...(packagePaths !== undefined ? { packagePaths } : {}),
          ...(timestamp !== undefined ? { timestamp } : {}),
        };
        source.builder = {
          async ensureBuilt(wf, store, o) {
            if (o.noBuild) return undefined;
            const [{ loadConfig }, { buildWorkflowImage }] = await Promise.all([
              import("../../config/index.js"),
              import("../../builder/builder.js"),
            ]);
            return buildWorkflowImage(loadConfig(undefined, { files, env }), wf, store, o.log, resolveOpts);
          },
        };
      } else if (configFiles.length > 0) {
        // The build pipeline is loaded only when the image has to be checked or built.
        source.builder = {
          async ensureBuilt(wf, store, o) {
            // The stamp answers "nothing changed" with stat calls and a metadata walk of the payloads;
            // only a failed stamp pays for a resolve, and one line says why.
            const { outOfDate, stampVerdict } = await import("../../builder/stamp.js");
            // The files a build's stamp names: Rez's rezconfig files too (what the build's LoadedConfig read).
            const { configFilesRead } = await import("../../config/discover.js");
            const verdict = await stampVerdict(store, wf, configFilesRead(files, env, process.cwd()));
            if (verdict.current) return { tag: wf, built: false };
            if (o.noBuild) throw outOfDate(wf, verdict.reason);
            o.log(`building ${wf}: ${verdict.reason}`);
            const [{ loadConfig }, { buildWorkflowImage }] = await Promise.all([
              import("../../config/index.js"),
              import("../../builder/builder.js"),
            ]);
            return buildWorkflowImage(loadConfig(undefined, { files, env }), wf, store, o.log);
          },
        };
      }
      process.exitCode = await run.runWorkflow({
        workflow,
        command: opts.command,
        argv: programArgs.length > 0 ? programArgs : undefined,
        settings,
        source,
        tag: opts.tag,
        noBuild: opts.build === false,
        dryRun: opts.dryRun === true,
        env,
        identity,
      });
    });
}
