/**
 * Which configuration files apply, found without reading them: the site
 * file and the project's tantalus.yaml. Node built-ins only, because
 * `tantalus run` calls this on every launch, before it knows whether the
 * validated settings are cached (src/run/config.ts).
 */
import { statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { UsageError } from "../errors.js";
import { rezConfigFiles } from "./rez-settings.js";

export const CONFIG_FILENAME = "tantalus.yaml";

/** The site file every user of the machine shares, unless TANTALUS_SITE_CONFIG names another. */
export const SITE_CONFIG_FILE = "/etc/tantalus/tantalus.yaml";

/** How the project's file was found: the flag, the variable, or the search up from the working directory. */
export type ProjectVia = "--config" | "TANTALUS_CONFIG" | "search";

export interface ConfigFiles {
  /** Absolute path of the site file, when there is one. */
  site?: string;
  /** How the site file was named: TANTALUS_SITE_CONFIG or the built-in path. */
  siteVia?: "TANTALUS_SITE_CONFIG" | "default";
  /** Absolute path of the project's tantalus.yaml, when there is one. */
  project?: string;
  projectVia?: ProjectVia;
}

export interface DiscoverOptions {
  /** --config as given on the command line. */
  config?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * The site file (TANTALUS_SITE_CONFIG, else /etc/tantalus/tantalus.yaml when
 * it exists; TANTALUS_SITE_CONFIG set to "" means none) and the project's file
 * (--config, else TANTALUS_CONFIG, else ./tantalus.yaml or the nearest one in a
 * parent folder). A file named by a flag or a variable that does not exist is
 * a usage error: silently running without the studio's configuration would
 * build or run something else than asked.
 */
export function discoverConfigFiles(opts: DiscoverOptions = {}): ConfigFiles {
  const cwd = opts.cwd ?? process.cwd();
  const env = opts.env ?? process.env;
  const out: ConfigFiles = {};
  const siteVar = env.TANTALUS_SITE_CONFIG;
  if (siteVar !== undefined) {
    if (siteVar !== "") {
      const file = resolve(cwd, siteVar);
      if (!isFile(file)) throw new UsageError(`TANTALUS_SITE_CONFIG=${siteVar}: no such file`);
      out.site = file;
      out.siteVia = "TANTALUS_SITE_CONFIG";
    }
  } else if (isFile(SITE_CONFIG_FILE)) {
    out.site = SITE_CONFIG_FILE;
    out.siteVia = "default";
  }
  if (opts.config !== undefined) {
    const file = resolve(cwd, opts.config);
    if (!isFile(file)) throw new UsageError(`--config ${opts.config}: no such file`);
    out.project = file;
    out.projectVia = "--config";
  } else if (env.TANTALUS_CONFIG) {
    const file = resolve(cwd, env.TANTALUS_CONFIG);
    if (!isFile(file)) throw new UsageError(`TANTALUS_CONFIG=${env.TANTALUS_CONFIG}: no such file`);
    out.project = file;
    out.projectVia = "TANTALUS_CONFIG";
  } else {
    const found = nearestConfig(cwd);
    if (found !== undefined) {
      out.project = found;
      out.projectVia = "search";
    }
  }
  // The site file found again by the search (working in /etc/tantalus) is one layer, not two.
  if (out.project !== undefined && out.project === out.site) {
    delete out.project;
    delete out.projectVia;
  }
  return out;
}

/** ./tantalus.yaml, else the one in the nearest parent folder, as git finds .git. */
export function nearestConfig(cwd: string): string | undefined {
  let dir = resolve(cwd);
  for (;;) {
    const file = join(dir, CONFIG_FILENAME);
    if (isFile(file)) return file;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

/** The files lowest first, as their layers stack. */
export function configFileList(files: ConfigFiles): string[] {
  return [files.site, files.project].filter((f): f is string => f !== undefined);
}

/**
 * Every configuration file loadConfig reads, in LoadedConfig.files' order:
 * the site file, the rezconfig files Rez sources (unless
 * TANTALUS_NO_REZ_CONFIG=1), the project's file. Found with stat calls
 * only, for `tantalus run`'s image check.
 */
export function configFilesRead(files: ConfigFiles, env: NodeJS.ProcessEnv, cwd: string): string[] {
  const rez = env.TANTALUS_NO_REZ_CONFIG === "1" ? [] : rezConfigFiles({ env, cwd }).map((f) => f.file);
  return [
    ...(files.site !== undefined ? [files.site] : []),
    ...rez,
    ...(files.project !== undefined ? [files.project] : []),
  ];
}

/** Anything readable that is not a folder (/dev/null is an empty configuration). */
function isFile(p: string): boolean {
  try {
    return !statSync(p).isDirectory();
  } catch {
    return false;
  }
}
