import { Repositories } from "../rez/repository/index.js";
import { parsePackageRequest, RequirementError } from "../rez/version/index.js";
import { configuredRepositoryOptions, loadConfig, type LoadedConfig } from "../config/index.js";
import { TantalusError, UsageError } from "../errors.js";

/** Options every repository-reading command shares. */
export interface RepoOptions {
  paths?: string;
  config?: string;
  store?: string;
  /** --no-local (rez-env --no-local): leave local_packages_path out of the configured search path. */
  local?: boolean;
}

/**
 * The configuration, every layer merged: the site file, the project's file
 * (--config, else TANTALUS_CONFIG, else ./tantalus.yaml or the nearest in a
 * parent folder), the variables and this command's --paths / --store. With
 * `required`, a command that needs workflows refuses to run without a file.
 */
export function findConfig(opts: { config?: string; paths?: string; store?: string }, required = false): LoadedConfig {
  return loadConfig(opts.config, { flags: { paths: opts.paths, store: opts.store }, required });
}

/** Package search paths: --paths, else TANTALUS_PACKAGES_PATH, else packages_path of the project's file, else the site's. */
export function openRepositories(opts: RepoOptions, repoOpts: { cache?: boolean } = {}): Repositories {
  const config = findConfig(opts);
  let paths = config.packagesPath;
  // Rez's nonlocal_packages_path: the search path without (the first) local_packages_path; --paths is taken as given.
  if (opts.local === false && !opts.paths && config.localPackagesPath !== undefined) {
    const i = paths.indexOf(config.localPackagesPath);
    if (i >= 0) paths = [...paths.slice(0, i), ...paths.slice(i + 1)];
  }
  if (paths.length === 0) {
    throw new UsageError(
      "no package search path: pass --paths A:B, set TANTALUS_PACKAGES_PATH (or Rez's REZ_PACKAGES_PATH), or use a tantalus.yaml with packages_path",
    );
  }
  return new Repositories(paths, {
    ...(repoOpts.cache === false ? { cache: false } : {}),
    ...configuredRepositoryOptions(config),
  });
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + "\n");
}

/**
 * Requirements given on the command line, checked before any work starts: a
 * malformed one is a usage error (exit 2). A workflow's request from
 * tantalus.yaml is not checked here: its errors point into that file.
 */
export function checkRequestArgs(request: readonly string[], opts: { patch?: boolean } = {}): void {
  for (const r of request) {
    try {
      // With --patch, `^name` removes a package from the patched request, as rez-env --patch takes it.
      parsePackageRequest(opts.patch === true && r.startsWith("^") ? r.slice(1) : r);
    } catch (e) {
      if (e instanceof RequirementError) throw new UsageError(e.message);
      throw e;
    }
  }
}

/** A registry reference given on the command line (`--push REF`, `pull REF`): a malformed one is a usage error. */
export async function checkRegistryReference(flag: string, text: string): Promise<void> {
  const { parseReference } = await import("../image/remote/reference.js");
  try {
    parseReference(text);
  } catch (e) {
    if (e instanceof TantalusError) throw new UsageError(`${flag}: ${e.message}`);
    throw e;
  }
}
