/**
 * Shared by the build tests: a sample studio (scale small) generated once per
 * test file, the CLI, podman with a private store, and small file helpers.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateStudio } from "../../src/studio/index.js";
import { runCli, type CliResult } from "../helpers.js";

export interface Studio {
  /** Directory of tantalus.yaml. */
  dir: string;
  config: string;
  packages: string;
}

export function scratchDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `tantalus-${prefix}-`));
}

export async function sampleStudio(parent: string, name = "studio"): Promise<Studio> {
  const dir = join(parent, name);
  await generateStudio(dir, { scale: "small" });
  return { dir, config: join(dir, "tantalus.yaml"), packages: join(dir, "packages") };
}

/** A second copy of a studio (hard links and modes kept), as another checkout would be. */
export function copyStudio(studio: Studio, dir: string): Studio {
  execFileSync("cp", ["-a", studio.dir, dir]);
  return { dir, config: join(dir, "tantalus.yaml"), packages: join(dir, "packages") };
}

/** Set a key of tantalus.yaml's `image:` section (the generated file has `root_map: {}` and `compression: gzip`). */
export function setImageOption(studio: Studio, key: "root_map" | "compression", value: string): void {
  const text = readFileSync(studio.config, "utf8");
  const re = new RegExp(`^(  ${key}: ).*$`, "m");
  if (!re.test(text)) throw new Error(`${studio.config}: no image.${key} line`);
  writeFileSync(studio.config, text.replace(re, `$1${value}`));
}

/** Point tantalus.yaml's base.image somewhere else (the generated file has `base:\n  image: demo`). */
export function setBaseImage(studio: Studio, image: string): void {
  const text = readFileSync(studio.config, "utf8");
  if (!/^ {2}image: demo$/m.test(text)) throw new Error(`${studio.config}: no base.image line`);
  writeFileSync(studio.config, text.replace(/^( {2}image: )demo$/m, `$1${JSON.stringify(image)}`));
}

export function tantalus(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): CliResult {
  return runCli(args, opts);
}

/** Run the CLI and fail the test with its stderr unless it exits 0. */
export function tantalusOk(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): CliResult {
  const r = runCli(args, opts);
  if (r.code !== 0) throw new Error(`tantalus ${args.join(" ")} exited ${r.code}:\n${r.stderr}`);
  return r;
}

/** What `tantalus build --json` prints, as far as these tests read it. */
export interface BuildJson {
  base: { name: string; digest: string };
  images: {
    workflow: string;
    digest: string;
    layers: { kind: string; digest: string; size: number; cached: boolean }[];
  }[];
}

/**
 * `tantalus build WORKFLOW... --allow-audit-errors --config CONFIG --store STORE --no-progress EXTRA...`:
 * the sample studio carries deliberate library defects (rough_layout's among them) that the audit gate
 * would refuse, and these tests are about the image, not the audit.
 */
export function buildArgs(config: string, store: string, workflows: string[], ...extra: string[]): string[] {
  return [
    "build",
    ...workflows,
    "--allow-audit-errors",
    "--config",
    config,
    "--store",
    store,
    "--no-progress",
    ...extra,
  ];
}

/** buildArgs with --json, run (the test fails unless it exits 0) and parsed. */
export function buildJson(config: string, store: string, workflows: string[], ...extra: string[]): BuildJson {
  return JSON.parse(tantalusOk(buildArgs(config, store, workflows, "--json", ...extra)).stdout) as BuildJson;
}

/** A sample studio in a new scratch folder, with one workflow's image built into `<scratch>/store`. */
export interface StudioWithImage {
  scratch: string;
  studio: Studio;
  store: string;
  workflow: string;
  /** The image's manifest digest. */
  digest: string;
}

export async function studioWithImage(prefix: string, workflow = "rough_layout"): Promise<StudioWithImage> {
  const scratch = scratchDir(prefix);
  const studio = await sampleStudio(scratch);
  const store = join(scratch, "store");
  const digest = buildJson(studio.config, store, [workflow]).images[0]!.digest;
  return { scratch, studio, store, workflow, digest };
}

/** `tantalus push` of that image to `target` (an insecure test registry); the pinned reference (REPO@sha256:...) it prints. */
export function pushPinned(built: StudioWithImage, target: string): string {
  const out = tantalusOk([
    "push",
    built.workflow,
    target,
    "--insecure",
    "--store",
    built.store,
    "--config",
    built.studio.config,
  ]).stdout;
  return out.trim().split("\n")[1]!;
}

export function hasTool(name: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore" }).status === 0;
}

export function missingTools(...names: string[]): string | false {
  const missing = names.filter((t) => !hasTool(t));
  return missing.length > 0 ? `needs ${missing.join(", ")} (scripts/setup-host.sh installs them)` : false;
}

export function run(cmd: string, args: string[], opts: { cwd?: string } = {}): string {
  return execFileSync(cmd, args, {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    maxBuffer: 256 << 20,
    ...opts,
  });
}

/** Rootful podman with its own vfs storage under `root` (flags of shared research container-tools.md §2). */
export function podman(root: string, args: string[]): string {
  return run("podman", [
    "--root",
    join(root, "graph"),
    "--runroot",
    join(root, "run"),
    "--storage-driver",
    "vfs",
    "--runtime",
    "runc",
    "--cgroup-manager",
    "cgroupfs",
    "--events-backend",
    "file",
    ...args,
  ]);
}

export const PODMAN_RUN_FLAGS = [
  "--rm",
  "--network",
  "none",
  "--ulimit",
  "nofile=20000:20000",
  "--ulimit",
  "nproc=32768:32768",
];

/**
 * `podman run` of IMAGE from the OCI layout STORE in a private podman root under ROOT (vfs, runc,
 * cgroupfs), so a test never touches the machine's podman storage nor another test's; remove ROOT
 * with removeDir, which waits out podman's own clean-up.
 */
export function podmanRunPrivate(
  root: string,
  store: string,
  image: string,
  args: readonly string[],
): { status: number | null; stdout: string; stderr: string } {
  const p = spawnSync(
    "podman",
    [
      ...["--root", join(root, "graph"), "--runroot", join(root, "run"), "--storage-driver", "vfs"],
      ...["--runtime", "runc", "--cgroup-manager", "cgroupfs", "--events-backend", "file"],
      "run",
      ...PODMAN_RUN_FLAGS,
      `oci:${store}:${image}`,
      ...args,
    ],
    { encoding: "utf8", maxBuffer: 64 << 20 },
  );
  return { status: p.status, stdout: p.stdout, stderr: p.stderr };
}

/** Every blob of a layout, with whether its content matches its name. */
export function blobIntegrity(layout: string): { digest: string; ok: boolean }[] {
  const dir = join(layout, "blobs", "sha256");
  return readdirSync(dir).map((hex) => ({
    digest: `sha256:${hex}`,
    ok:
      createHash("sha256")
        .update(readFileSync(join(dir, hex)))
        .digest("hex") === hex,
  }));
}

export function removeDir(dir: string): void {
  // A private podman root is still written for a moment after `podman run --rm` returns (conmon
  // starts `podman container cleanup` on its own), so one pass can meet ENOTEMPTY: retry a few times.
  rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
}
