/**
 * Writing the environment script of a large resolve: 300 packages whose
 * commands look like a studio's (PATH/LD_LIBRARY_PATH/PYTHONPATH prepends with
 * {root}, versioned variables, aliases, tests on the resolve and the request,
 * a loop), interpreted with Rez's semantics and rendered as bash.
 *
 *   npm run bench -- rex [--packages 300] [--runs 30]
 *   node --import tsx bench/rex.ts
 *
 * Package definitions are read before the clock starts (that is the
 * repository loader's cost, measured by bench/package-read.ts); each run then
 * interprets the commands of all packages and writes the script. Prints the
 * median and the spread in milliseconds.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { Repositories } from "../src/rez/repository/index.js";
import { interpretContext, renderShell, hostHomeResolver } from "../src/rex/index.js";
import { option } from "./common.js";

function packagePy(i: number, count: number): string {
  const deps = [i - 1, i - 7, i - 31].filter((d) => d >= 0).map((d) => `"pkg${d}"`);
  return `name = "pkg${i}"
version = "${1 + (i % 5)}.${i % 13}.${i % 7}"
description = "synthetic package ${i} of ${count}"
requires = [${deps.join(", ")}]
tools = ["tool${i}a", "tool${i}b"]

def commands():
    env.PATH.prepend("{root}/bin")
    env.LD_LIBRARY_PATH.prepend("{root}/lib")
    env.PYTHONPATH.append("{root}/python/lib/python{resolve.pkg0.version.major}.{resolve.pkg0.version.minor}")
    env.PKG${i}_ROOT = "{root}"
    env.PKG${i}_VERSION = "{version}"
    env.PKG${i}_MAJOR = version.major
    if "pkg${Math.max(0, i - 1)}" in resolve:
        env.PKG${i}_AFTER = resolve.pkg${Math.max(0, i - 1)}.version
    if intersects(request.get("pkg${i}", "pkg${i}"), "1+"):
        env.PKG${i}_REQUESTED = "yes"
    for tool in this.tools:
        alias(tool, "{root}/bin/" + tool + " --studio")
    env.MANPATH.append("{root}/share/man:$HOME/man")
`;
}

export function run(args: string[]): void {
  const count = Number(option(args, "--packages") ?? 300) || 300;
  const runs = Number(option(args, "--runs") ?? 30) || 30;
  const repoDir = fs.mkdtempSync(path.join(os.tmpdir(), "tantalus-bench-rex-"));
  try {
    for (let i = 0; i < count; i++) {
      const dir = path.join(repoDir, `pkg${i}`, `${1 + (i % 5)}.${i % 13}.${i % 7}`);
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, "package.py"), packagePy(i, count));
    }
    const repos = new Repositories([repoDir]);
    const variants = Array.from({ length: count }, (_, i) => repos.family(`pkg${i}`)![0]!.variants[0]!);
    const request = variants.slice(-10).map((v) => v.name);
    const home = hostHomeResolver("/home/artist");
    const once = () => {
      const result = interpretContext(variants, {
        request,
        implicitPackages: ["~platform==linux", "~arch==x86_64", "~os==Rocky-9.3"],
        packagePaths: [repoDir],
        system: { platform: "linux", arch: "x86_64", os: "Rocky-9.3" },
        shell: "bash",
        timestamp: 1700000000,
        home,
      });
      return renderShell(result.actions, "bash", { home });
    };
    // Warm-up: JIT and the definitions' parsed function bodies.
    for (let i = 0; i < 3; i++) once();
    const times: number[] = [];
    const cpuTimes: number[] = [];
    let lines = 0;
    for (let i = 0; i < runs; i++) {
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      lines = once().split("\n").length;
      times.push(performance.now() - t0);
      const cpu = process.cpuUsage(cpu0);
      cpuTimes.push((cpu.user + cpu.system) / 1000);
    }
    times.sort((a, b) => a - b);
    cpuTimes.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)]!;
    console.log(
      JSON.stringify({
        packages: count,
        runs,
        scriptLines: lines,
        medianMs: Number(median.toFixed(2)),
        minMs: Number(times[0]!.toFixed(2)),
        maxMs: Number(times[times.length - 1]!.toFixed(2)),
        // CPU time (user + system, all threads: the garbage collector's too) is steadier on a shared machine.
        medianCpuMs: Number(cpuTimes[Math.floor(cpuTimes.length / 2)]!.toFixed(2)),
      }),
    );
  } finally {
    fs.rmSync(repoDir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) run(process.argv.slice(2));
