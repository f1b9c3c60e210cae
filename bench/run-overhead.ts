/**
 * What `tantalus run` costs on top of the runtime, and what running inside
 * the container costs a CPU-bound program.
 *
 *   npm run build && npm run bench -- run-overhead [--runs N] [--runtime podman|docker|ch-run] [--loop ITERATIONS] [--baseline-bin OTHER/bin/tantalus.js]
 *
 * Start-up: interleaved runs (one of each per round, after warm-ups) of
 *   S. `tantalus run rough_layout -c true` in the sample studio (tantalus.yaml,
 *      the image built and stamped: the path an artist takes every day)
 *   A. `tantalus run WF -c true` on a store without a configuration (no stamp to check)
 *   B. the runtime command line S prints with --dry-run   (the same launch without the CLI)
 *   C. B with `--entrypoint /bin/true` and no arguments     (the same options, no entrypoint script)
 *   L. `podman run --rm IMAGE /bin/true`, podman's defaults (the literal reference)
 *   N. `node -e ''`: the floor any Node.js CLI pays before its first line runs
 *   S0. with --baseline-bin: S with another build of tantalus (another checkout's
 *      compiled CLI), on its own store built by it, interleaved with the others:
 *      what a change to the launch path costs, measured in the same run
 * S−C is what Tantalus adds to the same container launch (S−B the CLI, B−C
 * the entrypoint script); S−L what it adds to a plain `podman run`.
 *
 * CPU: a static C program (xorshift loop) in the container (started by
 * `tantalus run`) against the same binary on the host; each run reports the
 * time of its own loop (wall and CPU), so container start-up is not counted.
 * The machine may be shared: the CPU time of the loop is the robust figure.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildFixtureImage } from "../test/run/fixture.js";
import { median, option } from "./common.js";

const ROOT_DIR = join(dirname(fileURLToPath(import.meta.url)), "..");
const BIN = join(ROOT_DIR, "bin", "tantalus.js");

const CPU_LOOP_C = `#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
static double secs(clockid_t c) { struct timespec t; clock_gettime(c, &t); return t.tv_sec + t.tv_nsec / 1e9; }
int main(int argc, char **argv) {
  uint64_t n = argc > 1 ? strtoull(argv[1], 0, 10) : 400000000ULL, x = 88172645463325252ULL, s = 0;
  double w0 = secs(CLOCK_MONOTONIC), c0 = secs(CLOCK_PROCESS_CPUTIME_ID);
  for (uint64_t i = 0; i < n; i++) { x ^= x << 13; x ^= x >> 7; x ^= x << 17; s += x >> 60; }
  printf("%llu %.6f %.6f\\n", (unsigned long long)s, secs(CLOCK_MONOTONIC) - w0, secs(CLOCK_PROCESS_CPUTIME_ID) - c0);
  return 0;
}
`;

const GNU_TIME = existsSync("/usr/bin/time") ? "/usr/bin/time" : undefined;

/**
 * Wall time, and with GNU time the user+sys CPU of the process and the
 * children it waited for (podman's conmon and the container are not among
 * them, so the CPU figure is what the client side costs: robust on a shared machine).
 */
function timed(argv: string[], env: NodeJS.ProcessEnv, cwd: string): { ms: number; cpuMs: number; stdout: string } {
  const full = GNU_TIME ? [GNU_TIME, "-f", "TANTALUS-CPU %U %S", ...argv] : argv;
  const t0 = process.hrtime.bigint();
  const r = spawnSync(full[0]!, full.slice(1), { env, cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(" ")}: exit ${r.status}\n${r.stderr}`);
  const m = /TANTALUS-CPU ([\d.]+) ([\d.]+)/.exec(r.stderr);
  return { ms, cpuMs: m ? (Number(m[1]) + Number(m[2])) * 1000 : NaN, stdout: r.stdout };
}

/** A command line as `shellJoin` writes it (bare words, '...' and \' escapes) back into argv. */
function parseShellLine(line: string): string[] {
  const out: string[] = [];
  let cur = "";
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (ch === "'") {
      const end = line.indexOf("'", i + 1);
      cur += line.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (ch === "\\") {
      cur += line[++i] ?? "";
      inWord = true;
    } else if (ch === " ") {
      if (inWord) out.push(cur);
      cur = "";
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (inWord) out.push(cur);
  return out;
}

export async function run(args: string[]): Promise<void> {
  const runs = Number(option(args, "--runs") ?? "15");
  const runtime = option(args, "--runtime") ?? "podman";
  const loop = option(args, "--loop") ?? "400000000";
  if (!existsSync(join(ROOT_DIR, "dist", "run", "run.js")))
    throw new Error("dist/ is missing: run `npm run build` first (the benchmark times the compiled CLI)");
  if (
    statSync(join(ROOT_DIR, "dist", "run", "run.js")).mtimeMs < statSync(join(ROOT_DIR, "src", "run", "run.ts")).mtimeMs
  ) {
    process.stdout.write("warning: dist/ is older than src/run: run `npm run build` for current figures\n");
  }
  const work = mkdtempSync(join(tmpdir(), "tantalus-bench-run-"));
  chmodSync(work, 0o755);
  try {
    writeFileSync(join(work, "cpuloop.c"), CPU_LOOP_C);
    const cc = spawnSync("gcc", ["-O2", "-static", "-o", join(work, "cpuloop"), join(work, "cpuloop.c")], {
      encoding: "utf8",
    });
    if (cc.status !== 0) throw new Error(`gcc -static failed (needs gcc and libc6-dev): ${cc.stderr}`);
    const img = await buildFixtureImage(join(work, "store"), {
      workflow: "bench_wf",
      extra: [{ type: "hostFile", source: join(work, "cpuloop"), path: "/bench/cpuloop", mode: 0o755 }],
    });
    const home = join(work, "home");
    spawnSync("mkdir", ["-p", home]);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      HOME: home,
      TANTALUS_CACHE_DIR: join(work, "cache"),
      SHELL: "/bin/sh",
    };
    delete env.DISPLAY;
    delete env.WAYLAND_DISPLAY;
    const tantalus = [process.execPath, BIN, "run", img.workflow, "--store", img.storeDir, "--runtime", runtime];
    const cwd = home;

    // The sample studio's rough_layout, built into its own store and stamped, run from the studio directory.
    const studioDir = join(work, "studio");
    const studioStore = join(work, "store-studio");
    const cli = (argv: string[], dir: string) => timed([process.execPath, BIN, ...argv], env, dir);
    cli(["studio", "generate", studioDir, "--scale", "small"], work);
    cli(
      [
        "build",
        "rough_layout",
        "--store",
        studioStore,
        "--allow-audit-errors",
        "--no-progress",
        "--compression",
        "none",
      ],
      studioDir,
    );
    const studio = [process.execPath, BIN, "run", "rough_layout", "--store", studioStore, "--runtime", runtime];
    const baselineBin = option(args, "--baseline-bin");
    const baselineStore = join(work, "store-studio-baseline");
    // Its own store: the two builds' stamps may differ in format, and each would rebuild over the other's.
    if (baselineBin)
      timed(
        [
          process.execPath,
          baselineBin,
          "build",
          "rough_layout",
          "--store",
          baselineStore,
          "--allow-audit-errors",
          "--no-progress",
          "--compression",
          "none",
        ],
        env,
        studioDir,
      );
    const baseline = baselineBin
      ? [process.execPath, baselineBin, "run", "rough_layout", "--store", baselineStore, "--runtime", runtime]
      : undefined;

    // Load the images into the runtime once (not part of the figures), then read the exact command lines.
    timed([...tantalus, "-c", "true"], env, cwd);
    timed([...studio, "-c", "true"], env, studioDir);
    if (baseline) timed([...baseline, "-c", "true"], env, studioDir);
    const dry = timed([...studio, "--dry-run", "-c", "true"], env, studioDir)
      .stdout.trim()
      .split("\n")
      .filter((l) => !l.startsWith("#"));
    const exact = parseShellLine(dry[dry.length - 1]!);
    const entry = exact.indexOf("--entrypoint");
    const bare = [...exact];
    if (entry >= 0) bare.splice(entry, 2, "--entrypoint", "/bin/true");
    bare.splice(bare.length - 2, 2); // drop "-c true": the image's /bin/true runs with no arguments
    const imageId = exact[exact.length - 3]!;
    const literal = [runtime, "run", "--rm", imageId, "/bin/true"];
    process.stdout.write(
      `runtime: ${runtime}\nS: tantalus run rough_layout -c true (sample studio)\nA: tantalus run ${img.workflow} -c true (store only)\nB: ${dry[dry.length - 1]}\nC: ${runtime === "ch-run" ? "(ch-run has no entrypoint option; C = B)" : bare.join(" ")}\nL: ${runtime === "ch-run" ? "(C)" : literal.join(" ")}\n`,
    );

    type Case = "S" | "S0" | "A" | "B" | "C" | "L" | "N";
    const cases: Array<[Case, string[], string]> = [
      ["S", [...studio, "-c", "true"], studioDir],
      ...(baseline ? [["S0", [...baseline, "-c", "true"], studioDir] as [Case, string[], string]] : []),
      ["A", [...tantalus, "-c", "true"], cwd],
      ["B", exact, studioDir],
      ["C", runtime === "ch-run" ? exact : bare, studioDir],
      ["L", runtime === "ch-run" ? exact : literal, studioDir],
      ["N", [process.execPath, "-e", ""], cwd],
    ];
    const series = Object.fromEntries(cases.map(([k]) => [k, [] as number[]])) as Record<Case, number[]>;
    const cpu = Object.fromEntries(cases.map(([k]) => [k, [] as number[]])) as Record<Case, number[]>;
    for (let i = 0; i < 2; i++) for (const [, argv, dir] of cases) timed(argv, env, dir);
    for (let i = 0; i < runs; i++) {
      for (const [k, argv, dir] of cases) {
        const r = timed(argv, env, dir);
        series[k].push(r.ms);
        cpu[k].push(r.cpuMs);
      }
    }
    const m = Object.fromEntries(cases.map(([k]) => [k, median(series[k])])) as Record<Case, number>;
    process.stdout.write(`\nstart-up, median of ${runs} interleaved runs:\n`);
    for (const [k] of cases) process.stdout.write(`  ${k} ${m[k].toFixed(1)} ms\n`);
    process.stdout.write(
      `  S-C ${(m.S - m.C).toFixed(1)} ms added to the same launch (goal < 50 ms): CLI S-B ${(m.S - m.B).toFixed(1)} ms (of which Node.js start-up N ${m.N.toFixed(1)} ms), entrypoint B-C ${(m.B - m.C).toFixed(1)} ms\n`,
    );
    process.stdout.write(
      `  S-L ${(m.S - m.L).toFixed(1)} ms against a plain \`${runtime} run IMAGE true\`; A-C ${(m.A - m.C).toFixed(1)} ms without a configuration\n`,
    );
    if (GNU_TIME) {
      const c = Object.fromEntries(cases.map(([k]) => [k, median(cpu[k])])) as Record<Case, number>;
      if (baseline)
        process.stdout.write(
          `  S0 ${m.S0.toFixed(1)} ms with ${baselineBin}: S-S0 ${(m.S - m.S0).toFixed(1)} ms wall, ${(c.S - c.S0).toFixed(0)} ms client CPU\n`,
        );
      process.stdout.write(
        `  client CPU (user+sys, median): S ${c.S.toFixed(0)} ms, B ${c.B.toFixed(0)} ms, N ${c.N.toFixed(0)} ms: the CLI costs ${(c.S - c.B).toFixed(0)} ms of CPU, ${(c.S - c.B - c.N).toFixed(0)} ms beyond starting Node.js\n`,
      );
    }
    const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
    process.stdout.write(
      `  load average during the run: ${load} (2 vCPU machines shared with other jobs inflate wall times)\n`,
    );

    const cpuRuns = Math.max(5, Math.min(9, runs));
    const inside: Array<[number, number]> = [];
    const outside: Array<[number, number]> = [];
    const parse = (s: string): [number, number] => {
      const [, wall, cpu] = s.trim().split(/\s+/).map(Number);
      return [wall!, cpu!];
    };
    for (let i = 0; i < cpuRuns; i++) {
      inside.push(parse(timed([...tantalus, "-c", `/bench/cpuloop ${loop}`], env, cwd).stdout));
      outside.push(parse(timed([join(work, "cpuloop"), loop], env, cwd).stdout));
    }
    const mi = [median(inside.map((x) => x[0])), median(inside.map((x) => x[1]))];
    const mo = [median(outside.map((x) => x[0])), median(outside.map((x) => x[1]))];
    process.stdout.write(
      `\nCPU-bound loop (${loop} iterations), median of ${cpuRuns} interleaved runs, the loop's own time:\n`,
    );
    process.stdout.write(
      `  host       wall ${mo[0]!.toFixed(3)} s  cpu ${mo[1]!.toFixed(3)} s\n  container  wall ${mi[0]!.toFixed(3)} s  cpu ${mi[1]!.toFixed(3)} s\n`,
    );
    process.stdout.write(
      `  ratio container/host: wall ${(mi[0]! / mo[0]!).toFixed(4)}  cpu ${(mi[1]! / mo[1]!).toFixed(4)} (goal within 1%)\n`,
    );
    if (runtime === "podman")
      spawnSync("podman", ["rmi", "--force", img.configDigest.slice("sha256:".length), imageId], {
        env,
        stdio: "ignore",
      });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
