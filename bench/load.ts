// `npm run bench -- load [REPO]`: loads every package of a repository (default: the
// Rez benchmark repository, extracted to a temp dir) in fresh processes, and in the
// same run measures the reference: just listing the tree and reading every package
// file's bytes, the floor any loader pays. Reports medians of N runs.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

export async function run(args: string[]): Promise<void> {
  const repo = args[0] ?? extractBenchmark();
  const dist = path.join(here, "..", "dist", "rez", "repository", "index.js");
  if (!fs.existsSync(dist)) throw new Error("run `npm run build` first: the benchmark times the compiled code");
  const loader = `
    const t0 = performance.now();
    const { Repositories } = await import(${JSON.stringify(dist)});
    const t1 = performance.now();
    const repos = new Repositories([${JSON.stringify(repo)}]);
    const c = repos.loadAll();
    const t2 = performance.now();
    console.log(JSON.stringify({ ...c, errors: repos.problems.length, importMs: t1 - t0, loadMs: t2 - t1, rssMB: process.memoryUsage().rss / 2**20 }));`;
  const reference = `
    const fs = require("node:fs"); const path = require("node:path");
    const t0 = performance.now(); let files = 0, bytes = 0;
    for (const fam of fs.readdirSync(${JSON.stringify(repo)})) {
      const fd = path.join(${JSON.stringify(repo)}, fam);
      for (const v of fs.readdirSync(fd)) {
        try { bytes += fs.readFileSync(path.join(fd, v, "package.py")).length; files++; } catch {}
      }
    }
    console.log(JSON.stringify({ files, bytes, loadMs: performance.now() - t0 }));`;
  const ours: number[] = [];
  const ref: number[] = [];
  let last: Record<string, number> = {};
  for (let i = 0; i < RUNS; i++) {
    // Interleaved, so that load on the shared machine affects both alike.
    dropCaches();
    ref.push(JSON.parse(node(["-e", reference])).loadMs);
    dropCaches();
    last = JSON.parse(node(["--input-type=module", "-e", loader]));
    ours.push(last.loadMs! + last.importMs!);
  }
  const m = median(ours);
  const r = median(ref);
  console.log(`repository: ${repo}`);
  console.log(`counts: ${last.families} families, ${last.packages} packages, ${last.variants} variants, ${last.errors} errors`);
  console.log(`full load (import + read + evaluate + variants), median of ${RUNS}: ${(m / 1000).toFixed(3)} s (rss ${last.rssMB!.toFixed(0)} MB)`);
  console.log(`reference (list tree + read package.py bytes), median of ${RUNS}: ${(r / 1000).toFixed(3)} s`);
  console.log(`ratio full/reference: ${(m / r).toFixed(2)}x; cold-load goal < 2 s: ${m < 2000 ? "met" : "NOT met"}`);
}

function node(args: string[]): string {
  const p = spawnSync(process.execPath, args, { encoding: "utf8" });
  if (p.status !== 0) throw new Error(p.stderr);
  return p.stdout.trim().split("\n").pop()!;
}

/** Page cache cannot be dropped without privileges; when root, do it so "cold" means cold. */
function dropCaches(): void {
  if (process.getuid?.() !== 0) return;
  try {
    fs.writeFileSync("/proc/sys/vm/drop_caches", "3");
  } catch {
    // a container without /proc/sys write access: the run is warm-cache, say so via the reference
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
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
