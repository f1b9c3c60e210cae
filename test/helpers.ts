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
export function runCli(
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {},
): CliResult {
  const p = spawnSync(process.execPath, [path.join(projectRoot, "bin", "tantalus.js"), ...args], {
    cwd: opts.cwd ?? projectRoot,
    env: { ...process.env, ...opts.env },
    input: opts.input,
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
  });
  return { code: p.status ?? 128, stdout: p.stdout, stderr: p.stderr };
}

/**
 * The built CLI in `dir` with nothing of the caller's Rez or Tantalus configuration (no site file, HOME = dir)
 * but the Rez configuration file `rezconfig` (none when omitted). Not runCli: it merges the caller's
 * environment back in, REZ_PACKAGES_PATH and all.
 */
export function runCliIsolated(dir: string, args: string[], rezconfig?: string): CliResult {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(REZ_|TANTALUS_)/.test(k)) env[k] = v;
  Object.assign(env, {
    HOME: dir,
    TANTALUS_SITE_CONFIG: "",
    TANTALUS_NO_CACHE: "1",
    REZ_CONFIG_FILE: rezconfig ?? path.join(dir, "no-rezconfig"),
  });
  const p = spawnSync(process.execPath, [path.join(projectRoot, "bin", "tantalus.js"), ...args], {
    cwd: dir,
    env,
    encoding: "utf8",
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
    if (p.status !== 0) throw new Error(`cannot extract ${tarball}: ${p.stderr.toString()}`);
    benchRepo = path.join(dir, "packages");
  }
  return benchRepo;
}

export function tempDir(prefix = "tantalus-test-"): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * The CLI with a time bound: a regression that makes it hang (a recursive
 * mkdir spinning on /proc, a FIFO read) fails the test instead of stalling
 * the suite. `timedOut` says the bound was hit (the process was killed).
 */
export function runCliBounded(
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; argv0?: string[] } = {},
): CliResult & { timedOut: boolean } {
  const p = spawnSync(
    opts.argv0?.[0] ?? process.execPath,
    [
      ...(opts.argv0?.slice(1) ?? []),
      ...(opts.argv0 ? [process.execPath] : []),
      path.join(projectRoot, "bin", "tantalus.js"),
      ...args,
    ],
    {
      cwd: opts.cwd ?? projectRoot,
      env: { ...process.env, ...opts.env },
      encoding: "utf8",
      timeout: opts.timeoutMs ?? 60_000,
      killSignal: "SIGKILL",
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  return { code: p.status ?? 128, stdout: p.stdout, stderr: p.stderr, timedOut: p.signal === "SIGKILL" };
}

/** A repository of `families` trivial packages (fam0000-1.0 ...), for commands that need one but not a studio. */
export function tinyRepository(dir: string, families = 3): string {
  for (let i = 0; i < families; i++) {
    const name = `fam${String(i).padStart(4, "0")}`;
    fs.mkdirSync(path.join(dir, name, "1.0"), { recursive: true });
    fs.writeFileSync(path.join(dir, name, "1.0", "package.py"), `name = '${name}'\nversion = '1.0'\n`);
  }
  return dir;
}

/** The signs of an error that escaped as a bug: the "internal error" prefix or a JS stack frame. */
export function looksLikeStackTrace(stderr: string): boolean {
  return /internal error|^\s+at .+[:(]\d+/m.test(stderr);
}

/**
 * A studio with one workflow, `one`, requesting the family `tool` (the caller writes its packages under
 * STUDIO/packages), on the demo base with no compression, root map or mounts; returns the environment
 * that runs the CLI on it with its own HOME and cache and none of the host's location variables.
 */
export function oneToolWorkflow(dir: string, studio: string): NodeJS.ProcessEnv {
  fs.mkdirSync(studio, { recursive: true });
  fs.writeFileSync(
    path.join(studio, "tantalus.yaml"),
    `packages_path: [packages]\nimplicit_packages: []\nbase:\n  image: demo\nimage:\n  compression: none\n  root_map: {}\nrun:\n  mounts: []\nworkflows:\n  one:\n    request: [tool]\n`,
  );
  fs.mkdirSync(path.join(dir, "home"));
  return {
    HOME: path.join(dir, "home"),
    TANTALUS_CACHE_DIR: path.join(dir, "cache"),
    XDG_CACHE_HOME: undefined,
    TANTALUS_CONFIG: undefined,
    TANTALUS_PACKAGES_PATH: undefined,
    TANTALUS_STORE: undefined,
  };
}
