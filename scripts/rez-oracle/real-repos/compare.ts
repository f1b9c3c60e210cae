/**
 * Tantalus's side of the differential test on public studios' package
 * repositories, against what run.py recorded from real Rez:
 *
 *     python3 scripts/rez-oracle/real-repos/run.py               (Rez: loads, layout, stubs, resolves)
 *     node --import tsx scripts/rez-oracle/real-repos/compare.ts (Tantalus, and the report)
 *
 * 1. Every corpus file is read with readPackageFile (mode "auto", and "full" to
 *    check the two paths agree) and its attributes are encoded as
 *    src/rez/definition/rez-parity.test.ts encodes them, then classified against
 *    Rez: identical / both refuse / Rez loads, Tantalus refuses (grouped by the
 *    first refused construct) / both load but differ (which attributes) /
 *    Tantalus loads what Rez refuses.
 * 2. Every NAME==VERSION request Rez resolved (run.py), for a package both load,
 *    is solved by Tantalus against the same [repository, stubs] paths with Rez's
 *    implicit packages, and a context both solve is interpreted as Rez did it
 *    (empty parent environment, Rez's pinned HOME, timestamp and bash system
 *    paths): resolve, environ and bash script are compared.
 * 3. `--cli N`: the first N solved requests also go through the CLI
 *    (`tantalus resolve --json`, `tantalus env --json`) to check the CLI gives
 *    what the library gives.
 *
 * `--python cpython` loads with the `python: cpython` setting (see PYTHON).
 *
 * Writes scripts/rez-oracle/real-repos/REPORT.md (counts, construct names,
 * repository/path references; never file content) and, outside git,
 * $REZ_CORPUS/compare.json with every detail.
 */
import fs from "node:fs";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { isDeepStrictEqual } from "node:util";
import { readPackageFile } from "../../../src/rez/definition/index.js";
import {
  HostObject,
  PyDict,
  PyFloat,
  PyFunction,
  PyTuple,
  floatRepr,
  realPythonHost,
  type PyValue,
} from "../../../src/rez/python/index.js";
import { Repositories } from "../../../src/rez/repository/index.js";
import { solve } from "../../../src/solver/index.js";
import { hostSystem, implicitPackagesFor } from "../../../src/rez/system.js";
import {
  interpretContext,
  lateRequiresHook,
  renderShell,
  hostHomeResolver,
  type InterpretOptions,
} from "../../../src/rex/index.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "../../..");
const CORPUS = process.env.REZ_CORPUS ?? "/work/rez-corpus";
/**
 * `--python cpython`: Tantalus loads with `python: cpython` (files its own
 * evaluator refuses go to the host's python3). That run's report is
 * REPORT-cpython.md beside REPORT.md (the default configuration's), both
 * committed, so the opt-in's proof is as visible as the default's; the details
 * go to $REZ_CORPUS/compare-cpython.json.
 */
const pythonIdx = process.argv.indexOf("--python");
const CPYTHON = pythonIdx > 0 && process.argv[pythonIdx + 1] === "cpython";
const PYTHON = CPYTHON ? { python: { evaluator: "cpython" as const } } : {};
const REPORT = path.join(HERE, CPYTHON ? "REPORT-cpython.md" : "REPORT.md");

type Attrs = [string, unknown][];
interface RezFile {
  repository: string;
  path: string;
  sha256: string;
  file: string;
  loaded?: boolean;
  schema?: string;
  attributes?: Attrs;
  error?: { type: string; message: string };
}
interface Laid {
  repo: string;
  key: number;
  name: string;
  version: string;
  as: "loaded" | "refused";
  target: string;
}
interface RezVariant {
  name: string;
  version: string;
  index: number | null;
  qualified: string;
  root: string;
}
interface RezRequest {
  repo: string;
  key: number;
  request: string;
  paths: string[];
  status?: string;
  failure?: string;
  error?: { type: string; message: string };
  implicitPackages?: string[];
  packageRequests?: string[];
  resolved?: RezVariant[];
  ephemerals?: string[];
  timestamp?: number;
  requestedTimestamp?: number;
  environ?: Record<string, string>;
  environError?: { type: string; message: string };
  bash?: string;
  bashError?: { type: string; message: string };
}

/** The JSON encoding the oracle scripts use for Rez's values (as rez-parity.test.ts). */
function encode(v: PyValue): unknown {
  if (v instanceof PyFunction) return { $function: v.name, late: v.hasMark("late") };
  if (typeof v === "bigint") return { $int: v.toString() };
  if (v instanceof PyFloat) return { $float: floatRepr(v.value) };
  if (v instanceof PyTuple) return { $tuple: v.items.map(encode) };
  if (Array.isArray(v)) return v.map(encode);
  if (v instanceof PyDict) return { $dict: [...v.entries()].map(([k, x]) => [encode(k), encode(x)]) };
  if (v instanceof HostObject && v.pyTypeName === "ModifyList") {
    const get = (n: string) => encode((v.getAttr as (n: string) => PyValue)(n));
    return { $ModifyList: { append: get("append"), prepend: get("prepend") } };
  }
  if (v instanceof HostObject) return { $repr: v.pyTypeName };
  return v;
}

/** The construct a refusal names, without the file's own identifiers where they vary (import lists). */
function constructOf(detail: string): string {
  const m = /^'(.*)' is not allowed in a package definition/.exec(detail);
  if (m) {
    const c = m[1]!;
    const from = /^from ([\w.]+) import /.exec(c);
    if (from) return `from ${from[1]} import …`;
    const imp = /^import ([\w.]+(?:\s*,\s*[\w.]+)*)/.exec(c);
    if (imp) return `import ${imp[1]!.split(/\s*,\s*/)[0]}`;
    return c;
  }
  if (/^invalid Python syntax/.test(detail)) return "syntax error";
  if (/^'variants' must be/.test(detail)) return "invalid variants";
  if (/^missing the required attribute/.test(detail)) return "missing attribute";
  const req =
    /^variants\[\d+\]: invalid requirement '([^']*)'/.exec(detail) ??
    /^requires\[\d+\]: invalid requirement '([^']*)'/.exec(detail);
  if (req) return `invalid requirement '${req[1]!.replace(/^[^-@#]*/, "NAME")}' in ${detail.split("[")[0]}`;
  return detail
    .replace(/'[^']*'/g, "'…'")
    .replace(/\d+/g, "N")
    .slice(0, 80);
}

function errorDetail(err: unknown): string {
  const e = err as { detail?: string; message?: string };
  return (e.detail ?? e.message ?? String(err)).split("\n")[0]!;
}

function readWithTantalus(
  file: string,
  mode: "auto" | "full",
): { attrs?: Attrs; error?: string; line?: number; name?: string; version?: string } {
  const cwd = process.cwd();
  process.chdir(path.dirname(file)); // as run.py loads it: relative paths are the file's directory
  try {
    const def = readPackageFile(file, { mode, ...PYTHON });
    const { name, version } = def.attributes as Record<string, unknown>;
    return {
      attrs: Object.entries(def.attributes).map(([k, v]) => [k, encode(v)]),
      ...(typeof name === "string" ? { name } : {}),
      ...(typeof version === "string" ? { version } : {}),
    };
  } catch (err) {
    return { error: errorDetail(err), line: (err as { location?: { line?: number } }).location?.line };
  } finally {
    process.chdir(cwd);
  }
}

/** The attributes that differ between two ordered attribute lists (and "order" when only the order does). */
function attributeDiff(ours: Attrs, rez: Attrs): string[] {
  const a = new Map(ours);
  const b = new Map(rez);
  const names = [...new Set([...a.keys(), ...b.keys()])];
  const diff = names.filter((n) => !a.has(n) || !b.has(n) || !isDeepStrictEqual(a.get(n), b.get(n)));
  return diff.length ? diff : ["(attribute order)"];
}

/**
 * What Tantalus's repository makes of a definition the reader accepts: the
 * file alone in a repository (NAME/VERSION/package.py), every package and
 * variant loaded as `tantalus repo check` loads them. The reader does not
 * parse requirements; the repository does, and a package it refuses vanishes
 * from resolves, so this is where Tantalus really accepts or refuses a file.
 */
function repositoryError(
  file: string,
  key: number,
  name: string | undefined,
  version: string | undefined,
): { error: string; line?: number } | undefined {
  if (!name || !/^[a-zA-Z_0-9](\.?[a-zA-Z0-9_]+)*$/.test(name))
    return { error: "no usable name for a repository layout" };
  const dir = path.join(CORPUS, "single", String(key));
  fs.rmSync(dir, { recursive: true, force: true });
  const target = version ? path.join(dir, name, version, "package.py") : path.join(dir, name, "package.py");
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.copyFileSync(file, target);
  const repos = new Repositories([dir], { cache: false, ...PYTHON });
  let problem: { error: string; line?: number } | undefined;
  try {
    repos.loadAll();
    const p = repos.problems.find((x) => !x.warning);
    if (p) problem = { error: p.message.split("\n")[0]!, ...(p.line ? { line: p.line } : {}) };
  } catch (err) {
    problem = { error: errorDetail(err) };
  }
  fs.rmSync(dir, { recursive: true, force: true });
  return problem;
}

type Category = "identical" | "bothRefuse" | "rezOnly" | "differ" | "tantalusOnly";

interface FileResult {
  key: number;
  repository: string;
  path: string;
  sha256: string;
  distinct: boolean;
  category: Category;
  rez: string;
  tantalus: string;
  construct?: string;
  line?: number;
  attributes?: string[];
  fullPathDisagrees?: string;
}

function compareLoads(files: RezFile[]): FileResult[] {
  const seen = new Set<string>();
  return files.map((f, key) => {
    const distinct = !seen.has(f.sha256);
    seen.add(f.sha256);
    const rezLoads = f.loaded === true && f.schema === "ok";
    const rez = rezLoads
      ? "loads"
      : f.loaded
        ? `schema: ${f.schema!.split(" did not validate")[0]!.slice(0, 60)}`
        : `${f.error!.type}`;
    const auto = readWithTantalus(f.file, "auto");
    const full = readWithTantalus(f.file, "full");
    const base = { key, repository: f.repository, path: f.path, sha256: f.sha256, distinct, rez };
    let fullPathDisagrees: string | undefined;
    if (!isDeepStrictEqual(auto, full))
      fullPathDisagrees = auto.error ?? full.error ?? attributeDiff(auto.attrs!, full.attrs!).join(", ");
    const extra = fullPathDisagrees ? { fullPathDisagrees } : {};
    if (auto.error !== undefined) {
      const t = {
        tantalus: auto.error,
        construct: constructOf(auto.error),
        ...(auto.line ? { line: auto.line } : {}),
        ...extra,
      };
      return { ...base, ...t, category: rezLoads ? "rezOnly" : "bothRefuse" };
    }
    const repoErr = repositoryError(f.file, key, auto.name, auto.version);
    if (repoErr) {
      const t = {
        tantalus: `repository: ${repoErr.error}`,
        construct: `repository: ${constructOf(repoErr.error)}`,
        ...(repoErr.line ? { line: repoErr.line } : {}),
        ...extra,
      };
      return { ...base, ...t, category: rezLoads ? "rezOnly" : "bothRefuse" };
    }
    if (!rezLoads) return { ...base, tantalus: "loads", category: "tantalusOnly", ...extra };
    if (isDeepStrictEqual(auto.attrs, f.attributes))
      return { ...base, tantalus: "loads", category: "identical", ...extra };
    return {
      ...base,
      tantalus: "loads",
      category: "differ",
      attributes: attributeDiff(auto.attrs!, f.attributes!),
      ...extra,
    };
  });
}

interface RezResolveData {
  rez: { version: string; used: string };
  system: { platform: string; arch: string; os: string };
  home: string;
  envVarSeparators: Record<string, string>;
  systemPaths: { bash: string[] };
  shellExecutables: { bash: string | null };
  requests: RezRequest[];
}

interface ResolveResult {
  repo: string;
  request: string;
  rez: string;
  tantalus: string;
  outcome:
    | "same-failure"
    | "identical"
    | "resolve-differs"
    | "status-differs"
    | "environ-differs"
    | "bash-differs"
    | "skipped";
  detail?: string;
  /** Why it differs, when a known cause explains it (see explain()). */
  reason?: string;
  /** For a failure on both sides: what kind each side gave. */
  kinds?: string;
}

function firstLineDiff(a: string, b: string): string {
  const x = a.split("\n");
  const y = b.split("\n");
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    if (x[i] !== y[i])
      return `line ${i + 1}: tantalus ${JSON.stringify(x[i] ?? null)} / rez ${JSON.stringify(y[i] ?? null)}`;
  }
  return "";
}

function environDiff(ours: Record<string, string>, rez: Record<string, string>): string {
  const keys = [...new Set([...Object.keys(ours), ...Object.keys(rez)])].sort();
  return keys
    .filter((k) => ours[k] !== rez[k])
    .map((k) => `${k}: tantalus ${JSON.stringify(ours[k] ?? null)} / rez ${JSON.stringify(rez[k] ?? null)}`)
    .join("; ");
}

/**
 * The known causes of a resolve difference, from what both sides said:
 * a package file of Rez's resolve that Tantalus refuses (the family then
 * vanishes or loses versions in Tantalus's resolve, without a word), a package
 * Rez fails to load that Tantalus resolves around, and commands that use a
 * construct Tantalus's evaluator refuses.
 */
function explain(x: ResolveResult, r: RezRequest, refusedDirs: Map<string, FileResult>): string | undefined {
  // A variant's root is its package's directory or a subdirectory of it.
  const packageDir = (root: string) => [...refusedDirs.keys()].find((d) => root === d || root.startsWith(d + path.sep));
  const viaRez = (r.resolved ?? []).map((v) => packageDir(v.root)).find((d) => d !== undefined);
  if (viaRez) return `Rez's resolve uses a package file Tantalus refuses (\`${refusedDirs.get(viaRez)!.construct}\`)`;
  const m = /package family not found: (\w+)/.exec(x.detail ?? "");
  if (
    m &&
    [...refusedDirs.values()].some(
      (f) =>
        f.repository === r.repo.replace("+", "/") && f.path.length > 0 && refusedFamily(refusedDirs, r.repo, m[1]!),
    )
  )
    return "a family whose every file Tantalus refuses is reported as missing";
  if (r.error && ["ResourceError", "PackageMetadataError"].includes(r.error.type) && x.tantalus === "solved")
    return `Rez fails loading a package the resolve reaches (${r.error.type}); Tantalus resolves around it`;
  if (
    r.failure === undefined &&
    r.error === undefined &&
    /is not allowed in a package definition/.test(x.detail ?? "")
  ) {
    const c = /'([^']*)' is not allowed/.exec(x.detail!)![1]!;
    return `commands use a construct Tantalus refuses (\`${constructOf(`'${c}' is not allowed in a package definition`)}\`)`;
  }
  if (/'VariantBinding' object has no attribute/.test(x.detail ?? "") && r.environ)
    return "commands assign an attribute to `this` and read it back (`this.ATTR = …`)";
  return undefined;
}

function refusedFamily(refusedDirs: Map<string, FileResult>, repo: string, family: string): boolean {
  const prefix = path.join(CORPUS, "repos", repo, family) + path.sep;
  return [...refusedDirs.keys()].some((d) => d.startsWith(prefix) || d === prefix.slice(0, -1));
}

function compareResolves(
  data: RezResolveData,
  bothLoad: Set<number>,
  refusedDirs: Map<string, FileResult>,
): ResolveResult[] {
  const repoCache = new Map<string, Repositories>();
  // Rez's resolve worker ran with HOME pinned (rex_vectors): @late() functions reading os.environ saw that process.
  const rezProcessEnv = { HOME: data.home };
  const lateRequires = lateRequiresHook({ host: { ...realPythonHost, environ: () => rezProcessEnv } });
  const out: ResolveResult[] = [];
  for (const r of data.requests) {
    const rezStatus = r.status ?? `error ${r.error?.type ?? "?"}`;
    const base = { repo: r.repo, request: r.request, rez: rezStatus };
    if (!bothLoad.has(r.key)) {
      out.push({
        ...base,
        tantalus: "-",
        outcome: "skipped",
        detail: "Tantalus does not load the requested package's file",
      });
      continue;
    }
    const key = r.paths.join(":");
    let repos = repoCache.get(key);
    if (!repos) {
      repos = new Repositories(r.paths, { cache: false, ...PYTHON });
      repoCache.set(key, repos);
    }
    const implicit = r.implicitPackages ?? implicitPackagesFor(hostSystem());
    let solved;
    try {
      solved = solve([r.request], repos, { implicitPackages: implicit, lateRequires });
    } catch (err) {
      const t = `error: ${errorDetail(err)}`;
      out.push({
        ...base,
        tantalus: t,
        outcome: rezStatus === "solved" ? "status-differs" : "same-failure",
        detail: rezStatus === "solved" ? t : `rez: ${r.failure ?? r.error?.message}`,
        kinds: `rez ${rezStatus} / tantalus error`,
      });
      continue;
    }
    const tStatus = solved.status === "solved" ? "solved" : "failed";
    const rezSolved = r.status === "solved";
    if (!rezSolved || tStatus !== "solved") {
      const same = !rezSolved && tStatus !== "solved";
      const t =
        tStatus === "solved"
          ? `solved ${solved.resolved.map((v) => v.qualifiedName).join(" ")}`
          : `failed: ${solved.failure?.description ?? ""}`;
      out.push({
        ...base,
        tantalus: tStatus,
        outcome: same ? "same-failure" : "status-differs",
        detail: same
          ? undefined
          : `tantalus ${t.slice(0, 300)} / rez ${(r.failure ?? r.error?.message ?? "solved " + r.resolved!.map((v) => v.qualified).join(" ")).slice(0, 300)}`,
        ...(same ? { kinds: `rez ${rezStatus} / tantalus ${solved.failure?.kind ?? "failed"}` } : {}),
      });
      continue;
    }
    const ours = solved.resolved.map((v) => [v.qualifiedName, v.root]);
    const theirs = r.resolved!.map((v) => [v.qualified, v.root]);
    if (!isDeepStrictEqual(ours, theirs)) {
      out.push({
        ...base,
        tantalus: "solved",
        outcome: "resolve-differs",
        detail: `tantalus ${JSON.stringify(ours)} / rez ${JSON.stringify(theirs)}`,
      });
      continue;
    }
    const opts: InterpretOptions = {
      request: r.packageRequests!,
      implicitPackages: r.implicitPackages!,
      ephemerals: r.ephemerals ?? [],
      packagePaths: r.paths,
      parentEnv: {},
      // What commands' os.environ / os.path.expanduser read: Rez's own process, whose HOME run.py pinned.
      processEnv: rezProcessEnv,
      system: data.system,
      rezUsed: data.rez.used,
      rezVersion: data.rez.version,
      timestamp: r.timestamp!,
      requestedTimestamp: r.requestedTimestamp ?? 0,
      optionvars: {},
      separators: data.envVarSeparators,
      home: data.home,
    };
    let environ: Record<string, string> | undefined;
    let environErr: string | undefined;
    try {
      environ = interpretContext(solved.resolved, opts).environ;
    } catch (err) {
      environErr = errorDetail(err);
    }
    if (r.environError || environErr !== undefined) {
      const same = r.environError !== undefined && environErr !== undefined;
      out.push({
        ...base,
        tantalus: environErr ? "environ error" : "solved",
        outcome: same ? "same-failure" : "environ-differs",
        detail: `tantalus ${environErr ?? "interprets"} / rez ${r.environError ? `${r.environError.type}: ${r.environError.message.split("\n")[0]}` : "interprets"}`,
        ...(same
          ? {
              kinds: `commands: rez ${r.environError!.type} / tantalus ${/is not allowed/.test(environErr!) ? `\`${constructOf(/'([^']*)' is not allowed/.test(environErr!) ? `'${/'([^']*)' is not allowed/.exec(environErr!)![1]}' is not allowed in a package definition` : environErr!)}\`` : environErr!.replace(/^Error in \w+ in package \S+: /, "").slice(0, 60)}`,
            }
          : {}),
      });
      continue;
    }
    if (!isDeepStrictEqual(environ, r.environ)) {
      out.push({ ...base, tantalus: "solved", outcome: "environ-differs", detail: environDiff(environ!, r.environ!) });
      continue;
    }
    let bash: string;
    try {
      const result = interpretContext(solved.resolved, { ...opts, shell: "bash", systemPaths: data.systemPaths.bash });
      bash = renderShell(result.actions, "bash", {
        executable: data.shellExecutables.bash ?? undefined,
        home: hostHomeResolver(data.home),
      });
    } catch (err) {
      out.push({ ...base, tantalus: "bash error", outcome: "bash-differs", detail: errorDetail(err) });
      continue;
    }
    if (bash !== r.bash) {
      out.push({ ...base, tantalus: "solved", outcome: "bash-differs", detail: firstLineDiff(bash, r.bash ?? "") });
      continue;
    }
    out.push({ ...base, tantalus: "solved", outcome: "identical" });
  }
  data.requests.forEach((r, i) => {
    const x = out[i]!;
    if (x.outcome === "identical" || x.outcome === "same-failure" || x.outcome === "skipped") return;
    const why = explain(x, r, refusedDirs);
    if (why) x.reason = why;
  });
  return out;
}

/** The CLI gives what the library gives: `resolve --json` and `env --json` for the first n identical requests. */
function checkCli(data: RezResolveData, resolves: ResolveResult[], n: number): { checked: number; problems: string[] } {
  const problems: string[] = [];
  const picked = data.requests.filter((r, i) => resolves[i]!.outcome === "identical").slice(0, n);
  const bin = path.join(ROOT, "bin", "tantalus.js");
  for (const r of picked) {
    // No implicit packages are given: the CLI's default (the host's) must be Rez's.
    const common = ["--paths", r.paths.join(":"), r.request];
    const res = spawnSync(process.execPath, [bin, "resolve", "--json", ...common], {
      encoding: "utf8",
      env: { ...process.env, TANTALUS_NO_CACHE: "1", ...(CPYTHON ? { TANTALUS_PYTHON: "cpython" } : {}) },
    });
    const got =
      res.status === 0
        ? (JSON.parse(res.stdout) as { resolved: string[] }).resolved
        : [`exit ${res.status}: ${res.stderr.trim()}`];
    const want = r.resolved!.map((v) => v.qualified);
    if (!isDeepStrictEqual(got, want))
      problems.push(`${r.repo} ${r.request}: resolve --json ${JSON.stringify(got)} / rez ${JSON.stringify(want)}`);
    const env = spawnSync(process.execPath, [bin, "env", "--json", "--home", data.home, ...common], {
      encoding: "utf8",
      // HOME as Rez's process had it: commands' os.path.expanduser reads it, as in Rez.
      env: {
        ...process.env,
        TANTALUS_NO_CACHE: "1",
        HOME: data.home,
        ...(CPYTHON ? { TANTALUS_PYTHON: "cpython" } : {}),
      },
    });
    if (env.status !== 0) {
      problems.push(`${r.repo} ${r.request}: env --json exit ${env.status}: ${env.stderr.trim()}`);
      continue;
    }
    const ours = JSON.parse(env.stdout) as Record<string, string>;
    const theirs = { ...r.environ! };
    for (const k of ["REZ_USED", "REZ_USED_TIMESTAMP"]) {
      delete ours[k];
      delete theirs[k];
    }
    if (!isDeepStrictEqual(ours, theirs))
      problems.push(`${r.repo} ${r.request}: env --json: ${environDiff(ours, theirs)}`);
  }
  return { checked: picked.length, problems };
}

function count<T>(items: T[], key: (x: T) => string): [string, number][] {
  const m = new Map<string, number>();
  for (const x of items) m.set(key(x), (m.get(key(x)) ?? 0) + 1);
  return [...m.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

function ref(f: { repository: string; path: string }): string {
  return `${f.repository}:${f.path}`;
}

function report(
  files: RezFile[],
  loads: FileResult[],
  resolves: ResolveResult[],
  cli: { checked: number; problems: string[] } | undefined,
  manifest: { files: { repository: string; commit: string }[] },
  rezVersion: string,
): string {
  const L: string[] = [];
  const distinct = loads.filter((x) => x.distinct);
  const repos = count(files, (f) => f.repository);
  const commits = new Map(manifest.files.map((f) => [f.repository, f.commit]));
  L.push("# Tantalus against real Rez on public studios' package repositories", "");
  L.push(
    "Generated by `scripts/rez-oracle/real-repos/compare.ts` from what `run.py` recorded with Rez " +
      rezVersion +
      ". Do not edit; rerun (see README.md).",
    "",
  );
  L.push(
    `${repos.length} repositories, ${files.length} package.py files, ${distinct.length} distinct by content (sha256). Counts below are of distinct files unless marked "files".`,
    "",
  );
  L.push("| repository | commit | files | distinct |", "|---|---|---:|---:|");
  for (const [r, n] of repos)
    L.push(`| ${r} | ${commits.get(r)!.slice(0, 12)} | ${n} | ${distinct.filter((x) => x.repository === r).length} |`);
  L.push("", "## Loading", "");
  const cats: [Category, string][] = [
    ["identical", "both load, identical attributes"],
    ["differ", "both load, attributes differ"],
    ["rezOnly", "Rez loads, Tantalus refuses"],
    ["tantalusOnly", "Tantalus loads, Rez refuses"],
    ["bothRefuse", "both refuse"],
  ];
  L.push("| outcome | distinct | files |", "|---|---:|---:|");
  for (const [c, label] of cats)
    L.push(
      `| ${label} | ${distinct.filter((x) => x.category === c).length} | ${loads.filter((x) => x.category === c).length} |`,
    );
  const rezLoads = distinct.filter(
    (x) => x.category === "identical" || x.category === "differ" || x.category === "rezOnly",
  );
  const ident = distinct.filter((x) => x.category === "identical").length;
  L.push(
    "",
    `Of the ${rezLoads.length} distinct files Rez loads, ${ident} (${((100 * ident) / Math.max(1, rezLoads.length)).toFixed(1)}%) load identically in Tantalus (goal: 99%).`,
    "",
  );

  L.push("### Rez loads, Tantalus refuses: first refused construct", "");
  L.push("| construct | distinct | files |", "|---|---:|---:|");
  const rezOnly = loads.filter((x) => x.category === "rezOnly");
  for (const [c, n] of count(
    rezOnly.filter((x) => x.distinct),
    (x) => x.construct!,
  ))
    L.push(`| \`${c}\` | ${n} | ${rezOnly.filter((x) => x.construct === c).length} |`);
  L.push("", "<details><summary>files (repository:path, line of the refusal)</summary>", "");
  for (const x of rezOnly.filter((x) => x.distinct))
    L.push(`- ${ref(x)}${x.line ? `:${x.line}` : ""} — \`${x.construct}\``);
  L.push("", "</details>", "");

  L.push("### Both load, attributes differ", "");
  const differ = distinct.filter((x) => x.category === "differ");
  if (!differ.length) L.push("None.", "");
  for (const x of differ) L.push(`- ${ref(x)}: ${x.attributes!.join(", ")}`);
  L.push("", "### Tantalus loads what Rez refuses", "");
  const tOnly = distinct.filter((x) => x.category === "tantalusOnly");
  if (!tOnly.length) L.push("None.", "");
  L.push("| Rez's refusal | distinct | files |", "|---|---:|---:|");
  for (const [c, n] of count(tOnly, (x) => x.rez))
    L.push(`| ${c} | ${n} | ${loads.filter((x) => x.category === "tantalusOnly" && x.rez === c).length} |`);
  L.push("", "<details><summary>files</summary>", "");
  for (const x of tOnly) L.push(`- ${ref(x)} — Rez: ${x.rez}`);
  L.push("", "</details>", "", "### Both refuse", "");
  L.push("| Rez | Tantalus | distinct |", "|---|---|---:|");
  for (const [c, n] of count(
    distinct.filter((x) => x.category === "bothRefuse"),
    (x) => `${x.rez} | \`${x.construct}\``,
  ))
    L.push(`| ${c} | ${n} |`);
  L.push("");
  const fullDis = distinct.filter((x) => x.fullPathDisagrees);
  L.push(`Fast path and full evaluator disagree on ${fullDis.length} distinct files.`);
  for (const x of fullDis) L.push(`- ${ref(x)}: ${x.fullPathDisagrees}`);

  L.push("", "## Resolving `NAME==VERSION` and interpreting the environment", "");
  L.push(
    "Each repository laid out as Rez lays packages out (NAME/VERSION/package.py), with stub packages (name and version only) for the requirement families the repository does not provide; Rez's default implicit packages; environ in an empty parent environment and the bash script, with HOME, the timestamp and bash's system paths pinned as Rez had them.",
    "",
  );
  L.push("| outcome | requests |", "|---|---:|");
  for (const [c, n] of count(resolves, (x) => x.outcome)) L.push(`| ${c} | ${n} |`);
  L.push("", "`skipped`: Tantalus does not load the requested package's own file (counted under loading).", "");
  L.push(
    "Failures on both sides, by what each side gave (`commands`: the resolve is the same, both fail to interpret it):",
    "",
  );
  L.push("| kinds | requests |", "|---|---:|");
  for (const [c, n] of count(
    resolves.filter((x) => x.outcome === "same-failure"),
    (x) => x.kinds ?? "?",
  ))
    L.push(`| ${c} | ${n} |`);
  L.push("");
  const diffs = resolves.filter(
    (x) => x.outcome !== "identical" && x.outcome !== "same-failure" && x.outcome !== "skipped",
  );
  L.push("### Differences with a known cause", "");
  L.push("| cause | outcome | requests |", "|---|---|---:|");
  for (const [c, n] of count(
    diffs.filter((x) => x.reason),
    (x) => `${x.reason} | ${x.outcome}`,
  ))
    L.push(`| ${c} | ${n} |`);
  L.push("", "### Every other difference", "");
  const other = diffs.filter((x) => !x.reason);
  if (!other.length) L.push("None.");
  for (const x of other)
    L.push(
      `- ${x.repo} \`${x.request}\`: ${x.outcome}: ${(x.detail ?? "").replace(/\/work\/rez-corpus\/[^ "'\],]*/g, "…").slice(0, 400)}`,
    );
  L.push("", "<details><summary>requests</summary>", "");
  for (const x of diffs.filter((x) => x.reason)) L.push(`- ${x.repo} \`${x.request}\`: ${x.outcome} — ${x.reason}`);
  L.push("", "</details>", "");
  if (cli) {
    L.push(
      "## CLI",
      "",
      cli.problems.length
        ? "The CLI disagrees with the library:"
        : `\`tantalus resolve --json\` and \`tantalus env --json\` (the host's default implicit packages) give Rez's resolve and environ (REZ_USED and REZ_USED_TIMESTAMP aside) for the ${cli.checked} requests checked.`,
    );
    for (const p of cli.problems) L.push(`- ${p}`);
    L.push("");
  }
  return L.join("\n") + "\n";
}

function main(): void {
  const loadData = JSON.parse(fs.readFileSync(path.join(CORPUS, "rez-load.json"), "utf8")) as {
    rez: string;
    files: RezFile[];
    layout: Laid[];
  };
  const resolveData = JSON.parse(fs.readFileSync(path.join(CORPUS, "rez-resolve.json"), "utf8")) as RezResolveData;
  const manifest = JSON.parse(fs.readFileSync(path.join(HERE, "manifest.json"), "utf8")) as {
    files: { repository: string; commit: string }[];
  };
  // run.py pinned HOME for Rez's whole process (rex_vectors.py): CPython, a process too, gets the same.
  if (CPYTHON) process.env.HOME = resolveData.home;
  const loads = compareLoads(loadData.files);
  const bothLoad = new Set(
    loads.filter((x) => x.category === "identical" || x.category === "differ").map((x) => x.key),
  );
  // The package directories of the laid-out repositories whose file Tantalus refuses.
  const refusedDirs = new Map<string, FileResult>();
  for (const l of loadData.layout) {
    const f = loads[l.key]!;
    if (f.category === "rezOnly" || f.category === "bothRefuse") refusedDirs.set(path.dirname(l.target), f);
  }
  const resolves = compareResolves(resolveData, bothLoad, refusedDirs);
  const cliIdx = process.argv.indexOf("--cli");
  const cli = cliIdx > 0 ? checkCli(resolveData, resolves, Number(process.argv[cliIdx + 1] ?? "10")) : undefined;
  const text = report(loadData.files, loads, resolves, cli, manifest, loadData.rez);
  fs.writeFileSync(REPORT + ".tmp", text);
  fs.renameSync(REPORT + ".tmp", REPORT);
  fs.writeFileSync(
    path.join(CORPUS, CPYTHON ? "compare-cpython.json" : "compare.json"),
    JSON.stringify({ loads, resolves, cli }, null, 1),
  );
  const n = (c: Category) => loads.filter((x) => x.distinct && x.category === c).length;
  process.stdout.write(
    `loading (distinct): identical ${n("identical")}, differ ${n("differ")}, rez-only ${n("rezOnly")}, tantalus-only ${n("tantalusOnly")}, both refuse ${n("bothRefuse")}\n` +
      `resolves: ${count(resolves, (x) => x.outcome)
        .map(([k, v]) => `${k} ${v}`)
        .join(", ")}\n` +
      `wrote ${path.relative(ROOT, REPORT)}\n`,
  );
}

main();
