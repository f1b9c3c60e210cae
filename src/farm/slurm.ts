/**
 * Slurm: an sbatch script whose every task runs `tantalus farm task` on its
 * node with the image pinned by digest and the run settings computed where
 * the job was submitted; `sbatch --parsable` submits it; `scontrol show job`
 * (or `sacct` once slurmctld has forgotten the job) gives each task's state
 * and exit status.
 */
import { spawnSync } from "node:child_process";
import { TantalusError, UsageError } from "../errors.js";
import { shellJoin, shellQuote } from "../run/quote.js";
import type { RunSettings } from "../run/settings.js";

export interface SlurmJobSpec {
  workflow: string;
  /** REGISTRY/REPO@sha256:… */
  image: string;
  settings: RunSettings;
  command?: string;
  argv?: string[];
  /** `1-100`, `1,3,5-7`, `0-99%10`: sbatch's --array syntax. */
  array?: string;
  partition?: string;
  /** Extra sbatch options, each one `#SBATCH` line. */
  sbatchOptions: string[];
  /** Where each task writes stdout and stderr (sbatch -o pattern). */
  output?: string;
  /** The node store; `$TANTALUS_NODE_STORE` on a node overrides it. */
  nodeStore: string;
  /** How a node runs tantalus: argv prefix (e.g. ["tantalus"] or [node, /opt/tantalus/bin/tantalus.js]). */
  tantalus: string[];
  insecure: boolean;
  /** The resolve and the submitting side's details, written as comments. */
  comments: string[];
}

const ARRAY_RE = /^\d+(-\d+(:\d+)?)?(,\d+(-\d+(:\d+)?)?)*(%\d+)?$/;

export function checkArraySpec(spec: string): string {
  if (!ARRAY_RE.test(spec))
    throw new UsageError(`--array ${JSON.stringify(spec)}: expected sbatch's syntax, e.g. 1-100, 1,3,5-7 or 0-99%10`);
  return spec;
}

/** The sbatch script: scheduler options, then one exec of the node-side task. */
export function slurmScript(job: SlurmJobSpec): string {
  const lines = ["#!/bin/sh", `#SBATCH --job-name=${sbatchValue(`tantalus-${job.workflow}`)}`];
  if (job.array !== undefined) lines.push(`#SBATCH --array=${checkArraySpec(job.array)}`);
  if (job.partition !== undefined) lines.push(`#SBATCH --partition=${sbatchValue(job.partition)}`);
  if (job.output !== undefined) lines.push(`#SBATCH --output=${sbatchValue(job.output)}`);
  for (const o of job.sbatchOptions) {
    if (!o.startsWith("-"))
      throw new UsageError(
        `sbatch option ${JSON.stringify(o)}: expected an option (-N 1, --time=10, --mem=8G...) after --`,
      );
    lines.push(`#SBATCH ${sbatchValue(o)}`);
  }
  for (const c of job.comments) lines.push(`# ${c.replace(/\n/g, " ")}`);
  // The task's own variables reach the command inside the container; -c is run there by /bin/sh.
  const settings = { ...job.settings, display: false, passthrough: [...job.settings.passthrough] };
  const task = [
    ...job.tantalus,
    "farm",
    "task",
    job.image,
    "--workflow",
    job.workflow,
    "--settings",
    JSON.stringify(settings),
  ];
  if (job.insecure) task.push("--insecure");
  if (job.command !== undefined) task.push("-c", job.command);
  const args = job.argv !== undefined && job.command === undefined ? ["--", ...job.argv] : [];
  lines.push(
    "set -u",
    `TANTALUS_NODE_STORE=\${TANTALUS_NODE_STORE:-${shellQuote(job.nodeStore)}}`,
    `exec ${shellJoin(task)} --node-store "$TANTALUS_NODE_STORE"${args.length ? ` ${shellJoin(args)}` : ""}`,
    "",
  );
  return lines.join("\n");
}

/** #SBATCH lines are not parsed by a shell: a value with a line break would inject another line. */
function sbatchValue(v: string): string {
  if (/[\n\r]/.test(v)) throw new UsageError(`sbatch value ${JSON.stringify(v)} has a line break`);
  return v;
}

export interface SlurmEnv {
  env?: NodeJS.ProcessEnv;
}

function slurmTool(
  argv: string[],
  input: string | undefined,
  opts: SlurmEnv,
): { status: number | null; stdout: string; stderr: string; missing: boolean } {
  const r = spawnSync(argv[0]!, argv.slice(1), { input, encoding: "utf8", env: opts.env ?? process.env });
  const error: NodeJS.ErrnoException | undefined = r.error;
  const missing = error?.code === "ENOENT";
  return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "", missing };
}

/** Submit the script on stdin; returns the job ID. */
export function submitSlurmScript(script: string, opts: SlurmEnv = {}): string {
  const r = slurmTool(["sbatch", "--parsable"], script, opts);
  if (r.missing)
    throw new TantalusError(
      "sbatch is not installed on this machine (Debian: apt-get install slurm-client; the cluster's slurm.conf must be readable)",
    );
  if (r.status !== 0)
    throw new TantalusError(
      `sbatch refused the job: ${r.stderr.trim().split("\n").pop() ?? `exit status ${r.status}`}`,
    );
  const id = r.stdout.trim().split(";")[0] ?? "";
  if (!/^\d+$/.test(id))
    throw new TantalusError(`sbatch gave no job ID (it printed ${JSON.stringify(r.stdout.trim())})`);
  return id;
}

export interface SlurmTaskStatus {
  /** The array job and task (`12_3`), or the job ID alone. */
  id: string;
  jobId: string;
  arrayTaskId?: string;
  state: string;
  /** The command's exit status (Slurm's ExitCode N:S: N, or 128+S when killed by signal S). */
  exitStatus?: number;
  node?: string;
  output?: string;
  reason?: string;
}

const FINISHED = new Set([
  "COMPLETED",
  "FAILED",
  "CANCELLED",
  "TIMEOUT",
  "NODE_FAIL",
  "OUT_OF_MEMORY",
  "PREEMPTED",
  "BOOT_FAIL",
  "DEADLINE",
]);

export function isFinished(t: SlurmTaskStatus): boolean {
  return FINISHED.has(t.state.split(" ")[0]!);
}

function exitOf(code: string | undefined): number | undefined {
  const m = code !== undefined ? /^(\d+):(\d+)$/.exec(code) : null;
  if (!m) return undefined;
  return Number(m[2]) !== 0 ? 128 + Number(m[2]) : Number(m[1]);
}

/** `scontrol show job -o`: one line per job (each array task is one), `Key=Value` words. */
export function parseScontrolJobs(text: string): SlurmTaskStatus[] {
  const out: SlurmTaskStatus[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    const f = new Map<string, string>();
    for (const word of line.trim().split(/\s+/)) {
      const eq = word.indexOf("=");
      if (eq > 0) f.set(word.slice(0, eq), word.slice(eq + 1));
    }
    const array = f.get("ArrayJobId");
    const taskId = f.get("ArrayTaskId");
    const jobId = array ?? f.get("JobId") ?? "";
    const t: SlurmTaskStatus = {
      id: taskId !== undefined ? `${jobId}_${taskId}` : jobId,
      jobId,
      state: f.get("JobState") ?? "UNKNOWN",
    };
    if (taskId !== undefined) t.arrayTaskId = taskId;
    const exit = exitOf(f.get("ExitCode"));
    if (exit !== undefined && isFinished(t)) t.exitStatus = exit;
    const node = f.get("BatchHost") ?? f.get("NodeList");
    if (node && node !== "(null)") t.node = node;
    const output = f.get("StdOut");
    if (output) t.output = output;
    const reason = f.get("Reason");
    if (reason && reason !== "None") t.reason = reason;
    out.push(t);
  }
  return out.sort((a, b) => Number(a.arrayTaskId ?? 0) - Number(b.arrayTaskId ?? 0) || (a.id < b.id ? -1 : 1));
}

/** `sacct -P -n -X -o JobID,State,ExitCode,NodeList`: for jobs slurmctld no longer holds (needs accounting). */
export function parseSacct(text: string): SlurmTaskStatus[] {
  const out: SlurmTaskStatus[] = [];
  for (const line of text.split("\n")) {
    const [id, state, code, node] = line.trim().split("|");
    if (!id || !state) continue;
    const [jobId, taskId] = id.split("_");
    const t: SlurmTaskStatus = { id, jobId: jobId!, state };
    if (taskId !== undefined && /^\d+$/.test(taskId)) t.arrayTaskId = taskId;
    const exit = exitOf(code);
    if (exit !== undefined && isFinished(t)) t.exitStatus = exit;
    if (node && node !== "None assigned") t.node = node;
    out.push(t);
  }
  return out;
}

/** Each task of job `jobId`: from slurmctld while it remembers the job, else from accounting. */
export function slurmJobStatus(jobId: string, opts: SlurmEnv = {}): SlurmTaskStatus[] {
  if (!/^\d+$/.test(jobId))
    throw new UsageError(`job ${JSON.stringify(jobId)}: expected a Slurm job ID (a number, as farm submit printed)`);
  const live = slurmTool(["scontrol", "show", "job", "-o", jobId], undefined, opts);
  if (live.missing)
    throw new TantalusError("scontrol is not installed on this machine (Debian: apt-get install slurm-client)");
  if (live.status === 0) return parseScontrolJobs(live.stdout);
  const acct = slurmTool(
    ["sacct", "-j", jobId, "-P", "-n", "-X", "-o", "JobID,State,ExitCode,NodeList"],
    undefined,
    opts,
  );
  const found = acct.status === 0 ? parseSacct(acct.stdout) : [];
  if (found.length > 0) return found;
  throw new TantalusError(
    `Slurm knows no job ${jobId}: slurmctld forgets finished jobs after MinJobAge (slurm.conf) and ${acct.status === 0 ? "accounting has no record of it" : "accounting (sacct) is not available here"}`,
  );
}
