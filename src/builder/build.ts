/**
 * `tantalus build`: workflows of tantalus.yaml → OCI images in the local store.
 *
 *   resolve (or load a saved context) → layer plan of all workflows
 *   together → package layers (through the layer cache, on worker threads)
 *   ‖ base image → audit → per-image repair and top layers
 *   → config + manifest → tags
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
import { userInfo } from "node:os";
import { dirname, join, resolve as resolvePath } from "node:path";
import type { LoadedConfig } from "../config/index.js";
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
import { rootMapper } from "../rex/interpret.js";
import { ENVIRONMENT_PATH, TANTALUS_DIR, entrypointConfig, entrypointLayerEntries } from "../run/entrypoint.js";
import type { ResolvedContext } from "../context/context.js";
import type { AuditGate, AuditOutcome } from "./audit-gate.js";
import { expectedBaseLayers, rememberBaseLayers, resolveBaseImage, type BaseImage } from "./base.js";
import { captureEnvironment, imageContextJson, workflowDefinitionYaml } from "./environment.js";
import { ignoreEvents, type BuildEventSink, type LayerKind } from "./events.js";
import { Label, imageLabels } from "./labels.js";
import {
  defaultJobs,
  mapLimit,
  preparePackageLayers,
  writeOneLayer,
  writePackageLayers,
  type PackageLayerCounts,
  type WrittenLayer,
} from "./layers.js";
import { AuditCache, auditCacheKey } from "./audit-cache.js";
import { FingerprintingMeasurer } from "./fingerprint.js";
import { StoreMemo, memoKey } from "./memo.js";
import { planBuild, type BuildPlan } from "./plan.js";
import { removeWorkflowStamp, stampKeyOf, writeWorkflowStamp } from "./stamp.js";
import {
  differsFromConfigured,
  implicitPackagesOf,
  openBuildRepositories,
  resolveWorkflow,
  workflowFromContext,
  type ResolveSettings,
  type WorkflowResolve,
} from "./resolve.js";
import { requireInstallRoots } from "../context/context.js";
import { DEV_ANNOTATION, devTag, shortHash } from "../run/dev-tag.js";

export const CONTEXT_PATH = `${TANTALUS_DIR}/context.json`;
export const WORKFLOW_DEFINITION_PATH = `${TANTALUS_DIR}/workflow.yaml`;

export interface BuildOptions extends ResolveSettings {
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
  /** The library audit (see audit-gate.ts); none when omitted. */
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
   * (src/run/dev-tag.ts), never the workflow's own tags, and no stamp is written or removed. Implied
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

/** Build `names` (empty: every workflow) into the store. */
export async function buildWorkflows(
  config: LoadedConfig,
  names: readonly string[],
  opts: BuildOptions = {},
): Promise<BuildReport> {
  const started = performance.now();
  const onEvent = opts.onEvent ?? ignoreEvents;
  const all = Object.keys(config.workflows).sort();
  if (all.length === 0) throw new UsageError(`${config.displayFile} defines no workflows`);
  let targets = names.length > 0 ? [...new Set(names)] : all;
  const failed: BuildFailure[] = [];
  const firstError: TantalusError[] = [];
  /** With keepGoing, `name` is reported and left out; else the build stops. */
  const fail = (name: string, err: unknown) => {
    if (!opts.keepGoing || !(err instanceof TantalusError) || err instanceof UsageError) throw err;
    failed.push({ workflow: name, message: err.message });
    firstError.push(err);
  };
  // One workflow that failed is its own error, as without keepGoing.
  const noneLeft = () =>
    failed.length === 1
      ? firstError[0]!
      : new TantalusError(
          `no workflow could be built:\n${failed.map((f) => `${f.workflow}: ${f.message}`.replace(/\n/g, "\n  ")).join("\n")}`,
        );
  if (opts.contextFile !== undefined && targets.length !== 1) {
    throw new UsageError("--context builds one saved resolve: name exactly one WORKFLOW (its definition and tag)");
  }
  for (const t of targets) {
    if (!isValidRefName(t))
      throw new UsageError(
        `workflow name ${JSON.stringify(t)} cannot be an image tag: it must start with a letter or digit`,
      );
  }

  // zstd is an optional package: say so before any work rather than from a layer worker.
  checkCompressionAvailable(
    opts.compression ?? config.config.image.compression,
    opts.compression !== undefined
      ? `--compression ${opts.compression}`
      : `image.compression: ${config.config.image.compression} in ${config.displayFile}`,
  );

  // Opened before resolving: a store this user cannot write (a shared one) is refused before any work.
  const store = opts.store instanceof OciStore ? opts.store : await OciStore.open(opts.store ?? config.store);

  // A resolve other than the configured one gets a dev tag, and leaves the workflow's tags and stamp alone.
  const devUser =
    opts.devUser ?? (differsFromConfigured(opts) || opts.adHocTag !== undefined ? currentUserName() : undefined);
  // Taken before resolving, so a configuration edited during the build fails the stamp next time.
  const key = devUser === undefined ? stampKeyOf(config.files) : undefined;

  // 1. Resolves: the targets, and every other workflow for the studio-wide plan.
  onEvent({
    type: "step",
    message: opts.contextFile ? `loading context ${opts.contextFile}` : `resolving ${all.length} workflow(s)`,
  });
  const tResolve = performance.now();
  const implicit = implicitPackagesOf(config, opts);
  let repos: ReturnType<typeof openBuildRepositories> | undefined;
  const reposOnce = () => (repos ??= openBuildRepositories(config, opts));
  const resolves = new Map<string, WorkflowResolve>();
  for (const name of targets) {
    try {
      const r =
        opts.contextFile !== undefined
          ? workflowFromContext(config, name, opts.contextFile)
          : resolveWorkflow(config, name, reposOnce(), implicit, opts.timestamp);
      // As --context refuses a lock whose roots are gone: an image without its payloads has empty package layers.
      requireInstallRoots(r.variants, `workflow ${name}`);
      resolves.set(name, r);
    } catch (e) {
      fail(name, e);
    }
  }
  if (failed.length > 0) {
    targets = targets.filter((t) => resolves.has(t));
    if (targets.length === 0) throw noneLeft();
  }
  for (const name of all) {
    if (resolves.has(name) || failed.some((f) => f.workflow === name)) continue;
    try {
      resolves.set(name, resolveWorkflow(config, name, reposOnce(), implicit, opts.timestamp));
    } catch (e) {
      onEvent({ type: "warning", message: `${(e as Error).message} (left out of the layer plan)` });
    }
  }
  repos?.saveCaches();
  for (const name of targets) {
    const r = resolves.get(name)!;
    if (r.origin !== "resolved" && r.context.request.join(" ") !== r.definition.request.join(" ")) {
      onEvent({
        type: "warning",
        message: `${r.origin} was resolved for "${r.context.request.join(" ")}", workflow ${name} requests "${r.definition.request.join(" ")}"; building the context`,
      });
    }
  }
  const resolveSeconds = (performance.now() - tResolve) / 1000;

  // 2. Store, times, compression.
  const epoch = sourceDateEpoch();
  const mtime = epoch ?? DEFAULT_LAYER_MTIME;
  const created = epoch ? rfc3339(epoch) : DEFAULT_CREATED;
  const compression = opts.compression ?? config.config.image.compression;
  const rootMap = config.config.image.root_map;
  const mapPath = rootMapper(rootMap);
  const layerOpts = {
    compression,
    ...(opts.level !== undefined ? { level: opts.level } : {}),
    mtime,
    jobs: opts.jobs ?? defaultJobs(),
    verify: opts.verify === true,
    workers: opts.workers !== false,
    onEvent,
  };
  const baseSpec = config.config.base.image;
  const obtainBase = () =>
    resolveBaseImage(store, baseSpec, {
      ...layerOpts,
      created,
      ...(opts.registry ? { registry: opts.registry } : {}),
      demoLibraries: config.config.audit.allow_system,
      configDir: config.dirOf(["base", "image"]),
    });

  // 3. The plan of every workflow together, and what the targets' package
  //    layers hold with their cache keys (a metadata walk, nothing read). The
  //    budget counts the base's layers: when that count is known beforehand
  //    (the demo base has one; another base as many as last time), the
  //    package layers are planned and started first, and the base is obtained
  //    while the layer workers write them.
  const roots = new FingerprintingMeasurer();
  let planSeconds = 0;
  const planFor = (baseLayers: number) => {
    onEvent({ type: "step", message: `planning layers of ${resolves.size} workflow image(s)` });
    const tPlan = performance.now();
    const plan = planBuild(
      config,
      [...resolves.values()].map((r) => ({
        name: r.name,
        variants: r.variants,
        ...(r.lateRequires ? { lateRequires: r.lateRequires } : {}),
      })),
      // Two layers above the plan (top, and a repair layer when the audit asks for one) whether or not
      // this build audits, so the plan, hence every image, is the same either way.
      { measurer: roots, baseLayers, reservedTop: 2 },
    );
    for (const message of plan.warnings) onEvent({ type: "warning", message });
    const needed = new Set(targets.flatMap((t) => plan.imageLayers.get(t) ?? []));
    const neededLayers = plan.plan.layers.filter((l) => needed.has(l.key)).map((l) => plan.layers.get(l.key)!);
    const prepared = preparePackageLayers(neededLayers, rootMap, roots);
    planSeconds += (performance.now() - tPlan) / 1000;
    return { plan, neededLayers, prepared };
  };
  let tLayers = 0;
  let layersSeconds = 0;
  // When the build fails meanwhile (the base, the audit), no further layer is started.
  const layersStopped = new AbortController();
  const startLayers = (planned: ReturnType<typeof planFor>) => {
    tLayers = performance.now();
    // Said once the layer cache was asked, so the numbers are those the summary adds up.
    const onCounts = (c: PackageLayerCounts) => {
      const also = [
        c.reused > 0 ? `${c.reused} reused from the layer cache` : "",
        c.empty > 0 ? `${c.empty} left out (no files)` : "",
      ].filter(Boolean);
      onEvent({
        type: "step",
        message: `writing ${c.toWrite} package layer(s) (${compression}${opts.level !== undefined ? ` level ${opts.level}` : ""}) into ${store.dir}${also.length ? `; ${also.join(", ")}` : ""}`,
      });
    };
    const writing = writePackageLayers(store, planned.prepared, {
      ...layerOpts,
      signal: layersStopped.signal,
      onCounts,
    }).then((w) => {
      layersSeconds = (performance.now() - tLayers) / 1000;
      return w;
    });
    writing.catch(() => undefined); // awaited below, also when something on this thread fails first
    return writing;
  };

  const expected = await expectedBaseLayers(store, baseSpec);
  let planned = expected !== undefined ? planFor(expected) : undefined;
  let packageLayers = planned ? startLayers(planned) : undefined;
  /** When this thread fails: no further layer is started, and those being written finish first. */
  const stopLayers = async () => {
    layersStopped.abort();
    await Promise.allSettled([packageLayers]);
  };
  const tBase = performance.now();
  let base: BaseImage;
  try {
    base = await obtainBase();
    if (base.image.manifest.layers.length !== expected)
      await rememberBaseLayers(store, baseSpec, base.image.manifest.layers.length);
  } catch (e) {
    await stopLayers();
    throw e;
  }
  const baseSeconds = (performance.now() - tBase) / 1000;
  if (!planned || base.image.manifest.layers.length !== expected) {
    // Planned for another count (the base changed since the last build): the layers written meanwhile
    // stay in the layer cache, and the plan for the real count reuses those it shares.
    await Promise.allSettled([packageLayers]);
    planned = planFor(base.image.manifest.layers.length);
    packageLayers = startLayers(planned);
  }
  const { plan, prepared } = planned;

  // 4. The audit, while the package layers are written: a refused image is
  //    not tagged, no further layer is started, and those written stay in the
  //    layer cache for the build that follows the fix. An image whose content
  //    did not change keeps its earlier outcome.
  const tAudit = performance.now();
  const audits = new Map<string, AuditOutcome>();
  try {
    if (opts.audit) {
      onEvent({ type: "step", message: `auditing ${targets.length} image(s)` });
      const cache = new AuditCache(store);
      const settings = {
        audit: config.config.audit,
        packages: config.config.packages,
        rootMap,
        gate: opts.audit.settings ?? null,
      };
      const refused: string[] = [];
      for (const name of targets) {
        const r = resolves.get(name)!;
        const key = auditCacheKey({
          workflow: name,
          baseDigest: base.image.manifestDescriptor.digest,
          layerKeys: (plan.imageLayers.get(name) ?? []).map((k) => prepared.get(k)?.cacheKey ?? ""),
          contextDigest: sha256(imageContextJson(r.context, rootMap, created)),
          // The mount targets too: the host-leak check accepts paths under them, so a mount added to
          // tantalus.yaml must not find the refusal remembered from before it.
          settings: { ...settings, mounts: [...r.definition.mounts, ...config.config.run.mounts].map((m) => m.target) },
        });
        let outcome = await cache.get(key);
        if (!outcome) {
          outcome = await opts.audit({
            workflow: name,
            variants: r.variants,
            context: r.context,
            base: base.image,
            store,
            imagePath: mapPath,
          });
          await cache.put(key, outcome);
        }
        audits.set(name, outcome);
        for (const w of outcome.warnings) onEvent({ type: "warning", message: `${name}: ${w}` });
        if (outcome.errors.length > 0) {
          if (opts.allowAuditErrors)
            for (const e of outcome.errors)
              onEvent({ type: "warning", message: `${name}: ${e} (allowed by --allow-audit-errors)` });
          else refused.push(`${name}:\n${outcome.errors.map((e) => `  ${e}`).join("\n")}`);
        }
      }
      if (refused.length > 0 && opts.keepGoing && refused.length < targets.length) {
        // The others are built; each refused one is reported with its errors.
        for (const text of refused) {
          const name = text.slice(0, text.indexOf(":\n"));
          failed.push({
            workflow: name,
            message: `the audit found errors, so its image was not written ("tantalus audit --suggest" prints the fix list):${text.slice(name.length + 1)}`,
          });
        }
        targets = targets.filter((t) => !failed.some((f) => f.workflow === t));
      } else if (refused.length > 0) {
        throw new TantalusError(
          `the audit found errors, so no image was written ("tantalus build --allow-audit-errors" writes them anyway; "tantalus audit --suggest" prints the fix list for tantalus.yaml that repairs them):\n${refused.join("\n")}`,
        );
      }
    }
  } catch (e) {
    await stopLayers();
    throw e;
  }
  const auditSeconds = (performance.now() - tAudit) / 1000;

  // 5. Per image, still while the package layers are written: the captured
  // environment, the repair and top layers; then, once the package layers are
  // there, config, manifest, tags. Images are independent, so several go at
  // once: each is a chain of small file operations that would otherwise wait
  // on each other.
  const tImages = performance.now();
  const byName = new Map<string, BuildResult>();
  const extra: WrittenLayer[] = [];
  const source = opts.source === false ? undefined : (opts.source ?? gitSource(config.dir));
  const topMemo = new StoreMemo<CapturedTop>(store, "environment-cache");
  const own = new Map<string, { top: TopLayer; repair?: WrittenLayer; topWritten: WrittenLayer }>();
  const retag: { name: string; descriptor: Descriptor; annotations: Record<string, string> }[] = [];
  try {
    await mapLimit(targets, 4, async (name) => {
      const r = resolves.get(name)!;
      const audit = audits.get(name);
      const top = await topLayer(r, {
        rootMap,
        created,
        epochSeconds: Math.floor(mtime.getTime() / 1000),
        append: audit?.environment ?? [],
        memo: topMemo,
      });
      let repair: WrittenLayer | undefined;
      if (audit?.repair && audit.repair.spec.entries.length > 0) {
        repair = await writeOneLayer(store, audit.repair.spec, {
          ...layerOpts,
          id: `repair:${name}`,
          kind: "repair",
          label: `${name}: repairs`,
          expectedBytes: 0,
          annotations: { [Label.LayerKind]: "repair" },
          comment: audit.repair.comment,
        });
      }
      const topWritten = await writeOneLayer(store, top.spec, {
        ...layerOpts,
        id: `top:${name}`,
        kind: "top",
        label: `${name}: environment, entrypoint, context`,
        expectedBytes: 0,
        annotations: { [Label.LayerKind]: "top" },
        comment: `${ENVIRONMENT_PATH}, entrypoint and context of workflow ${name}`,
      });
      own.set(name, { top, ...(repair ? { repair } : {}), topWritten });
    });
  } catch (e) {
    await stopLayers();
    throw e;
  }
  const written = await packageLayers!;
  const tagged = new Map(
    (await store.readIndex()).manifests.map((d) => [d.annotations?.[Annotation.RefName], d.digest]),
  );

  await mapLimit(targets, 4, async (name) => {
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
      if (!w) {
        // Its variants have no files (their install roots do not exist): an empty tar would only cost a layer.
        emptyLayers.push(plan.layers.get(key)!.variants.map((v) => v.qualifiedName));
        continue;
      }
      const pl = plan.layers.get(key)!;
      imageLayers.push({ layer: w.descriptor, createdBy: "tantalus build: rez variants", comment: w.comment });
      built.push({ ...describe(w), variants: pl.variants.map((v) => v.qualifiedName), tier: pl.tier });
    }
    if (repair) {
      extra.push(repair);
      imageLayers.push({
        layer: repair.descriptor,
        createdBy: "tantalus build: audit repairs",
        comment: repair.comment,
      });
      built.push(describe(repair));
    }
    extra.push(topWritten);
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
      resolve: r.variants.map((v) => v.qualifiedName),
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
      devUser === undefined
        ? undefined
        : (opts.adHocTag ??
          devTag(
            name,
            devUser,
            shortHash(r.context.resolved.map((v) => [v.name, v.version, v.index, v.root, v.digest])),
          ));
    const ownTags = dev !== undefined ? [dev] : [short, name];
    const annotations: Record<string, string> = { [StoreAnnotation.Workflow]: name };
    if (devUser !== undefined) annotations[DEV_ANNOTATION] = devUser;
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
      resolve: r.variants.map((v) => v.qualifiedName),
      context: r.context,
      environment: top.environment,
      ...(audit ? { audit: { errors: audit.errors, warnings: audit.warnings } } : {}),
    });
  });
  // Every tag of the build in one update of index.json.
  await store.tagMany(retag);
  const results = targets.map((t) => byName.get(t)!);
  for (const res of results) {
    const r = resolves.get(res.workflow)!;
    // A dev build leaves the workflow's stamp as it is: it vouches for the workflow's own tag, which did not move.
    if (!store.readOnly && devUser === undefined) {
      if (key !== undefined && r.origin === "resolved" && r.observation) {
        // The roots' fingerprints from the planning walk, taken before any layer read them (the layer cache keys).
        const payloads = r.variants.map((v) => ({
          variant: v.qualifiedName,
          root: v.root,
          fingerprint: roots.fingerprint(v.root),
        }));
        writeWorkflowStamp(store.metaDir, res.workflow, {
          ...key,
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
  const imagesSeconds = (performance.now() - tImages) / 1000;

  const all_written = [...[...written.values()].filter((w): w is WrittenLayer => w !== null), ...extra];
  const fresh = all_written.filter((w) => !w.cached);
  const stats: BuildStats = {
    layers: all_written.length,
    layersWritten: fresh.length,
    layersReused: all_written.length - fresh.length,
    bytesArchived: fresh.reduce((a, w) => a + w.uncompressedSize, 0),
    bytesStored: fresh.reduce((a, w) => a + w.descriptor.size, 0),
    seconds: (performance.now() - started) / 1000,
    resolveSeconds,
    baseSeconds,
    planSeconds,
    auditSeconds,
    layersSeconds,
    imagesSeconds,
  };
  return { store, results, failed, stats, plan, base };
}

/** Who a dev build is for: the login name (sudo's user under sudo), as the run's identity names it. */
function currentUserName(): string {
  const sudo = process.getuid?.() === 0 ? process.env.SUDO_USER : undefined;
  if (sudo) return sudo;
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? "user";
  }
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
 * entrypoint and shell rc files (src/run/entrypoint.ts), the context and the
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
  },
): Promise<TopLayer> {
  const context = imageContextJson(r.context, opts.rootMap, opts.created);
  const wfEnv = Object.entries(r.definition.env).sort((a, b) => (a[0] < b[0] ? -1 : 1));
  // The script is a function of the lock (package definitions included, by digest) and these settings,
  // so an unchanged workflow does not run its packages' commands again.
  const key = memoKey("top/v1", {
    context,
    rootMap: opts.rootMap,
    epochSeconds: opts.epochSeconds,
    wfEnv,
    append: opts.append,
  });
  let captured = await opts.memo.get(key);
  if (!captured || typeof captured.environment !== "string" || !Array.isArray(captured.configEnv)) {
    captured = captureTop(r, wfEnv, opts);
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

function captureTop(
  r: WorkflowResolve,
  wfEnv: [string, string][],
  opts: {
    rootMap: Readonly<Record<string, string>>;
    epochSeconds: number;
    append: NonNullable<AuditOutcome["environment"]>;
  },
): CapturedTop {
  const plain = captureEnvironment({
    context: r.context,
    variants: r.variants,
    rootMap: opts.rootMap,
    epochSeconds: opts.epochSeconds,
  });
  const overrides = wfEnv.filter(([k]) => k in plain.environ);
  const env =
    overrides.length > 0
      ? captureEnvironment({
          context: r.context,
          variants: r.variants,
          rootMap: opts.rootMap,
          epochSeconds: opts.epochSeconds,
          overrides,
        })
      : plain;
  // The audit's repair directories go after everything else: package directories keep precedence.
  const appended = opts.append
    .map((a) => `export ${a.name}="\${${a.name}:+\$${a.name}${a.separator}}${a.append.join(a.separator)}"\n`)
    .join("");
  const environment = appended ? `${env.script}\n# repaired libraries (library audit)\n${appended}` : env.script;
  return { environment, configEnv: wfEnv.filter(([k]) => !(k in plain.environ)).map(([k, v]) => `${k}=${v}`) };
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
