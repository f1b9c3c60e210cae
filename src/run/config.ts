/**
 * RunSettings from tantalus.yaml: the `run:` section for every workflow,
 * then the workflow's own mounts and env. Mount targets starting with `~`
 * are in the user's home inside the container (the same path as outside).
 *
 * `tantalus run` is on the artist's critical path, and validating the file
 * (yaml + zod) costs more than everything else Tantalus does before the
 * runtime starts. So the settings derived from the configuration files are
 * cached, keyed by each file's identity (the site file's and the project's:
 * path, inode, size, mtime, ctime) and everything else they depend on
 * (workflow, home, XDG_CACHE_HOME, the variables that are layers); any edit
 * of either file changes its ctime and the next run validates them again.
 */
import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { join, posix } from "node:path";
import { InputError } from "../errors.js";
import type { ConfigFiles, LoadedConfig } from "../config/index.js";
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
  const toMount =
    (list: (string | number)[]) =>
    (m: { source: string; target: string; readonly: boolean }): Mount => ({
      source: mountSource(loaded, m, list),
      target: m.target === "~" ? home : m.target.startsWith("~/") ? posix.join(home, m.target.slice(2)) : m.target,
      readOnly: m.readonly,
    });
  s.mounts.push(
    ...run.mounts.map(toMount(["run", "mounts"])),
    ...wf.mounts.map(toMount(["workflows", workflow, "mounts"])),
  );
  s.env.push(...Object.entries(wf.env));
  if (loaded.config.registry) s.registry = loaded.config.registry;
  return s;
}

export interface RunConfig {
  settings: RunSettings;
  /** The configuration's image store. */
  storeDir: string;
}

function cacheKey(files: ConfigFiles, workflow: string, home: string, env: NodeJS.ProcessEnv): string | undefined {
  const identities: unknown[] = [];
  for (const file of [files.site, files.project]) {
    if (file === undefined) {
      identities.push(null);
      continue;
    }
    let st;
    try {
      st = statSync(file);
    } catch {
      return undefined;
    }
    identities.push([file, st.ino, st.size, st.mtimeMs, st.ctimeMs]);
  }
  return (
    createHash("sha256")
      // The tool version too: another version may fill in other defaults from the same files;
      // and the variables that are layers of the configuration.
      .update(
        JSON.stringify([
          2,
          VERSION,
          identities,
          workflow,
          home,
          env.HOME ?? "",
          env.XDG_CACHE_HOME ?? "",
          env.TANTALUS_STORE ?? "",
          env.TANTALUS_PACKAGES_PATH ?? "",
          // Only when set, so the key of everyone else's cache stays what it was.
          ...(env.TANTALUS_PYTHON !== undefined ? [env.TANTALUS_PYTHON] : []),
        ]),
      )
      .digest("hex")
  );
}

/**
 * Settings and store for `workflow` from the configuration files (site and project), validated once per version of
 * the files. `define` adds a workflow the files do not name (an ad-hoc request's, whose name is its request's hash).
 */
export async function loadRunConfig(
  files: ConfigFiles,
  workflow: string,
  home: string,
  env: NodeJS.ProcessEnv,
  cacheDir: string,
  define: (loaded: LoadedConfig) => LoadedConfig = (loaded) => loaded,
): Promise<RunConfig> {
  const key = cacheKey(files, workflow, home, env);
  const cached = key ? join(cacheDir, "settings", `${key}.json`) : undefined;
  if (cached) {
    try {
      return JSON.parse(readFileSync(cached, "utf8")) as RunConfig;
    } catch {
      // not cached yet
    }
  }
  const { loadConfig } = await import("../config/index.js");
  const loaded = define(loadConfig(undefined, { files, env }));
  const out: RunConfig = { settings: await settingsFromConfig(loaded, workflow, home), storeDir: loaded.store };
  if (cached) writeFileAtomic(cached, JSON.stringify(out), 0o600);
  return out;
}
