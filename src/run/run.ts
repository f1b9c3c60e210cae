/**
 * `tantalus run`: pick the runtime, get the image, plan the launch, run it
 * with the terminal attached, and return the command's exit status.
 *
 * Signals. With a terminal (podman/docker `--tty`) the host terminal is in
 * raw mode and Ctrl-C travels as a byte to the container's own terminal,
 * which signals the application; a SIGINT/SIGTERM/SIGHUP sent to tantalus
 * itself is forwarded to the runtime, which passes it on (podman and docker
 * proxy signals; their --init forwards them to the entrypoint, which exec'd
 * the application). Without a terminal on stdin the runtime runs in its own
 * session, so a Ctrl-C in the terminal reaches tantalus only and is
 * forwarded exactly once. With a terminal but no raw mode (ch-run,
 * apptainer) the runtime shares our process group: the terminal's Ctrl-C
 * reaches it directly and tantalus only has to survive it.
 *
 * Exit status: the command's; 128+N when it (or the runtime) died of signal N.
 */
import { spawn } from "node:child_process";
import { constants } from "node:os";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { TantalusError } from "../errors.js";
import { runCacheDir } from "./cache.js";
import { detectGpu } from "./gpu.js";
import { currentIdentity, withGroupNames, type Identity } from "../util/identity.js";
import { brokenImageError, ensureImage, type ImageSource } from "./image.js";
import { buildLaunchPlan, planGpu } from "./plan.js";
import { shellJoin } from "./quote.js";
import { selectRuntime } from "./runtimes/index.js";
import type { LaunchPlan, PreparedImage, RunContext, Runtime, RuntimeInfo, WorkflowImage } from "./runtimes/types.js";
import type { RunSettings } from "./settings.js";

export interface RunOptions {
  workflow: string;
  /** `-c COMMAND`. Without it and without argv: an interactive shell. */
  command?: string;
  /** A program and arguments to exec directly in the environment. */
  argv?: string[];
  settings: RunSettings;
  source: ImageSource;
  /** A store tag or digest to run instead of the workflow's current image. */
  tag?: string;
  noBuild?: boolean;
  dryRun?: boolean;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  identity?: Identity;
  /** Allocate a terminal; default: stdin and stdout are terminals. */
  tty?: boolean;
  /** Whether stdin is a terminal (decides the process group); default: process.stdin.isTTY. */
  stdinIsTTY?: boolean;
  /** Where --dry-run prints (default stdout). */
  out?: (text: string) => void;
  /** Notes and progress (default stderr, prefixed "tantalus: "). */
  log?: (line: string) => void;
}

export interface PreparedRun {
  runtime: Runtime;
  info: RuntimeInfo;
  image: WorkflowImage;
  prepared: PreparedImage;
  plan: LaunchPlan;
  /** The exact command line. */
  argv: string[];
  /** The environment the runtime process gets. */
  runtimeEnv: NodeJS.ProcessEnv;
  /** The user's run cache (src/run/cache.ts). */
  cacheDir: string;
}

/**
 * True the first time a note `key` is shown for `workflow` to this user, and
 * records it (an empty file under <run cache>/notes-shown). A record that
 * cannot be written only means the note shows again.
 */
function firstTimeShown(cacheDir: string, workflow: string, key: string): boolean {
  const file = join(cacheDir, "notes-shown", `${encodeURIComponent(workflow)}.${key}`);
  if (existsSync(file)) return false;
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(file, "");
  } catch {
    // read-only or full cache: show the note every time rather than never
  }
  return true;
}

function defaultLog(line: string): void {
  process.stderr.write(`tantalus: ${line}\n`);
}

/** Everything up to the command line; loads/converts the image unless dry-run. */
export async function prepareRun(opts: RunOptions): Promise<PreparedRun> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? defaultLog;
  const identity = opts.identity ?? currentIdentity(env);
  const cacheDir = runCacheDir(env, env.HOME || identity.home);
  const ctx: RunContext = { env, cacheDir, dryRun: opts.dryRun === true, log };
  const { runtime, info } = selectRuntime(opts.settings.runtime, opts.settings.runtimeOrder, ctx);
  // `--gpu all` on a machine without one fails here, before the image is built or copied into the runtime.
  const gpu = detectGpu(env);
  planGpu(opts.settings.gpu, gpu, info, []);
  const image = await ensureImage(opts.source, opts.workflow, {
    tag: opts.tag,
    noBuild: opts.noBuild,
    readOnly: opts.dryRun,
    log,
  });
  let prepared: PreparedImage;
  try {
    prepared = await runtime.prepare(image, info, ctx);
  } catch (e) {
    throw (await brokenImageError(image).catch(() => undefined)) ?? e;
  }
  const tty = opts.tty ?? (process.stdin.isTTY === true && process.stdout.isTTY === true);
  const plan = await buildLaunchPlan({
    workflow: opts.workflow,
    command: opts.command,
    argv: opts.argv,
    settings: opts.settings,
    identity,
    env,
    cwd: opts.cwd ?? process.cwd(),
    tty,
    cacheDir,
    runtime: info,
    imageEnv: image.image.config.config?.Env ?? [],
    gpu,
  });
  if (runtime.needsAccountFiles(info, identity)) {
    const { accountFilesFor } = await import("./passwd.js");
    plan.accounts = await accountFilesFor(image.store, image.image, withGroupNames(identity), cacheDir);
  }
  if (!ctx.dryRun && runtime.beforeLaunch) await runtime.beforeLaunch(plan, prepared, ctx);
  const runtimeEnv: NodeJS.ProcessEnv = { ...env };
  // ch-run refuses to start without USER; sudo and cron may not set it.
  if (runtime.name === "ch-run" && !runtimeEnv.USER) runtimeEnv.USER = identity.user;
  return { runtime, info, image, prepared, plan, argv: runtime.command(plan, prepared, info), runtimeEnv, cacheDir };
}

export async function runWorkflow(opts: RunOptions): Promise<number> {
  const log = opts.log ?? defaultLog;
  const run = await prepareRun(opts);
  for (const note of run.plan.notes) log(`note: ${note}`);
  for (const { key, note } of run.plan.onceNotes)
    if (opts.dryRun || firstTimeShown(run.cacheDir, opts.workflow, key)) log(`note: ${note}`);
  if (opts.dryRun) {
    const out = opts.out ?? ((t: string) => void process.stdout.write(t));
    for (const step of run.prepared.steps) out(`# first: ${step}\n`);
    out(shellJoin(run.argv) + "\n");
    return 0;
  }
  const stdinIsTTY = opts.stdinIsTTY ?? process.stdin.isTTY === true;
  const raw = run.runtime.rawTerminal(run.plan);
  return launch(run.argv, { env: run.runtimeEnv, foreground: stdinIsTTY, forwardTerminalSignals: !stdinIsTTY || raw });
}

export interface LaunchOptions {
  env: NodeJS.ProcessEnv;
  /** Stay in our process group (the terminal's foreground group); else a new session. */
  foreground: boolean;
  /** Forward SIGINT and SIGQUIT too (they did not already reach the child from the terminal). */
  forwardTerminalSignals: boolean;
}

/** Run argv with our stdio, forwarding signals; resolves to its exit status (128+N for signal N). */
export function launch(argv: readonly string[], opts: LaunchOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: "inherit", env: opts.env, detached: !opts.foreground });
    const handlers = new Map<NodeJS.Signals, () => void>();
    const forwarded: NodeJS.Signals[] = ["SIGTERM", "SIGHUP"];
    const terminal: NodeJS.Signals[] = ["SIGINT", "SIGQUIT"];
    for (const sig of [...forwarded, ...terminal]) {
      const forward = forwarded.includes(sig) || opts.forwardTerminalSignals;
      const h = () => {
        if (forward && child.exitCode === null && child.signalCode === null) child.kill(sig);
      };
      handlers.set(sig, h);
      process.on(sig, h);
    }
    const cleanup = () => {
      for (const [sig, h] of handlers) process.off(sig, h);
    };
    child.on("error", (e) => {
      cleanup();
      reject(new TantalusError(`cannot start ${argv[0]}: ${e.message}`));
    });
    child.on("exit", (code, signal) => {
      cleanup();
      resolve(exitStatus(code, signal));
    });
  });
}

export function exitStatus(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  if (signal !== null) return 128 + (constants.signals[signal] ?? 0);
  return 1;
}
