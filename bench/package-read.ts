/**
 * Reading speed of package definitions: every package.py of the benchmark
 * repository (18,226 files of literal assignments) read and evaluated with
 * readPackageFile, as the repository loader does. The directory walk happens
 * before the clock starts.
 *
 *   node --import tsx bench/package-read.ts [repo] [--full]
 *   npm run bench -- package-read [repo] [--full]
 *
 * The repository defaults to /tmp/bench/packages (the extracted
 * /work/shared/data/rez-benchmark/packages.tar.gz). --full forces the full
 * Python evaluator, for comparison with the literal fast path.
 */
import { readdirSync, existsSync } from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { readPackageFile } from "../src/rez/definition/index.js";

function listDefinitions(repo: string): string[] {
  const files: string[] = [];
  for (const family of readdirSync(repo).sort()) {
    let versions: string[];
    try {
      versions = readdirSync(path.join(repo, family));
    } catch {
      continue;
    }
    for (const v of versions.sort()) {
      const f = path.join(repo, family, v, "package.py");
      if (existsSync(f)) files.push(f);
    }
  }
  return files;
}

export function run(args: string[]): void {
  const full = args.includes("--full");
  const repo = args.find((a) => !a.startsWith("--")) ?? "/tmp/bench/packages";
  if (!existsSync(repo)) {
    console.error(`no repository at ${repo}: extract /work/shared/data/rez-benchmark/packages.tar.gz there first`);
    process.exitCode = 1;
    return;
  }
  const files = listDefinitions(repo);
  const mode = full ? "full" : "auto";
  // A warm-up pass over a sample, so the figure is not dominated by JIT compilation.
  for (const f of files.slice(0, 200)) readPackageFile(f, { mode });
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  let variants = 0;
  for (const f of files) variants += readPackageFile(f, { mode }).variants?.length ?? 0;
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  console.log(
    JSON.stringify({
      files: files.length,
      mode,
      totalMs: Math.round(ms),
      // CPU time (user + system) is the steadier figure on a shared machine.
      cpuMs: Math.round((cpu.user + cpu.system) / 1000),
      perFileUs: Math.round((ms * 1000) / files.length),
      variants,
    }),
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) run(process.argv.slice(2));
