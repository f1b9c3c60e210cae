/**
 * RunSettings from tantalus.yaml: the `run:` section for every workflow,
 * then the workflow's own mounts and env. Mount targets starting with `~`
 * are in the user's home inside the container (the same path as outside).
 *
 * `tantalus run` is on the artist's critical path, and validating the file
 * (yaml + zod) costs more than everything else Tantalus does before the
 * runtime starts. So the settings derived from a configuration file are
 * cached, keyed by the file's identity (path, inode, size, mtime, ctime) and
 * everything else they depend on (workflow, home, XDG_CACHE_HOME, TANTALUS_STORE); any edit
 * of the file changes its ctime and the next run validates it again.
 */
import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { join, posix } from "node:path";
import { InputError } from "../errors.js";
import type { LoadedConfig } from "../config/index.js";
import { writeFileAtomic } from "../util/atomic.js";
import { VERSION } from "../version.js";
import type { Mount } from "./mounts.js";
import { defaultRunSettings, parseRuntime, type GpuMode, type RunSettings } from "./settings.js";
import type { NetworkMode } from "./runtimes/types.js";

export async function settingsFromConfig(loaded: LoadedConfig, workflow: string, home: string): Promise<RunSettings> {
  const { getWorkflow, mountSource } = await import("../config/index.js");
  const wf = getWorkflow(loaded, workflow);
  const run = loaded.config.run;
  const s = defaultRunSettings();
  try {
    s.runtime = parseRuntime(String(run.runtime));
  } catch (e) {
    throw new InputError(`run.runtime: ${(e as Error).message}`, loaded.locate(["run", "runtime"]));
  }
  // The schema's names are the run layer's: checked when the file was read.
  s.network = run.network satisfies NetworkMode;
  s.gpu = run.gpu satisfies GpuMode;
  s.display = run.display;
  s.passthrough.push(...run.env);
  s.licenceServers.push(...run.licence_servers);
  const toMount = (m: { source: string; target: string; readonly: boolean }): Mount => ({
    source: mountSource(loaded, m),
    target: m.target === "~" ? home : m.target.startsWith("~/") ? posix.join(home, m.target.slice(2)) : m.target,
    readOnly: m.readonly,
  });
  s.mounts.push(...run.mounts.map(toMount), ...wf.mounts.map(toMount));
  s.env.push(...Object.entries(wf.env));
  if (loaded.config.registry) s.registry = loaded.config.registry;
  return s;
}

export interface RunConfig {
  settings: RunSettings;
  /** The configuration's image store. */
  storeDir: string;
}

function cacheKey(file: string, workflow: string, home: string, env: NodeJS.ProcessEnv): string | undefined {
  let st;
  try {
    st = statSync(file);
  } catch {
    return undefined;
  }
  return createHash("sha256")
    // The tool version too: another version may fill in other defaults from the same file.
    .update(JSON.stringify([1, VERSION, file, st.ino, st.size, st.mtimeMs, st.ctimeMs, workflow, home, env.HOME ?? "", env.XDG_CACHE_HOME ?? "", env.TANTALUS_STORE ?? ""]))
    .digest("hex");
}

/** Settings and store for `workflow` from configuration `file`, validated once per version of the file. */
export async function loadRunConfig(file: string, workflow: string, home: string, env: NodeJS.ProcessEnv, cacheDir: string): Promise<RunConfig> {
  const key = cacheKey(file, workflow, home, env);
  const cached = key ? join(cacheDir, "settings", `${key}.json`) : undefined;
  if (cached) {
    try {
      return JSON.parse(readFileSync(cached, "utf8")) as RunConfig;
    } catch {
      // not cached yet
    }
  }
  const { loadConfig } = await import("../config/index.js");
  const loaded = loadConfig(file);
  const out: RunConfig = { settings: await settingsFromConfig(loaded, workflow, home), storeDir: loaded.store };
  if (cached) writeFileAtomic(cached, JSON.stringify(out), 0o600);
  return out;
}
