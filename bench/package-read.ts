/**
 * Reading speed of package definitions: every package.py of the benchmark
 * repository (18,226 files of literal assignments) read and evaluated with
 * readPackageFile, the way the repository loader does. Directory walking is
 * done before the clock starts.
 *
 *   node --import tsx bench/package-read.ts [repo] [--full]
 *
 * --full forces the full Python evaluator, for comparison with the fast path.
 */
import { readdirSync, existsSync } from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { readPackageFile } from "../src/rez/definition/index.js";

const args = process.argv.slice(2);
const full = args.includes("--full");
const repo = args.find((a) => !a.startsWith("--")) ?? "/tmp/bench/packages";
if (!existsSync(repo)) {
  console.error(`no repository at ${repo}: extract /work/shared/data/rez-benchmark/packages.tar.gz there first`);
  process.exit(1);
}

const files: string[] = [];
for (const family of readdirSync(repo).sort()) {
  const famDir = path.join(repo, family);
  let versions: string[];
  try {
    versions = readdirSync(famDir);
  } catch {
    continue;
  }
  for (const v of versions.sort()) {
    const f = path.join(famDir, v, "package.py");
    if (existsSync(f)) files.push(f);
  }
}

const mode = full ? "full" : "auto";
// One warm-up pass over a sample, so the timing is not dominated by JIT compilation.
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
