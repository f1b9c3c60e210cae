import fs from "node:fs";
import path from "node:path";
import { Repositories, packagePathsFrom } from "../rez/repository/index.js";
import { parsePackageRequest, RequirementError } from "../rez/version/index.js";
import { loadConfig, type LoadedConfig } from "../config/index.js";
import { TantalusError, UsageError } from "../errors.js";

/** Options every repository-reading command shares. */
export interface RepoOptions {
  paths?: string;
  config?: string;
}

/**
 * The configuration: --config FILE, else ./tantalus.yaml when it exists. Commands
 * that can run from --paths alone get undefined when there is neither.
 */
export function findConfig(opts: { config?: string }, required = false): LoadedConfig | undefined {
  if (opts.config) return loadConfig(opts.config);
  const local = path.resolve("tantalus.yaml");
  if (fs.existsSync(local)) return loadConfig(local);
  if (required) throw new UsageError("no configuration: pass --config FILE or run where ./tantalus.yaml is");
  return undefined;
}

/** Package search paths: --paths, else TANTALUS_PACKAGES_PATH, else the configuration's packages_path. */
export function openRepositories(opts: RepoOptions, repoOpts: { cache?: boolean } = {}): Repositories {
  const fromConfig = opts.paths || process.env.TANTALUS_PACKAGES_PATH ? undefined : findConfig(opts);
  const paths = packagePathsFrom(opts.paths, fromConfig?.packagesPath);
  if (paths.length === 0) {
    throw new UsageError("no package search path: pass --paths A:B, set TANTALUS_PACKAGES_PATH, or use a tantalus.yaml with packages_path");
  }
  return new Repositories(paths, repoOpts.cache === false ? { cache: false } : {});
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + "\n");
}

/**
 * Requirements given on the command line, checked before any work starts: a
 * malformed one is a usage error (exit 2). A workflow's request from
 * tantalus.yaml is not checked here: its errors point into that file.
 */
export function checkRequestArgs(request: readonly string[]): void {
  for (const r of request) {
    try {
      parsePackageRequest(r);
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
