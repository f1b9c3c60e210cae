import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { LineCounter, isMap, isPair, isScalar, isSeq, parseDocument, visit, type Document, type Node, type Pair } from "yaml";
import type { z } from "zod";
import { InputError, UsageError, formatLocation, type SourceLocation } from "../errors.js";
import { storeDir } from "../locations.js";
import { TantalusConfigSchema, type MountConfig, type PackageOverride, type TantalusConfig, type WorkflowConfig } from "./schema.js";
import { documentToJs } from "../util/yaml.js";

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

/**
 * A loaded configuration: the validated file plus the values commands use,
 * with paths made absolute against the file's directory.
 */
export interface LoadedConfig {
  /** Absolute path of the file. */
  file: string;
  /** The file as named in messages (as given, or relative to the working directory). */
  displayFile: string;
  /** Directory relative paths in the file are resolved against. */
  dir: string;
  /** Everything in the file, defaults filled in, keys as written. */
  config: TantalusConfig;
  /** packages_path made absolute ([] when the file has none). */
  packagesPath: string[];
  /** implicit_packages, or undefined for Rez's default (the host's ~platform, ~arch, ~os). */
  implicitPackages?: string[];
  workflows: Record<string, WorkflowConfig>;
  layers: TantalusConfig["layers"];
  packages: Record<string, PackageOverride>;
  /** Absolute store directory. */
  store: string;
  /** Where a value of the file is written; falls back to the nearest enclosing value. */
  locate(path: ConfigPath): SourceLocation;
}

export const CONFIG_FILENAME = "tantalus.yaml";

/**
 * Reads the configuration named by --config (`path`), else ./tantalus.yaml.
 * Throws InputError when the file is missing and ConfigError when it is invalid.
 */
export function loadConfig(path?: string, opts: { cwd?: string } = {}): LoadedConfig {
  const cwd = opts.cwd ?? process.cwd();
  const given = path ?? CONFIG_FILENAME;
  const file = resolve(cwd, given);
  const display = path === undefined ? CONFIG_FILENAME : isAbsolute(given) ? displayName(file, cwd) : given;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === "ENOENT") {
      throw path === undefined
        ? new UsageError(`no ${CONFIG_FILENAME} in ${cwd}: pass --config FILE`)
        : new InputError(`configuration file not found`, { file: display });
    }
    throw new InputError(`cannot read the configuration: ${e.message}`, { file: display });
  }
  return parseConfig(text, file, display);
}

function displayName(file: string, cwd: string): string {
  const rel = relative(cwd, file);
  return rel && !rel.startsWith("..") && !isAbsolute(rel) ? rel : file;
}

/** Validates configuration text; `file` is its absolute path (relative paths in it resolve against its directory). */
export function parseConfig(text: string, file: string, displayFile: string = file): LoadedConfig {
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
    throw new ConfigError([{ path: [], message: `invalid YAML: ${(e as Error).message}`, location: at(offset) }]);
  }
  data ??= {};
  const locate = (path: ConfigPath) => at(offsetOf(doc, path));
  if (typeof data !== "object" || Array.isArray(data)) {
    throw new ConfigError([{ path: [], message: `expected a mapping of settings, got ${describe(data)}`, location: locate([]) }]);
  }
  const parsed = TantalusConfigSchema.safeParse(data);
  if (!parsed.success) {
    const issues = parsed.error.issues.flatMap((issue) => toIssues(issue, data, doc, at));
    issues.sort((a, b) => (a.location.line ?? 0) - (b.location.line ?? 0) || (a.location.column ?? 0) - (b.location.column ?? 0));
    throw new ConfigError(issues);
  }
  const config = parsed.data;
  const dir = dirname(file);
  return {
    file,
    displayFile,
    dir,
    config,
    packagesPath: (config.packages_path ?? []).map((p) => resolveConfigPath(dir, p)),
    implicitPackages: config.implicit_packages,
    workflows: config.workflows,
    layers: config.layers,
    packages: config.packages,
    // $TANTALUS_STORE beats the file; --store beats both (applied by each command).
    store: storeDir({ configured: config.store ? resolveConfigPath(dir, config.store) : undefined }),
    locate,
  };
}

/** A path from the file: "~" and "~/x" are the home directory, relative paths are relative to `dir`. */
export function resolveConfigPath(dir: string, p: string): string {
  if (p === "~") return homedir();
  if (p.startsWith("~/")) return join(homedir(), p.slice(2));
  return resolve(dir, p);
}

/** Host side of a mount, made absolute against the configuration. */
export function mountSource(loaded: LoadedConfig, m: MountConfig): string {
  return resolveConfigPath(loaded.dir, m.source);
}

/** The named workflow; a UsageError lists the known names (and the closest one) otherwise. */
export function getWorkflow(loaded: LoadedConfig, name: string): WorkflowConfig {
  const wf = loaded.workflows[name];
  if (wf) return wf;
  const known = Object.keys(loaded.workflows).sort();
  const near = known.find((k) => editDistance(k, name) <= 2);
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
      const near = allowed.find((k) => editDistance(k, key) <= 2);
      const hint = near ? `; did you mean ${near}?` : allowed.length ? `; expected one of ${allowed.join(", ")}` : "";
      return { path: [...path, key], message: `unknown key '${key}'${hint}`, location: at(offsetOf(doc, [...path, key], "key")) };
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
      return [{ path, message: issue.issues.map((i) => customOr(i.message, "invalid key")).join("; "), location: at(offsetOf(doc, path, "key")) }];
    default:
      message = issue.message;
  }
  const missing = value === undefined && path.length > 0;
  return [{ path, message, location: at(offsetOf(doc, missing ? path.slice(0, -1) : path, missing ? "key" : "value")) }];
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
  return `${typeof v} ${String(v)}`;
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
      if (def && ["default", "prefault", "optional", "nullable"].includes(def.type as string)) cur = def.innerType as typeof cur;
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
  let node: Node | null = (doc.contents as Node | null) ?? null;
  let keyNode: Node | null = null;
  for (const seg of path) {
    let next: Node | null = null;
    let nextKey: Node | null = null;
    if (isMap(node)) {
      const pair = (node.items as Pair<unknown, unknown>[]).find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
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

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length]![b.length]!;
}
