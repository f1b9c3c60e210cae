/**
 * Gathers the report's data by calling the stages exactly as their own
 * commands do: one `resolveWorkflows` for the studio (what `plan` and `build`
 * resolve), `planStudio` over it, the library audit of each shown workflow
 * with `--suggest`'s fix list, and the store's images read-only.
 */
import fs from "node:fs";
import path from "node:path";
import { TantalusError } from "../errors.js";
import type { LoadedConfig } from "../config/index.js";
import type { Repositories } from "../rez/repository/index.js";
import { resolveWorkflows, solveWorkflow } from "../workflow/resolve.js";
import { captureEnvironment, type CapturedEnvironment } from "../workflow/environment.js";
import { planStudio } from "../plan/studio.js";
import { auditResolve, auditCacheDir, type BaseImage, type WorkflowAudit } from "../audit/workflow/index.js";
import type { FileFacts } from "../linker/linker.js";
import { SonameIndex, suggestRepairs, type Suggestion } from "../audit/suggest.js";
import { OciStore } from "../image/layout/store.js";
import { imageFacts, listStoredImages } from "../builder/inventory.js";
import { inspectStoredImage, type InspectedImage } from "../builder/stored.js";
import { readBuildRecord, type BuildRecord } from "../builder/build-record.js";
import { drawGraphsAside } from "./layout.js";
import { GraphLayoutCache } from "./layout-cache.js";
import { cachePath } from "../locations.js";
import {
  reportData,
  resolveGraph,
  storeHistory,
  type HistoryEntry,
  type ReportData,
  type ResolveGraph,
  type StoredBuilds,
} from "./data.js";

export interface CollectOptions {
  repos: Repositories;
  /** Workflows whose images, graphs and audits to show (the plan is always the whole studio's); default all. */
  workflows?: readonly string[];
  baseLayers: { count: number; source: string };
  /** The audit's base image, or why there is none (the audit page then says so). */
  base: BaseImage | { unavailable: string };
  /** The two-base migration report, when given (`audit --base A --base B --json`, or any JSON). */
  migration?: unknown;
  /** Where resolve graph drawings are kept between reports (default `<cache>/report/graph-layouts.json`). */
  layoutCache?: string;
}

export interface CollectResult {
  data: ReportData;
  /** Workflows that could not be audited, each with why. */
  notAudited: { workflow: string; message: string }[];
  seconds: { resolve: number; plan: number; audit: number; store: number };
}

export async function collectReport(config: LoadedConfig, opts: CollectOptions): Promise<CollectResult> {
  const resolved = resolveWorkflows(config, undefined, { repos: opts.repos });
  const shown = new Set(opts.workflows?.length ? opts.workflows : Object.keys(config.workflows));
  // Graphs drawn by an earlier report are taken as they are; the others are drawn on a worker thread while
  // this one plans and audits (the drawing needs no plan id).
  const layouts = GraphLayoutCache.open(opts.layoutCache ?? path.join(cachePath("report"), "graph-layouts.json"));
  const kept = new Map<string, string>();
  const toDraw: ResolveGraph[] = [];
  for (const r of resolved.resolves.values()) {
    if (!shown.has(r.name)) continue;
    const g = resolveGraph(r, (q) => q);
    const svg = layouts.get(g);
    if (svg !== undefined) kept.set(g.workflow, svg);
    else toDraw.push(g);
  }
  const drawn = drawGraphsAside(toDraw);
  const t1 = performance.now();
  const plan = planStudio(config, resolved, { baseLayers: opts.baseLayers.count, required: opts.workflows ?? [] });
  const t2 = performance.now();
  const rootMap = config.config.image.root_map;
  const environments = new Map<string, CapturedEnvironment>();
  for (const [name, r] of resolved.resolves)
    if (shown.has(name)) environments.set(name, captureEnvironment(r, { rootMap }));

  const audits: WorkflowAudit[] = [];
  const notAudited: CollectResult["notAudited"] = [];
  let suggestions: Suggestion[] = [];
  let auditSkipped: string | undefined;
  if ("unavailable" in opts.base) auditSkipped = opts.base.unavailable;
  else {
    const base = opts.base;
    // The workflows share most packages: each file's ELF headers are read once for all the audits.
    const sharedFacts = new Map<string, FileFacts>();
    for (const [name, r] of resolved.resolves) {
      if (!shown.has(name)) continue;
      try {
        // As `tantalus audit`: the configured repairs applied, no donors, no decoys.
        audits.push(
          auditResolve(config, r, base, { repairs: true, sharedFacts, environment: environments.get(name)! }),
        );
      } catch (e) {
        if (!(e instanceof TantalusError)) throw e;
        notAudited.push({ workflow: name, message: e.message });
      }
    }
    const index = new SonameIndex(opts.repos, path.join(auditCacheDir(), "soname-index.json"));
    index.save();
    suggestions = suggestRepairs(audits, { index, base, config });
  }
  const t3 = performance.now();

  const stored = new Map<string, InspectedImage>();
  const builds = new Map<string, BuildRecord>();
  let history: Record<string, HistoryEntry[]> = {};
  let storedBuilds: StoredBuilds | undefined;
  let storeDir: string | undefined;
  if (fs.existsSync(path.join(config.store, "oci-layout"))) {
    storeDir = config.store;
    const store = await OciStore.open(config.store, { readOnly: true });
    const listed = await listStoredImages(store);
    ({ history, builds: storedBuilds } = await storeHistory(listed, async (digest, tag) => {
      const descriptor = await store.resolve(digest);
      if (!descriptor)
        throw new TantalusError(`the store ${config.store} lists ${tag} (${digest}) but cannot resolve it`);
      return imageFacts(await store.loadImage(descriptor), tag);
    }));
    for (const name of shown) {
      const newest = listed.find((i) => i.workflow === name && !i.problem && i.role !== "base");
      if (!newest) continue;
      const inspected = await inspectStoredImage(store, newest.tag);
      stored.set(name, inspected);
      const record = readBuildRecord(store, inspected.digest);
      if (record) builds.set(name, record);
    }
  }
  const t4 = performance.now();

  const shownResolves = new Map([...resolved.resolves].filter(([n]) => shown.has(n)));
  const data = reportData({
    configFile: config.file,
    resolved: { ...resolved, resolves: shownResolves, failed: resolved.failed.filter((f) => shown.has(f.workflow)) },
    plan,
    baseLayers: opts.baseLayers,
    environments,
    audits,
    ...(auditSkipped !== undefined ? { auditSkipped } : {}),
    suggestions,
    stored,
    builds,
    history,
    ...(storedBuilds ? { storedBuilds } : {}),
    ...(storeDir !== undefined ? { storeDir } : {}),
    ...(opts.migration !== undefined ? { migration: opts.migration } : {}),
  });
  data.images = data.images.filter((i) => shown.has(i.name));
  const svgs = new Map([...kept, ...(await drawn.finish())]);
  for (const g of toDraw) layouts.set(g, svgs.get(g.workflow)!);
  layouts.save();
  for (const g of data.graphs) {
    const svg = svgs.get(g.workflow);
    if (svg !== undefined) g.svg = svg;
  }
  // A workflow that failed on a conflict: solved again (only these) for the solver's chains, which the message flattens.
  for (const f of data.failed) {
    const failure = solveWorkflow(config, f.workflow, { repos: opts.repos }).result.failure;
    if (failure?.conflicts?.length) f.conflicts = failure.conflicts;
  }
  return {
    data,
    notAudited,
    seconds: {
      resolve: resolved.seconds,
      plan: (t2 - t1) / 1000,
      audit: (t3 - t2) / 1000,
      store: (t4 - t3) / 1000,
    },
  };
}
