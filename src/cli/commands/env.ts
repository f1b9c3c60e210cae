import fs from "node:fs";
import path from "node:path";
import type { Command } from "@commander-js/extra-typings";
import { checkRequestArgs, findConfig, openRepositories } from "../common.js";
import {
  configuredPythonOption,
  configuredSolveOptions,
  type ConfiguredSolveOptions,
  type LoadedConfig,
} from "../../config/index.js";
import { parseTime } from "../time.js";
import { solve } from "../../solver/index.js";
import { hostSystem, implicitPackagesFor } from "../../rez/system.js";
import { Repositories } from "../../rez/repository/index.js";
import { loadContext, makeContext, type ResolvedContext } from "../../context/context.js";
import { importRxt } from "../../context/rxt.js";
import {
  interpretResolvedContext,
  isShellKind,
  renderDotenv,
  renderEnvironJson,
  renderShell,
  hostHomeResolver,
  lateOptionsOf,
  lateRequiresHook,
  SHELL_KINDS,
  type RexResult,
  type ShellKind,
  type ContextInterpretOptions,
} from "../../rex/index.js";
import { InputError, TantalusError, UsageError, systemErrorText } from "../../errors.js";
import { writeFileAtomic } from "../../util/atomic.js";
import { PackageFilterList, parseFilterRule } from "../../solver/filter.js";
import { patchedRequest } from "../../context/patch.js";
import { resolveDecisions, resolveWorkflow } from "../../workflow/resolve.js";

/** What `env` and `shell` share: where the context comes from. */
export interface ContextSourceOpts {
  paths?: string;
  config?: string;
  context?: string;
  implicit?: boolean;
  time?: string;
  workflow?: string;
  /** Package exclusion rules (rez-env --exclude): `foo-2+`, `*.beta`, `glob(...)`, `regex(...)`, `before(t)`. */
  exclude?: string[];
  /** Package inclusion rules (rez-env --include), added to every configured filter. */
  include?: string[];
  /** false with --no-filters: the configured package_filter is not applied (--exclude/--include still are). */
  filters?: boolean;
  /** false with --no-local. */
  local?: boolean;
  /** rez-env --patch: the request patches the current context (--context, else $REZ_RXT_FILE). */
  patch?: boolean;
  strict?: boolean;
  patchRank?: string;
}

/** The options `resolve`, `env` and `shell` share with rez-env. */
export function addRezEnvOptions<C extends { option: (flags: string, description: string) => C }>(cmd: C): C {
  return cmd
    .option(
      "--exclude <rules...>",
      "exclude packages, as rez-env --exclude: 'foo-2+', '*.beta', 'regex(...)', 'before(TIME)' (repeatable)",
    )
    .option(
      "--include <rules...>",
      "include packages the configured package_filter excludes, as rez-env --include: 'foo', 'boost-*' (repeatable)",
    )
    .option("--no-filters", "do not apply the configured package_filter (--exclude and --include still apply)")
    .option("--no-local", "leave local_packages_path out of the configured package search path, as rez-env --no-local")
    .option(
      "-p, --patch",
      "patch the current context (--context FILE, else $REZ_RXT_FILE): the request overrides its requests of the same name and kind, '^foo' removes foo",
    )
    .option("--strict", "with --patch: start from the resolved packages rather than the request")
    .option(
      "--patch-rank <n>",
      "with --patch: versions of packages not named may rise only from this rank on (3 = patch numbers)",
    );
}

/**
 * The package filter of a resolve, as rez-env makes it: the configured
 * package_filter (none with --no-filters), then each --exclude added with
 * add_exclusion and each --include with add_inclusion.
 */
export function requestFilter(
  config: LoadedConfig | undefined,
  opts: { exclude?: readonly string[]; include?: readonly string[]; filters?: boolean },
): PackageFilterList | null {
  const configured = opts.filters === false ? null : (config?.packageFilter ?? null);
  if (!opts.exclude?.length && !opts.include?.length) return configured;
  const list = configured?.copy() ?? new PackageFilterList();
  const rule = (flag: string, r: string) => {
    try {
      return parseFilterRule(r);
    } catch (err) {
      throw new UsageError(`${flag} ${r}: ${(err as { detail?: string }).detail ?? (err as Error).message}`);
    }
  };
  for (const r of opts.exclude ?? []) list.addExclusion(rule("--exclude", r));
  for (const r of opts.include ?? []) list.addInclusion(rule("--include", r));
  return list;
}

/** The solve options of a resolve: the configuration's (filters, orderers, variant selection) and rez-env's flags. */
export function resolveOptionsFor(
  config: LoadedConfig,
  opts: { exclude?: readonly string[]; include?: readonly string[]; filters?: boolean },
): ConfiguredSolveOptions {
  return { ...configuredSolveOptions(config), packageFilter: requestFilter(config, opts) };
}

/**
 * The request of a patched resolve (rez-env --patch): the base context is
 * --context FILE when given, else the shell's $REZ_RXT_FILE (what Rez's
 * status.context reads), each a Tantalus lock or a Rez .rxt.
 */
export function patchRequest(request: string[], opts: ContextSourceOpts): string[] {
  const file = opts.context ?? process.env.REZ_RXT_FILE;
  if (!file)
    throw new UsageError("cannot patch: not in a context (give --context FILE, or run inside `tantalus shell`)");
  const abs = path.resolve(file);
  const base = isRxt(abs)
    ? importRxt(abs, (paths) =>
        opts.paths ? openRepositories(opts) : new Repositories(paths, configuredPythonOption(findConfig(opts))),
      )
    : loadContext(abs);
  let rank = 0;
  if (opts.patchRank !== undefined) {
    rank = Number(opts.patchRank);
    if (!Number.isInteger(rank) || rank < 0)
      throw new UsageError(`--patch-rank ${opts.patchRank}: expected a whole number`);
  }
  return patchedRequest(base, request, { strict: opts.strict === true, rank });
}

export interface AcquiredContext {
  ctx: ResolvedContext;
  repos: Repositories;
  /** Set when the context is a Rez .rxt: Rez then exports REZ_RXT_FILE in shell code. */
  rxtFile?: string;
}

/** Resolves the request with Tantalus's solver, or reads --context (a Tantalus lock or a Rez .rxt). */
export function acquireContext(request: string[], opts: ContextSourceOpts): AcquiredContext {
  checkRequestArgs(request, { patch: opts.patch === true });
  if (opts.patch) {
    request = patchRequest(request, opts);
    opts = { ...opts, context: undefined };
  }
  if (opts.context) {
    if (request.length > 0 || opts.workflow)
      throw new UsageError("--context takes the resolve from the file; give no request");
    const file = path.resolve(opts.context);
    const repoFor = (paths: string[]) =>
      opts.paths ? openRepositories(opts) : new Repositories(paths, configuredPythonOption(findConfig(opts)));
    if (isRxt(file)) {
      const ctx = importRxt(file, repoFor);
      return { ctx, repos: repoFor(ctx.packagePaths), rxtFile: file };
    }
    const ctx = loadContext(file);
    return { ctx, repos: repoFor(ctx.packagePaths) };
  }
  const repos = openRepositories(opts);
  const config = findConfig(opts);
  // No request is an empty context (the implicit packages only), as rez-env with no packages gives.
  const implicit = opts.implicit === false ? [] : (config?.implicitPackages ?? implicitPackagesFor(hostSystem()));
  const timestamp = opts.time ? parseTime(opts.time) : undefined;
  const packageFilter = requestFilter(config, opts);
  if (opts.workflow) {
    // The workflow as every command resolves it (src/workflow): its request, add_requires, @late requires.
    const resolve = resolveWorkflow(config, opts.workflow, {
      repos,
      implicitPackages: implicit,
      extraRequest: request,
      ...(timestamp !== undefined ? { timestamp } : {}),
      packageFilter,
    });
    return { ctx: resolve.context, repos };
  }
  const solveOptions = { ...configuredSolveOptions(config), packageFilter };
  const result = solve(request, repos, {
    ...solveOptions,
    implicitPackages: implicit,
    timestamp,
    lateRequires: lateRequiresHook(lateOptionsOf(config)),
  });
  for (const w of result.warnings ?? []) process.stderr.write(`${w}\n`);
  if (result.status !== "solved") {
    throw new TantalusError(
      `resolve failed: ${result.failure?.explanation ?? result.failure?.description ?? result.status}`,
    );
  }
  const ctx = makeContext({
    request,
    implicitPackages: implicit,
    packagePaths: repos.paths,
    timestamp: timestamp ?? null,
    status: "solved",
    resolved: result.resolved,
    ephemerals: result.ephemerals.map(String),
    decidedBy: resolveDecisions(solveOptions, implicit, config.target),
  });
  return { ctx, repos };
}

function isRxt(file: string): boolean {
  let data: unknown;
  try {
    data = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (err) {
    throw new InputError(`cannot read the context: ${systemErrorText(err)}`, { file });
  }
  return typeof data === "object" && data !== null && "serialize_version" in data;
}

export function shellOption(value: string | undefined, fallback: ShellKind): ShellKind {
  if (value === undefined) return fallback;
  if (!isShellKind(value)) throw new UsageError(`--shell ${value}: expected one of ${SHELL_KINDS.join(", ")}`);
  return value;
}

function parseRootMap(entries: string[]): Record<string, string> {
  const map: Record<string, string> = {};
  for (const e of entries) {
    const i = e.indexOf("=");
    if (i <= 0 || i === e.length - 1) throw new UsageError(`--root-map ${e}: expected HOST_PATH=IMAGE_PATH`);
    const to = e.slice(i + 1);
    if (!to.startsWith("/")) throw new UsageError(`--root-map ${e}: the image path must be absolute`);
    map[path.resolve(e.slice(0, i))] = to;
  }
  return map;
}

interface EnvOpts extends ContextSourceOpts {
  shell?: string;
  json?: boolean;
  format?: string;
  output?: string;
  rootMap: string[];
  systemPaths?: string;
  inheritEnv?: boolean;
  home?: string;
}

const FORMATS = ["script", "json", "dotenv"] as const;

export function register(program: Command): void {
  const cmd = program
    .command("env")
    .description(
      "write the environment Rez would give a resolve: the shell script Rez writes (rez context --interpret), " +
        "Rez's environ as JSON, or a docker/podman --env-file",
    )
    .argument("[request...]", "requirements to resolve, e.g. maya-2024 'python-3.11'")
    .option("--paths <paths>", "package search paths, colon-separated")
    .option(
      "--config <file>",
      "configuration file (default: TANTALUS_CONFIG, else ./tantalus.yaml or the nearest in a parent folder)",
    )
    .option("--context <file>", "interpret this resolved context (a Tantalus lock or a Rez .rxt) instead of resolving")
    .option(
      "-w, --workflow <name>",
      "resolve a workflow's request from tantalus.yaml (extra requirements are appended)",
    )
    .option("--no-implicit", "do not add the implicit packages (~platform, ~arch, ~os)")
    .option("--time <time>", "ignore packages released after this time: epoch seconds, an ISO date, or relative (-10d)")
    .option("--shell <shell>", `shell of the script: ${SHELL_KINDS.join(", ")} (default: bash)`)
    .option(
      "--json",
      "print the environ as JSON, as `rez context --interpret -f json --no-env` does (same as --format json)",
    )
    .option("--format <format>", `${FORMATS.join(", ")} (default: script)`)
    .option("-o, --output <file>", "write to this file instead of standard output")
    .option(
      "--root-map <host=image>",
      "package repository root as the image sees it (repeatable): every value derived from it is rewritten",
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option(
      "--system-paths <paths>",
      "colon-separated paths appended to PATH at the end (default: what Rez finds for the shell; '' for none)",
    )
    .option(
      "--inherit-env",
      "interpret in this process's environment (as rez-env does) instead of an empty one (as in an image); os.environ inside commands() is this process's either way, as in Rez",
    )
    .option("--home <dir>", "home directory for '~' in values (default: $HOME)");
  addRezEnvOptions(cmd).action((request, opts: EnvOpts) => {
    const format = opts.json ? "json" : (opts.format ?? "script");
    if (!(FORMATS as readonly string[]).includes(format))
      throw new UsageError(`--format ${format}: expected one of ${FORMATS.join(", ")}`);
    if (opts.json && opts.format && opts.format !== "json")
      throw new UsageError("--json and --format " + opts.format + " disagree");
    const shell = shellOption(opts.shell, "bash");
    if (format !== "script" && opts.shell)
      throw new UsageError(`--shell applies to scripts only, not to --format ${format}`);

    const acquired = acquireContext(request, opts);
    const interpretOpts: ContextInterpretOptions = {
      parentEnv: opts.inheritEnv ? definedEnv(process.env) : {},
      rootMap: parseRootMap(opts.rootMap),
      home: opts.home,
      ...(opts.systemPaths !== undefined
        ? { systemPaths: opts.systemPaths.split(":").filter((p) => p.length > 0) }
        : {}),
    };
    let text: string;
    if (format === "script") {
      const result = interpretResolvedContext(acquired.ctx, acquired.repos, {
        ...interpretOpts,
        shell,
        rxtFile: acquired.rxtFile,
      });
      text = renderShell(result.actions, shell, { home: hostHomeResolver(opts.home) });
    } else {
      const result: RexResult = interpretResolvedContext(acquired.ctx, acquired.repos, interpretOpts);
      text = format === "json" ? renderEnvironJson(result.environ) : renderDotenv(result.environ);
    }
    if (opts.output) writeFileAtomic(opts.output, text);
    else process.stdout.write(text);
  });
}

export function definedEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}
