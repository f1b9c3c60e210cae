/**
 * A Slurm array of farm tasks against bare `podman run` of the same image and
 * command, on the one-node cluster the farm tests start (test/farm/slurm-cluster.ts:
 * slurmctld + slurmd on 127.0.0.1, CPUs=2, so two tasks run at a time).
 *
 *   npm run bench -- farm-array [--tasks 50] [--slurm-conf LINE]...   (LINE: more slurm.conf, e.g. SchedulerParameters=...)
 *
 * The sample studio's rough_layout is built, pushed by digest to a
 * docker-registry on 127.0.0.1, and submitted with `tantalus farm submit
 * --engine slurm --array 1-N --no-push` three times in one run:
 *   cold  a fresh node store: the first task pulls the image and loads it into podman
 *   warm  the same node store again: every task starts from it
 * and, between them, the reference: the same command N times as a bare
 * `podman run --rm IMAGE -c CMD` of the image the cold job loaded (podman's
 * defaults, and with --network host as farm tasks use), two at a time as
 * Slurm runs them on this node.
 *
 * Each task's command starts by printing the kernel's uptime (/proc/uptime, 10 ms
 * steps; busybox's date has no %N) inside the container: its first output. The node-side start is written by a wrapper the job script runs
 * instead of tantalus (--tantalus), just before it execs tantalus. Figures:
 *   submit → first output: from `farm submit` returning the job ID (queueing behind earlier tasks included)
 *   start → first output:  from the job script's start on the node (what a task costs on top of Slurm)
 *   spawn → first output:  for the reference, from spawning `podman run`
 * medians and maxima, and the ratio of the start→first-output median to the
 * reference's spawn→first-output median, measured in the same run. The
 * wrapper also notes each task's end, which gives Slurm's own share: how long
 * a CPU freed by one task waits for the next to start, and the whole array's
 * time against the reference's N runs; an array of plain shell tasks that do
 * nothing else gives Slurm's own floor for that wait on this node.
 */
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateStudio } from "../src/studio/index.js";
import { startRegistry } from "../test/image-remote/harness.js";
import { slurmSkipReason, startSlurmCluster } from "../test/farm/slurm-cluster.js";
import { median, option } from "./common.js";

const BIN = join(import.meta.dirname, "..", "bin", "tantalus.js");

/**
 * Milliseconds since boot from /proc/uptime (10 ms steps): the one clock the
 * image's busybox shell can read without starting a program (`read t _ </proc/uptime`;
 * busybox date has no %N), and the same kernel clock on the host and in the containers.
 */
function uptimeMs(text = readFileSync("/proc/uptime", "utf8")): number {
  return Number(text.trim().split(/\s+/)[0]) * 1000;
}

function tantalusOk(args: string[], env: NodeJS.ProcessEnv = process.env): string {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", env, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`tantalus ${args.join(" ")}: exit ${r.status}\n${r.stderr}`);
  return r.stdout;
}

/** The first `stamp UPTIME` line of a task's output, in milliseconds since boot. */
function firstStamp(text: string, what: string): number {
  const m = /^stamp (\d+\.\d+)$/m.exec(text);
  if (!m) throw new Error(`${what}: no stamp line in its output:\n${text.slice(0, 2000)}`);
  return uptimeMs(m[1]);
}

interface Figures {
  median: number;
  max: number;
}

function figures(xs: number[]): Figures {
  return { median: median(xs), max: Math.max(...xs) };
}

function fmt(f: Figures): string {
  return `median ${f.median.toFixed(0)} ms, max ${f.max.toFixed(0)} ms`;
}

/** One spawn→first-output measurement of `argv`: the time until its stdout's first stamp line. */
function timedFirstOutput(argv: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = uptimeMs();
    const p = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    p.stdout.on("data", (d: Buffer) => (out += d.toString()));
    p.stderr.on("data", (d: Buffer) => (err += d.toString()));
    p.on("close", (code) => {
      if (code !== 0) return reject(new Error(`${argv.join(" ")}: exit ${code}\n${err}`));
      try {
        resolve(firstStamp(out, argv.join(" ")) - t0);
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  });
}

/**
 * Slurm's own share: a CPU freed by a task's end waits this long for the next task to start
 * (the i-th start after the first two takes the slot of the (i-2)-th end, both in time order).
 */
function slotGaps(starts: number[], ends: number[]): number[] {
  const s = [...starts].sort((a, b) => a - b);
  const e = [...ends].sort((a, b) => a - b);
  return s.slice(2).map((start, i) => start - e[i]!);
}

async function pool<T>(items: T[], jobs: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: jobs }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

export async function run(args: string[]): Promise<void> {
  const tasks = Number(option(args, "--tasks") ?? 50);
  const skip = slurmSkipReason();
  if (skip) throw new Error(`farm-array: the one-node Slurm cluster cannot start here: ${skip}`);
  const dir = mkdtempSync(join(tmpdir(), "tantalus-bench-farm-array-"));
  chmodSync(dir, 0o755);
  const reg = await startRegistry();
  const cluster = await startSlurmCluster(args.flatMap((a, i) => (args[i - 1] === "--slurm-conf" ? [a] : [])));
  let imageId: string | undefined;
  try {
    const studio = join(dir, "studio");
    await generateStudio(studio, { scale: "small" });
    const config = join(studio, "tantalus.yaml");
    const store = join(dir, "store");
    const built = JSON.parse(
      tantalusOk([
        "build",
        "rough_layout",
        "--allow-audit-errors",
        "--config",
        config,
        "--store",
        store,
        "--json",
        "--no-progress",
      ]),
    ) as { images: { digest: string }[] };
    const digest = built.images[0]!.digest;
    const manifest = JSON.parse(readFileSync(join(store, "blobs", "sha256", digest.slice(7)), "utf8")) as {
      config: { digest: string };
    };
    imageId = manifest.config.digest.slice(7);
    tantalusOk(["push", digest, `${reg.host}/studio/rough_layout:bench`, "--insecure", "--store", store]);

    // The job script runs this instead of tantalus: it notes when the task started on the node.
    const starts = join(dir, "starts");
    mkdirSync(starts);
    const wrapper = join(dir, "tantalus-on-node");
    writeFileSync(
      wrapper,
      [
        "#!/bin/sh",
        `read t _ </proc/uptime; echo $t > ${starts}/$SLURM_ARRAY_JOB_ID-$SLURM_ARRAY_TASK_ID.start`,
        `${process.execPath} ${BIN} "$@"`,
        "status=$?",
        `read t _ </proc/uptime; echo $t > ${starts}/$SLURM_ARRAY_JOB_ID-$SLURM_ARRAY_TASK_ID.end`,
        "exit $status",
        "",
      ].join("\n"),
      { mode: 0o755 },
    );
    const command = "read t _ </proc/uptime; echo stamp $t; launch_app -show=dragon";
    const nodeStore = join(dir, "node-store");

    const slurmArray = (label: string) => {
      const logs = join(dir, `logs-${label}`);
      mkdirSync(logs);
      const t0 = uptimeMs();
      const job = tantalusOk(
        [
          "farm",
          "submit",
          "rough_layout",
          "--engine",
          "slurm",
          "--config",
          config,
          "--store",
          store,
          "--registry",
          `${reg.host}/studio`,
          "--insecure",
          "--no-push",
          "--array",
          `1-${tasks}`,
          "--node-store",
          nodeStore,
          "--tantalus",
          wrapper,
          "--output",
          join(logs, "%a.txt"),
          "-c",
          command,
        ],
        cluster.env,
      ).trim();
      const submitted = uptimeMs();
      const status = JSON.parse(tantalusOk(["farm", "status", job, "--wait", "--json"], cluster.env)) as {
        arrayTaskId?: string;
        state: string;
        exitStatus?: number;
      }[];
      const bad = status.filter((t) => t.exitStatus !== 0);
      if (status.length !== tasks || bad.length > 0)
        throw new Error(`job ${job}: ${status.length} tasks, failed: ${JSON.stringify(bad)}`);
      const fromSubmit: number[] = [];
      const fromStart: number[] = [];
      const startTimes: number[] = [];
      const endTimes: number[] = [];
      const spans: number[] = [];
      for (let n = 1; n <= tasks; n++) {
        const first = firstStamp(readFileSync(join(logs, `${n}.txt`), "utf8"), `task ${n}`);
        const start = uptimeMs(readFileSync(join(starts, `${job}-${n}.start`), "utf8"));
        const end = uptimeMs(readFileSync(join(starts, `${job}-${n}.end`), "utf8"));
        startTimes.push(start);
        endTimes.push(end);
        spans.push(end - start);
        fromSubmit.push(first - submitted);
        fromStart.push(first - start);
      }
      const gaps = slotGaps(startTimes, endTimes);
      return {
        job,
        submitSeconds: (submitted - t0) / 1000,
        firstTaskStart: startTimes[0]! - submitted,
        slotGap: figures(gaps),
        taskSpan: figures(spans),
        wholeArray: (endTimes[endTimes.length - 1]! - submitted) / 1000,
        fromSubmit: figures(fromSubmit),
        fromStart: figures(fromStart),
      };
    };

    const cold = slurmArray("cold");

    // The reference: the image as the cold job loaded it into podman, by its ID; the same command.
    const reference = async (extra: string[]) => {
      const xs: number[] = [];
      const t0 = uptimeMs();
      await pool(
        Array.from({ length: tasks }, (_, i) => i),
        2,
        async () => {
          xs.push(await timedFirstOutput(["podman", "run", "--rm", ...extra, imageId!, "-c", command]));
        },
      );
      return { ...figures(xs), wholeArray: (uptimeMs() - t0) / 1000 };
    };
    const bare = await reference([]);
    const bareHost = await reference(["--network", "host"]);
    const warm = slurmArray("warm");

    // Slurm's floor on this node: the same array of tasks that only note their start and end.
    const plain = (() => {
      const submitted = spawnSync("sbatch", ["--parsable", "--output=/dev/null", `--array=1-${tasks}`], {
        encoding: "utf8",
        env: cluster.env,
        input: [
          "#!/bin/sh",
          `read t _ </proc/uptime; echo $t > ${starts}/plain-$SLURM_ARRAY_TASK_ID.start`,
          `read t _ </proc/uptime; echo $t > ${starts}/plain-$SLURM_ARRAY_TASK_ID.end`,
          "",
        ].join("\n"),
      });
      if (submitted.status !== 0) throw new Error(`sbatch: ${submitted.stderr}`);
      tantalusOk(["farm", "status", submitted.stdout.trim().split(";")[0]!, "--wait", "--json"], cluster.env);
      const read = (n: number, what: string) => uptimeMs(readFileSync(join(starts, `plain-${n}.${what}`), "utf8"));
      const ns = Array.from({ length: tasks }, (_, i) => i + 1);
      return figures(
        slotGaps(
          ns.map((n) => read(n, "start")),
          ns.map((n) => read(n, "end")),
        ),
      );
    })();

    const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
    process.stdout.write(
      [
        `farm-array: ${tasks} tasks of rough_layout (-c '${command}'), one-node Slurm (CPUs=2), podman ${spawnSync("podman", ["--version"], { encoding: "utf8" }).stdout.trim().split(" ").pop()}; load average ${load}`,
        ...[
          ["cold", cold],
          ["warm", warm],
        ].map(([label, r]) => {
          const x = r as ReturnType<typeof slurmArray>;
          return [
            `  slurm ${label as string} (job ${x.job}; farm submit took ${x.submitSeconds.toFixed(2)} s; first task started ${x.firstTaskStart.toFixed(0)} ms after it returned; last task ended ${x.wholeArray.toFixed(1)} s after)`,
            `    submit → first output: ${fmt(x.fromSubmit)}`,
            `    start → first output:  ${fmt(x.fromStart)}`,
            `    task, start → end:     ${fmt(x.taskSpan)}`,
            `    a freed CPU waits for the next task: ${fmt(x.slotGap)}`,
          ].join("\n");
        }),
        `  slurm alone, an array of ${tasks} tasks that only note their start and end: a freed CPU waits ${fmt(plain)}`,
        `  bare podman run --rm IMAGE -c CMD, 2 at a time:                 spawn → first output: ${fmt(bare)}; all ${tasks} in ${bare.wholeArray.toFixed(1)} s`,
        `  bare podman run --rm --network host IMAGE -c CMD, 2 at a time:  spawn → first output: ${fmt(bareHost)}; all ${tasks} in ${bareHost.wholeArray.toFixed(1)} s`,
        `  ratio of medians, farm task start → first output / bare podman run: cold ${(cold.fromStart.median / bare.median).toFixed(2)}×, warm ${(warm.fromStart.median / bare.median).toFixed(2)}× (against --network host: ${(warm.fromStart.median / bareHost.median).toFixed(2)}×)`,
        "",
      ].join("\n"),
    );
  } finally {
    if (imageId) spawnSync("podman", ["rmi", "--force", imageId], { stdio: "ignore" });
    await cluster.stop();
    await reg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
