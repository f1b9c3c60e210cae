// `npm run bench -- load [REPO]`: loads every package of a repository (default: the
// Rez benchmark repository, extracted to a temp dir) in fresh processes, and in the
// same run measures the reference: just listing the tree and reading every package
// file's bytes, the floor any loader pays. Reports medians of N runs.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { median } from "./common.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

export function run(args: string[]): void {
  const repo = args[0] ?? extractBenchmark();
  const dist = path.join(here, "..", "dist", "rez", "repository", "index.js");
  if (!fs.existsSync(dist)) throw new Error("run `npm run build` first: the benchmark times the compiled code");
  const loader = `
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const { Repositories } = await import(${JSON.stringify(dist)});
    const t1 = performance.now();
    const repos = new Repositories([${JSON.stringify(repo)}]);
    const c = repos.loadAll();
    const t2 = performance.now();
    console.log(JSON.stringify({ ...c, errors: repos.problems.length, importMs: t1 - t0, loadMs: t2 - t1, cpuMs: (process.cpuUsage(c0).user + process.cpuUsage(c0).system) / 1000, rssMB: process.memoryUsage().rss / 2**20 }));`;
  const reference = `
    const fs = require("node:fs"); const path = require("node:path");
    const c0 = process.cpuUsage(); const t0 = performance.now(); let files = 0, bytes = 0;
    for (const fam of fs.readdirSync(${JSON.stringify(repo)})) {
      const fd = path.join(${JSON.stringify(repo)}, fam);
      for (const v of fs.readdirSync(fd)) {
        try { bytes += fs.readFileSync(path.join(fd, v, "package.py")).length; files++; } catch {}
      }
    }
    const cu = process.cpuUsage(c0);
    console.log(JSON.stringify({ files, bytes, loadMs: performance.now() - t0, cpuMs: (cu.user + cu.system) / 1000 }));`;
  const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), "tantalus-bench-cache-"));
  const cached: number[] = [];
  const ours: number[] = [];
  const ref: number[] = [];
  const oursCpu: number[] = [];
  const refCpu: number[] = [];
  let last: Record<string, number> = {};
  for (let i = 0; i < RUNS; i++) {
    // Interleaved, so that load on the shared machine affects both alike.
    dropCaches();
    const r = JSON.parse(node(["-e", reference])) as Record<string, number>;
    ref.push(r.loadMs!);
    refCpu.push(r.cpuMs!);
    dropCaches();
    last = JSON.parse(node(["--input-type=module", "-e", loader], { TANTALUS_NO_CACHE: "1" })) as Record<
      string,
      number
    >;
    ours.push(last.loadMs! + last.importMs!);
    oursCpu.push(last.cpuMs!);
    // The first cached run fills the index cache; the figure is for the runs after it.
    const c = JSON.parse(node(["--input-type=module", "-e", loader], { TANTALUS_CACHE_DIR: cacheDir })) as Record<
      string,
      number
    >;
    if (i > 0 || RUNS === 1) cached.push(c.loadMs! + c.importMs!);
  }
  const m = median(ours);
  const r = median(ref);
  console.log(`repository: ${repo}`);
  console.log(
    `counts: ${last.families} families, ${last.packages} packages, ${last.variants} variants, ${last.errors} errors`,
  );
  console.log(
    `full load (import + read + evaluate + variants), median of ${RUNS}: ${(m / 1000).toFixed(3)} s (rss ${last.rssMB!.toFixed(0)} MB)`,
  );
  console.log(
    `load from the index cache (every file stat'ed, none parsed), median: ${(median(cached) / 1000).toFixed(3)} s (${((median(cached) / m) * 100).toFixed(0)}% of the full load)`,
  );
  console.log(`reference (list tree + read package.py bytes), median of ${RUNS}: ${(r / 1000).toFixed(3)} s`);
  console.log(
    `cpu time (user+sys), medians: full ${(median(oursCpu) / 1000).toFixed(3)} s, reference ${(median(refCpu) / 1000).toFixed(3)} s`,
  );
  console.log(
    `ratio full/reference: wall ${(m / r).toFixed(2)}x, cpu ${(median(oursCpu) / median(refCpu)).toFixed(2)}x; cold-load goal < 2 s: ${m < 2000 ? "met" : "NOT met"}`,
  );
}

function node(args: string[], env: Record<string, string> = {}): string {
  const p = spawnSync(process.execPath, args, { encoding: "utf8", env: { ...process.env, ...env } });
  if (p.status !== 0) throw new Error(p.stderr);
  return p.stdout.trim().split("\n").pop()!;
}

/**
 * "Cold" means a fresh process. With BENCH_DROP_CACHES=1 (root) the page cache is
 * dropped too, which measures the disk more than the loader: see docs/benchmarks.md.
 */
function dropCaches(): void {
  if (process.env.BENCH_DROP_CACHES !== "1" || process.getuid?.() !== 0) return;
  try {
    fs.writeFileSync("/proc/sys/vm/drop_caches", "3");
  } catch {
    // a container without /proc/sys write access: the run is warm-cache, say so via the reference
  }
}

function extractBenchmark(): string {
  const dir = path.join(os.tmpdir(), "tantalus-bench-repo");
  const pkgs = path.join(dir, "packages");
  if (!fs.existsSync(path.join(pkgs, "wave"))) {
    fs.mkdirSync(dir, { recursive: true });
    const tarball = path.resolve(here, "..", "..", "shared", "data", "rez-benchmark", "packages.tar.gz");
    const p = spawnSync("tar", ["xzf", tarball, "-C", dir]);
    if (p.status !== 0) throw new Error(`cannot extract ${tarball}`);
  }
  return pkgs;
}
