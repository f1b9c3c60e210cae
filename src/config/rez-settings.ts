/**
 * The Rez settings Tantalus reads, the variables that set them and the files
 * Rez sources, with Node built-ins only: the build stamp and `tantalus run`
 * (on the artist's critical path) name them without loading the reader.
 */
import { statSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, resolve } from "node:path";

export type SettingType =
  "path-list" | "str" | "str-list" | "bool" | "dict-or-dict-list" | "variant-select-mode" | "optional-dict";

/** The settings read, with Rez's type for each (config.py's config_schema). */
export const REZ_SETTINGS: Readonly<Record<string, SettingType>> = {
  packages_path: "path-list",
  local_packages_path: "str",
  implicit_packages: "str-list",
  package_filter: "dict-or-dict-list",
  package_orderers: "dict-or-dict-list",
  variant_select_mode: "variant-select-mode",
  error_on_missing_variant_requires: "bool",
  use_variant_shortlinks: "bool",
  platform_map: "optional-dict",
};

/** Every variable that decides Rez's configuration layer: the file list, the home switch, REZ_<KEY> and REZ_<KEY>_JSON. */
export function rezVariableNames(): string[] {
  const names = ["REZ_CONFIG_FILE", "REZ_DISABLE_HOME_CONFIG", "TANTALUS_NO_REZ_CONFIG"];
  for (const key of Object.keys(REZ_SETTINGS)) names.push(`REZ_${key.toUpperCase()}`, `REZ_${key.toUpperCase()}_JSON`);
  return names;
}

/** The home directory of the environment the configuration is read in. */
export function homeOf(env: NodeJS.ProcessEnv): string {
  return env.HOME ?? homedir();
}

/** Python's os.path.splitext(p)[0]: a leading dot in the name is not an extension. */
export function withoutExtension(p: string): string {
  const slash = p.lastIndexOf("/");
  const dot = p.lastIndexOf(".");
  if (dot > slash) {
    for (let i = slash + 1; i < dot; i++) if (p[i] !== ".") return p.slice(0, dot);
  }
  return p;
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** The configuration files Rez sources, in order, each with how it is read. */
export function rezConfigFiles(opts: {
  env: NodeJS.ProcessEnv;
  cwd: string;
}): { file: string; format: "python" | "yaml" }[] {
  const { env, cwd } = opts;
  const named: string[] = [];
  if (env.REZ_CONFIG_FILE) named.push(...env.REZ_CONFIG_FILE.split(delimiter));
  if (!["1", "t", "true"].includes((env.REZ_DISABLE_HOME_CONFIG ?? "").toLowerCase())) {
    named.push(`${homeOf(env).replace(/\/+$/, "")}/.rezconfig`);
  }
  const out: { file: string; format: "python" | "yaml" }[] = [];
  for (const name of named) {
    if (name === "") continue;
    const py = resolve(cwd, withoutExtension(name) + ".py");
    const plain = resolve(cwd, name);
    if (isFile(py)) out.push({ file: py, format: "python" });
    else if (isFile(plain)) out.push({ file: plain, format: "yaml" });
  }
  return out;
}
