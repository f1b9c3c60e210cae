/**
 * `tantalus build`: workflows of tantalus.yaml → OCI images in the local store.
 *
 *   resolve (src/workflow, or load a saved context) → layer plan of all
 *   workflows together → package layers (through the layer cache, on worker
 *   threads) ‖ base image → audit gate → capture, per-image repair and top
 *   layers → config + manifest → tags → stamps
 *
 * buildWorkflows runs these as named steps, one function each below.
 *
 * The package layers are written while this thread obtains the base, audits
 * and captures environments (docs/ARCHITECTURE.md, "How a build spends its
 * time").
 *
 * A rebuild where nothing changed reads no file content: package layers are
 * found by the fingerprint of their roots (one metadata walk, shared with
 * the planner's measuring), audit outcomes and captured environments are
 * remembered by the digest of their inputs (memo.ts), and unchanged tags are
 * left alone. Layers that must be written go to worker threads when there is
 * enough to write (worker-pool.ts).
 *
 * Reproducible: file times, image times and JSON are fixed (SOURCE_DATE_EPOCH
 * sets the instant), the top layer holds nothing host-specific once
 * image.root_map maps the repositories, and layer order comes from the
 * planner, which only sees content. The same inputs give the same manifest
 * digest in any directory, on any machine with the same compressors.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve as resolvePath } from "node:path";
import { getWorkflow, type LoadedConfig } from "../config/index.js";
import { TantalusError, UsageError } from "../errors.js";
import { sha256, type Digest } from "../image/digest.js";
import { rfc3339, sourceDateEpoch } from "../image/epoch.js";
import { checkCompressionAvailable } from "../image/layer/compress.js";
import { DEFAULT_LAYER_MTIME } from "../image/layer/tar.js";
import type { LayerSpec } from "../image/layer/spec.js";
import { OciStore, StoreAnnotation, isValidRefName } from "../image/layout/store.js";
import { DEFAULT_CREATED, writeImage, type NewLayer } from "../image/mutate.js";
import type { RegistryOptions } from "../image/remote/client.js";
import { Annotation, type Descriptor, type LayerCompression } from "../image/types.js";
import { rootMapper } from "../context/root-map.js";
import { CONTEXT_PATH, ENVIRONMENT_PATH, Label, WORKFLOW_DEFINITION_PATH } from "../image/contract.js";
import { entrypointConfig, entrypointLayerEntries } from "../image/entrypoint.js";
import type { ResolvedContext } from "../context/context.js";
import type { AuditGate, AuditOutcome } from "../audit/build-gate.js";
import { expectedBaseLayers, rememberBaseLayers, resolveBaseImage, type BaseImage } from "./base.js";
import { imageContextJson, workflowDefinitionYaml } from "./environment.js";
import { ignoreEvents, type BuildEventSink, type LayerKind } from "./events.js";
import { imageLabels } from "./labels.js";
import {
  defaultJobs,
  mapLimit,
  preparePackageLayers,
  writeOneLayer,
  writePackageLayers,
  type PackageLayerCounts,
  type PreparedLayer,
  type WrittenLayer,
} from "./layers.js";
import { AuditCache, auditCacheKey } from "./audit-cache.js";
import { FingerprintingMeasurer } from "./fingerprint.js";
import { StoreMemo, memoKey } from "./memo.js";
import { planBuild, type BuildPlan } from "./plan.js";
import { removeWorkflowStamp, stampKeyOf, writeWorkflowStamp } from "./stamp.js";
import { writeBuildRecord, type BuildRecord } from "./build-record.js";
import { requireInstallRoots } from "../context/context.js";
import type { Repositories } from "../rez/repository/index.js";
import { captureEnvironment } from "../workflow/environment.js";
import {
  implicitPackagesOf,
  openWorkflowRepositories,
  resolveNames,
  differsFromConfigured,
  resolveWorkflow,
  resolveWorkflows,
  workflowFromContext,
  type WorkflowResolve,
} from "../workflow/resolve.js";
import { DEV_ANNOTATION, devTag, shortHash } from "../image/dev-tag.js";
import { currentIdentity } from "../util/identity.js";

export interface BuildOptions {
  /** Package search paths; default: the configuration's packages_path (TANTALUS_PACKAGES_PATH and --paths are layers of it). */
  packagePaths?: string[];
  /** Default: the configuration's implicit_packages, else the host's ~platform/~arch/~os. */
  implicitPackages?: string[];
  /** Ignore packages released after this time (epoch seconds), as `resolve --time` / rez-env --time. */
  timestamp?: number;
  /** Build exactly this saved resolve (one workflow only). */
  contextFile?: string;
  /** The store, or its directory; default the configuration's store. */
  store?: OciStore | string;
  /** Default image.compression of the configuration. */
  compression?: LayerCompression;
  /** Compression level (gzip 1-9, zstd 1-19); default gzip 6, zstd 3. */
  level?: number;
  /** Layers written at once. */
  jobs?: number;
  /** Write package layers on worker threads, one core each (default true). */
  workers?: boolean;
  /** Check the digest of every blob reused from the store; corrupted ones are moved aside and written or fetched again. */
  verify?: boolean;
  /** For a registry base image (insecure, credentials). */
  registry?: RegistryOptions;
  /** The library audit (see src/audit/build-gate.ts); none when omitted. */
  audit?: AuditGate;
  /** Write images whose audit found errors. */
  allowAuditErrors?: boolean;
  /**
   * A workflow that cannot be built (it does not resolve, its roots are
   * missing, the audit refuses it) is reported in BuildReport.failed and the
   * others are built; without it the first such workflow stops the build.
   * When none can be built, the build fails either way.
   */
  keepGoing?: boolean;
  /**
   * Build for this developer: each image is tagged only WORKFLOW:dev-<user>-<hash of its resolve>
   * (src/image/dev-tag.ts), never the workflow's own tags, and no stamp is written or removed. Implied
   * (with the current user) by a resolve that differs from the configured one (packagePaths,
   * implicitPackages, timestamp): such an image must never become what artists run.
   */
  devUser?: string;
  /** Tag the image only as this (an ad-hoc request's image, `run --request`), annotated as a developer's image. */
  adHocTag?: string;
  /** org.opencontainers.image.source/revision; default: the configuration's git checkout, if any; false: none. */
  source?: { url?: string; revision?: string } | false;
  onEvent?: BuildEventSink;
}

export interface BuiltLayer {
  kind: LayerKind;
  digest: Digest;
  diffId?: Digest;
  size: number;
  mediaType: string;
  /** For package layers: the variants in it (qualified names). */
  variants?: string[];
  tier?: string;
  /** False for base layers and for layers written by this build. */
  cached: boolean;
}

export interface BuildResult {
  workflow: string;
  /**
   * The tag to run it by: the workflow's ("rough_layout"), or for a dev build its dev tag
   * ("rough_layout:dev-ana-1a2b3c4d5e6f"). `tags`: the workflow's and the image's own
   * ("rough_layout:1a2b3c4d5e6f"), or the dev tag alone.
   */
  tag: string;
  tags: string[];
  digest: Digest;
  descriptor: Descriptor;
  /** Manifest + config + every layer (as stored). */
  size: number;
  layers: BuiltLayer[];
  /** Planned package layers left out because none of their variants has files (each: its variants). */
  emptyLayers: string[][];
  base: { name: string; digest: Digest; layers: number };
  request: string[];
  /** Qualified variant names, in resolve order. */
  resolve: string[];
  /** The resolve with host paths. */
  context: ResolvedContext;
  /** The environment script in the image. */
  environment: string;
  audit?: { errors: string[]; warnings: string[] };
}

export interface BuildStats {
  /** Distinct layers this build used (base layers not counted). */
  layers: number;
  layersWritten: number;
  layersReused: number;
  /** Uncompressed tar bytes of the layers written. */
  bytesArchived: number;
  /** Stored bytes of the layers written. */
  bytesStored: number;
  seconds: number;
  /**
   * Where the time went: resolves, base image, plan, audit, package layers,
   * per-image layers + manifests. The last two overlap: each image's own
   * layers are written while the package layers are.
   */
  resolveSeconds: number;
  baseSeconds: number;
  planSeconds: number;
  auditSeconds: number;
  layersSeconds: number;
  imagesSeconds: number;
}

export interface BuildFailure {
  workflow: string;
  message: string;
}

export interface BuildReport {
  store: OciStore;
  results: BuildResult[];
  /** Workflows not built (keepGoing), each with why. */
  failed: BuildFailure[];
  stats: BuildStats;
  plan: BuildPlan;
  base: BaseImage;
}

/**
 * Build `names` (empty: every workflow) into the store: the pipeline of
 * docs/ARCHITECTURE.md ("How a build spends its time"), one named step each.
 * The package layers are written on worker threads from the plan on, while
 * this thread obtains the base, audits, and writes each image's own layers.
 */
export async function buildWorkflows(
  config: LoadedConfig,
  names: readonly string[],
  opts: BuildOptions = {},
): Promise<BuildReport> {
  const run = await prepareBuild(config, names, opts);
  const resolves = resolveStep(run);
  const roots = new FingerprintingMeasurer();
  const layers = await planAndStartPackageLayers(run, resolves, roots);
  const { plan, base } = layers;
  const audits = await layers.whileWriting(() => auditGateStep(run, resolves, layers));
  // The images' own layers overlap the package layers, so "images" time overlaps "layers" time.
  const tImages = performance.now();
  const own = await layers.whileWriting(() => imageOwnLayersStep(run, resolves, audits, layers));
  const written = await layers.written();
  const built = await assembleImagesStep(run, resolves, audits, own, layers, written);
  await run.store.tagMany(built.retag); // step 7, tag: every tag of the build in one update of index.json
  stampStep(run, resolves, built, roots);
  run.seconds.images = (performance.now() - tImages) / 1000;
  const extra = [...own.values()].flatMap((o) => (o.repair ? [o.repair, o.topWritten] : [o.topWritten]));
  const stats = statsOf(run, written, extra);
  recordStep(run, built, stats);
  return {
    store: run.store,
    results: built.results,
    failed: run.failed,
    stats,
    plan,
    base,
  };
}

/** What every step of one build shares: its settings, where it writes, what failed so far, and the time spent. */
interface BuildRun {
  config: LoadedConfig;
  opts: BuildOptions;
  onEvent: BuildEventSink;
  started: number;
  /** Every workflow of the configuration (all are planned together). */
  all: string[];
  /** The workflows to build; a step that leaves one out (keepGoing) removes it and records why in `failed`. */
  targets: string[];
  failed: BuildFailure[];
  /** The error of each workflow left out, so that a build with a single failure fails with that error itself. */
  errors: TantalusError[];
  store: OciStore;
  /** The stamp key (configuration bytes, variables, host), taken before resolving; none for builds a stamp cannot vouch for. */
  stampKey: ReturnType<typeof stampKeyOf> | undefined;
  /** Whom a build of a resolve other than the configured one is for (its images get dev tags only). */
  devUser: string | undefined;
  created: string;
  mtime: Date;
  rootMap: Readonly<Record<string, string>>;
  layerOpts: {
    compression: LayerCompression;
    level?: number;
    mtime: Date;
    jobs: number;
    verify: boolean;
    workers: boolean;
    onEvent: BuildEventSink;
  };
  seconds: { resolve: number; base: number; plan: number; audit: number; layers: number; images: number };
}

/** With keepGoing, `name` is reported and left out; else the build stops with `err`. */
function leaveOut(run: BuildRun, name: string, err: unknown): void {
  if (!run.opts.keepGoing || !(err instanceof TantalusError) || err instanceof UsageError) throw err;
  run.failed.push({ workflow: name, message: err.message });
  run.errors.push(err);
  run.targets = run.targets.filter((t) => t !== name);
}

/** The build's error once no target is left: one workflow that failed is its own error, as without keepGoing. */
function noneLeft(run: BuildRun): TantalusError {
  return run.failed.length === 1
    ? run.errors[0]!
    : new TantalusError(
        `no workflow could be built:\n${run.failed.map((f) => `${f.workflow}: ${f.message}`.replace(/\n/g, "\n  ")).join("\n")}`,
      );
}

/**
 * Step 0, before any work: everything the command line and the configuration
 * say is checked (names, --context, compression), and the store is opened,
 * so a store this user cannot write (a shared one) is refused before a single
 * resolve, and a missing optional compressor is one sentence rather than a
 * layer worker's failure.
 */
async function prepareBuild(config: LoadedConfig, names: readonly string[], opts: BuildOptions): Promise<BuildRun> {
  const started = performance.now();
  const all = Object.keys(config.workflows).sort();
  if (all.length === 0) throw new UsageError(`${config.displayFile} defines no workflows`);
  const targets = names.length > 0 ? [...new Set(names)] : all;
  if (opts.contextFile !== undefined && targets.length !== 1) {
    throw new UsageError("--context builds one saved resolve: name exactly one WORKFLOW (its definition and tag)");
  }
  for (const t of targets) {
    // A mistyped name is refused before any work, with the known names (as plan, audit and run do).
    getWorkflow(config, t);
    if (!isValidRefName(t))
      throw new UsageError(
        `workflow name ${JSON.stringify(t)} cannot be an image tag: it must start with a letter or digit`,
      );
  }
  const compression = opts.compression ?? config.config.image.compression;
  checkCompressionAvailable(
    compression,
    opts.compression !== undefined
      ? `--compression ${opts.compression}`
      : `image.compression: ${config.config.image.compression} in ${config.displayFile}`,
  );
  const store = opts.store instanceof OciStore ? opts.store : await OciStore.open(opts.store ?? config.store);
  // A resolve other than the configured one gets a dev tag, and leaves the workflow's tags and stamp alone.
  const devUser =
    opts.devUser ??
    (differsFromConfigured(opts) || opts.adHocTag !== undefined ? currentIdentity(process.env).user : undefined);
  // Taken before resolving, so a configuration edited during the build fails the stamp next time. An ad-hoc
  // request over the configured repositories is stamped too, under its unnamed workflow: its tag
  // (request:<hash of the request>) names what was asked, so a repeated `run --request` is checked as a workflow is.
  const stamped = devUser === undefined || (opts.adHocTag !== undefined && !differsFromConfigured(opts));
  const stampKey = stamped ? stampKeyOf(config.files) : undefined;
  const epoch = sourceDateEpoch();
  const mtime = epoch ?? DEFAULT_LAYER_MTIME;
  const onEvent = opts.onEvent ?? ignoreEvents;
  return {
    config,
    opts,
    onEvent,
    started,
    all,
    targets,
    failed: [],
    errors: [],
    store,
    stampKey,
    devUser,
    created: epoch ? rfc3339(epoch) : DEFAULT_CREATED,
    mtime,
    rootMap: config.config.image.root_map,
    layerOpts: {
      compression,
      ...(opts.level !== undefined ? { level: opts.level } : {}),
      mtime,
      jobs: opts.jobs ?? defaultJobs(),
      verify: opts.verify === true,
      workers: opts.workers !== false,
      onEvent,
    },
    seconds: { resolve: 0, base: 0, plan: 0, audit: 0, layers: 0, images: 0 },
  };
}

/**
 * Step 1, resolve: the targets (or the saved context), then every other
 * workflow, because the layer plan is studio-wide: a group of variants is the
 * same layer in every image that carries it only if every image is planned.
 * Each workflow is resolved once, by the workflow stage, and that resolve is
 * what the plan, the audit gate, the environment and the stamp all read.
 */
function resolveStep(run: BuildRun): Map<string, WorkflowResolve> {
  const { config, opts, onEvent } = run;
  onEvent({
    type: "step",
    message: opts.contextFile ? `loading context ${opts.contextFile}` : `resolving ${run.all.length} workflow(s)`,
  });
  const t0 = performance.now();
  const implicitPackages = implicitPackagesOf(config, opts.implicitPackages);
  let repos: Repositories | undefined;
  // Observed, so each workflow's stamp can later tell with stats alone whether its resolve still holds.
  const reposOnce = () =>
    (repos ??= openWorkflowRepositories(config, {
      ...(opts.packagePaths ? { packagePaths: opts.packagePaths } : {}),
      observe: true,
    }));
  const resolves = new Map<string, WorkflowResolve>();
  for (const name of run.targets) {
    try {
      const r =
        opts.contextFile !== undefined
          ? workflowFromContext(config, name, opts.contextFile)
          : resolveWorkflow(config, name, {
              repos: reposOnce(),
              implicitPackages,
              ...(opts.timestamp !== undefined ? { timestamp: opts.timestamp } : {}),
            });
      // As --context refuses a lock whose roots are gone: an image without its payloads has empty package layers.
      requireInstallRoots(r.variants, `workflow ${name}`);
      resolves.set(name, r);
    } catch (e) {
      leaveOut(run, name, e);
    }
  }
  if (run.targets.length === 0) throw noneLeft(run);
  const others = run.all.filter((n) => !resolves.has(n) && !run.failed.some((f) => f.workflow === n));
  if (others.length > 0) {
    const rest = resolveWorkflows(config, others, {
      repos: reposOnce(),
      implicitPackages,
      ...(opts.timestamp !== undefined ? { timestamp: opts.timestamp } : {}),
    });
    for (const [name, r] of rest.resolves) resolves.set(name, r);
    for (const f of rest.failed) onEvent({ type: "warning", message: `${f.message} (left out of the layer plan)` });
  }
  repos?.saveCaches();
  for (const name of run.targets) {
    const r = resolves.get(name)!;
    if (r.origin !== "resolved" && r.context.request.join(" ") !== r.definition.request.join(" ")) {
      onEvent({
        type: "warning",
        message: `${r.origin} was resolved for "${r.context.request.join(" ")}", workflow ${name} requests "${r.definition.request.join(" ")}"; building the context`,
      });
    }
  }
  run.seconds.resolve = (performance.now() - t0) / 1000;
  return resolves;
}

/** The plan and what the targets' package layers hold, with their layer cache keys. */
interface PlannedLayers {
  plan: BuildPlan;
  prepared: Map<string, PreparedLayer>;
}

/**
 * Step 2, plan: every workflow's layers together (src/plan through
 * planBuild, the plan `tantalus plan` shows), then what the targets' package
 * layers hold and their cache keys: a metadata walk of the roots, nothing
 * read. The budget counts the base's layers, so the plan is made for a count.
 */
function planStep(
  run: BuildRun,
  resolves: ReadonlyMap<string, WorkflowResolve>,
  baseLayers: number,
  roots: FingerprintingMeasurer,
): PlannedLayers {
  run.onEvent({ type: "step", message: `planning layers of ${resolves.size} workflow image(s)` });
  const t0 = performance.now();
  const plan = planBuild(run.config, [...resolves.values()], { measurer: roots, baseLayers });
  for (const message of plan.warnings) run.onEvent({ type: "warning", message });
  const needed = new Set(run.targets.flatMap((t) => plan.imageLayers.get(t) ?? []));
  const neededLayers = plan.plan.layers.filter((l) => needed.has(l.key)).map((l) => plan.layers.get(l.key)!);
  const prepared = preparePackageLayers(neededLayers, run.rootMap, roots);
  run.seconds.plan += (performance.now() - t0) / 1000;
  return { plan, prepared };
}

type WrittenPackageLayers = Awaited<ReturnType<typeof writePackageLayers>>;

/** The package layers being written on worker threads while this thread goes on with the other steps. */
interface PackageLayersInFlight extends PlannedLayers {
  base: BaseImage;
  /** Runs `step` on this thread; when it fails, no further layer is started and those being written finish first. */
  whileWriting<T>(step: () => Promise<T>): Promise<T>;
  written(): Promise<WrittenPackageLayers>;
}

/**
 * Step 3, write the package layers, and meanwhile obtain the base. When the
 * base's layer count is known beforehand (the demo base has one; another
 * base as many as the last build with this store saw), the package layers
 * are planned and started first, and the base is obtained while the layer
 * workers write them; a wrong guess plans again, and the layers written
 * meanwhile stay in the layer cache for the plan that reuses those it shares.
 */
async function planAndStartPackageLayers(
  run: BuildRun,
  resolves: ReadonlyMap<string, WorkflowResolve>,
  roots: FingerprintingMeasurer,
): Promise<PackageLayersInFlight> {
  const { store, config, opts } = run;
  const baseSpec = config.config.base.image;
  // When the build fails meanwhile (the base, the audit), no further layer is started.
  const stopped = new AbortController();
  let writing: Promise<WrittenPackageLayers> | undefined;
  const start = (planned: PlannedLayers) => {
    const t0 = performance.now();
    // Said once the layer cache was asked, so the numbers are those the summary adds up.
    const onCounts = (c: PackageLayerCounts) => {
      const also = [
        c.reused > 0 ? `${c.reused} reused from the layer cache` : "",
        c.empty > 0 ? `${c.empty} left out (no files)` : "",
      ].filter(Boolean);
      run.onEvent({
        type: "step",
        message: `writing ${c.toWrite} package layer(s) (${run.layerOpts.compression}${opts.level !== undefined ? ` level ${opts.level}` : ""}) into ${store.dir}${also.length ? `; ${also.join(", ")}` : ""}`,
      });
    };
    writing = writePackageLayers(store, planned.prepared, {
      ...run.layerOpts,
      signal: stopped.signal,
      onCounts,
    }).then((w) => {
      run.seconds.layers = (performance.now() - t0) / 1000;
      return w;
    });
    writing.catch(() => undefined); // awaited later, also when something on this thread fails first
  };
  const stop = async () => {
    stopped.abort();
    await Promise.allSettled([writing]);
  };

  const expected = await expectedBaseLayers(store, baseSpec);
  let planned = expected !== undefined ? planStep(run, resolves, expected, roots) : undefined;
  if (planned) start(planned);
  const t0 = performance.now();
  let base: BaseImage;
  try {
    base = await resolveBaseImage(store, baseSpec, {
      ...run.layerOpts,
      created: run.created,
      ...(opts.registry ? { registry: opts.registry } : {}),
      demoLibraries: config.config.audit.allow_system,
      configDir: config.dirOf(["base", "image"]),
    });
    if (base.image.manifest.layers.length !== expected)
      await rememberBaseLayers(store, baseSpec, base.image.manifest.layers.length);
  } catch (e) {
    await stop();
    throw e;
  }
  run.seconds.base = (performance.now() - t0) / 1000;
  if (!planned || base.image.manifest.layers.length !== expected) {
    await Promise.allSettled([writing]);
    planned = planStep(run, resolves, base.image.manifest.layers.length, roots);
    start(planned);
  }
  return {
    ...planned,
    base,
    async whileWriting<T>(step: () => Promise<T>): Promise<T> {
      try {
        return await step();
      } catch (e) {
        await stop();
        throw e;
      }
    },
    written: () => writing!,
  };
}

/**
 * Step 4, the audit gate: each target's image, as planned, through the
 * library audit (opts.audit, src/audit/workflow/gate.ts) on the build's own
 * resolve, so its verdict is `tantalus audit`'s. A refused image is not
 * tagged, no further layer is started, and those written stay in the layer
 * cache for the build that follows the fix. An image whose content did not
 * change keeps its earlier outcome (the audit cache).
 */
async function auditGateStep(
  run: BuildRun,
  resolves: ReadonlyMap<string, WorkflowResolve>,
  layers: PackageLayersInFlight,
): Promise<Map<string, AuditOutcome>> {
  const { opts, onEvent, store, rootMap, created } = run;
  const audits = new Map<string, AuditOutcome>();
  if (!opts.audit) return audits;
  const t0 = performance.now();
  onEvent({ type: "step", message: `auditing ${run.targets.length} image(s)` });
  const cache = new AuditCache(store);
  const settings = {
    audit: run.config.config.audit,
    packages: run.config.config.packages,
    rootMap,
    gate: opts.audit.settings ?? null,
  };
  const mapPath = rootMapper(rootMap);
  const refused: { name: string; errors: string[] }[] = [];
  for (const name of run.targets) {
    const r = resolves.get(name)!;
    const key = auditCacheKey({
      workflow: name,
      baseDigest: layers.base.image.manifestDescriptor.digest,
      layerKeys: (layers.plan.imageLayers.get(name) ?? []).map((k) => layers.prepared.get(k)?.cacheKey ?? ""),
      contextDigest: sha256(imageContextJson(r.context, rootMap, created)),
      // The mount targets too: the host-leak check accepts paths under them, so a mount added to
      // tantalus.yaml must not find the refusal remembered from before it.
      settings: {
        ...settings,
        mounts: [...r.definition.mounts, ...run.config.config.run.mounts].map((m) => m.target),
      },
    });
    let outcome = await cache.get(key);
    if (!outcome) {
      outcome = await opts.audit({
        workflow: name,
        resolve: r,
        base: layers.base.image,
        store,
        imagePath: mapPath,
        epochSeconds: epochSecondsOf(run),
      });
      await cache.put(key, outcome);
    }
    audits.set(name, outcome);
    for (const w of outcome.warnings) onEvent({ type: "warning", message: `${name}: ${w}` });
    if (outcome.errors.length === 0) continue;
    if (opts.allowAuditErrors)
      for (const e of outcome.errors)
        onEvent({ type: "warning", message: `${name}: ${e} (allowed by --allow-audit-errors)` });
    else refused.push({ name, errors: outcome.errors });
  }
  run.seconds.audit = (performance.now() - t0) / 1000;
  const lines = (errors: string[]) => errors.map((e) => `  ${e}`).join("\n");
  if (refused.length > 0 && opts.keepGoing && refused.length < run.targets.length) {
    // The others are built; each refused one is reported with its errors.
    for (const { name, errors } of refused) {
      run.failed.push({
        workflow: name,
        message: `the audit found errors, so its image was not written ("tantalus audit --suggest" prints the fix list):\n${lines(errors)}`,
      });
    }
    run.targets = run.targets.filter((t) => !refused.some((r) => r.name === t));
  } else if (refused.length > 0) {
    throw new AuditRefusedError(
      refused,
      `the audit found errors, so no image was written ("tantalus build --allow-audit-errors" writes them anyway; "tantalus audit --suggest" prints the fix list for tantalus.yaml that repairs them):\n${refused.map((r) => `${r.name}:\n${lines(r.errors)}`).join("\n")}`,
    );
  }
  return audits;
}

/**
 * The audit gate refused images: each with its errors, kept apart so a caller whose images are not
 * workflows of tantalus.yaml (`run --request`) can say what the user can do about it.
 */
export class AuditRefusedError extends TantalusError {
  constructor(
    readonly refused: readonly { name: string; errors: readonly string[] }[],
    message: string,
  ) {
    super(message);
  }
}

/** REZ_USED_TIMESTAMP of the images: their epoch, not the time of the build. */
function epochSecondsOf(run: BuildRun): number {
  return Math.floor(run.mtime.getTime() / 1000);
}

/** An image's own layers: its top layer, and its repair layer when the audit asked for one. */
interface OwnLayers {
  top: TopLayer;
  repair?: WrittenLayer;
  topWritten: WrittenLayer;
}

/**
 * Step 5, capture and the image's own layers, still while the package layers
 * are written: the environment (captured by the workflow stage, as the audit
 * checked it, with the repair directories appended), the repair layer and
 * the top layer. Images are independent, so several go at once: each is a
 * chain of small file operations that would otherwise wait on each other.
 */
async function imageOwnLayersStep(
  run: BuildRun,
  resolves: ReadonlyMap<string, WorkflowResolve>,
  audits: ReadonlyMap<string, AuditOutcome>,
  layers: PackageLayersInFlight,
): Promise<Map<string, OwnLayers>> {
  const memo = new StoreMemo<CapturedTop>(run.store, "environment-cache");
  const own = new Map<string, OwnLayers>();
  await mapLimit(run.targets, 4, async (name) => {
    const audit = audits.get(name);
    const top = await topLayer(resolves.get(name)!, {
      rootMap: run.rootMap,
      created: run.created,
      epochSeconds: epochSecondsOf(run),
      append: audit?.environment ?? [],
      memo,
      packageLayerKeys: (layers.plan.imageLayers.get(name) ?? []).map((k) => layers.prepared.get(k)?.cacheKey ?? ""),
    });
    let repair: WrittenLayer | undefined;
    if (audit?.repair && audit.repair.spec.entries.length > 0) {
      repair = await writeOneLayer(run.store, audit.repair.spec, {
        ...run.layerOpts,
        id: `repair:${name}`,
        kind: "repair",
        label: `${name}: repairs`,
        expectedBytes: 0,
        annotations: { [Label.LayerKind]: "repair" },
        comment: audit.repair.comment,
      });
    }
    const topWritten = await writeOneLayer(run.store, top.spec, {
      ...run.layerOpts,
      id: `top:${name}`,
      kind: "top",
      label: `${name}: environment, entrypoint, context`,
      expectedBytes: 0,
      annotations: { [Label.LayerKind]: "top" },
      comment: `${ENVIRONMENT_PATH}, entrypoint and context of workflow ${name}`,
    });
    own.set(name, { top, ...(repair ? { repair } : {}), topWritten });
  });
  return own;
}

/** The images written, in target order, and the tags that must move. */
interface BuiltImages {
  results: BuildResult[];
  retag: { name: string; descriptor: Descriptor; annotations: Record<string, string> }[];
}

/**
 * Step 6, once the package layers are there: each image's config and
 * manifest over base + planned package layers + repair + top, with its
 * labels. A planned layer whose variants have no files is left out (an empty
 * tar would only cost a layer) and reported.
 */
async function assembleImagesStep(
  run: BuildRun,
  resolves: ReadonlyMap<string, WorkflowResolve>,
  audits: ReadonlyMap<string, AuditOutcome>,
  own: ReadonlyMap<string, OwnLayers>,
  layers: PackageLayersInFlight,
  written: WrittenPackageLayers,
): Promise<BuiltImages> {
  const { store, created } = run;
  const { plan, base } = layers;
  const source = run.opts.source === false ? undefined : (run.opts.source ?? gitSource(run.config.dir));
  const tagged = new Map(
    (await store.readIndex()).manifests.map((d) => [d.annotations?.[Annotation.RefName], d.digest]),
  );
  const byName = new Map<string, BuildResult>();
  const retag: BuiltImages["retag"] = [];
  await mapLimit(run.targets, 4, async (name) => {
    const r = resolves.get(name)!;
    const audit = audits.get(name);
    const { top, repair, topWritten } = own.get(name)!;
    const imageLayers: NewLayer[] = [];
    const built: BuiltLayer[] = base.image.manifest.layers.map((l) => ({
      kind: "base",
      digest: l.digest,
      size: l.size,
      mediaType: l.mediaType,
      cached: false,
    }));
    const emptyLayers: string[][] = [];
    for (const key of plan.imageLayers.get(name) ?? []) {
      const w = written.get(key);
      const pl = plan.layers.get(key)!;
      if (!w) {
        emptyLayers.push(pl.variants.map((v) => v.qualifiedName));
        continue;
      }
      imageLayers.push({ layer: w.descriptor, createdBy: "tantalus build: rez variants", comment: w.comment });
      built.push({ ...describe(w), variants: pl.variants.map((v) => v.qualifiedName), tier: pl.tier });
    }
    if (repair) {
      imageLayers.push({
        layer: repair.descriptor,
        createdBy: "tantalus build: audit repairs",
        comment: repair.comment,
      });
      built.push(describe(repair));
    }
    imageLayers.push({
      layer: topWritten.descriptor,
      createdBy: "tantalus build: workflow environment",
      comment: topWritten.comment,
    });
    built.push(describe(topWritten));

    const labels = imageLabels({
      workflow: name,
      description: r.definition.description,
      request: r.context.request,
      implicitPackages: r.context.implicitPackages,
      resolve: resolveNames(r),
      contextDigest: top.contextDigest,
      created,
      source,
    });
    const ep = entrypointConfig(name);
    const image = await writeImage(store, {
      base: base.image,
      baseName: base.name,
      layers: imageLayers,
      config: { ...ep, Env: [...(ep.Env ?? []), ...top.configEnv], Labels: { ...ep.Labels, ...labels } },
      created,
      annotations: labels,
    });
    const short = `${name}:${image.descriptor.digest.slice(7, 19)}`;
    // A dev build's tag names its resolve (variants, roots, definitions), so another resolve gets another tag.
    const dev =
      run.devUser === undefined
        ? undefined
        : (run.opts.adHocTag ??
          devTag(
            name,
            run.devUser,
            shortHash(r.context.resolved.map((v) => [v.name, v.version, v.index, v.root, v.digest])),
          ));
    const ownTags = dev !== undefined ? [dev] : [short, name];
    const annotations: Record<string, string> = { [StoreAnnotation.Workflow]: name };
    if (run.devUser !== undefined) annotations[DEV_ANNOTATION] = run.devUser;
    for (const tag of ownTags) {
      // An unchanged rebuild leaves the index alone: retagging costs a lock and a durable write.
      if (tagged.get(tag) !== image.descriptor.digest)
        retag.push({ name: tag, descriptor: image.descriptor, annotations });
    }
    const size =
      image.descriptor.size + image.configDescriptor.size + image.manifest.layers.reduce((a, l) => a + l.size, 0);
    byName.set(name, {
      workflow: name,
      tag: ownTags[ownTags.length - 1]!,
      tags: dev !== undefined ? [dev] : [name, short],
      digest: image.descriptor.digest,
      descriptor: image.descriptor,
      size,
      layers: built,
      emptyLayers,
      base: {
        name: base.name,
        digest: base.image.manifestDescriptor.digest,
        layers: base.image.manifest.layers.length,
      },
      request: [...r.context.request],
      resolve: resolveNames(r),
      context: r.context,
      environment: top.environment,
      ...(audit ? { audit: { errors: audit.errors, warnings: audit.warnings } } : {}),
    });
  });
  return { results: run.targets.map((t) => byName.get(t)!), retag };
}

/**
 * Step 8, stamp: for each image tagged, what `tantalus run` checks with stats
 * alone before it trusts the image (stamp.ts): the configuration's key, the
 * repositories' observation and the install roots' fingerprints from the
 * planning walk, taken before any layer read them. A build a stamp cannot
 * vouch for (a saved context, other search paths) removes the old stamp.
 */
function stampStep(
  run: BuildRun,
  resolves: ReadonlyMap<string, WorkflowResolve>,
  built: BuiltImages,
  roots: FingerprintingMeasurer,
): void {
  const { store, stampKey, onEvent } = run;
  for (const res of built.results) {
    const r = resolves.get(res.workflow)!;
    // A dev build leaves the workflow's stamp as it is: it vouches for the workflow's own tag, which did not move.
    // An ad-hoc request's stamp vouches for its own tag (stampVerdict's `tag`).
    if (!store.readOnly && (run.devUser === undefined || run.opts.adHocTag !== undefined)) {
      if (stampKey !== undefined && r.origin === "resolved" && r.observation) {
        const payloads = r.variants.map((v) => ({
          variant: v.qualifiedName,
          root: v.root,
          fingerprint: roots.fingerprint(v.root),
        }));
        writeWorkflowStamp(store.metaDir, res.workflow, {
          ...stampKey,
          manifest: res.digest,
          observation: r.observation,
          payloads,
        });
      } else {
        removeWorkflowStamp(store.metaDir, res.workflow);
      }
    }
    onEvent({
      type: "image",
      workflow: res.workflow,
      tag: res.tag,
      digest: res.digest,
      layers: res.layers.length,
      size: res.size,
      ...(res.emptyLayers.length ? { emptyLayers: res.emptyLayers } : {}),
    });
  }
}

/**
 * Step 9, record: where this build's time went, kept under each image's
 * digest in the store's private area (build-record.ts) for `tantalus report`.
 */
function recordStep(run: BuildRun, built: BuiltImages, stats: BuildStats): void {
  const record: BuildRecord = {
    at: new Date().toISOString(),
    workflows: built.results.map((r) => r.workflow),
    seconds: {
      total: stats.seconds,
      resolve: stats.resolveSeconds,
      base: stats.baseSeconds,
      plan: stats.planSeconds,
      audit: stats.auditSeconds,
      layers: stats.layersSeconds,
      images: stats.imagesSeconds,
    },
    layersWritten: stats.layersWritten,
    layersReused: stats.layersReused,
    bytesArchived: stats.bytesArchived,
  };
  try {
    for (const res of built.results) writeBuildRecord(run.store, res.digest, record);
  } catch (err) {
    // Only the report reads it: the images are built and tagged either way.
    run.onEvent({ type: "warning", message: `the build's timings were not kept: ${(err as Error).message}` });
  }
}

/** What the build wrote and reused, and where its time went. */
function statsOf(run: BuildRun, written: WrittenPackageLayers, extra: readonly WrittenLayer[]): BuildStats {
  const all = [...[...written.values()].filter((w): w is WrittenLayer => w !== null), ...extra];
  const fresh = all.filter((w) => !w.cached);
  return {
    layers: all.length,
    layersWritten: fresh.length,
    layersReused: all.length - fresh.length,
    bytesArchived: fresh.reduce((a, w) => a + w.uncompressedSize, 0),
    bytesStored: fresh.reduce((a, w) => a + w.descriptor.size, 0),
    seconds: (performance.now() - run.started) / 1000,
    resolveSeconds: run.seconds.resolve,
    baseSeconds: run.seconds.base,
    planSeconds: run.seconds.plan,
    auditSeconds: run.seconds.audit,
    layersSeconds: run.seconds.layers,
    imagesSeconds: run.seconds.images,
  };
}

function describe(w: WrittenLayer): BuiltLayer {
  return {
    kind: w.kind,
    digest: w.descriptor.digest,
    diffId: w.descriptor.diffId,
    size: w.descriptor.size,
    mediaType: w.descriptor.mediaType,
    cached: w.cached,
  };
}

interface TopLayer {
  spec: LayerSpec;
  environment: string;
  contextDigest: string;
  /** Workflow variables for the config's Env ("KEY=value"). */
  configEnv: string[];
}

/**
 * The image's own layer: /etc/tantalus with the environment script, the
 * entrypoint and shell rc files (entrypoint.ts), the context and the
 * workflow definition.
 *
 * Workflow variables (tantalus.yaml `env`) go in the config's Env, where a
 * runtime's `-e` can still override them; those a package also sets must
 * come after the Rez environment, so they are appended to the script instead.
 */
async function topLayer(
  r: WorkflowResolve,
  opts: {
    rootMap: Readonly<Record<string, string>>;
    created: string;
    epochSeconds: number;
    append: NonNullable<AuditOutcome["environment"]>;
    memo: StoreMemo<CapturedTop>;
    /** Fingerprints of the package layers' content: commands' os.path questions are answered from it. */
    packageLayerKeys: readonly string[];
  },
): Promise<TopLayer> {
  const context = imageContextJson(r.context, opts.rootMap, opts.created);
  // The script is a function of the lock (package definitions included, by digest), of the packages'
  // files (commands may ask os.path about them) and these settings, so an unchanged workflow does not
  // run its packages' commands again.
  const key = memoKey("top/v3", {
    packageLayerKeys: opts.packageLayerKeys,
    context,
    rootMap: opts.rootMap,
    epochSeconds: opts.epochSeconds,
    wfEnv: Object.entries(r.definition.env).sort((a, b) => (a[0] < b[0] ? -1 : 1)),
    append: opts.append,
  });
  let captured = await opts.memo.get(key);
  if (!captured || typeof captured.environment !== "string" || !Array.isArray(captured.configEnv)) {
    // The environment the audit checked: the same capture, with the repair directories the audit asked for.
    const env = captureEnvironment(r, {
      rootMap: opts.rootMap,
      epochSeconds: opts.epochSeconds,
      additions: opts.append,
    });
    captured = { environment: env.script, configEnv: env.configEnv };
    await opts.memo.put(key, captured);
  }
  const spec: LayerSpec = {
    entries: [
      ...entrypointLayerEntries(r.name, captured.environment),
      { type: "file", path: CONTEXT_PATH, content: context, mode: 0o644 },
      {
        type: "file",
        path: WORKFLOW_DEFINITION_PATH,
        content: workflowDefinitionYaml(r.name, r.definition),
        mode: 0o644,
      },
    ],
  };
  return { spec, environment: captured.environment, contextDigest: sha256(context), configEnv: captured.configEnv };
}

interface CapturedTop {
  environment: string;
  configEnv: string[];
}

/** The git remote and commit of the configuration's checkout, when it is one. */
function gitSource(dir: string): { url?: string; revision?: string } | undefined {
  // Two git processes cost more than an unchanged rebuild's whole image step: ask only inside a checkout.
  if (!insideGitCheckout(dir)) return undefined;
  const git = (args: string[]) => {
    const p = spawnSync("git", ["-C", dir, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    return p.status === 0 ? p.stdout.trim() : undefined;
  };
  const revision = git(["rev-parse", "--verify", "-q", "HEAD"]);
  if (!revision) return undefined;
  const url = git(["config", "--get", "remote.origin.url"]);
  return url ? { url: redactUrl(url), revision } : { revision };
}

function insideGitCheckout(dir: string): boolean {
  for (let d = resolvePath(dir); ; d = dirname(d)) {
    if (existsSync(join(d, ".git"))) return true;
    if (dirname(d) === d) return false;
  }
}

/** https://user:token@host/x → https://host/x: a label must never carry a credential. */
function redactUrl(url: string): string {
  return url.replace(/^([a-z+]+:\/\/)[^@/]+@/i, "$1");
}
