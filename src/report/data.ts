/**
 * What the web report shows, gathered from the same stages every command uses:
 * the workflow stage's resolves, the studio plan (`tantalus plan`'s, so the
 * build's), the library audit with its `--suggest` fix list, and the store's
 * images with their diffs. Plain data, so the pages are a pure function of it
 * and a test can compare a page with the command that computes the same thing.
 */
import type { WorkflowResolve, ResolvedWorkflows } from "../workflow/resolve.js";
import type { CapturedEnvironment } from "../workflow/environment.js";
import type { StudioPlan } from "../plan/studio.js";
import type { LayerPlan, Strategy } from "../plan/types.js";
import type { StudioReport } from "../plan/report.js";
import { studioReport } from "../plan/report.js";
import type { WorkflowAudit } from "../audit/workflow/audit.js";
import type { Suggestion } from "../audit/suggest.js";
import { suggestionsYaml } from "../audit/suggest.js";
import {
  compareImageFacts,
  type ImageDiff,
  type ImageFacts,
  type LayerSummary,
  type StoredImage,
} from "../builder/inventory.js";
import type { InspectedImage } from "../builder/stored.js";
import type { BuildRecord } from "../builder/build-record.js";

/** One resolved variant as a node of its workflow's resolve graph. */
export interface GraphNode {
  /** Qualified name, e.g. "usd-24.08[1]". */
  id: string;
  family: string;
  version: string;
  /** The plan's variant id, to find its layer. */
  planId: string;
  /** Requested by the workflow directly (an entry of its request or the implicit packages). */
  requested: boolean;
}

export interface ResolveGraph {
  workflow: string;
  request: string[];
  nodes: GraphNode[];
  /** From requirer to required, both node ids, as the solve saw the requirements (late requires evaluated, add_requires applied). */
  edges: { from: string; to: string; requirement: string }[];
  /** The graph drawn (renderGraphSvg), when it was drawn ahead of the pages (layout.ts). */
  svg?: string;
}

/** A requirement and, per package holding it, the chain up to the package the request named (the solver's). */
export interface RequirementChain {
  requirement: string;
  requiredBy: string[][];
}

export interface FailedResolve {
  workflow: string;
  message: string;
  /** The requirements that clash and who asked for each, when the solve failed on a conflict. */
  conflicts?: { dependency: RequirementChain; conflicting: RequirementChain }[];
}

/**
 * The conflicting chains of a failed resolve as a graph: the request, each
 * package on a chain, and the two requirements that clash. Every node but the
 * request is on the conflict, so every one is marked.
 */
export function conflictGraph(failed: FailedResolve): ResolveGraph {
  const nodes = new Map<string, GraphNode>();
  const edges: ResolveGraph["edges"] = [];
  const seen = new Set<string>();
  const node = (id: string, requested = false) => {
    if (!nodes.has(id)) nodes.set(id, { id, family: id, version: "", planId: "", requested });
  };
  const edge = (from: string, to: string, requirement: string) => {
    const key = `${from}\u0000${to}`;
    if (seen.has(key)) return;
    seen.add(key);
    edges.push({ from, to, requirement });
  };
  node("request", true);
  for (const c of failed.conflicts ?? []) {
    for (const side of [c.dependency, c.conflicting]) {
      node(side.requirement);
      if (side.requiredBy.length === 0) edge("request", side.requirement, side.requirement);
      for (const chain of side.requiredBy) {
        // The chain runs from the package holding the requirement up to the requested one: draw it top down.
        const path = ["request", ...[...chain].reverse(), side.requirement];
        path.forEach((id) => node(id));
        for (let i = 1; i < path.length; i++) edge(path[i - 1]!, path[i]!, path[i]!);
      }
    }
  }
  return { workflow: failed.workflow, request: [], nodes: [...nodes.values()], edges };
}

/** A planned image as the plan and the captured environment describe it, with its stored image when there is one. */
export interface ImageView {
  name: string;
  baseLayers: number;
  topLayers: number;
  /** Planned layer keys, bottom first. */
  layers: string[];
  packageBytes: number;
  /** Bytes of the planned layers no other image carries: what a node holding every other image still pulls for it. */
  ownBytes: number;
  /** Bytes of all its planned layers. */
  plannedBytes: number;
  /** The environment the image ships (captureEnvironment), as NAME=value lines. */
  environment: string[];
  /** The newest stored image of the workflow, inspected, when the store has one. */
  stored?: InspectedImage;
  /** Where the build that made the stored image spent its time, when the store kept it. */
  build?: BuildRecord;
}

export interface HistoryEntry {
  tag: string;
  digest: string;
  size: number;
  tagged?: string;
  created?: string;
  /** Against the previous image of the same workflow: what a node holding that one fetches, and the package changes. */
  change?: Pick<ImageDiff, "packages"> & { bytesToFetch: number; previous: string };
}

export interface ReportData {
  title: string;
  configFile: string;
  plan: LayerPlan;
  tierOf: Record<string, string>;
  /** Variant id → family, version and bytes, for the layers' package lists. */
  variants: Record<string, { name: string; bytes: number; files: number }>;
  reports: Record<Strategy, StudioReport>;
  baseLayers: { count: number; source: string };
  images: ImageView[];
  graphs: ResolveGraph[];
  failed: FailedResolve[];
  audits: WorkflowAudit[];
  /** Why there is no audit, when there is none (the base could not be loaded…). */
  auditSkipped?: string;
  suggestions: Suggestion[];
  suggestedYaml: string;
  history: Record<string, HistoryEntry[]>;
  /** Every build the history lists, for comparing any two of them in the page. */
  storedBuilds: StoredBuilds;
  storeDir?: string;
  /**
   * The two-base migration report (issue 19's), when one was given with --migration.
   * The audit's MigrationReport is laid out side by side; any other JSON is shown as it is.
   */
  migration?: unknown;
  warnings: string[];
}

export interface ReportInputs {
  title?: string;
  configFile: string;
  resolved: ResolvedWorkflows;
  plan: StudioPlan;
  baseLayers: { count: number; source: string };
  environments: Map<string, CapturedEnvironment>;
  audits: WorkflowAudit[];
  auditSkipped?: string;
  suggestions: Suggestion[];
  stored: Map<string, InspectedImage>;
  /** The build records of the stored images, by workflow (build-record.ts). */
  builds?: Map<string, BuildRecord>;
  history: Record<string, HistoryEntry[]>;
  storedBuilds?: StoredBuilds;
  storeDir?: string;
  migration?: unknown;
}

/** The resolve graph of one workflow: a node per resolved variant, an edge per requirement met in the resolve. */
export function resolveGraph(resolve: WorkflowResolve, planIdOf: (qualifiedName: string) => string): ResolveGraph {
  const byFamily = new Map(resolve.variants.map((v) => [v.name, v.qualifiedName]));
  const requested = new Set(
    [...resolve.request, ...resolve.implicitPackages].map((r) => r.replace(/^[~!]/, "").split(/[-=<>@#[ ]/)[0]),
  );
  const nodes: GraphNode[] = resolve.variants.map((v) => ({
    id: v.qualifiedName,
    family: v.name,
    version: v.package.version.toString(),
    planId: planIdOf(v.qualifiedName),
    requested: requested.has(v.name),
  }));
  const edges: ResolveGraph["edges"] = [];
  const seen = new Set<string>();
  for (const v of resolve.variants) {
    for (const r of resolve.requires.get(v.name) ?? v.requires) {
      const to = byFamily.get(r.name);
      if (r.conflict || r.weak || to === undefined || to === v.qualifiedName) continue;
      const key = `${v.qualifiedName}\u0000${to}`;
      if (seen.has(key)) continue;
      seen.add(key);
      edges.push({ from: v.qualifiedName, to, requirement: r.toString() });
    }
  }
  return { workflow: resolve.name, request: [...resolve.request], nodes, edges };
}

/** Joins the stages' outputs into the report's data. */
export function reportData(inputs: ReportInputs): ReportData {
  const shared = inputs.plan.strategies.shared.plan;
  const layerBytes = new Map(shared.layers.map((l) => [l.key, l]));
  const variants: ReportData["variants"] = {};
  const tierOf: Record<string, string> = {};
  const qualifiedToId = new Map<string, string>();
  for (const image of inputs.plan.input.images) {
    for (const v of image.variants) {
      const variant = inputs.plan.variants.get(v.id);
      variants[v.id] = { name: variant?.qualifiedName ?? v.id, bytes: v.bytes, files: v.files ?? 0 };
      tierOf[v.id] = v.tier;
      if (variant) qualifiedToId.set(variant.qualifiedName, v.id);
    }
  }
  const images: ImageView[] = shared.images.map((image) => {
    const own = image.layers.filter((k) => (layerBytes.get(k)?.images.length ?? 0) === 1);
    const env = inputs.environments.get(image.name);
    const view: ImageView = {
      name: image.name,
      baseLayers: image.baseLayers,
      topLayers: image.topLayers,
      layers: image.layers,
      packageBytes: image.packageBytes,
      ownBytes: own.reduce((s, k) => s + (layerBytes.get(k)?.bytes ?? 0), 0),
      plannedBytes: image.layers.reduce((s, k) => s + (layerBytes.get(k)?.bytes ?? 0), 0),
      environment: env ? Object.entries(env.environ).map(([k, v]) => `${k}=${v}`) : [],
    };
    const stored = inputs.stored.get(image.name);
    if (stored) view.stored = stored;
    const build = inputs.builds?.get(image.name);
    if (build) view.build = build;
    return view;
  });
  const reports = Object.fromEntries(
    (Object.keys(inputs.plan.strategies) as Strategy[]).map((s) => [s, studioReport(inputs.plan.strategies[s].plan)]),
  ) as Record<Strategy, StudioReport>;
  const graphs = [...inputs.resolved.resolves.values()].map((r) => resolveGraph(r, (q) => qualifiedToId.get(q) ?? q));
  const data: ReportData = {
    title: inputs.title ?? "Tantalus studio report",
    configFile: inputs.configFile,
    plan: shared,
    tierOf,
    variants,
    reports,
    baseLayers: inputs.baseLayers,
    images,
    graphs,
    failed: inputs.resolved.failed.map((f) => ({ workflow: f.workflow, message: f.message })),
    audits: inputs.audits,
    suggestions: inputs.suggestions,
    suggestedYaml: suggestionsYaml(inputs.suggestions),
    history: inputs.history,
    storedBuilds: inputs.storedBuilds ?? { builds: [], layers: {} },
    warnings: inputs.plan.warnings,
  };
  if (inputs.auditSkipped !== undefined) data.auditSkipped = inputs.auditSkipped;
  if (inputs.storeDir !== undefined) data.storeDir = inputs.storeDir;
  if (inputs.migration !== undefined) data.migration = inputs.migration;
  return data;
}

/** A stored build as the history page embeds it: its facts (ImageFacts) with its layers by digest. */
export interface StoredBuild extends Omit<ImageFacts, "layers" | "ref"> {
  tag: string;
  workflow: string;
  tagged?: string;
  created?: string;
  /** Layer digests, bottom first; StoredBuilds.layers describes each once. */
  layers: string[];
}

/** Every build of the history, each layer described once however many builds carry it. */
export interface StoredBuilds {
  /** By workflow, newest first within one, as the history lists them. */
  builds: StoredBuild[];
  layers: Record<string, Omit<LayerSummary, "digest">>;
}

/** A StoredBuild back as the ImageFacts compareImageFacts takes (what the page's script does too). */
export function factsOfBuild(all: StoredBuilds, build: StoredBuild): ImageFacts {
  const facts: ImageFacts = {
    ref: build.tag,
    digest: build.digest,
    workflow: build.workflow,
    packages: build.packages,
    layers: build.layers.map((d) => ({ digest: d as ImageFacts["digest"], ...all.layers[d]! })),
    env: build.env,
  };
  if (build.base !== undefined) facts.base = build.base;
  return facts;
}

/**
 * Each workflow's stored images, newest first, with what each one changed
 * against the one before it, and every build's facts for comparing any two.
 * Each image is read once (`facts`), however many comparisons it is part of.
 */
export async function storeHistory(
  listed: readonly StoredImage[],
  facts: (digest: string, tag: string) => Promise<ImageFacts>,
): Promise<{ history: Record<string, HistoryEntry[]>; builds: StoredBuilds }> {
  const history: Record<string, HistoryEntry[]> = {};
  const builds: StoredBuilds = { builds: [], layers: {} };
  const byWorkflow = new Map<string, StoredImage[]>();
  for (const i of listed) {
    if (!i.workflow || i.problem || i.role === "base") continue;
    const list = byWorkflow.get(i.workflow) ?? [];
    // One entry per manifest: a digest tagged twice (the workflow tag and its digest tag) is one build.
    if (!list.some((x) => x.digest === i.digest)) list.push(i);
    byWorkflow.set(i.workflow, list);
  }
  for (const [workflow, list] of byWorkflow) {
    // listStoredImages sorts newest tag first within a workflow.
    const read = await Promise.all(list.map((i) => facts(i.digest, i.tag)));
    const entries: HistoryEntry[] = [];
    for (let n = 0; n < list.length; n++) {
      const cur = list[n]!;
      const f = read[n]!;
      const entry: HistoryEntry = { tag: cur.tag, digest: cur.digest, size: cur.size };
      if (cur.tagged) entry.tagged = cur.tagged;
      if (cur.created) entry.created = cur.created;
      const prev = list[n + 1];
      if (prev) {
        const d = compareImageFacts(read[n + 1]!, f);
        entry.change = { packages: d.packages, bytesToFetch: d.layers.bytesToFetch, previous: prev.tag };
      }
      entries.push(entry);
      const build: StoredBuild = {
        tag: cur.tag,
        digest: f.digest,
        workflow,
        packages: f.packages,
        layers: f.layers.map((l) => l.digest),
        env: f.env,
      };
      if (f.base !== undefined) build.base = f.base;
      if (cur.tagged) build.tagged = cur.tagged;
      if (cur.created) build.created = cur.created;
      builds.builds.push(build);
      for (const { digest, ...rest } of f.layers) builds.layers[digest] = rest;
    }
    history[workflow] = entries;
  }
  return { history, builds };
}
