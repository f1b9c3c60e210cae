/**
 * The Rez settings Tantalus reads and the variables that set them, without
 * imports: the build stamp (on `tantalus run`'s path) names the variables
 * without loading the configuration reader.
 */

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
