import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { MemorySource, type PackageData } from "../../src/solver/memory-source.js";
import { sharedDir } from "../helpers.js";

/**
 * Rez's solver benchmark data (repository tarball, 188 requests, Rez's answers), in
 * shared/ beside the checkout (developers' and CI's); TANTALUS_REZ_BENCHMARK overrides.
 */
export const BENCH_DIR = process.env.TANTALUS_REZ_BENCHMARK ?? path.join(sharedDir, "data", "rez-benchmark");
export const REFERENCE = path.join(BENCH_DIR, "reference/2022.11.16-3.7-2.112.0/resolves.json");

let extracted: string | undefined;

/** Extracts packages.tar.gz once per process; returns the repository root. */
export function extractBenchmarkRepo(): string {
  if (extracted) return extracted;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tantalus-bench-"));
  execFileSync("tar", ["xzf", path.join(BENCH_DIR, "packages.tar.gz"), "-C", dir]);
  extracted = path.join(dir, "packages");
  process.on("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
  return extracted;
}

/**
 * Reads the benchmark's package.py files, which only assign Python literals
 * (strings, ints, lists of strings), in directory listing order.
 */
export function readBenchmarkRepo(root: string): MemorySource {
  const pkgs: PackageData[] = [];
  for (const fam of fs.readdirSync(root)) {
    const famDir = path.join(root, fam);
    for (const ver of fs.readdirSync(famDir)) {
      const file = path.join(famDir, ver, "package.py");
      const vars = readLiteralAssignments(fs.readFileSync(file, "utf8"));
      pkgs.push({
        name: fam,
        version: ver,
        requires: vars.requires as string[] | undefined,
        variants: vars.variants as string[][] | undefined,
        timestamp: vars.timestamp as number | undefined,
      });
    }
  }
  return new MemorySource(pkgs, [root]);
}

function readLiteralAssignments(text: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const lines = text.split("\n").filter((l) => !l.startsWith("#"));
  for (let i = 0; i < lines.length; i++) {
    const m = /^([A-Za-z_]\w*) = (.*)$/.exec(lines[i]!);
    if (!m) continue;
    let lit = m[2]!;
    while (lit.endsWith("\\") && i + 1 < lines.length) lit = lit.slice(0, -1) + lines[++i];
    let depth = bracketDepth(lit);
    while (depth > 0 && i + 1 < lines.length) {
      lit += lines[++i];
      depth = bracketDepth(lit);
    }
    out[m[1]!] = JSON.parse(lit.replace(/'/g, '"').replace(/,\s*([\]}])/g, "$1"));
  }
  return out;
}

function bracketDepth(s: string): number {
  let d = 0;
  for (const c of s) {
    if (c === "[") d++;
    else if (c === "]") d--;
  }
  return d;
}

/** `wave/2.7.13/package.py[0]` -> `wave-2.7.13[0]`; `diam/linux/package.py[]` -> `diam-linux[]`. */
export function referenceName(uri: string): string {
  const m = /^([^/]+)\/(?:([^/]+)\/)?package\.py\[(\d*)\]$/.exec(uri);
  if (!m) throw new Error(`unexpected variant uri ${uri}`);
  return `${m[1]}${m[2] ? `-${m[2]}` : ""}[${m[3]}]`;
}

export interface ReferenceResolve {
  request: string[];
  status: "success" | "failed";
  resolved_packages: string[] | null;
}

export function readReference(): ReferenceResolve[] {
  return JSON.parse(fs.readFileSync(REFERENCE, "utf8")) as ReferenceResolve[];
}
