import fs from "node:fs";
import type { Command } from "@commander-js/extra-typings";
import { checkRequestArgs, findConfig, openRepositories, printJson } from "../common.js";
import { solve, type SolveResult } from "../../solver/index.js";
import { hostSystem, implicitPackagesFor } from "../../rez/system.js";
import {
  makeContext,
  qualifiedVariantName,
  saveContext,
  type ResolveDecisions,
  type ResolvedContext,
} from "../../context/context.js";
import { saveRxt } from "../../context/rxt.js";
import { InputError, UsageError } from "../../errors.js";
import { parsePackageRequest } from "../../rez/version/index.js";
import { lateOptionsOf, lateRequiresHook, type LateEvaluationOptions } from "../../rex/index.js";
import { parseTime } from "../time.js";
import type { Repositories } from "../../rez/repository/index.js";
import { addRezEnvOptions, patchRequest, requestFilter, resolveOptionsFor } from "./env.js";
import type { ConfiguredSolveOptions } from "../../config/index.js";
import { resolveDecisions, solveWorkflow } from "../../workflow/resolve.js";

interface ResolveOpts {
  paths?: string;
  config?: string;
  implicit?: boolean;
  time?: string;
  json?: boolean;
  output?: string;
  rxt?: string;
  batch?: string;
  workflow?: string;
  exclude?: string[];
  include?: string[];
  filters?: boolean;
  local?: boolean;
  patch?: boolean;
  strict?: boolean;
  patchRank?: string;
}

export function register(program: Command): void {
  const cmd = program
    .command("resolve")
    .description("resolve a request with Rez's semantics, like rez-env, and optionally write the context (lock)")
    .argument("[request...]", "requirements, e.g. maya-2024 'python-3.11' '~openexr-3'")
    .option("--paths <paths>", "package search paths, colon-separated")
    .option(
      "--config <file>",
      "configuration file (default: TANTALUS_CONFIG, else ./tantalus.yaml or the nearest in a parent folder)",
    )
    .option(
      "-w, --workflow <name>",
      "resolve a workflow's request from tantalus.yaml (extra requirements are appended)",
    )
    .option("--no-implicit", "do not add the implicit packages (~platform, ~arch, ~os)")
    .option(
      "--time <time>",
      "ignore packages released after this time: epoch seconds, an ISO date, or relative (-10d, -5h)",
    )
    .option("--json", "print the result as JSON")
    .option("-o, --output <file>", "write the resolved context (Tantalus lock, JSON)")
    .option("--rxt <file>", "also write the context as a Rez .rxt file (rez-env --input accepts it)")
    .option(
      "--batch <requests.json>",
      "resolve every request of a JSON array of requests, loading the repositories once",
    )
    .addHelpText("after", "\nWith no request (and no --workflow), the resolve is empty, as rez-env with no packages.");
  addRezEnvOptions(cmd).action((request, opts: ResolveOpts) => {
    checkRequestArgs(request, { patch: opts.patch === true });
    const repos = openRepositories(opts);
    const config = findConfig(opts);
    const implicit = opts.implicit === false ? [] : (config?.implicitPackages ?? implicitPackagesFor(hostSystem()));
    const timestamp = opts.time ? parseTime(opts.time) : undefined;

    if (opts.batch) {
      if (request.length > 0)
        throw new UsageError("--batch takes its requests from the file; give no request arguments");
      if (opts.patch) throw new UsageError("--batch and --patch do not go together");
      runBatch(opts.batch, repos, implicit, timestamp, resolveOptionsFor(config, opts), lateOptionsOf(config));
      return;
    }
    let req = opts.patch ? patchRequest(request, opts) : request;
    // What decides the resolve besides the request, recorded in the lock as Rez records it in a .rxt.
    const decidedBy = resolveDecisions(resolveOptionsFor(config, opts), implicit, config.target);
    const t0 = performance.now();
    let result: SolveResult;
    let ctx: ResolvedContext;
    if (opts.workflow) {
      // The workflow as every command resolves it (src/workflow): its request, add_requires, @late requires.
      const solved = solveWorkflow(config, opts.workflow, {
        repos,
        implicitPackages: implicit,
        extraRequest: request,
        ...(timestamp !== undefined ? { timestamp } : {}),
        packageFilter: requestFilter(config, opts),
      });
      req = solved.request;
      result = solved.result;
      ctx = solved.resolve?.context ?? contextOf(req, implicit, repos, timestamp, result, decidedBy);
    } else {
      // An empty request is valid, as in rez-env: a context of the implicit packages alone (usually empty).
      // Names are checked as rez-env checks them, so a typo is an error, not a missing family.
      for (const r of req) parsePackageRequest(r);
      result = solve(req, repos, {
        ...resolveOptionsFor(config, opts),
        implicitPackages: implicit,
        timestamp,
        lateRequires: lateRequiresHook(lateOptionsOf(config)),
      });
      ctx = contextOf(req, implicit, repos, timestamp, result, decidedBy);
    }
    // Rez prints these while solving (a variant skipped for a family no repository has).
    for (const w of result.warnings ?? []) process.stderr.write(`${w}\n`);
    const seconds = (performance.now() - t0) / 1000;
    repos.saveCaches();
    if (opts.output) saveContext(opts.output, ctx);
    if (opts.rxt) saveRxt(opts.rxt, ctx);
    if (opts.json) printJson({ ...jsonResult(result), seconds });
    else printHuman(req, implicit, ctx, result);
    if (result.status !== "solved") {
      if (opts.json)
        process.stderr.write(
          `tantalus: resolve failed: ${result.failure?.explanation ?? result.failure?.description}\n`,
        );
      process.exitCode = 1;
    }
  });
}

function contextOf(
  request: string[],
  implicit: string[],
  repos: Repositories,
  timestamp: number | undefined,
  r: SolveResult,
  decidedBy: ResolveDecisions,
): ResolvedContext {
  return makeContext({
    request,
    implicitPackages: implicit,
    packagePaths: repos.paths,
    timestamp: timestamp ?? null,
    status: r.status === "solved" ? "solved" : "failed",
    resolved: r.status === "solved" ? r.resolved : [],
    ephemerals: r.ephemerals.map(String),
    decidedBy,
    ...(r.failure
      ? { failure: { kind: r.failure.kind, description: r.failure.description, explanation: r.failure.explanation } }
      : {}),
  });
}

function jsonResult(r: SolveResult): Record<string, unknown> {
  const solved = r.status === "solved";
  return {
    status: solved ? "solved" : "failed",
    // `resolved` (qualified names) stays for the scripts that read it; `variants` is the structured form.
    resolved: solved ? r.resolved.map((v) => v.qualifiedName) : [],
    variants: solved
      ? r.resolved.map((v) => ({
          name: v.name,
          version: v.version.toString(),
          index: v.index,
          root: v.root,
          qualifiedName: v.qualifiedName,
          file: v.package.file,
        }))
      : [],
    ...(r.ephemerals.length ? { ephemerals: r.ephemerals.map(String) } : {}),
    ...(r.warnings ? { warnings: r.warnings } : {}),
    ...(r.failure
      ? {
          failure: {
            kind: r.failure.kind,
            description: r.failure.description,
            explanation: r.failure.explanation,
            ...(r.failure.broken ? { broken: r.failure.broken } : {}),
          },
        }
      : {}),
  };
}

function runBatch(
  file: string,
  repos: Repositories,
  implicit: string[],
  timestamp: number | undefined,
  configured: ConfiguredSolveOptions,
  late: LateEvaluationOptions,
): void {
  let requests: unknown;
  try {
    requests = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (err) {
    throw new InputError(`cannot read the batch: ${(err as Error).message}`, { file });
  }
  if (!Array.isArray(requests) || requests.some((r) => !Array.isArray(r) || r.some((x) => typeof x !== "string"))) {
    throw new InputError("expected a JSON array of requests, each an array of requirement strings", { file });
  }
  const out: Record<string, unknown>[] = [];
  const lateRequires = lateRequiresHook(late);
  for (const req of requests as string[][]) {
    const t0 = performance.now();
    let entry: Record<string, unknown>;
    try {
      for (const r of req) parsePackageRequest(r);
      entry = jsonResult(solve(req, repos, { ...configured, implicitPackages: implicit, timestamp, lateRequires }));
    } catch (err) {
      // A malformed requirement fails that request only; the batch goes on.
      entry = {
        status: "failed",
        resolved: [],
        failure: { kind: "invalid-request", description: (err as Error).message },
      };
    }
    out.push({ ...entry, seconds: (performance.now() - t0) / 1000 });
  }
  repos.saveCaches();
  printJson(out);
}

function printHuman(request: string[], implicit: string[], ctx: ResolvedContext, r: SolveResult): void {
  const lines: string[] = [];
  lines.push(`request: ${[...request, ...implicit].join(" ")}`);
  lines.push("");
  if (r.status !== "solved") {
    // One account of the failure: the explanation names who asked for what (Rez's own
    // wording, the same fact again, stays in --json's failure.description).
    lines.push(`resolve FAILED after ${r.steps} step${r.steps === 1 ? "" : "s"}:`);
    for (const l of (r.failure?.explanation || r.failure?.description || r.status).split("\n")) lines.push(`  ${l}`);
    process.stderr.write(lines.join("\n") + "\n");
    return;
  }
  lines.push(`resolved packages (${ctx.resolved.length}):`);
  const names = ctx.resolved.map((v) => qualifiedVariantName(v));
  const width = Math.max(...names.map((n) => n.length), 0);
  ctx.resolved.forEach((v, i) => lines.push(`${names[i]!.padEnd(width)}  ${v.root}`));
  if (ctx.ephemerals.length) lines.push(`ephemerals: ${ctx.ephemerals.join(" ")}`);
  process.stdout.write(lines.join("\n") + "\n");
}
