import type { PythonSettings } from "../rez/definition/cpython.js";
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, dirname, isAbsolute, join, relative, resolve } from "node:path";
import { LineCounter, isMap, isPair, isScalar, isSeq, parseDocument, visit, type Document, type Node } from "yaml";
import type { z } from "zod";
import { InputError, UsageError, formatLocation, type SourceLocation } from "../errors.js";
import { defaultStoreDir } from "../locations.js";
import { closestName } from "../util/suggest.js";
import { CONFIG_FILENAME, discoverConfigFiles, type ConfigFiles } from "./discover.js";
import {
  PYTHON_EVALUATORS,
  TantalusConfigSchema,
  type MountConfig,
  type PackageOverride,
  type TantalusConfig,
  type WorkflowConfig,
} from "./schema.js";
import { documentToJs } from "../util/yaml.js";
import { PackageFilterList } from "../solver/filter.js";
import { orderersFromPod, type PackageOrderer } from "../solver/order.js";
import { hostSystem, implicitPackagesFor, mapPlatform, type SystemInfo } from "../rez/system.js";
import { absoluteRezPath, readRezConfiguration, type RezOrigin } from "./rez.js";

export type ConfigPath = (string | number)[];

export interface ConfigIssue {
  /** Path of the offending value, e.g. ["workflows", "rough_layout", "mounts", 0, "readonly"]. */
  path: ConfigPath;
  message: string;
  location: SourceLocation;
}

/** A tantalus.yaml that is not valid: every problem, each with its file, line and column. */
export class ConfigError extends InputError {
  readonly issues: ConfigIssue[];

  constructor(issues: ConfigIssue[]) {
    const [first, ...rest] = issues;
    const text = (i: ConfigIssue) => (i.path.length ? `${formatConfigPath(i.path)}: ${i.message}` : i.message);
    super([text(first!), ...rest.map((i) => `${formatLocation(i.location)}: ${text(i)}`)].join("\n"), first!.location);
    this.issues = issues;
  }
}

/** Where an effective value comes from. */
export type ConfigLayerKind = "default" | "site" | "rez" | "project" | "environment" | "flag";

/**
 * One layer of the configuration: a file, a variable or a flag, with the
 * values it sets (validated, relative paths made absolute against the file
 * that wrote them, so a value means the same whichever layer wins).
 *
 * Layers stack lowest first: built-in defaults < the site file < Rez's own
 * configuration (rezconfig files, REZ_* variables; ./rez.ts) < the project's
 * tantalus.yaml < TANTALUS_* variables < flags.
 *
 * Rez's layer sits above the site file: on a workstation where Rez is
 * configured, rez-env resolves with that configuration, and Tantalus must
 * give the same resolve there; the site file supplies what Rez's
 * configuration does not set (and everything on hosts without Rez, such as
 * build machines and CI). A project's file, a TANTALUS_* variable or a flag
 * is an explicit choice for Tantalus and wins. docs/configuration.md says so.
 */
export interface ConfigLayer {
  kind: Exclude<ConfigLayerKind, "default">;
  /** The file as named in messages, the variable's name (REZ_PACKAGES_PATH for Rez's), or the flag. */
  source: string;
  /** Absolute path, for file layers. */
  file?: string;
  data: Record<string, unknown>;
  /** Where this layer writes the value at `path` (file layers: its line and column). */
  locate(path: ConfigPath): SourceLocation;
}

/** The layer a value comes from, and where in it. */
export interface ValueOrigin {
  kind: ConfigLayerKind;
  /** "default", a file as named in messages, a variable's name, or a flag. */
  source: string;
  location?: SourceLocation;
}

/**
 * A loaded configuration: every layer merged, validated, and the values
 * commands use, with paths made absolute.
 */
export interface LoadedConfig {
  /** Absolute path of the highest file layer (the project's, else the site's); the working directory's tantalus.yaml when there is no file. */
  file: string;
  /** That file as named in messages. */
  displayFile: string;
  /** Its directory (labels of the image's source; anything still relative). */
  dir: string;
  /** The configuration files read, lowest layer first (Rez's rezconfig files among them). */
  files: string[];
  /** Every layer that sets something, lowest first (the defaults are what none sets). */
  sources: ConfigLayer[];
  /** The effective configuration: every layer merged, defaults filled in, keys as written. */
  config: TantalusConfig;
  /** packages_path made absolute ([] when no layer sets it). */
  packagesPath: string[];
  /**
   * implicit_packages, or undefined for Rez's default (the host's ~platform,
   * ~arch, ~os). Under a platform_map the default is the mapped host's, given
   * here.
   */
  implicitPackages?: string[];
  /** local_packages_path made absolute (Rez's, or tantalus.yaml's), when set. */
  localPackagesPath?: string;
  /** Rez's package_filter (null when none): hides packages from every resolve. Copy it before adding rules. */
  packageFilter: PackageFilterList | null;
  /** Rez's package_orderers ([] for none). */
  packageOrderers: PackageOrderer[];
  /** Rez's variant_select_mode. */
  variantSelectMode: "version_priority" | "intersection_priority";
  /** Rez's error_on_missing_variant_requires. */
  errorOnMissingVariantRequires: boolean;
  /** Rez's use_variant_shortlinks. */
  useVariantShortlinks: boolean;
  /** The platform resolves are for when it is not the host (`target:`); package definitions' host queries answer for it. */
  target?: SystemInfo;
  /** `python:`: which evaluator loads package.py files the built-in one refuses. */
  python: PythonSettings;
  workflows: Record<string, WorkflowConfig>;
  layers: TantalusConfig["layers"];
  packages: Record<string, PackageOverride>;
  /** Absolute store directory. */
  store: string;
  /** Where the effective value at `path` is written; falls back to the nearest enclosing value. */
  locate(path: ConfigPath): SourceLocation;
  /** The layer the effective value at `path` comes from. */
  origin(path: ConfigPath): ValueOrigin;
  /** The directory relative paths in the value at `path` are relative to: that of the file that wrote it. */
  dirOf(path: ConfigPath): string;
}

export { CONFIG_FILENAME } from "./discover.js";

/** Flags that set configuration keys (the highest layer). */
export interface ConfigFlags {
  /** --paths A:B */
  paths?: string;
  /** --store DIR */
  store?: string;
}

export interface LoadOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** The files, when already found (tantalus run); else discoverConfigFiles. */
  files?: ConfigFiles;
  flags?: ConfigFlags;
  /** A UsageError when neither a site nor a project file exists (default: true). */
  required?: boolean;
}

/**
 * The configuration: the project's file named by --config (`path`), else
 * TANTALUS_CONFIG, else ./tantalus.yaml or the nearest one in a parent folder,
 * over the site file, under the environment and the flags. Throws UsageError
 * when a named file is missing (or no file exists and one is required) and
 * ConfigError, naming the file and line, when a file is invalid.
 */
export function loadConfig(path?: string, opts: LoadOptions = {}): LoadedConfig {
  const cwd = opts.cwd ?? process.cwd();
  const env = opts.env ?? process.env;
  const files = opts.files ?? discoverConfigFiles({ ...(path !== undefined ? { config: path } : {}), cwd, env });
  if (opts.required !== false && files.site === undefined && files.project === undefined) {
    throw new UsageError(
      `no ${CONFIG_FILENAME} in ${cwd} or a parent folder: pass --config FILE or set TANTALUS_CONFIG`,
    );
  }
  const layers = configLayers(files, {
    cwd,
    env,
    flags: opts.flags ?? {},
    ...(path !== undefined ? { given: path } : {}),
  });
  const top = files.project ?? files.site;
  const display = top === undefined ? CONFIG_FILENAME : (layers.find((l) => l.file === top)?.source ?? top);
  return mergeLayers(layers, { file: top ?? resolve(cwd, CONFIG_FILENAME), displayFile: display });
}

/**
 * The layers over the defaults, lowest first. Each variable and flag is a
 * layer of its own, so its origin names it.
 */
export function configLayers(
  files: ConfigFiles,
  opts: { cwd: string; env: NodeJS.ProcessEnv; flags: ConfigFlags; given?: string },
): ConfigLayer[] {
  const { cwd, env, flags } = opts;
  const layers: ConfigLayer[] = [];
  if (files.site !== undefined) layers.push(readConfigFile(files.site, "site", displayName(files.site, cwd)));
  // TANTALUS_NO_REZ_CONFIG=1 leaves Rez's configuration out (a build that must not depend on the workstation's).
  if (env.TANTALUS_NO_REZ_CONFIG !== "1") layers.push(...rezConfigLayers(env, cwd));
  if (files.project !== undefined) {
    const shown =
      files.projectVia === "--config" && opts.given !== undefined && !isAbsolute(opts.given)
        ? opts.given
        : displayName(files.project, cwd);
    layers.push(readConfigFile(files.project, "project", shown));
  }
  const single = (kind: "environment" | "flag", source: string, data: Record<string, unknown>): ConfigLayer => ({
    kind,
    source,
    data,
    locate: () => ({ file: source }),
  });
  // Relative paths from a variable or a flag are relative to the working directory, as a shell user expects.
  if (env.TANTALUS_PACKAGES_PATH)
    layers.push(
      single("environment", "TANTALUS_PACKAGES_PATH", {
        packages_path: splitSearchPath(env.TANTALUS_PACKAGES_PATH, cwd),
      }),
    );
  if (env.TANTALUS_STORE)
    layers.push(single("environment", "TANTALUS_STORE", { store: resolveConfigPath(cwd, env.TANTALUS_STORE) }));
  if (env.TANTALUS_PYTHON) {
    // One variable, one value: said in its own terms, not as a combination of layers that fails.
    const value = env.TANTALUS_PYTHON;
    if (!(PYTHON_EVALUATORS as readonly string[]).includes(value)) {
      const near = closestName(value, PYTHON_EVALUATORS);
      throw new UsageError(
        `TANTALUS_PYTHON: expected builtin or cpython, not '${value}'${near ? ` (did you mean ${near}?)` : ""}`,
      );
    }
    layers.push(single("environment", "TANTALUS_PYTHON", { python: value }));
  }
  // Read only when CPython starts, deep in a package load: a value it cannot use is refused here, at once,
  // rather than silently replaced by the default.
  const timeout = env.TANTALUS_CPYTHON_TIMEOUT;
  if (timeout !== undefined && timeout !== "" && !(Number(timeout) > 0 && Number.isFinite(Number(timeout)))) {
    throw new UsageError(`TANTALUS_CPYTHON_TIMEOUT: expected a number of seconds above 0, not '${timeout}'`);
  }
  if (flags.paths) layers.push(single("flag", "--paths", { packages_path: splitSearchPath(flags.paths, cwd) }));
  if (flags.store) layers.push(single("flag", "--store", { store: resolveConfigPath(cwd, flags.store) }));
  return layers;
}

/**
 * Rez's configuration as layers, one per file or variable that decides some
 * value (lowest first: the files in the order Rez reads them, then the
 * variables), each holding the values it decides, in tantalus.yaml's form.
 */
export function rezConfigLayers(env: NodeJS.ProcessEnv, cwd: string): ConfigLayer[] {
  const rez = readRezConfiguration({ env, cwd });
  const bySource = new Map<
    string,
    { origin: RezOrigin; data: Record<string, unknown>; where: Map<string, SourceLocation> }
  >();
  for (const [key, value] of Object.entries(rez.values)) {
    const origin = rez.origins[key]!;
    let entry = bySource.get(origin.source);
    if (!entry) bySource.set(origin.source, (entry = { origin, data: {}, where: new Map() }));
    entry.data[key] = toTantalusValue(key, value, cwd);
    entry.where.set(key, origin.location);
  }
  // A file that decides nothing is a layer too: it is read, so it is among the files an image depends on.
  for (const file of rez.files)
    if (!bySource.has(file))
      bySource.set(file, { origin: { source: file, file, location: { file } }, data: {}, where: new Map() });
  const rank = (o: RezOrigin) => (o.file !== undefined ? rez.files.indexOf(o.file) : rez.files.length);
  const layers = [...bySource.values()].sort((a, b) => rank(a.origin) - rank(b.origin));
  return layers.map(({ origin, data, where }) => {
    // A value is located at the line that sets its key (Rez settings are top-level names).
    const locate = (path: ConfigPath): SourceLocation => where.get(String(path[0])) ?? { file: origin.source };
    const layer: ConfigLayer = {
      kind: "rez",
      source: origin.source,
      ...(origin.file !== undefined ? { file: origin.file } : {}),
      data,
      locate,
    };
    // Each layer is checked on its own, so a value Tantalus cannot take is reported where Rez's configuration sets it.
    const parsed = TantalusConfigSchema.safeParse(data);
    if (!parsed.success) {
      throw new ConfigError(
        parsed.error.issues.map((issue) => {
          const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
          return { path, message: `${issue.message} (in Rez's configuration)`, location: locate(path) };
        }),
      );
    }
    return layer;
  });
}

/** A Rez value in tantalus.yaml's form: paths absolute (relative to the working directory, as for Rez). */
function toTantalusValue(key: string, value: unknown, cwd: string): unknown {
  if (key === "packages_path") return (value as string[]).map((p) => absoluteRezPath(p, cwd));
  if (key === "local_packages_path") return absoluteRezPath(value as string, cwd);
  // Rez ignores other keys of a filter.
  if (key === "package_filter")
    return (value as Record<string, unknown>[]).map((f) =>
      Object.fromEntries(Object.entries(f).filter(([k]) => k === "excludes" || k === "includes")),
    );
  return value;
}

function splitSearchPath(text: string, cwd: string): string[] {
  return text
    .split(delimiter)
    .filter((p) => p.length > 0)
    .map((p) => resolveConfigPath(cwd, p));
}

function displayName(file: string, cwd: string): string {
  const rel = relative(cwd, file);
  return rel && !rel.startsWith("..") && !isAbsolute(rel) ? rel : file;
}

/** Reads and validates one configuration file as a layer. */
export function readConfigFile(file: string, kind: "site" | "project", display: string = file): ConfigLayer {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new InputError(`cannot read the configuration: ${(err as NodeJS.ErrnoException).message}`, { file: display });
  }
  return parseConfigLayer(text, file, kind, display);
}

/** Validates one file on its own: every problem with its line, or nothing. */
export function checkConfigFile(file: string, display: string = file): void {
  readConfigFile(resolve(file), "project", display);
}

/** Validates configuration text as a layer; `file` is its absolute path (relative paths in it resolve against its directory). */
export function parseConfigLayer(
  text: string,
  file: string,
  kind: "site" | "project",
  displayFile: string = file,
): ConfigLayer {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number): SourceLocation => {
    const { line, col } = lineCounter.linePos(offset);
    return { file: displayFile, line, column: col };
  };
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => ({
        path: [],
        message: `invalid YAML: ${e.message.replace(/ at line \d+, column \d+:?[\s\S]*$/, "")}`,
        location: at(e.pos[0]),
      })),
    );
  }
  let data: unknown;
  try {
    data = documentToJs(doc, lineCounter, displayFile, { maxAliasCount: 1000 });
  } catch (e) {
    // An alias bomb is refused by documentToJs at its line; what else the yaml
    // library reports as a ReferenceError without a position (an alias whose
    // anchor is missing) is at the document's first alias.
    if (!(e instanceof ReferenceError)) throw e;
    let offset = 0;
    visit(doc, { Alias: (_key, node) => ((offset = node.range?.[0] ?? 0), visit.BREAK) });
    throw new ConfigError([{ path: [], message: `invalid YAML: ${e.message}`, location: at(offset) }]);
  }
  data ??= {};
  const locate = (path: ConfigPath) => at(offsetOf(doc, path));
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new ConfigError([
      { path: [], message: `expected a mapping of settings, got ${describe(data)}`, location: locate([]) },
    ]);
  }
  const parsed = TantalusConfigSchema.safeParse(data);
  if (!parsed.success) {
    const issues = parsed.error.issues.flatMap((issue) => toIssues(issue, data, doc, at));
    issues.sort(
      (a, b) => (a.location.line ?? 0) - (b.location.line ?? 0) || (a.location.column ?? 0) - (b.location.column ?? 0),
    );
    throw new ConfigError(issues);
  }
  return {
    kind,
    source: displayFile,
    file,
    data: absolutePaths(data as Record<string, unknown>, dirname(file)),
    locate,
  };
}

/** Validates configuration text as the only file (no site file, no variables); `file` is its absolute path. */
export function parseConfig(text: string, file: string, displayFile: string = file): LoadedConfig {
  return mergeLayers([parseConfigLayer(text, file, "project", displayFile)], { file, displayFile });
}

/**
 * The file's relative paths made absolute against its directory, so that a
 * site file's `store: stores/main` and a project's `packages_path: [packages]`
 * each mean a folder beside the file that wrote it. `~` stays as written (the
 * home directory is the user's, found when the value is used).
 *
 * Mount sources and base.image stay as written: the workflow's definition
 * and the base's name go into the image, which must not depend on where the
 * studio is checked out. They are resolved when used, against the directory
 * of the file that wrote them (LoadedConfig.dirOf).
 */
function absolutePaths(data: Record<string, unknown>, dir: string): Record<string, unknown> {
  const out = structuredClone(data) as Record<string, unknown> & {
    packages?: Record<string, { repair?: { donor_dirs?: unknown } } | null>;
  };
  const abs = (p: string) => (p === "~" || p.startsWith("~/") || isAbsolute(p) ? p : resolve(dir, p));
  if (Array.isArray(out.packages_path)) out.packages_path = out.packages_path.map(abs);
  if (typeof out.store === "string") out.store = abs(out.store);
  for (const pkg of Object.values(out.packages ?? {})) {
    const repair = pkg?.repair;
    if (Array.isArray(repair?.donor_dirs)) repair.donor_dirs = repair.donor_dirs.map(abs);
  }
  return out;
}

const isMapping = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Merges the layers key by key: a mapping merges with the one below at every
 * depth (the project's workflow `rough_layout` may set only its `env` over the
 * site's), a list or a scalar replaces the lower one whole (a project's
 * packages_path is its search path, not an addition to the site's).
 */
export function mergeLayers(layers: ConfigLayer[], top: { file: string; displayFile: string }): LoadedConfig {
  const merged: Record<string, unknown> = {};
  // The layer of every value set whole (a scalar, a list), and of every mapping any layer writes into.
  const values = new Map<string, ConfigLayer>();
  const mappings = new Map<string, ConfigLayer>();
  const mergeInto = (
    into: Record<string, unknown>,
    from: Record<string, unknown>,
    path: ConfigPath,
    layer: ConfigLayer,
  ) => {
    for (const [k, v] of Object.entries(from)) {
      const p = [...path, k];
      const key = pathKey(p);
      if (isMapping(v)) {
        // An empty mapping adds nothing: it neither clears nor claims the one below.
        if (!isMapping(into[k])) into[k] = {};
        if (Object.keys(v).length > 0 || !mappings.has(key)) mappings.set(key, layer);
        values.delete(key);
        mergeInto(into[k] as Record<string, unknown>, v, p, layer);
      } else {
        into[k] = structuredClone(v);
        // What a replaced mapping held below is the replacing layer's now.
        for (const m of [values, mappings])
          for (const below of m.keys()) if (below.startsWith(key + "\u0000")) m.delete(below);
        mappings.delete(key);
        values.set(key, layer);
      }
    }
  };
  for (const layer of layers) mergeInto(merged, layer.data, [], layer);

  /** The layer that set the value at `path` or a list or scalar holding it; undefined for a default. */
  const originOf = (path: ConfigPath): ConfigLayer | undefined => {
    for (let n = path.length; n > 0; n--) {
      const layer = values.get(pathKey(path.slice(0, n)));
      if (layer) return layer;
    }
    return undefined;
  };
  const locate = (path: ConfigPath): SourceLocation => {
    // The deepest part of the path some layer writes, located in that layer.
    for (let n = path.length; n > 0; n--) {
      const key = pathKey(path.slice(0, n));
      const layer = values.get(key) ?? mappings.get(key);
      if (layer) return layer.locate(path);
    }
    return { file: top.displayFile };
  };
  const parsed = TantalusConfigSchema.safeParse(merged);
  if (!parsed.success) {
    // Each layer was valid on its own; what fails is a combination, reported where its deepest value is written.
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
        return { path, message: `${issue.message} (after merging the configuration layers)`, location: locate(path) };
      }),
    );
  }
  const config = parsed.data;
  const dir = dirname(top.file);
  const rezSettings = resolveSettings(config, locate);
  return {
    file: top.file,
    displayFile: top.displayFile,
    dir,
    files: layers.flatMap((l) => (l.file !== undefined ? [l.file] : [])),
    sources: layers,
    config,
    packagesPath: (config.packages_path ?? []).map((p) => resolveConfigPath(dir, p)),
    ...rezSettings,
    ...(config.local_packages_path !== undefined
      ? { localPackagesPath: resolveConfigPath(dir, config.local_packages_path) }
      : {}),
    workflows: config.workflows,
    layers: config.layers,
    packages: config.packages,
    // The layers already rank --store over $TANTALUS_STORE over the files, each made absolute.
    store: config.store !== undefined ? resolveConfigPath(dir, config.store) : defaultStoreDir(),
    locate,
    dirOf(path) {
      const file = originOf(path)?.file;
      return file !== undefined ? dirname(file) : dir;
    },
    origin(path) {
      const layer = originOf(path);
      return layer
        ? { kind: layer.kind, source: layer.source, location: layer.locate(path) }
        : { kind: "default", source: "default" };
    },
  };
}

/** The part of a LoadedConfig that decides how its resolves run (what a stage's narrower config type must keep). */
export type ResolveSettingsOf = Pick<
  LoadedConfig,
  | "packageFilter"
  | "packageOrderers"
  | "variantSelectMode"
  | "errorOnMissingVariantRequires"
  | "useVariantShortlinks"
  | "target"
  | "python"
>;

/** The solver options a configuration sets (Rez's package_filter, package_orderers, variant_select_mode, error_on_missing_variant_requires). */
export interface ConfiguredSolveOptions {
  packageFilter: PackageFilterList | null;
  orderers: PackageOrderer[];
  variantSelectMode: LoadedConfig["variantSelectMode"];
  errorOnMissingVariantRequires: boolean;
}

/**
 * What the configuration asks of every resolve, in solve()'s option names, so
 * that `solve(request, repos, { ...configuredSolveOptions(config), implicitPackages })`
 * resolves as rez-env does under the same configuration. The filter is a
 * copy: add rules (rez-env --exclude/--include) to it freely.
 */
export function configuredSolveOptions(config: ResolveSettingsOf): ConfiguredSolveOptions {
  return {
    packageFilter: config.packageFilter?.copy() ?? null,
    orderers: config.packageOrderers,
    variantSelectMode: config.variantSelectMode,
    errorOnMissingVariantRequires: config.errorOnMissingVariantRequires,
  };
}

/**
 * What the configuration asks of the repositories a resolve reads, in the
 * Repositories constructor's option names: `new Repositories(config.packagesPath,
 * { ...configuredRepositoryOptions(config) })` roots hashed variants and loads
 * definitions for the target as rez-env would.
 */
export function configuredRepositoryOptions(config: ResolveSettingsOf): {
  variantShortlinks: boolean;
  target?: SystemInfo;
  python?: PythonSettings;
} {
  return {
    variantShortlinks: config.useVariantShortlinks,
    ...(config.target !== undefined ? { target: config.target } : {}),
    ...(config.python.evaluator === "cpython" ? { python: config.python } : {}),
  };
}

/**
 * The repositories a saved context is read again from (its own search paths)
 * still need the configured evaluator: a package CPython loaded for the
 * resolve needs CPython again for its commands().
 */
export function configuredPythonOption(config: Pick<LoadedConfig, "python">): { python?: PythonSettings } {
  return config.python.evaluator === "cpython" ? { python: config.python } : {};
}

/** The resolve settings of the merged configuration, as the solver takes them. */
function resolveSettings(
  config: TantalusConfig,
  locate: (path: ConfigPath) => SourceLocation,
): Pick<
  LoadedConfig,
  | "implicitPackages"
  | "packageFilter"
  | "packageOrderers"
  | "variantSelectMode"
  | "errorOnMissingVariantRequires"
  | "useVariantShortlinks"
  | "target"
  | "python"
> {
  let implicitPackages = config.implicit_packages;
  const map = config.platform_map;
  if (implicitPackages === undefined && config.target !== undefined) {
    // A target is given in Rez's terms already: platform_map (which rewrites what the host reports) does not apply.
    implicitPackages = implicitPackagesFor(config.target);
  } else if (implicitPackages === undefined && map !== undefined && (map.arch !== undefined || map.os !== undefined)) {
    // Rez's default implicit packages name system.arch and system.os, which platform_map rewrites.
    try {
      implicitPackages = implicitPackagesFor(mapPlatform(hostSystem(), map));
    } catch (err) {
      throw new InputError((err as Error).message, locate(["platform_map"]));
    }
  }
  // Each filter and orderer was checked when its layer was read.
  const filters = config.package_filter ?? [];
  return {
    ...(implicitPackages !== undefined ? { implicitPackages } : {}),
    packageFilter: filters.length > 0 ? PackageFilterList.fromPod(filters) : null,
    packageOrderers: orderersFromPod(config.package_orderers ?? []),
    variantSelectMode: config.variant_select_mode ?? "version_priority",
    errorOnMissingVariantRequires: config.error_on_missing_variant_requires ?? true,
    useVariantShortlinks: config.use_variant_shortlinks ?? true,
    ...(config.target !== undefined ? { target: { ...config.target } } : {}),
    python: pythonSettings(config.python),
  };
}

function pythonSettings(v: TantalusConfig["python"]): PythonSettings {
  if (v === undefined) return { evaluator: "builtin" };
  if (typeof v === "string") return { evaluator: v };
  return { evaluator: v.evaluator, ...(v.interpreter !== undefined ? { interpreter: v.interpreter } : {}) };
}

function pathKey(path: ConfigPath): string {
  return path.map(String).join("\u0000");
}

/** A path from the file: "~" and "~/x" are the home directory, relative paths are relative to `dir`. */
export function resolveConfigPath(dir: string, p: string): string {
  if (p === "~") return homedir();
  if (p.startsWith("~/")) return join(homedir(), p.slice(2));
  return resolve(dir, p);
}

/**
 * Host side of a mount, made absolute against the directory of the file that
 * wrote the list it is in (`list`: ["run", "mounts"] or ["workflows", NAME, "mounts"]).
 */
export function mountSource(loaded: LoadedConfig, m: MountConfig, list: ConfigPath): string {
  return resolveConfigPath(loaded.dirOf(list), m.source);
}

/** The named workflow; a UsageError lists the known names (and the closest one) otherwise. */
export function getWorkflow(loaded: LoadedConfig, name: string): WorkflowConfig {
  const wf = loaded.workflows[name];
  if (wf) return wf;
  // Rez's configuration files define no workflows: only a tantalus.yaml does.
  if (!loaded.sources.some((l) => l.kind === "site" || l.kind === "project")) {
    throw new UsageError(
      `no workflow '${name}': no configuration file defines workflows here (pass --config FILE, set TANTALUS_CONFIG, or work in the studio's folder)`,
    );
  }
  const known = Object.keys(loaded.workflows).sort();
  const near = closestName(name, known);
  const hint = near ? ` (did you mean ${near}?)` : "";
  throw new UsageError(
    known.length
      ? `no workflow '${name}' in ${loaded.displayFile}${hint}; known: ${known.join(", ")}`
      : `no workflow '${name}': ${loaded.displayFile} defines no workflows`,
  );
}

export function formatConfigPath(path: ConfigPath): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

// ---------------------------------------------------------------------------
// zod issue -> message at a line

type ZodIssue = z.core.$ZodIssue;

function toIssues(issue: ZodIssue, data: unknown, doc: Document, at: (o: number) => SourceLocation): ConfigIssue[] {
  const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
  if (issue.code === "unrecognized_keys") {
    const allowed = keysAt(path);
    return issue.keys.map((key) => {
      const near = closestName(key, allowed);
      const hint = near ? `; did you mean ${near}?` : allowed.length ? `; expected one of ${allowed.join(", ")}` : "";
      return {
        path: [...path, key],
        message: `unknown key '${key}'${hint}`,
        location: at(offsetOf(doc, [...path, key], "key")),
      };
    });
  }
  const value = valueAt(data, path);
  let message: string;
  switch (issue.code) {
    case "invalid_type":
      message =
        value === undefined
          ? `missing required key '${String(path[path.length - 1])}' (expected ${typeName(issue.expected)})`
          : `expected ${typeName(issue.expected)}, got ${describe(value)}`;
      break;
    case "invalid_value":
      message = `expected one of ${issue.values.map((v) => String(v)).join(", ")}, got ${describe(value)}`;
      break;
    case "invalid_format":
      message = `${customOr(issue.message, `expected a ${issue.format}`)}, got ${describe(value)}`;
      break;
    case "too_small":
      message =
        issue.origin === "array"
          ? customOr(issue.message, `expected at least ${String(issue.minimum)} item(s)`)
          : issue.origin === "string"
            ? customOr(issue.message, `expected a non-empty string`)
            : `expected a number >= ${String(issue.minimum)}, got ${describe(value)}`;
      break;
    case "too_big":
      message = `expected a number <= ${String(issue.maximum)}, got ${describe(value)}`;
      break;
    case "invalid_key":
      // The path ends with the key itself: point at it, not at its value.
      return [
        {
          path,
          message: issue.issues.map((i) => customOr(i.message, "invalid key")).join("; "),
          location: at(offsetOf(doc, path, "key")),
        },
      ];
    default:
      message = issue.message;
  }
  const missing = value === undefined && path.length > 0;
  return [
    { path, message, location: at(offsetOf(doc, missing ? path.slice(0, -1) : path, missing ? "key" : "value")) },
  ];
}

/** zod's default messages start with "Invalid"; ours (given with `error:`) are used as they are. */
function customOr(message: string, fallback: string): string {
  return /^Invalid|^Too (small|big)/.test(message) ? fallback : message;
}

function typeName(t: string): string {
  return t === "object" ? "a mapping" : t === "array" ? "a list" : t === "int" ? "an integer" : t;
}

function describe(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  if (typeof v === "string") return `string ${JSON.stringify(v)}`;
  if (typeof v === "number") return Number.isInteger(v) ? `integer ${v}` : `number ${v}`;
  if (typeof v === "boolean" || typeof v === "bigint") return `${typeof v} ${v}`;
  return typeof v;
}

function valueAt(data: unknown, path: ConfigPath): unknown {
  let cur: unknown = data;
  for (const seg of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return cur;
}

/** Keys the schema allows at `path` (for "did you mean"). */
function keysAt(path: ConfigPath): string[] {
  let s: unknown = TantalusConfigSchema;
  const unwrap = (x: unknown): unknown => {
    let cur = x as { _zod?: { def?: Record<string, unknown> } };
    for (;;) {
      const def = cur?._zod?.def;
      if (def && ["default", "prefault", "optional", "nullable"].includes(def.type as string))
        cur = def.innerType as typeof cur;
      else return cur;
    }
  };
  for (const seg of path) {
    const def = (unwrap(s) as { _zod: { def: Record<string, unknown> } })._zod.def;
    if (def.type === "object") s = (def.shape as Record<string, unknown>)[String(seg)];
    else if (def.type === "record") s = def.valueType;
    else if (def.type === "array") s = def.element;
    else return [];
    if (!s) return [];
  }
  const def = (unwrap(s) as { _zod: { def: Record<string, unknown> } })._zod.def;
  return def.type === "object" ? Object.keys(def.shape as object) : [];
}

/** Offset of the node at `path` (or of its key), stopping at the deepest node that exists. */
function offsetOf(doc: Document, path: ConfigPath, want: "key" | "value" = "value"): number {
  let node: Node | null = doc.contents ?? null;
  let keyNode: Node | null = null;
  for (const seg of path) {
    let next: Node | null = null;
    let nextKey: Node | null = null;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
      if (pair) {
        nextKey = pair.key as Node;
        next = (pair.value as Node | null) ?? null;
        if (!next) return rangeStart(nextKey);
      }
    } else if (isSeq(node) && typeof seg === "number") {
      next = (node.items[seg] as Node | undefined) ?? null;
    }
    if (!next) break;
    node = next;
    keyNode = nextKey;
  }
  if (want === "key" && keyNode) return rangeStart(keyNode);
  return node ? rangeStart(node) : 0;
}

function rangeStart(n: Node): number {
  return n.range?.[0] ?? 0;
}
