/**
 * The audit of a workflow: take its resolve (src/workflow, with the
 * configured add_requires, as every command resolves it), plan its image (base, packages, repair layer), capture its environment,
 * then resolve the load tree of every dynamically linked ELF object of every
 * resolved package inside that image and classify what the trees show.
 *
 * How each object is loaded decides its tree:
 *  - executables are run;
 *  - shared libraries are loaded by themselves (as a program linking them);
 *  - Python extension modules are dlopen()ed by the python on the
 *    environment's PATH;
 *  - other modules (application plug-ins: no SONAME, no interpreter) are
 *    dlopen()ed by their host program when they rely on one: the executable,
 *    among those of the module's own package and its requirement closure,
 *    whose tree provides the most of the libraries the module cannot find by
 *    itself (a Nuke plug-in takes libDDImage.so from Nuke). A plug-in that
 *    finds everything itself is loaded by itself.
 *
 * Severities: missing, system, undeclared, conflict, wrong-architecture,
 * host-leak, unloadable and missing-version are errors; weak missing
 * versions, unreadable files and a base whose /etc/os-release is not the
 * resolved `os` package's release (os-match.ts) are warnings. "system" is only reported for
 * libraries outside the allow-list (DEFAULT_SYSTEM_ALLOW: glibc, the GCC
 * runtime, X11, GL/EGL/GLX, Vulkan; plus `audit.allow_system`). A package's
 * copy of a library that hides the base OS's copy is the package pinning
 * it, not a conflict. A finding that matches an ignore rule of its package
 * is kept, marked ignored with the rule's reason, and does not count. With
 * the pollution check, every load that would switch to a decoy counts as an
 * error too: the check was asked for to find exactly those.
 */
import type { LoadedConfig, ResolveSettingsOf } from "../../config/index.js";
import { requireInstallRoots } from "../../context/context.js";
import {
  captureEnvironment,
  openWorkflowRepositories,
  resolveWorkflow,
  type CapturedEnvironment,
  type CommandHostQuery,
  type WorkflowResolve,
  type ResolveWorkflowOptions,
} from "../../workflow/index.js";
import { DF_1, ET, type ElfInfo } from "../../linker/elf.js";
import {
  DEFAULT_SYSTEM_ALLOW,
  classifyLoadTree,
  globToRegExp,
  type ClassifyOptions,
  type FileRef,
  type Finding,
  type FindingKind,
  type PackageModel,
  type SymbolVersionGap,
} from "../findings.js";
import { walkImageFiles } from "../audit.js";
import { imageBasename, resolveImagePath } from "../../linker/imagefs.js";
import { readLdCache } from "../../linker/ldcache.js";
import { Linker, type FileFacts, type LoadTree, type ResolveOptions } from "../../linker/linker.js";
import { pollutionCheck, type LoadSwitch } from "../pollute.js";
import { baseOsFindings } from "../os-match.js";
import {
  matchIgnore,
  packageSettings,
  planRepairs,
  EMPTY_REPAIR_PLAN,
  type RepairPlan,
  type SettingSource,
} from "../repair.js";
import { loadBaseImage, type BaseImage } from "./base.js";
import { environmentLeaks, mountTargets } from "./environment.js";
import { planImage, type PlannedImage } from "./image.js";
import { requirementClosures } from "./closures.js";

export type Severity = "error" | "warning";

export interface AuditFinding {
  kind: FindingKind;
  severity: Severity;
  /** Owning package (qualified name), null for the base image; for environment values, the package that set it (null: the workflow). */
  package: string | null;
  /** The object (canonical image path) or variable ($NAME) at fault. */
  file: string;
  /** The needed library name, when the finding is about one. */
  name?: string;
  provider?: FileRef;
  others?: (FileRef & { detail?: string })[];
  /** missing-version: the version needed and the newest of its series the provider defines. */
  version?: SymbolVersionGap;
  message: string;
  /** Audited objects whose load trees showed it (the first few). */
  roots: string[];
  rootCount: number;
  /** Set when an ignore rule of the package covers it: reported, not counted. */
  ignored?: { rule: string; reason: string; source: SettingSource };
}

export interface AuditedPackage {
  id: string;
  name: string;
  version: string;
  variant: string;
  /** Where its root is in the image. */
  root: string;
}

/** A load the decoys moved, with the package that owns the object whose dependency moves. */
export interface LoadSwitchReport extends LoadSwitch {
  package: string | null;
}

export interface PollutionResult {
  decoyDir: string;
  decoys: number;
  switches: LoadSwitchReport[];
}

export interface WorkflowAudit {
  workflow: string;
  /** The base image, described. */
  base: string;
  /** The ld.so profile used. */
  profile: string;
  packages: AuditedPackage[];
  /** Files in the packages, and the dynamically linked ELF objects among them. */
  files: number;
  audited: number;
  /** LD_LIBRARY_PATH of the captured environment (repairs included). */
  ldLibraryPath: string;
  /** Modules audited as loaded by a program (Python extensions by python, plug-ins by their host). */
  dlopened: { file: string; host: string }[];
  findings: AuditFinding[];
  /** Repairs applied to the planned image (empty with repairs off). */
  repairs: RepairPlan;
  repaired: boolean;
  pollution?: PollutionResult;
  /**
   * What the packages' commands asked of the process interpreting them
   * (os.environ, os.path.expanduser, platform...) while the image's environment
   * was captured, answered for the image (only HOME, as ${HOME}): absent when none asked.
   */
  hostQueries?: CommandHostQuery[];
  errors: number;
  warnings: number;
  ignored: number;
  seconds: number;
}

export interface ResolveAuditOptions {
  /** Base image (default: config.base.image, loaded). */
  base?: BaseImage;
  /** Apply the configured repairs, add_requires included (default true). */
  repairs?: boolean;
  /** Donor directories for every package's system_libraries, searched first. */
  donorDirs?: readonly string[];
  /** Also run the pollution check. */
  pollute?: boolean | { names?: readonly string[]; decoyDir?: string };
  /** Sonames globs allowed from the base image in addition to the defaults and `audit.allow_system`. */
  allowSystem?: readonly string[];
  /** Audited objects kept per finding (default 5). */
  rootsPerFinding?: number;
  /** REZ_USED_TIMESTAMP of the captured environment (the build passes its image's epoch). */
  epochSeconds?: number;
  /**
   * ELF headers by host file, shared by the audits of one pass over several workflows
   * (LinkerOptions.sharedFacts): a package several workflows carry is read once.
   */
  sharedFacts?: Map<string, FileFacts>;
  /**
   * The resolve's environment before repairs, when the caller captured it already (the report shows
   * it): captureEnvironment with the configuration's root_map and `epochSeconds`, as the audit would.
   */
  environment?: CapturedEnvironment;
}

export type AuditWorkflowOptions = ResolveAuditOptions & Pick<ResolveWorkflowOptions, "repos" | "lateRequires">;

export type AuditConfig = Pick<
  LoadedConfig,
  | "workflows"
  | "implicitPackages"
  | "packagesPath"
  | "packages"
  | "dir"
  | "displayFile"
  | "files"
  | "locate"
  | "config"
  | "store"
  | "dirOf"
> &
  ResolveSettingsOf;

export async function auditWorkflow(
  config: AuditConfig,
  workflow: string,
  opts: AuditWorkflowOptions = {},
): Promise<WorkflowAudit> {
  const base =
    opts.base ??
    (await loadBaseImage(config.config.base.image, {
      store: config.store,
      configDir: config.dirOf(["base", "image"]),
      demoLibraries: config.config.audit.allow_system,
    }));
  // Without repairs, the configuration's add_requires are not applied either: the audit of the package as it is.
  const resolve = resolveWorkflow(config, workflow, { ...opts, overrides: opts.repairs ?? true });
  return auditResolve(config, resolve, base, opts);
}

/** Every workflow of the configuration, sharing the base image (and the repositories, when given). */
export async function auditAll(config: AuditConfig, opts: AuditWorkflowOptions = {}): Promise<WorkflowAudit[]> {
  const base =
    opts.base ??
    (await loadBaseImage(config.config.base.image, {
      store: config.store,
      configDir: config.dirOf(["base", "image"]),
      demoLibraries: config.config.audit.allow_system,
    }));
  const repos = opts.repos ?? openWorkflowRepositories(config);
  const out: WorkflowAudit[] = [];
  for (const name of Object.keys(config.workflows).sort())
    out.push(await auditWorkflow(config, name, { ...opts, base, repos }));
  return out;
}

const SEVERITY: Record<FindingKind, Severity> = {
  missing: "error",
  system: "error",
  undeclared: "error",
  conflict: "error",
  "wrong-architecture": "error",
  "host-leak": "error",
  unloadable: "error",
  "missing-version": "error",
  "os-mismatch": "warning",
  unreadable: "warning",
};

export function severityOf(f: Pick<Finding, "kind" | "message">): Severity {
  if (f.kind === "missing-version" && f.message.startsWith("weak ")) return "warning";
  return SEVERITY[f.kind];
}

/** Python extension modules by name (PEP 3149 tags, the stable ABI) or by where they live. */
const PY_EXT = /\.(cpython-\d+[a-z]*(-[A-Za-z0-9_]+)*|abi3|pypy\d*-\d+[A-Za-z0-9_-]*)\.so$/;

type RootKind = "executable" | "library" | "python-module" | "module";

function rootKind(elf: ElfInfo, file: string, pythonDirs: readonly string[]): RootKind {
  if (elf.interpreter !== undefined || elf.type === ET.EXEC || ((elf.dynamic?.flags1 ?? 0) & DF_1.PIE) !== 0)
    return "executable";
  const base = imageBasename(file);
  if (
    PY_EXT.test(base) ||
    /\/(site-packages|dist-packages|lib-dynload)\//.test(file) ||
    pythonDirs.some((d) => file.startsWith(d))
  ) {
    return "python-module";
  }
  return elf.dynamic?.soname ? "library" : "module";
}

interface Root {
  path: string;
  owner: string;
  kind: RootKind;
  options: ResolveOptions;
}

/** A workflow's planned image with its repairs, its captured environment, and an ld.so emulator over both. */
export interface PlannedWorkflow {
  image: PlannedImage;
  environment: CapturedEnvironment;
  repairs: RepairPlan;
  linker: Linker;
}

/** Plans a resolve's image (repairs included unless turned off) and sets up ld.so's search in it. */
export function planWorkflow(
  config: AuditConfig | undefined,
  resolve: WorkflowResolve,
  base: BaseImage,
  opts: Pick<ResolveAuditOptions, "repairs" | "donorDirs" | "epochSeconds" | "sharedFacts" | "environment"> = {},
): PlannedWorkflow {
  const rootMap = config?.config.image.root_map ?? {};
  const epoch = opts.epochSeconds !== undefined ? { epochSeconds: opts.epochSeconds } : {};
  // The environment the image ships (the build captures it with the same function), before and after the repairs.
  const before = opts.environment ?? captureEnvironment(resolve, { rootMap, ...epoch });
  const repairs =
    (opts.repairs ?? true)
      ? planRepairs(config, resolve, base, {
          donorDirs: opts.donorDirs,
          rootMap,
          ldLibraryPath: before.environ.LD_LIBRARY_PATH,
        })
      : EMPTY_REPAIR_PLAN;
  const environment =
    repairs.envAdditions.length > 0
      ? captureEnvironment(resolve, { rootMap, ...epoch, additions: repairs.envAdditions })
      : before;
  const image = planImage(base, resolve.variants, { rootMap, repairFiles: repairs.layerFiles });
  const linker = new Linker(image.fs, {
    profile: base.profile,
    cache: readLdCache(image.fs),
    ldLibraryPath: environment.environ.LD_LIBRARY_PATH ?? "",
    ...(opts.sharedFacts ? { sharedFacts: opts.sharedFacts } : {}),
  });
  return { image, environment, repairs, linker };
}

/** Audits a resolve in its planned image. */
export function auditResolve(
  config: AuditConfig | undefined,
  resolve: WorkflowResolve,
  base: BaseImage,
  opts: ResolveAuditOptions = {},
): WorkflowAudit {
  const started = performance.now();
  // Without the payloads there is nothing to audit, and "clean" would be a lie.
  requireInstallRoots(resolve.variants, `workflow '${resolve.name}'`);
  const repairsOn = opts.repairs ?? true;
  const { image, environment: env, repairs, linker } = planWorkflow(config, resolve, base, opts);
  const ldLibraryPath = env.environ.LD_LIBRARY_PATH ?? "";
  const closures = requirementClosures(resolve);
  const model: PackageModel = {
    ownerOf: (p) => image.ownerOf(p),
    requires: (pkg, dep) => pkg === dep || (closures.get(pkg)?.has(dep) ?? false),
  };
  const classify: ClassifyOptions = {
    systemAllow: [...DEFAULT_SYSTEM_ALLOW, ...(config?.config.audit.allow_system ?? []), ...(opts.allowSystem ?? [])],
  };

  const raw: Finding[] = [];
  const { roots, files } = collectRoots(image, linker, env.environ, closures, raw);
  for (const r of roots) {
    const tree = linker.resolve(r.path, r.options);
    for (const f of classifyLoadTree(tree, model, classify)) {
      // LD_LIBRARY_PATH is checked with the rest of the environment, where the package that set it is known.
      if (f.kind === "host-leak" && f.file === "LD_LIBRARY_PATH") continue;
      raw.push(f);
    }
  }
  const mounts = config ? mountTargets(config, resolve.name) : [];
  raw.push(...environmentLeaks(env, image, mounts));
  raw.push(
    ...baseOsFindings(
      image.fs,
      base.profile,
      image.packages.map((p) => ({ name: p.name, version: p.version, id: p.id })),
      config?.config.audit.os_releases,
    ),
  );

  const findings = settle(raw, resolve, config, opts.rootsPerFinding ?? 5);
  let pollution: PollutionResult | undefined;
  if (opts.pollute) {
    const p = typeof opts.pollute === "object" ? opts.pollute : {};
    pollution = pollute(image, linker, roots, classify.systemAllow!, p);
  }
  const live = findings.filter((f) => !f.ignored);
  return {
    workflow: resolve.name,
    base: base.description,
    profile: base.profile.name,
    packages: image.packages.map((p) => ({
      id: p.id,
      name: p.name,
      version: p.version,
      variant: p.variant.qualifiedName,
      root: p.imageRoot,
    })),
    files,
    audited: roots.length,
    ldLibraryPath,
    dlopened: roots.flatMap((r) => (r.options.dlopenFrom ? [{ file: r.path, host: r.options.dlopenFrom }] : [])),
    findings,
    repairs,
    repaired: repairsOn,
    ...(pollution ? { pollution } : {}),
    ...(env.hostQueries.length > 0 ? { hostQueries: env.hostQueries } : {}),
    errors: live.filter((f) => f.severity === "error").length + (pollution?.switches.length ?? 0),
    warnings: live.filter((f) => f.severity === "warning").length,
    ignored: findings.length - live.length,
    seconds: Math.round((performance.now() - started) / 10) / 100,
  };
}

/** The dynamically linked ELF objects of the packages and how each is loaded; unreadable and foreign ones become findings. */
function collectRoots(
  image: PlannedImage,
  linker: Linker,
  environ: Readonly<Record<string, string>>,
  closures: Map<string, Set<string>>,
  findings: Finding[],
): { roots: Root[]; files: number } {
  const profile = linker.options.profile;
  const pythonDirs = (environ.PYTHONPATH ?? "")
    .split(":")
    .filter((d) => d.startsWith("/"))
    .map((d) => (d.endsWith("/") ? d : d + "/"));
  const roots: Root[] = [];
  const executables = new Map<string, string[]>();
  let files = 0;
  for (const pkg of image.packages) {
    for (const p of walkImageFiles(image.fs, pkg.imageRoot)) {
      files++;
      // A file reached through a link into another package is that package's to audit.
      if (image.ownerOf(p) !== pkg.id) continue;
      const elf = linker.fileFacts(p).elf;
      if (!elf.ok) {
        if (elf.code !== "not-elf")
          findings.push({ kind: "unreadable", package: pkg.id, file: p, root: p, message: `${p}: ${elf.reason}` });
        continue;
      }
      if (!elf.dynamic || (elf.type !== ET.DYN && elf.type !== ET.EXEC)) continue;
      if (elf.elfClass !== profile.elfClass || elf.machine !== profile.machine) {
        findings.push({
          kind: "wrong-architecture",
          package: pkg.id,
          file: p,
          root: p,
          message: `${p} is ${elf.elfClass}-bit ${elf.machineName}; the image runs ${profile.elfClass}-bit ${profile.name}`,
        });
        continue;
      }
      const kind = rootKind(elf, p, pythonDirs);
      roots.push({ path: p, owner: pkg.id, kind, options: {} });
      if (kind === "executable") {
        const list = executables.get(pkg.id);
        if (list) list.push(p);
        else executables.set(pkg.id, [p]);
      }
    }
  }
  const python = findOnPath(image, linker, environ.PATH ?? "", ["python3", "python"]);
  const hostTrees = new Map<string, LoadTree>();
  const order = image.packages.map((p) => p.id);
  for (const r of roots) {
    if (r.kind === "python-module") {
      if (python) r.options = { dlopenFrom: python };
    } else if (r.kind === "module") {
      const host = pluginHost(r, linker, executables, closures, order, hostTrees);
      if (host) r.options = { dlopenFrom: host };
    }
  }
  return { roots, files };
}

/** The first of `names` that is an ELF program in a directory of PATH, inside the image. */
function findOnPath(
  image: PlannedImage,
  linker: Linker,
  pathValue: string,
  names: readonly string[],
): string | undefined {
  for (const dir of pathValue.split(":")) {
    if (!dir.startsWith("/")) continue;
    for (const n of names) {
      const r = resolveImagePath(image.fs, `${dir}/${n}`);
      if (!r.ok || r.type !== "file") continue;
      const elf = linker.fileFacts(r.path).elf;
      if (elf.ok && elf.dynamic) return `${dir}/${n}`;
    }
  }
  return undefined;
}

/** The program that supplies what a plug-in expects from its host (see the module comment), if it relies on one. */
function pluginHost(
  r: Root,
  linker: Linker,
  executables: Map<string, string[]>,
  closures: Map<string, Set<string>>,
  order: readonly string[],
  hostTrees: Map<string, LoadTree>,
): string | undefined {
  const alone = linker.resolve(r.path);
  const missing = new Set(
    alone.resolutions.filter((x) => x.status === "missing" && x.from === alone.rootIndex).map((x) => x.name),
  );
  if (missing.size === 0) return undefined;
  const closure = closures.get(r.owner) ?? new Set([r.owner]);
  // The module's own package first, then its requirements in resolve order.
  const candidates = [r.owner, ...order.filter((id) => id !== r.owner && closure.has(id))].flatMap(
    (id) => executables.get(id) ?? [],
  );
  let best: string | undefined;
  let bestScore = 0;
  for (const exe of candidates) {
    let tree = hostTrees.get(exe);
    if (!tree) {
      tree = linker.resolve(exe);
      hostTrees.set(exe, tree);
    }
    const names = new Set(tree.objects.flatMap((o) => [...o.names, ...(o.soname ? [o.soname] : [])]));
    let score = 0;
    for (const m of missing) if (names.has(m)) score++;
    if (score > bestScore) {
      best = exe;
      bestScore = score;
    }
  }
  return best;
}

/** Merges duplicates (one finding per fault, with the roots that showed it), sets severities and applies ignore rules. */
function settle(
  raw: readonly Finding[],
  resolve: WorkflowResolve,
  config: AuditConfig | undefined,
  keepRoots: number,
): AuditFinding[] {
  const packages = new Map(resolve.variants.map((v) => [v.package.qualifiedName, v]));
  const byKey = new Map<string, AuditFinding>();
  for (const f of raw) {
    // A package's copy of a library hiding the base OS's copy is the package pinning it: not a fault.
    if (f.kind === "conflict" && f.name !== undefined && (f.others ?? []).every((o) => o.package === null)) continue;
    const othersKey = (f.others ?? [])
      .map((o) => o.path)
      .sort()
      .join(",");
    const key = [
      f.kind,
      f.package ?? "",
      f.file,
      f.name ?? "",
      f.provider?.path ?? "",
      othersKey,
      f.version?.needed ?? "",
    ].join("\0");
    let a = byKey.get(key);
    if (!a) {
      a = {
        kind: f.kind,
        severity: severityOf(f),
        package: f.package ?? null,
        file: f.file,
        ...(f.name !== undefined ? { name: f.name } : {}),
        ...(f.provider ? { provider: f.provider } : {}),
        ...(f.others ? { others: f.others } : {}),
        ...(f.version ? { version: f.version } : {}),
        message: f.message,
        roots: [],
        rootCount: 0,
      };
      byKey.set(key, a);
    }
    if (!a.roots.includes(f.root)) {
      a.rootCount++;
      if (a.roots.length < keepRoots) a.roots.push(f.root);
    }
  }
  const out = [...byKey.values()];
  for (const f of out) {
    if (f.package === null) continue;
    const v = packages.get(f.package);
    if (!v) continue;
    const rule = matchIgnore(packageSettings(config, v.package), sonamesOf(f));
    if (rule) f.ignored = { rule: rule.soname, reason: rule.reason, source: rule.source };
  }
  out.sort(
    (a, b) =>
      cmp(a.package ?? "", b.package ?? "") ||
      cmp(a.file, b.file) ||
      cmp(a.kind, b.kind) ||
      cmp(a.name ?? "", b.name ?? "") ||
      cmp(a.message, b.message),
  );
  return out;
}

/** The sonames an ignore rule is matched against: the needed name, or the conflicting family members. */
function sonamesOf(f: AuditFinding): string[] {
  const out: string[] = [];
  if (f.name) out.push(f.name);
  if (f.kind === "conflict" && !f.name) for (const o of f.others ?? []) if (o.detail) out.push(o.detail);
  return out;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Pollution check over the audited roots: decoys named after every library the packages need, except allow-listed base ones. */
function pollute(
  image: PlannedImage,
  linker: Linker,
  roots: readonly Root[],
  allow: readonly string[],
  opts: { names?: readonly string[]; decoyDir?: string },
): PollutionResult {
  const allowed = allow.map(globToRegExp);
  let names = opts.names;
  if (!names) {
    const wanted = new Set<string>();
    for (const r of roots) {
      const elf = linker.fileFacts(r.path).elf;
      if (elf.ok) for (const n of elf.dynamic?.needed ?? []) if (!n.includes("/")) wanted.add(n);
    }
    names = [...wanted].filter((n) => !allowed.some((re) => re.test(n))).sort();
  }
  const report = pollutionCheck(
    image.fs,
    roots.map((r) => ({ path: r.path, options: r.options })),
    linker.options,
    { names, ...(opts.decoyDir ? { decoyDir: opts.decoyDir } : {}) },
  );
  const seen = new Set<string>();
  const switches: LoadSwitchReport[] = [];
  for (const s of report.switches) {
    const key = `${s.file}\0${s.name}`;
    if (seen.has(key)) continue;
    seen.add(key);
    switches.push({
      package: image.ownerOf(s.file),
      file: s.file,
      name: s.name,
      root: s.root,
      before: s.before,
      after: s.after,
    });
  }
  switches.sort((a, b) => cmp(a.package ?? "", b.package ?? "") || cmp(a.file, b.file) || cmp(a.name, b.name));
  return { decoyDir: report.decoyDir, decoys: report.decoys.length, switches };
}
