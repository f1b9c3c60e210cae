// Shared test helpers: running the real CLI and finding the shared data.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** shared/ sits beside the project in every checkout (developers' and CI's). */
export const sharedDir = path.resolve(projectRoot, "..", "shared");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built `tantalus` command (`npm test` builds dist/ first). */
export function runCli(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): CliResult {
  const p = spawnSync(process.execPath, [path.join(projectRoot, "bin", "tantalus.js"), ...args], {
    cwd: opts.cwd ?? projectRoot,
    env: { ...process.env, ...opts.env },
    input: opts.input,
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
  });
  return { code: p.status ?? 128, stdout: p.stdout, stderr: p.stderr };
}

let benchRepo: string | undefined;

/** The Rez benchmark repository (18,226 packages), extracted once per test process. */
export function benchmarkRepository(): string {
  if (!benchRepo) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tantalus-benchrepo-"));
    const tarball = path.join(sharedDir, "data", "rez-benchmark", "packages.tar.gz");
    const p = spawnSync("tar", ["xzf", tarball, "-C", dir]);
    if (p.status !== 0) throw new Error(`cannot extract ${tarball}: ${p.stderr}`);
    benchRepo = path.join(dir, "packages");
  }
  return benchRepo;
}

export function tempDir(prefix = "tantalus-test-"): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}
