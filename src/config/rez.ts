/**
 * Rez's own configuration as configuration layers: the files Rez reads
 * (REZ_CONFIG_FILE, then ~/.rezconfig) and the REZ_<KEY> variables, for the
 * settings that decide resolves and environments. A studio that already
 * configures Rez on every workstation gets the same resolves from Tantalus
 * without writing its settings twice.
 *
 * Read as Rez 3.4 reads them (src/rez/config.py):
 * - REZ_CONFIG_FILE names one or more files (os.pathsep-separated), then
 *   ~/.rezconfig unless REZ_DISABLE_HOME_CONFIG is 1/t/true. For each,
 *   `<name without extension>.py` is tried first (evaluated as Python), then
 *   the file itself (YAML); a missing file is skipped.
 * - The files update Rez's built-in defaults in order with `deep_update`:
 *   mappings merge, a `ModifyList(append=, prepend=)` edits the list below it,
 *   anything else replaces.
 * - REZ_<KEY> (parsed per the setting's type), else REZ_<KEY>_JSON, overrides
 *   what the files say.
 * - Every string is then expanded: $VARS, `~`, and `{system.platform}`-style
 *   fields (arch and os through platform_map).
 *
 * Only what a file or a variable sets becomes a layer: where Rez's own
 * default would apply, Tantalus's default (the same, except packages_path)
 * applies.
 */
import { readFileSync } from "node:fs";
import { hostname, userInfo } from "node:os";
import { basename, delimiter, isAbsolute, resolve } from "node:path";
import { LineCounter, isMap, isPair, isScalar, parseDocument } from "yaml";
import { InputError, type SourceLocation } from "../errors.js";
import { MODIFY_LIST, ModifyList } from "../rez/definition/package-py.js";
import {
  HostObject,
  Interpreter,
  PyBuiltin,
  PyException,
  PythonError,
  parseModule,
  realPythonHost,
  toJS,
  type PyValue,
} from "../rez/python/index.js";
import { PyModule, chainImporters, pathNormpath, stdlibImporter } from "../rez/python/modules.js";
import { CPYTHON_HINT } from "../rez/python/errors.js";
import { reImporter } from "../rez/python/regex.js";
import { hostSystem, mapPlatform, type PlatformMap } from "../rez/system.js";
import { REZ_SETTINGS, homeOf, rezConfigFiles, withoutExtension, type SettingType } from "./rez-settings.js";

export { REZ_SETTINGS, rezConfigFiles, rezVariableNames } from "./rez-settings.js";

/** The Rez version whose configuration this reads (`rez_version` in a rezconfig.py). */
export const REZ_VERSION = "3.4.0";

/** Rez's built-in values (src/rez/rezconfig.py), which a ModifyList in a file edits. */
const REZ_DEFAULTS: Readonly<Record<string, unknown>> = {
  packages_path: ["~/packages", "~/.rez/packages/int", "~/.rez/packages/ext"],
  local_packages_path: "~/packages",
  implicit_packages: ["~platform=={system.platform}", "~arch=={system.arch}", "~os=={system.os}"],
  package_filter: null,
  package_orderers: null,
  variant_select_mode: "version_priority",
  error_on_missing_variant_requires: true,
  use_variant_shortlinks: true,
  platform_map: {},
};

/** Where one Rez setting's effective value comes from. */
export interface RezOrigin {
  /** The file as named in messages, or the variable's name. */
  source: string;
  /** Absolute path, for a file. */
  file?: string;
  location: SourceLocation;
}

/** Rez's effective values of the settings some file or variable sets, each with its origin. */
export interface RezConfiguration {
  /** The files Rez sources, in order. */
  files: string[];
  /** Values after merging, overriding and expansion, keys as Rez names them. */
  values: Record<string, unknown>;
  origins: Record<string, RezOrigin>;
}

export interface RezConfigOptions {
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/** A ModifyList in the merged data: Rez applies it to the value below. */
class ListEdit {
  constructor(
    readonly append: unknown[] | null,
    readonly prepend: unknown[] | null,
    readonly where: SourceLocation,
  ) {}
  apply(below: unknown, key: string): unknown[] {
    if (below === null || below === undefined) below = [];
    if (!Array.isArray(below)) {
      throw new InputError(`${key}: a ModifyList edits a list, and the value below it is not one`, this.where);
    }
    return [...(this.prepend ?? []), ...(below as unknown[]), ...(this.append ?? [])];
  }
}

/** One file's settings and the line each is set at. */
interface FileSettings {
  file: string;
  display: string;
  values: Map<string, unknown>;
  lines: Map<string, number>;
}

/**
 * Rez's configuration as Rez would compute it here, restricted to the
 * settings that decide resolves, and to those a file or variable sets.
 * Throws InputError (file, line, what was expected) for what cannot be read.
 */
export function readRezConfiguration(opts: RezConfigOptions): RezConfiguration {
  const files = rezConfigFiles(opts);
  const loaded = files.map((f) => (f.format === "python" ? readPythonConfig(f.file, opts) : readYamlConfig(f.file)));

  // deep_update over Rez's defaults, file by file; the last file to set a key is its origin.
  const data: Record<string, unknown> = structuredClone(REZ_DEFAULTS);
  const origins: Record<string, RezOrigin> = {};
  for (const f of loaded) {
    for (const [key, value] of f.values) {
      data[key] = mergeValue(data[key], value, key);
      const line = f.lines.get(key);
      origins[key] = {
        source: f.display,
        file: f.file,
        location: { file: f.display, ...(line !== undefined ? { line } : {}) },
      };
    }
  }

  // REZ_<KEY>, else REZ_<KEY>_JSON, over the files.
  for (const [key, type] of Object.entries(REZ_SETTINGS)) {
    const name = `REZ_${key.toUpperCase()}`;
    const raw = opts.env[name];
    if (raw !== undefined) {
      data[key] = parseVariable(name, raw, type);
      origins[key] = { source: name, location: { file: name } };
      continue;
    }
    const json = opts.env[`${name}_JSON`];
    if (json !== undefined) {
      try {
        data[key] = JSON.parse(json) as unknown;
      } catch {
        throw new InputError(`expected a JSON-encoded value`, { file: `${name}_JSON` });
      }
      origins[key] = { source: `${name}_JSON`, location: { file: `${name}_JSON` } };
    }
  }

  // Validate every setting some layer sets (Rez validates each when it is read), then expand.
  const validated: Record<string, unknown> = {};
  for (const key of Object.keys(REZ_SETTINGS)) {
    const where = origins[key]?.location ?? { file: "Rez's defaults" };
    validated[key] = validate(key, data[key], where);
  }
  const platformMap = expand(validated.platform_map, opts, null, origins.platform_map?.location) as PlatformMap;
  const values: Record<string, unknown> = {};
  for (const key of Object.keys(origins)) {
    values[key] =
      key === "platform_map" ? platformMap : expand(validated[key], opts, platformMap, origins[key]!.location);
  }
  // implicit_packages is set by its default unless a file or variable sets it: that
  // default names {system.os}, so it changes with platform_map alone.
  return { files: files.map((f) => f.file), values, origins };
}

// ---------------------------------------------------------------------------
// Files

/** rezconfig.py: run with Rez's globals; module-level names that are not modules are settings. */
function readPythonConfig(file: string, opts: RezConfigOptions): FileSettings {
  const display = file;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new InputError(`cannot read this Rez configuration: ${(err as Error).message}`, { file: display });
  }
  const host = { ...realPythonHost, environ: () => opts.env, cwd: () => opts.cwd };
  const interpreter = new Interpreter({
    importer: chainImporters(
      stdlibImporter(host, () => {}),
      reImporter,
    ),
  });
  const reserved = new Map<string, PyValue>([
    ["__name__", withoutExtension(basename(file))],
    ["__file__", file],
    ["rez_version", REZ_VERSION],
    ["ModifyList", MODIFY_LIST],
    ["DelayLoad", delayLoad(homeOf(opts.env))],
  ]);
  const globals = new Map(reserved);
  const lines = new Map<string, number>();
  try {
    const mod = parseModule(text, display);
    interpreter.execModule(mod, globals, { onGlobalStore: (name, line) => lines.set(name, line) });
  } catch (err) {
    if (err instanceof PythonError || err instanceof InputError) throw asRezConfigError(err, display);
    throw err;
  }
  const values = new Map<string, unknown>();
  for (const key of Object.keys(REZ_SETTINGS)) {
    const v = globals.get(key);
    if (v === undefined || v instanceof PyModule) continue;
    // A reserved name (ModifyList...) rebound to a setting's name is still a setting.
    const line = lines.get(key);
    const where: SourceLocation = { file: display, ...(line !== undefined ? { line } : {}) };
    values.set(key, fromPython(v, key, where));
  }
  return { file, display, values, lines };
}

/** The evaluator's refusal, reworded for a configuration file (the CPython option is for package definitions). */
function asRezConfigError(err: InputError, display: string): InputError {
  const detail = err.detail
    .replace(/ in a package definition/g, " in a Rez configuration file")
    .replace(`; ${CPYTHON_HINT}`, "; set this value in tantalus.yaml, or as a REZ_ variable, instead");
  return new InputError(`cannot evaluate this Rez configuration: ${detail}`, err.location ?? { file: display });
}

function fromPython(v: PyValue, key: string, where: SourceLocation): unknown {
  if (v instanceof ModifyList) {
    const list = (x: PyValue, field: string): unknown[] | null => {
      if (x === null) return null;
      const js = fromPython(x, `${key}.${field}`, where);
      if (!Array.isArray(js)) throw new InputError(`${key}: ModifyList(${field}=...) expects a list`, where);
      return js as unknown[];
    };
    return new ListEdit(list(v.append, "append"), list(v.prepend, "prepend"), where);
  }
  if (v instanceof DelayLoad) return v.load(key, where);
  try {
    return toJS(v, key);
  } catch (err) {
    throw new InputError(`expected plain data (strings, numbers, lists, dicts): ${(err as Error).message}`, where);
  }
}

/** rezconfig (YAML, as Rez's FullLoader reads it: YAML 1.1). */
function readYamlConfig(file: string): FileSettings {
  const display = file;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new InputError(`cannot read this Rez configuration: ${(err as Error).message}`, { file: display });
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, version: "1.1", prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    throw new InputError(`invalid YAML: ${e.message.replace(/ at line \d+, column \d+:?[\s\S]*$/, "")}`, {
      file: display,
      line: lineCounter.linePos(e.pos[0]).line,
    });
  }
  const data = (doc.toJS({ maxAliasCount: 1000 }) as unknown) ?? {};
  if (typeof data !== "object" || Array.isArray(data)) {
    throw new InputError(`expected a mapping of Rez settings`, { file: display, line: 1 });
  }
  const lines = new Map<string, number>();
  if (isMap(doc.contents)) {
    for (const pair of doc.contents.items) {
      if (isPair(pair) && isScalar(pair.key) && pair.key.range)
        lines.set(String(pair.key.value), lineCounter.linePos(pair.key.range[0]).line);
    }
  }
  const values = new Map<string, unknown>();
  for (const key of Object.keys(REZ_SETTINGS)) {
    if (Object.prototype.hasOwnProperty.call(data, key)) values.set(key, (data as Record<string, unknown>)[key]);
  }
  return { file, display, values, lines };
}

/** Rez's DelayLoad(path): the value of a .yaml or .json file, read when the setting is. */
class DelayLoad extends HostObject {
  readonly pyTypeName = "DelayLoad";
  constructor(readonly filepath: string) {
    super();
  }
  load(key: string, where: SourceLocation): unknown {
    // Rez accepts ".yaml" and ".json" only (its check for "yml" lacks the dot).
    const ext = /\.[^./]*$/.exec(this.filepath)?.[0] ?? "";
    if (ext !== ".yaml" && ext !== ".json") {
      throw new InputError(`${key}: DelayLoad reads .yaml or .json files only, not ${this.filepath}`, where);
    }
    let text: string;
    try {
      text = readFileSync(this.filepath, "utf8");
    } catch (err) {
      throw new InputError(`${key}: DelayLoad cannot read ${this.filepath}: ${(err as Error).message}`, where);
    }
    try {
      return ext === ".json"
        ? (JSON.parse(text) as unknown)
        : (parseDocument(text, { version: "1.1" }).toJS() as unknown);
    } catch (err) {
      throw new InputError(`${key}: DelayLoad cannot parse ${this.filepath}: ${(err as Error).message}`, where);
    }
  }
}

/** DelayLoad(filepath): `~` is the home of the environment the configuration is read in. */
function delayLoad(home: string): PyBuiltin {
  return new PyBuiltin("DelayLoad", (args, kwargs) => {
    const p = args[0] ?? kwargs.get("filepath");
    if (typeof p !== "string" || args.length + kwargs.size !== 1)
      throw new PyException("TypeError", "DelayLoad() takes one argument, the file path");
    return new DelayLoad(p === "~" || p.startsWith("~/") ? home + p.slice(1) : p);
  });
}

// ---------------------------------------------------------------------------
// Merging, variables, validation

/** Rez's deep_update for one key: mappings merge, a ModifyList edits the list below, else the new value wins. */
function mergeValue(below: unknown, value: unknown, key: string): unknown {
  if (isMapping(below) && isMapping(value)) {
    const out: Record<string, unknown> = { ...below };
    for (const [k, v] of Object.entries(value)) out[k] = mergeValue(out[k], v, `${key}.${k}`);
    return out;
  }
  if (value instanceof ListEdit) return value.apply(flatten(below, key), key);
  return flatten(value, key);
}

function flatten(v: unknown, key: string): unknown {
  if (v instanceof ListEdit) return v.apply([], key);
  if (isMapping(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, flatten(x, `${key}.${k}`)]));
  return v;
}

const isMapping = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof ListEdit);

const TRUE_WORDS = new Set(["1", "true", "t", "yes", "y", "on"]);
const FALSE_WORDS = new Set(["0", "false", "f", "no", "n", "off"]);

/** A REZ_<KEY> value, parsed as Rez parses that setting's type. */
function parseVariable(name: string, raw: string, type: SettingType): unknown {
  const where = { file: name };
  switch (type) {
    case "path-list":
      return raw.split(delimiter).filter((p) => p.length > 0);
    case "str-list":
      return raw
        .replace(/,/g, " ")
        .split(/\s+/)
        .filter((p) => p.length > 0);
    case "str":
    case "variant-select-mode":
      return raw;
    case "bool": {
      const w = raw.toLowerCase();
      if (TRUE_WORDS.has(w)) return true;
      if (FALSE_WORDS.has(w)) return false;
      throw new InputError(
        `expected one of ${[...TRUE_WORDS, ...FALSE_WORDS].join(", ")}, got ${JSON.stringify(raw)}`,
        where,
      );
    }
    case "optional-dict":
      // Rez reads 'k1:v1,k2:v2' as a flat mapping; platform_map needs a mapping of mappings.
      throw new InputError(
        `Rez reads this variable as a flat 'key:value,...' mapping, which cannot hold platform_map's mapping of mappings: set ${name}_JSON instead`,
        where,
      );
    case "dict-or-dict-list":
      // Rez has no parser for these variables (it raises NotImplementedError).
      throw new InputError(`Rez cannot read this variable (it takes ${name}_JSON, a JSON-encoded value)`, where);
  }
}

/** Rez's schema for the setting, with Rez's coercions (None -> [] or {}, one dict -> a list of one). */
function validate(key: string, v: unknown, where: SourceLocation): unknown {
  const fail = (expected: string): never => {
    throw new InputError(`${key}: expected ${expected}, got ${describe(v)}`, where);
  };
  const strings = (x: unknown): x is string[] => Array.isArray(x) && x.every((s) => typeof s === "string");
  switch (REZ_SETTINGS[key]) {
    case "path-list":
    case "str-list":
      return strings(v) ? v : fail("a list of strings");
    case "str":
      return typeof v === "string" ? v : fail("a string");
    case "bool":
      return typeof v === "boolean" ? v : fail("True or False");
    case "variant-select-mode":
      return v === "version_priority" || v === "intersection_priority"
        ? v
        : fail("'version_priority' or 'intersection_priority'");
    case "optional-dict":
      if (v === null) return {};
      if (!isMapping(v)) return fail("a dict");
      for (const [k, m] of Object.entries(v)) {
        if (!isMapping(m) || !Object.values(m).every((s) => typeof s === "string"))
          throw new InputError(`${key}.${k}: expected a dict of regular expression to replacement`, where);
      }
      return v;
    case "dict-or-dict-list":
      if (v === null) return [];
      if (isMapping(v)) return [v];
      if (Array.isArray(v) && v.every(isMapping)) return v;
      return fail("a dict or a list of dicts");
    default:
      return v;
  }
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return "None";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a dict";
  return `${typeof v} ${JSON.stringify(v)}`;
}

// ---------------------------------------------------------------------------
// Expansion (config.py expand_system_vars)

/** The `system` fields Rez's System has; the supported ones are answered, the others refused. */
const SYSTEM_FIELDS = new Set([
  "rez_version",
  "platform",
  "arch",
  "os",
  "variant",
  "shell",
  "user",
  "home",
  "fqdn",
  "hostname",
  "domain",
  "rez_bin_path",
  "is_production_rez_install",
  "selftest_is_running",
]);

function expand(
  v: unknown,
  opts: RezConfigOptions,
  platformMap: PlatformMap | null,
  where: SourceLocation | undefined,
): unknown {
  if (typeof v === "string") return expandString(v, opts, platformMap, where ?? { file: "Rez's defaults" });
  if (Array.isArray(v)) return v.map((x) => expand(x, opts, platformMap, where));
  if (isMapping(v))
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, expand(x, opts, platformMap, where)]));
  return v;
}

function expandString(
  text: string,
  opts: RezConfigOptions,
  platformMap: PlatformMap | null,
  where: SourceLocation,
): string {
  // expandvars: $NAME and ${NAME}; unknown variables stay as written.
  let s = text.replace(/\$(\w+|\{[^}]*\})/g, (m: string, name: string) => {
    const n = name.startsWith("{") ? name.slice(1, -1) : name;
    const value = opts.env[n];
    return value !== undefined ? value : m;
  });
  // expanduser: a `~` at the start or after whitespace or a path separator, followed by one or the end.
  if (s.includes("~")) {
    const home = homeOf(opts.env);
    s = pathNormpath(s.replace(/(^|\s|[:;])~(\/|[:;]|\s|$)/g, (_m, a: string, b: string) => a + home + b));
  }
  // scoped_format with `system`: unknown fields stay as written, `{{` and `}}` are braces.
  if (!s.includes("{") && !s.includes("}")) return s;
  let out = "";
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if ((c === "{" || c === "}") && s[i + 1] === c) {
      out += c;
      i += 2;
      continue;
    }
    if (c === "{") {
      const end = s.indexOf("}", i);
      if (end < 0) throw new InputError(`${JSON.stringify(text)}: a '{' without its '}'`, where);
      const field = s.slice(i + 1, end);
      out += systemField(field, platformMap, opts, where) ?? `{${field}}`;
      i = end + 1;
      continue;
    }
    out += c;
    i++;
  }
  return out;
}

function systemField(
  field: string,
  platformMap: PlatformMap | null,
  opts: RezConfigOptions,
  where: SourceLocation,
): string | undefined {
  const m = /^system\.(\w+)$/.exec(field);
  if (!m) return undefined;
  const name = m[1]!;
  let sys = hostSystem();
  try {
    if (platformMap) sys = mapPlatform(sys, platformMap);
  } catch (err) {
    throw new InputError((err as Error).message, where);
  }
  switch (name) {
    case "platform":
      return sys.platform;
    case "arch":
      return sys.arch;
    case "os":
      return sys.os;
    case "rez_version":
      return REZ_VERSION;
    case "user":
      return opts.env.LOGNAME ?? opts.env.USER ?? opts.env.LNAME ?? opts.env.USERNAME ?? userInfo().username;
    case "home":
      return homeOf(opts.env);
    case "hostname":
      return hostname();
    default:
      if (SYSTEM_FIELDS.has(name)) {
        throw new InputError(
          `{system.${name}} is not answered by Tantalus (it answers system.platform, arch, os, user, home, hostname and rez_version)`,
          where,
        );
      }
      return undefined;
  }
}

/** Relative packages_path and local_packages_path entries are relative to the working directory, as for Rez. */
export function absoluteRezPath(p: string, cwd: string): string {
  return isAbsolute(p) ? p : resolve(cwd, p);
}
