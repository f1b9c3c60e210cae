/**
 * `tantalus run WORKFLOW --dev [PATH...]`: a developer's packages inside the
 * workflow's current image, at the next launch, without a rebuild and
 * without touching what artists run.
 *
 * The workflow is resolved with the dev repositories searched first (PATH,
 * else dev.paths of the configuration, else Rez's local packages path
 * ~/packages). The image the workflow's tag points at runs as it is; each
 * variant that resolved from a dev repository is bind-mounted read-only at
 * its (root-mapped) install path, and the environment captured for this
 * resolve, the context and prompt-naming rc files are mounted over the
 * image's /etc/tantalus files. Nothing is written to the store; no tag moves.
 *
 * A variant that is not from dev but differs from the image (a dev package
 * requires a newer alembic) is mounted the same way when its family is in the
 * image and its root is on this machine: a new version of a family the image
 * already carries brings no system needs the image was not audited for. A
 * family the image does not have at all (a dev package now needs nuke), or a
 * root this machine cannot reach, cannot be added with a mount: the dev
 * resolve then gets a throwaway image, built through the normal layer cache
 * and audit and tagged WORKFLOW:dev-<user>-<hash> (src/image/dev-tag.ts), with
 * the dev packages still mounted over it so their edits are live.
 *
 * The edit loop: payload files are live through the mounts. The resolve is
 * kept in the run cache with the repositories' observation (stats of the
 * family directories and definition files it read, as the workflow stamp
 * keeps them), the configuration's key and the image's digest; the next
 * launch re-resolves only when one of those changed, saying why in one line.
 *
 * The resolve and the throwaway build come through the DevResolver seam
 * (src/builder/dev-resolve.ts), loaded only when the kept resolve no longer holds.
 */
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { homedir } from "node:os";
import { join, resolve as resolvePath } from "node:path";
import { TantalusError } from "../errors.js";
import type { ImageReader } from "../image/layout/interfaces.js";
import { Annotation } from "../image/types.js";
import { storeId } from "../locations.js";
import { observationChange, type RepositoryObservation } from "../rez/repository/observation.js";
import { describeFsError, writeFileAtomic } from "../util/atomic.js";
import { BASHRC_PATH, CONTEXT_PATH, ENVIRONMENT_PATH, Label, SHRC_PATH, ZDOTDIR_PATH } from "../image/contract.js";
import { REPAIR_MARK } from "../workflow/environment.js";
import { bashrcScript, shrcScript, zshrcScript } from "../image/entrypoint.js";
import type { Mount } from "./mounts.js";

export interface DevVariantInfo {
  qualifiedName: string;
  name: string;
  repository: string;
  root: string;
  imagePath: string;
}

export interface DevResolveInfo {
  packagePaths: string[];
  variants: DevVariantInfo[];
  environment: string;
  contextJson: string;
  observation: RepositoryObservation;
}

/** The build pipeline, as the dev run needs it (implemented over src/builder/dev-resolve.ts). */
export interface DevResolver {
  /** dev.paths of the configuration, else ~/packages. */
  defaultPaths(): Promise<string[]>;
  resolve(devPaths: string[]): Promise<DevResolveInfo>;
  /** Build the dev resolve's throwaway image into the store; its tag. */
  buildThrowaway(store: ImageReader, packagePaths: string[], log: (line: string) => void): Promise<string>;
}

export interface DevRunInput {
  workflow: string;
  /** PATH arguments of --dev (absolute); empty: the configured default. */
  paths: string[];
  store: ImageReader;
  /** The image the workflow's tag points at now (manifest digest), and its config's labels. */
  image: {
    ref: string;
    digest: string;
    labels: Record<string, string>;
    environment: () => Promise<string | undefined>;
  };
  /** Over the configuration files' bytes (stampKey); undefined: always resolve. */
  configKey: string | undefined;
  cacheDir: string;
  /** The user's home, for "~/packages" in messages. */
  home?: string;
  resolver: DevResolver;
  log: (line: string) => void;
}

/** What the launch adds to the workflow's run. */
export interface DevLaunch {
  /** Run this store ref (the workflow's tag, whose digest the state checks, or the throwaway tag). */
  ref: string;
  mounts: Mount[];
  /** TANTALUS_DEV for the prompt: the dev variants' names. */
  env: [string, string][];
  /** The dev variants, as the first lines say them. */
  fromDev: { variant: string; repository: string }[];
  /** Set when a throwaway image had to be built (or reused). */
  throwaway?: string;
  /** Whether this launch resolved again (false: the kept resolve held). */
  resolved: boolean;
}

interface DevState {
  format: 1;
  workflow: string;
  args: string[];
  configKey: string | null;
  /** The workflow image this launch layers on. */
  manifest: string;
  devPaths: string[];
  packagePaths: string[];
  observation: RepositoryObservation;
  launch: Omit<DevLaunch, "resolved">;
}

function stateFile(cacheDir: string, store: ImageReader, workflow: string): string {
  return join(cacheDir, "dev", `${storeId(store.dir)}-${encodeURIComponent(workflow)}.json`);
}

function readState(file: string): DevState | undefined {
  try {
    const s = JSON.parse(readFileSync(file, "utf8")) as DevState;
    return s.format === 1 ? s : undefined;
  } catch {
    return undefined;
  }
}

/** Why a kept resolve no longer holds for this launch, or undefined when it does. */
function staleReason(s: DevState, input: DevRunInput, manifest: string, tags: Map<string, string>): string | undefined {
  if (s.args.join("\0") !== input.paths.join("\0")) return "other dev paths";
  if (s.configKey === null || s.configKey !== (input.configKey ?? null)) return "the configuration changed";
  if (s.manifest !== manifest) return `the image of ${input.workflow} changed`;
  const obs = observationChange(s.observation);
  if (obs) return obs;
  if (s.launch.throwaway !== undefined && tags.get(s.launch.throwaway) === undefined)
    return `${s.launch.throwaway} is no longer in the store`;
  for (const m of s.launch.mounts) if (!existsSync(m.source)) return `${m.source} is gone`;
  return undefined;
}

/** `~/packages` for a path under the home, as a developer writes it. */
export function displayPath(p: string, home: string = homedir()): string {
  return p === home ? "~" : p.startsWith(home + "/") ? `~${p.slice(home.length)}` : p;
}

/**
 * Everything the dev launch adds: the image to run, the mounts, the prompt
 * variable. Reuses the kept resolve when it holds; otherwise resolves (one
 * line says why), classifies the resolve against the image, writes the
 * environment files into the run cache and keeps the new state.
 */
export async function prepareDevLaunch(input: DevRunInput): Promise<DevLaunch> {
  const file = stateFile(input.cacheDir, input.store, input.workflow);
  const index = await input.store.readIndex();
  const tags = new Map<string, string>();
  for (const d of index.manifests) {
    const t = d.annotations?.[Annotation.RefName];
    if (t !== undefined) tags.set(t, d.digest);
  }
  const kept = readState(file);
  if (kept) {
    const why =
      staleReason(kept, input, input.image.digest, tags) ??
      (filesInUse(input.cacheDir, kept) ? undefined : "its environment files were removed meanwhile");
    if (why === undefined) {
      touch(file);
      return { ...kept.launch, resolved: false };
    }
    input.log(`dev: resolving ${input.workflow} again: ${why}`);
  }

  const devPaths = input.paths.length > 0 ? input.paths : await input.resolver.defaultPaths();
  const home = input.home ?? homedir();
  for (const p of devPaths)
    if (!isDirectory(p)) input.log(`dev: ${displayPath(p, home)} does not exist: nothing comes from it`);
  const r = await input.resolver.resolve(devPaths);
  const inImage = new Set((input.image.labels[Label.Resolve] ?? "").split(" ").filter(Boolean));
  const familiesInImage = new Set([...inImage].map((q) => q.slice(0, q.search(/[-[]/))));
  const isDev = (v: DevVariantInfo) => devPaths.some((p) => resolvePath(p) === resolvePath(v.repository));

  const fromDev: DevLaunch["fromDev"] = [];
  const mounts: Mount[] = [];
  const outside: string[] = [];
  for (const v of r.variants) {
    if (isDev(v)) {
      fromDev.push({ variant: v.qualifiedName.replace(/\[\d*\]$/, ""), repository: displayPath(v.repository, home) });
      if (isDirectory(v.root)) mounts.push({ source: v.root, target: v.imagePath, readOnly: true });
      continue;
    }
    if (inImage.has(v.qualifiedName)) continue;
    // Not from dev, not in the image: a mount serves a new version of a family the image carries, from this machine.
    if (familiesInImage.has(v.name) && isDirectory(v.root))
      mounts.push({ source: v.root, target: v.imagePath, readOnly: true });
    else outside.push(v.qualifiedName);
  }

  let ref = input.image.ref;
  let throwaway: string | undefined;
  const files: [string, string][] = [
    [BASHRC_PATH, devPrompt(bashrcScript())],
    [SHRC_PATH, devPrompt(shrcScript())],
    [`${ZDOTDIR_PATH}/.zshrc`, devPrompt(zshrcScript())],
  ];
  if (outside.length > 0) {
    input.log(
      `dev: ${outside.join(", ")} ${outside.length === 1 ? "is" : "are"} not in the image of ${input.workflow}: building a throwaway image (the workflow's tag does not move)`,
    );
    throwaway = await input.resolver.buildThrowaway(input.store, r.packagePaths, input.log);
    ref = throwaway;
  } else {
    // The image's repair lines (the library audit's) stay after the packages' environment, as the build puts them.
    const imageEnv = await input.image.environment();
    const repair = imageEnv?.includes(REPAIR_MARK) ? imageEnv.slice(imageEnv.indexOf(REPAIR_MARK)) : "";
    files.push([ENVIRONMENT_PATH, `${r.environment}${repair}`], [CONTEXT_PATH, r.contextJson]);
  }
  let dir: string;
  try {
    dir = writeDevFiles(input.cacheDir, files);
  } catch (e) {
    throw new TantalusError(
      `cannot write the dev environment into ${devFilesRoot(input.cacheDir)}: ${describeFsError(e)}`,
    );
  }
  for (const [target] of files) mounts.push({ source: join(dir, target), target, readOnly: true });

  const launch: DevState["launch"] = {
    ref,
    mounts,
    env: [["TANTALUS_DEV", fromDev.map((d) => d.variant).join(" ") || "none"]],
    fromDev,
    ...(throwaway !== undefined ? { throwaway } : {}),
  };
  const state: DevState = {
    format: 1,
    workflow: input.workflow,
    args: input.paths,
    configKey: input.configKey ?? null,
    manifest: input.image.digest,
    devPaths,
    packagePaths: r.packagePaths,
    observation: r.observation,
    launch,
  };
  try {
    mkdirSync(join(input.cacheDir, "dev"), { recursive: true, mode: 0o700 });
    writeFileAtomic(file, JSON.stringify(state) + "\n");
  } catch {
    // An unwritable run cache only means the next launch resolves again.
  }
  return { ...launch, resolved: true };
}

/** The interactive shells' prompt names the dev packages: `[rough_layout dev: layout_tools-2.4.0] ...`. */
export function devPrompt(rc: string): string {
  const wf = "${TANTALUS_WORKFLOW:-workflow}";
  if (!rc.includes(`[${wf}]`)) throw new TantalusError("internal: the rc file has no workflow prompt to extend");
  return rc.replaceAll(`[${wf}]`, `[${wf}\${TANTALUS_DEV:+ dev: $TANTALUS_DEV}]`);
}

/**
 * The files mounted over /etc/tantalus, in <run cache>/dev/files/<sha256 of
 * their contents>: written whole under a temporary name, then renamed, so a
 * launch never mounts a half-written script and equal files are shared.
 */
function writeDevFiles(cacheDir: string, files: [string, string][]): string {
  const hash = createHash("sha256").update(JSON.stringify(files)).digest("hex").slice(0, 24);
  const root = devFilesRoot(cacheDir);
  const dir = join(root, hash);
  if (markUsed(dir)) return dir;
  const tmp = join(root, `.tmp-${hash}-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  for (const [target, content] of files) {
    const path = join(tmp, target);
    mkdirSync(join(path, ".."), { recursive: true, mode: 0o755 });
    writeFileSync(path, content, { mode: 0o644 });
  }
  writeFileSync(join(tmp, ".complete"), "");
  // A half-written folder (a launch killed before its .complete) is replaced; equal content from a
  // concurrent launch that renamed first is kept (the rename then fails and ours is dropped).
  rmSync(dir, { recursive: true, force: true });
  try {
    renameSync(tmp, dir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    if (!existsSync(join(dir, ".complete"))) throw e;
  }
  return dir;
}

/** <run cache>/dev/files: one folder per distinct set of files a dev launch mounts over /etc/tantalus. */
function devFilesRoot(cacheDir: string): string {
  return join(cacheDir, "dev", "files");
}

/**
 * Record that a launch is about to mount `dir`: its `.complete` marker's mtime
 * is the folder's last use, which `gc` compares with dev.retention. False when
 * the folder is not there (never written, half written, or taken by gc): the
 * launch then writes it again. (A kept state's file is marked the same way.)
 */
function markUsed(dir: string): boolean {
  return touch(join(dir, ".complete"));
}

function touch(path: string): boolean {
  const now = new Date();
  try {
    utimesSync(path, now, now);
    return true;
  } catch {
    return false;
  }
}

/** The files folders a kept launch mounts, each marked used; false when one is gone (the launch then resolves again). */
function filesInUse(cacheDir: string, kept: DevState): boolean {
  return [...filesFoldersOf(cacheDir, kept)].every(markUsed);
}

function filesFoldersOf(cacheDir: string, state: DevState): Set<string> {
  const root = devFilesRoot(cacheDir) + "/";
  const out = new Set<string>();
  for (const m of state.launch.mounts)
    if (m.source.startsWith(root)) out.add(join(root, m.source.slice(root.length).split("/")[0]!));
  return out;
}

/**
 * `tantalus gc`'s part of the run cache, after `retentionMs` without use (the
 * retention after which dev tags of throwaway images expire too): the kept
 * dev launches (`<run cache>/dev/<store>-<workflow>.json`, what the next
 * launch reuses without resolving; its mtime is refreshed on each reuse), so
 * a workflow not launched with --dev for that long resolves once more; then
 * every `<run cache>/dev/files/<hash>` folder that no remaining kept launch
 * mounts and no launch used within the retention (its `.complete` mtime,
 * refreshed on every launch that mounts it), and temporary folders of
 * launches killed mid-write older than that.
 *
 * A container still running keeps what it mounted: the launch bind-mounts
 * each file, and a bind mount holds the file itself, not its name, so removing
 * the name later changes nothing inside. The race that matters is a launch
 * that marks a folder used while gc takes it: gc first renames the folder
 * away (atomic), then looks at the marker again, and puts the folder back if a
 * launch used it meanwhile; a launch that finds the name gone writes the folder
 * again. Returns the folders removed (or, with dryRun, that would be).
 */
export function pruneDevFiles(cacheDir: string, retentionMs: number, dryRun = false, now = Date.now()): string[] {
  const root = devFilesRoot(cacheDir);
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return [];
  }
  const removed: string[] = [];
  const kept = new Set<string>();
  for (const file of listDir(join(cacheDir, "dev")))
    if (file.endsWith(".json")) {
      const path = join(cacheDir, "dev", file);
      const used = statSync(path, { throwIfNoEntry: false })?.mtimeMs;
      if (used !== undefined && now - used > retentionMs) {
        if (!dryRun) rmSync(path, { force: true });
        removed.push(path);
        continue;
      }
      const state = readState(path);
      if (state) for (const dir of filesFoldersOf(cacheDir, state)) kept.add(dir);
    }
  const lastUse = (dir: string): number | undefined => {
    for (const p of [join(dir, ".complete"), dir])
      try {
        return statSync(p).mtimeMs;
      } catch {
        // no marker (half written): the folder's own mtime
      }
    return undefined;
  };
  for (const name of names.sort()) {
    const dir = join(root, name);
    if (kept.has(dir)) continue;
    const used = lastUse(dir);
    if (used === undefined || now - used <= retentionMs) continue;
    if (dryRun || name.startsWith(".trash-")) {
      // Another gc's leftover, unused for the retention too (one about to put it back saw it used just now).
      if (!dryRun) rmSync(dir, { recursive: true, force: true });
      removed.push(dir);
      continue;
    }
    const trash = join(root, `.trash-${name}-${process.pid}`);
    try {
      renameSync(dir, trash);
    } catch {
      continue; // gone already, or taken by another gc
    }
    const usedSince = lastUse(trash);
    if (!name.startsWith(".tmp-") && usedSince !== undefined && now - usedSince <= retentionMs) {
      // A launch marked it used between the look and the rename: it is theirs again (unless a launch rewrote it).
      try {
        renameSync(trash, dir);
        continue;
      } catch {
        // a launch that found the name gone wrote the same files again: ours is a spare
      }
    }
    rmSync(trash, { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
