/** Small helpers the benchmarks share: flags, medians, CPU time, timed shell pipelines. */
import { spawnSync } from "node:child_process";

/** The value after `--name` in the benchmark's arguments, if given. */
export function option(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** user+sys CPU seconds of this process (all its threads) so far. */
export function cpuNow(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** Runs `cmd` under bash's `time`, which sums user+sys over every process of the pipeline. */
export function shell(cmd: string): { seconds: number; cpu: number; out: string } {
  const t0 = process.hrtime.bigint();
  const res = spawnSync("bash", ["-o", "pipefail", "-c", `TIMEFORMAT='%U %S'; time ( ${cmd} )`], {
    encoding: "utf8",
    maxBuffer: 64 << 20,
  });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (res.status !== 0) throw new Error(`${cmd.slice(0, 300)}: exit ${res.status}: ${res.stderr.slice(-2000)}`);
  const [user, sys] = res.stderr.trim().split("\n").pop()!.split(" ").map(Number);
  return { seconds, cpu: user! + sys!, out: res.stdout };
}
