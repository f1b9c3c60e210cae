import { resolve } from "node:path";
import type { Command } from "@commander-js/extra-typings";
import { InputError, UsageError } from "../../errors.js";
import { printJson } from "../common.js";

interface SubmitOpts {
  engine?: string;
  command?: string;
  array?: string;
  partition?: string;
  output?: string;
  dryRun?: boolean;
  registry?: string;
  insecure?: boolean;
  push?: boolean;
  nodeStore?: string;
  tantalus?: string;
  runtime?: string;
  volume: string[];
  env: string[];
  network?: string;
  gpu?: string;
  config?: string;
  store?: string;
  json?: boolean;
}

interface ManifestOpts {
  engine: string;
  kind: string;
  command?: string;
  registry?: string;
  user?: string;
  allowRoot?: boolean;
  imagePullSecret: string[];
  gpus: string;
  name?: string;
  volume: string[];
  env: string[];
  config?: string;
  store?: string;
}

interface TaskOpts {
  workflow: string;
  nodeStore: string;
  settings: string;
  command?: string;
  insecure?: boolean;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function register(program: Command): void {
  const farm = program
    .command("farm")
    .description(
      "run workflows on a render farm: the image travels through the studio's registry by digest and runs as scheduler jobs, launched as `tantalus run` launches",
    );

  farm
    .command("submit")
    .description(
      "push the workflow's built image to the registry by digest and submit a scheduler job whose tasks run it with each node's runtime (-- then scheduler options)",
    )
    .argument("<workflow>", "workflow name (tantalus.yaml); its image must be built (tantalus build)")
    .argument("[schedulerOptions...]", "after --: options for the scheduler (sbatch: --time=10 --mem=8G ...)")
    .requiredOption("--engine <engine>", "the scheduler: slurm")
    .option(
      "-c, --command <command>",
      "what each task runs with /bin/sh in the workflow's environment ($SLURM_ARRAY_TASK_ID is set)",
    )
    .option("--array <spec>", "an array job: 1-100, 1,3,5-7, 0-99%10")
    .option("--partition <name>", "the partition (queue) to submit to")
    .option("--output <pattern>", "each task's stdout/stderr file (sbatch patterns: %A job, %a task)")
    .option("--dry-run", "print the job script; push and submit nothing")
    .option("--registry <prefix>", "REGISTRY/PREFIX to push to and pull from (default: the configuration's registry)")
    .option("--insecure", "plain HTTP to the registry, for the push and the nodes' pulls")
    .option("--no-push", "the registry already has the image (tantalus push); only submit")
    .option(
      "--node-store <dir>",
      "each node's local image store, shared by its tasks ($TANTALUS_NODE_STORE on a node wins)",
    )
    .option("--tantalus <command>", "how nodes run tantalus (default: this installation, by absolute path)")
    .option("--runtime <runtime>", "auto (each node's choice), podman, docker, apptainer or ch-run")
    .option("-v, --volume <SRC[:DST][:ro]>", "bind-mount a path of the nodes (repeatable)", collect, [] as string[])
    .option("-e, --env <NAME[=VALUE]>", "set a variable, or pass the node's NAME (repeatable)", collect, [] as string[])
    .option("--network <mode>", "host (default), bridge or none")
    .option("--gpu <mode>", "auto (default), all or none")
    .option("--config <file>", "configuration file (default: ./tantalus.yaml)")
    .option("--store <dir>", "image store (default: the configuration's store)")
    .option("--json", "print the job ID, the image and the script as JSON")
    .action(async (workflow, schedulerOptions, opts: SubmitOpts) => {
      const farmMod = await import("../../farm/index.js");
      if (!(farmMod.FARM_ENGINES as readonly string[]).includes(opts.engine ?? "")) {
        throw new UsageError(
          `--engine ${JSON.stringify(opts.engine)}: expected slurm (for Kubernetes: tantalus farm manifest --engine kubernetes)`,
        );
      }
      const { settings, storeDir, registry } = await runSettingsFor(workflow, opts);
      const reg = opts.registry ?? registry;
      if (!reg)
        throw new UsageError(
          "no registry: pass --registry REGISTRY/PREFIX or set `registry:` in the configuration (farm nodes pull the image from it)",
        );
      const tantalusCmd =
        opts.tantalus !== undefined
          ? opts.tantalus.split(/\s+/).filter(Boolean)
          : [process.execPath, resolve(process.argv[1]!)];
      const submission = await farmMod.submitFarmJob({
        engine: "slurm",
        workflow,
        storeDir,
        registry: reg,
        insecure: opts.insecure === true,
        push: opts.push !== false,
        dryRun: opts.dryRun === true,
        settings,
        ...(opts.command !== undefined ? { command: opts.command } : {}),
        ...(opts.array !== undefined ? { array: opts.array } : {}),
        ...(opts.partition !== undefined ? { partition: opts.partition } : {}),
        ...(opts.output !== undefined ? { output: opts.output } : {}),
        sbatchOptions: schedulerOptions,
        nodeStore: opts.nodeStore ?? farmMod.DEFAULT_NODE_STORE,
        tantalus: tantalusCmd,
        log: (line) => process.stderr.write(`tantalus: ${line}\n`),
      });
      if (opts.json) {
        printJson(submission);
        return;
      }
      if (opts.dryRun) {
        process.stdout.write(submission.script);
        return;
      }
      process.stdout.write(`${submission.jobId}\n`);
      process.stderr.write(
        `tantalus: submitted job ${submission.jobId} running ${submission.image}; \`tantalus farm status ${submission.jobId}\` gives each task's exit status\n`,
      );
    });

  farm
    .command("manifest")
    .description(
      "print a Kubernetes Pod or Job that runs the workflow's image by digest, with the run's variables and mounts, as the submitting user (push the image first: tantalus push)",
    )
    .argument("<workflow>", "workflow name (tantalus.yaml); its image must be built (tantalus build)")
    .argument("[program...]", "after --: a program and its arguments instead of -c")
    .requiredOption("--engine <engine>", "kubernetes")
    .option("--kind <kind>", "Job (default; podman 4.3's kube play cannot run Jobs) or Pod", "Job")
    .option("-c, --command <command>", "what the task runs with /bin/sh in the workflow's environment")
    .option("--registry <prefix>", "REGISTRY/PREFIX the image is in (default: the configuration's registry)")
    .option(
      "--user <uid:gid>",
      "run as UID:GID (default: tantalus.yaml's farm.user, else the submitting user; never root unless --allow-root)",
    )
    .option("--allow-root", "allow the pod to run as root")
    .option(
      "--image-pull-secret <name>",
      "a Secret with the registry's credentials (repeatable)",
      collect,
      [] as string[],
    )
    .option("--gpus <n>", "NVIDIA GPUs per pod (nvidia.com/gpu limit)", "0")
    .option("--name <name>", "the object's name (default: tantalus-<workflow>-<digest prefix>)")
    .option(
      "-v, --volume <SRC[:DST][:ro]>",
      "a mount of the nodes: a hostPath, or the farm.volumes entry of that target (repeatable)",
      collect,
      [] as string[],
    )
    .option(
      "-e, --env <NAME[=VALUE]>",
      "set a variable, or pass this machine's NAME (repeatable)",
      collect,
      [] as string[],
    )
    .option("--config <file>", "configuration file (default: ./tantalus.yaml)")
    .option("--store <dir>", "image store (default: the configuration's store)")
    .action(async (workflow, programArgs, opts: ManifestOpts) => {
      if (opts.engine !== "kubernetes")
        throw new UsageError(
          `--engine ${JSON.stringify(opts.engine)}: expected kubernetes (Slurm jobs: tantalus farm submit --engine slurm)`,
        );
      const [farmMod, { stringify }, identityMod] = await Promise.all([
        import("../../farm/index.js"),
        import("yaml"),
        import("../../util/identity.js"),
      ]);
      if (!(farmMod.MANIFEST_KINDS as readonly string[]).includes(opts.kind))
        throw new UsageError(`--kind ${JSON.stringify(opts.kind)}: expected Job or Pod`);
      if (!/^\d+$/.test(opts.gpus))
        throw new UsageError(`--gpus ${JSON.stringify(opts.gpus)}: expected a whole number`);
      if (opts.command !== undefined && programArgs.length > 0)
        throw new UsageError("give either -c COMMAND or a program after --, not both");
      // Checked here, where the flag is named: the cluster would refuse them only at kubectl apply.
      for (const secret of opts.imagePullSecret)
        if (!/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(secret))
          throw new UsageError(
            `--image-pull-secret ${JSON.stringify(secret)}: expected a Kubernetes object name (lower-case letters, digits, - and .)`,
          );
      if (opts.name !== undefined && !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(opts.name))
        throw new UsageError(
          `--name ${JSON.stringify(opts.name)}: expected a Kubernetes name of at most 63 lower-case letters, digits and -`,
        );
      const { settings, storeDir, registry, files } = await runSettingsFor(workflow, {
        ...opts,
        volume: opts.volume,
        env: opts.env,
      });
      const reg = opts.registry ?? registry;
      if (!reg)
        throw new UsageError(
          "no registry: pass --registry REGISTRY/PREFIX or set `registry:` in the configuration (the cluster pulls the image from it)",
        );
      // The farm section (user, volumes, pull secrets) is read here only: `tantalus run` never needs it.
      const { loadConfig } = await import("../../config/index.js");
      const loaded = loadConfig(undefined, { files, env: process.env, required: false });
      const farmConfig = loaded.config.farm;
      if (farmConfig.user?.uid === 0 && opts.user === undefined && !opts.allowRoot)
        throw new InputError(
          "farm.user.uid: 0 is root, and farm pods never run as root unless asked: set the farm user's uid, or pass --allow-root to mean it",
          loaded.locate(["farm", "user", "uid"]),
        );
      const me = identityMod.currentIdentity(process.env);
      let user: import("../../farm/index.js").ManifestOptions["user"] = farmConfig.user
        ? {
            uid: farmConfig.user.uid,
            gid: farmConfig.user.gid,
            fsGroup: farmConfig.user.fs_group ?? farmConfig.user.gid,
            name: "farm",
            home: farmConfig.user.home,
          }
        : { uid: me.uid, gid: me.gid, name: me.user, home: me.home };
      if (opts.user !== undefined) {
        const m = /^(\d+):(\d+)$/.exec(opts.user);
        if (!m) throw new UsageError(`--user ${JSON.stringify(opts.user)}: expected UID:GID, e.g. 1000:1000`);
        user = { uid: Number(m[1]), gid: Number(m[2]), name: "farm", home: farmConfig.user?.home ?? "/tmp" };
      }
      const pinned = await farmMod.pinnedStoredImage(storeDir, workflow, reg);
      const manifest = await farmMod.kubernetesManifest({
        kind: opts.kind as import("../../farm/index.js").ManifestKind,
        workflow,
        image: pinned.image,
        settings,
        ...(opts.command !== undefined ? { command: opts.command } : {}),
        ...(programArgs.length > 0 ? { argv: programArgs } : {}),
        user,
        allowRoot: opts.allowRoot === true,
        env: process.env,
        imagePullSecrets: [...new Set([...farmConfig.image_pull_secrets, ...opts.imagePullSecret])],
        volumes: farmConfig.volumes,
        submitterHome: me.home,
        gpus: Number(opts.gpus),
        ...(pinned.labels["io.tantalus.resolve"] ? { resolve: pinned.labels["io.tantalus.resolve"] } : {}),
        ...(pinned.labels["io.tantalus.context.digest"]
          ? { contextDigest: pinned.labels["io.tantalus.context.digest"] }
          : {}),
        ...(opts.name !== undefined ? { name: opts.name } : {}),
      });
      process.stdout.write(stringify(manifest));
      if (opts.kind === "Job")
        process.stderr.write(
          "tantalus: note: podman kube play (podman 4.3) does not run Jobs; to try the task on this machine, print the Pod form (--kind Pod) and play that\n",
        );
    });

  farm
    .command("status")
    .description("each task of a farm job: state and exit status (Slurm: from slurmctld, else from accounting)")
    .argument("<job>", "the job ID farm submit printed")
    .option("--engine <engine>", "the scheduler: slurm", "slurm")
    .option("--wait", "wait until every task has finished")
    .option("--json", "print the tasks as JSON")
    .action(async (job, opts: { engine: string; wait?: boolean; json?: boolean }) => {
      if (opts.engine !== "slurm") throw new UsageError(`--engine ${JSON.stringify(opts.engine)}: expected slurm`);
      const farmMod = await import("../../farm/index.js");
      let tasks = farmMod.slurmJobStatus(job);
      while (opts.wait && !tasks.every(farmMod.isFinished)) {
        await new Promise((r) => setTimeout(r, 1000));
        tasks = farmMod.slurmJobStatus(job);
      }
      if (opts.json) {
        printJson(tasks);
        return;
      }
      const rows = tasks.map((t) => [
        t.id,
        t.state,
        t.exitStatus === undefined ? "-" : String(t.exitStatus),
        t.node ?? "-",
        t.reason ?? t.output ?? "",
      ]);
      const header = ["TASK", "STATE", "EXIT", "NODE", "OUTPUT/REASON"];
      const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
      const line = (r: string[]) => r.map((v, c) => (c === r.length - 1 ? v : v.padEnd(widths[c]!))).join("  ");
      process.stdout.write([line(header), ...rows.map(line)].join("\n") + "\n");
    });

  farm
    .command("task")
    .description(
      "(on a farm node, from a job script) pull the image into the node store once per node, then run the task as `tantalus run` would",
    )
    .argument("<image>", "REGISTRY/REPO@sha256:...")
    .argument("[program...]", "after --: a program and its arguments instead of -c")
    .requiredOption("--workflow <name>", "the workflow")
    .requiredOption("--node-store <dir>", "the node-local store shared by the node's tasks")
    .requiredOption("--settings <json>", "the run settings computed where the job was submitted")
    .option("-c, --command <command>", "run COMMAND with /bin/sh in the workflow's environment")
    .option("--insecure", "plain HTTP to the registry")
    .action(async (image, programArgs, opts: TaskOpts) => {
      const farmMod = await import("../../farm/index.js");
      let settings: import("../../run/settings.js").RunSettings;
      try {
        settings = JSON.parse(opts.settings) as typeof settings;
      } catch (e) {
        throw new UsageError(`--settings: not JSON (${(e as Error).message})`);
      }
      process.exitCode = await farmMod.runFarmTask({
        image,
        workflow: opts.workflow,
        nodeStore: opts.nodeStore,
        settings,
        ...(opts.command !== undefined ? { command: opts.command } : {}),
        ...(programArgs.length > 0 ? { argv: programArgs } : {}),
        insecure: opts.insecure === true,
      });
    });
}

/** The run settings as `tantalus run` computes them (src/cli/run-settings.ts): the configuration's, then the flags. */
async function runSettingsFor(
  workflow: string,
  opts: Pick<SubmitOpts, "config" | "store" | "runtime" | "network" | "gpu" | "volume" | "env">,
) {
  const { settings, storeDir, files } = await (await import("../run-settings.js")).runSettingsFor(workflow, opts);
  return { settings, storeDir, registry: settings.registry, files };
}
