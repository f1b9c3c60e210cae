/**
 * A one-node Slurm cluster for tests, entirely under a temporary folder:
 * its own munged (private socket, the machine's /etc/munge/munge.key),
 * slurmctld and slurmd from a generated slurm.conf on 127.0.0.1 with free
 * ports, all state, spool, pid and log files inside the folder. Nothing of
 * the machine's own Slurm or munge configuration is used or changed.
 * (research: shared/research/farm.md)
 */
import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../image-remote/harness.js";

export interface SlurmCluster {
  dir: string;
  conf: string;
  /** SLURM_CONF for the client tools (sbatch, scontrol, tantalus farm). */
  env: NodeJS.ProcessEnv;
  node: string;
  stop(): Promise<void>;
}

const TOOLS = ["slurmctld", "slurmd", "sbatch", "scontrol", "sinfo", "munged", "munge", "unmunge"];
const SBIN = ["/usr/sbin", "/usr/bin", "/sbin", "/bin"];

function tool(name: string): string | undefined {
  return SBIN.map((d) => join(d, name)).find((p) => existsSync(p));
}

/** Why the cluster cannot start here, or false. */
export function slurmSkipReason(): string | false {
  if ((process.getuid?.() ?? 1) !== 0)
    return "needs root (slurmd runs jobs as their users; munged runs as the munge user)";
  const missing = TOOLS.filter((t) => !tool(t));
  if (missing.length > 0)
    return `needs slurm-wlm and munge (missing ${missing.join(", ")}; scripts/setup-host.sh installs them)`;
  if (spawnSync("id", ["-u", "munge"], { stdio: "ignore" }).status !== 0)
    return "the munge user is missing (the munge package creates it)";
  return false;
}

function pidOf(file: string): number | undefined {
  try {
    const n = Number(readFileSync(file, "utf8").trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(what: string, check: () => boolean, timeoutMs: number, log: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs / 1000} s:\n${log()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** `extraConf`: more slurm.conf lines (e.g. SchedulerParameters), after the generated ones. */
export async function startSlurmCluster(extraConf: string[] = []): Promise<SlurmCluster> {
  const dir = mkdtempSync(join(tmpdir(), "tantalus-slurm-"));
  chmodSync(dir, 0o755); // munged (the munge user) reaches its socket folder through it
  const mungeDir = join(dir, "munge");
  for (const d of ["state", "spool", "log", "munge"]) mkdirSync(join(dir, d), { recursive: true });
  const uid = Number(spawnSync("id", ["-u", "munge"], { encoding: "utf8" }).stdout.trim());
  const gid = Number(spawnSync("id", ["-g", "munge"], { encoding: "utf8" }).stdout.trim());
  chownSync(mungeDir, uid, gid);
  const key = "/etc/munge/munge.key";
  if (!existsSync(key)) {
    const made = spawnSync(tool("mungekey")!, ["-c", "-k", key], { encoding: "utf8" });
    if (made.status !== 0) throw new Error(`mungekey -c failed: ${made.stderr}`);
    chownSync(key, uid, gid);
    chmodSync(key, 0o400);
  }
  const socket = join(mungeDir, "munge.sock");
  const pids = { munged: join(mungeDir, "munged.pid"), ctld: join(dir, "ctld.pid"), d: join(dir, "d.pid") };
  const node = hostname().split(".")[0]!;
  const conf = join(dir, "slurm.conf");
  const stop = async (): Promise<void> => {
    for (const f of [pids.d, pids.ctld, pids.munged]) {
      const pid = pidOf(f);
      if (pid === undefined || !alive(pid)) continue;
      process.kill(pid, "SIGTERM");
      await waitFor(
        `pid ${pid} did not stop`,
        () => !alive(pid),
        20_000,
        () => "",
      ).catch(() => process.kill(pid, "SIGKILL"));
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const munged = spawnSync(
      "runuser",
      [
        "-u",
        "munge",
        "--",
        tool("munged")!,
        `--socket=${socket}`,
        `--pid-file=${pids.munged}`,
        `--log-file=${join(mungeDir, "munged.log")}`,
        `--seed-file=${join(mungeDir, "seed")}`,
        `--key-file=${key}`,
      ],
      { encoding: "utf8" },
    );
    if (munged.status !== 0) throw new Error(`munged did not start: ${munged.stderr}`);
    const [ctldPort, dPort] = [await freePort(), await freePort()];
    writeFileSync(
      conf,
      [
        "ClusterName=tantalus-test",
        `SlurmctldHost=${node}(127.0.0.1)`,
        "AuthType=auth/munge",
        "CredType=cred/munge",
        `AuthInfo=socket=${socket}`,
        "SlurmUser=root",
        "SlurmdUser=root",
        `StateSaveLocation=${join(dir, "state")}`,
        `SlurmdSpoolDir=${join(dir, "spool")}`,
        `SlurmctldPidFile=${pids.ctld}`,
        `SlurmdPidFile=${pids.d}`,
        `SlurmctldLogFile=${join(dir, "log", "ctld.log")}`,
        `SlurmdLogFile=${join(dir, "log", "d.log")}`,
        `SlurmctldPort=${ctldPort}`,
        `SlurmdPort=${dPort}`,
        "ProctrackType=proctrack/linuxproc",
        "TaskPlugin=task/none",
        "SelectType=select/cons_tres",
        "SchedulerType=sched/builtin",
        "ReturnToService=2",
        // Finished jobs stay visible to scontrol (there is no accounting database here).
        "MinJobAge=3600",
        `NodeName=${node} NodeAddr=127.0.0.1 CPUs=2 RealMemory=4000 State=UNKNOWN`,
        "PartitionName=farm Nodes=ALL Default=YES MaxTime=INFINITE State=UP",
        ...extraConf,
        "",
      ].join("\n"),
    );
    const env = { ...process.env, SLURM_CONF: conf };
    for (const daemon of ["slurmctld", "slurmd"]) {
      const r = spawnSync(tool(daemon)!, ["-f", conf], { encoding: "utf8", env });
      if (r.status !== 0) throw new Error(`${daemon} did not start: ${r.stderr}`);
    }
    const logs = () =>
      ["ctld.log", "d.log"]
        .map((f) => {
          try {
            return readFileSync(join(dir, "log", f), "utf8").slice(-2000);
          } catch {
            return "";
          }
        })
        .join("\n");
    await waitFor(
      "the node did not become idle",
      () => spawnSync("sinfo", ["-h", "-o", "%t"], { encoding: "utf8", env }).stdout.trim() === "idle",
      60_000,
      logs,
    );
    return { dir, conf, env, node, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
