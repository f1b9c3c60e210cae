import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Requirement, Version } from "../rez/version/index.js";
import type { PackageSource } from "../rez/repository/index.js";
import { InputError } from "../errors.js";
import { writeFileAtomic } from "../util/atomic.js";
import {
  CONTEXT_FORMAT,
  contextSystem,
  qualifiedVariantName,
  toContextVariant,
  type PackageFilterPod,
  type ResolvedContext,
} from "./context.js";
import { VERSION } from "../version.js";

/** The Rez context serialisation this module reads and writes (ResolvedContext.serialize_version). */
const RXT_SERIALIZE_VERSION = "4.9";
/** The Rez release whose semantics Tantalus reproduces; Rez prints it for `rez-context`. */
const REZ_COMPAT_VERSION = "3.4.0";

interface RxtVariantHandle {
  key: string;
  variables: { index: number | null; location: string; name: string; repository_type: string; version: string };
}

/**
 * Writes a context as a Rez `.rxt` file that `rez-env --input` and `rez-context`
 * accept. Rez re-reads each variant from its repository through the handle, so the
 * package paths must be reachable where the file is used.
 */
export function toRxt(ctx: ResolvedContext): Record<string, unknown> {
  const createdEpoch = Math.floor(Date.parse(ctx.created) / 1000) || 0;
  // The platform resolved for, as Rez writes its system's (a lock without one: what its implicit packages name).
  const system = contextSystem(ctx);
  const orderers = ctx.packageOrderers ?? null;
  return {
    append_sys_path: true,
    arch: system.arch,
    building: ctx.building,
    caching: true,
    created: createdEpoch,
    default_patch_lock: "no_lock",
    failure_description: ctx.failure?.description ?? null,
    from_cache: false,
    graph: ctx.status === "solved" ? compactGraph(ctx) : null,
    host: os.hostname(),
    implicit_packages: ctx.implicitPackages,
    load_time: 0.0,
    num_loaded_packages: ctx.resolved.length,
    os: system.os,
    package_cache_async: true,
    package_caching: true,
    // What decided the resolve, as Rez records it: its filter's and orderers' POD forms (None for no orderers).
    package_filter: ctx.packageFilter ?? [],
    package_orderers: orderers && orderers.length > 0 ? orderers : null,
    package_paths: ctx.packagePaths,
    package_requests: ctx.request,
    parent_suite_path: null,
    patch_locks: {},
    platform: system.platform,
    requested_timestamp: ctx.timestamp,
    resolved_ephemerals: ctx.ephemerals,
    resolved_packages: ctx.resolved.map((v): RxtVariantHandle => ({
      key: "filesystem.variant",
      variables: {
        index: v.index,
        location: v.repository,
        name: v.name,
        repository_type: "filesystem",
        version: v.version,
      },
    })),
    rez_path: `tantalus ${VERSION}`,
    rez_version: REZ_COMPAT_VERSION,
    serialize_version: RXT_SERIALIZE_VERSION,
    solve_time: 0.0,
    status: ctx.status,
    suite_context_name: null,
    testing: false,
    timestamp: createdEpoch,
    user: os.userInfo().username,
  };
}

export function saveRxt(file: string, ctx: ResolvedContext): void {
  writeFileAtomic(file, JSON.stringify(toRxt(ctx), null, 4) + "\n");
}

/**
 * Reads a Rez `.rxt` and finds its variants in the repositories, giving a Tantalus
 * context. Handles saved relative to a bundle (`rez-bundle`) are made absolute
 * against the rxt's directory, as Rez does.
 */
export function importRxt(file: string, source: (paths: string[]) => PackageSource): ResolvedContext {
  let d: Record<string, unknown>;
  try {
    d = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
  } catch (err) {
    throw new InputError(`not a Rez context (.rxt is JSON): ${(err as Error).message}`, { file });
  }
  const need = (k: string) => {
    if (!(k in d)) throw new InputError(`not a Rez context: no "${k}" field`, { file });
    return d[k];
  };
  need("serialize_version");
  const status = need("status");
  if (status !== "solved" && status !== "failed") {
    throw new InputError(`Rez context status is '${String(status)}'; only solved or failed contexts can be imported`, {
      file,
    });
  }
  const packagePaths = (need("package_paths") as string[]).map(String);
  const handles = need("resolved_packages") as RxtVariantHandle[];
  const bundleDir = fs.existsSync(path.join(path.dirname(file), "bundle.yaml")) ? path.dirname(file) : undefined;
  const repos = source(packagePaths.map((p) => (bundleDir && !path.isAbsolute(p) ? path.join(bundleDir, p) : p)));
  const resolved = handles.map((h, i) => {
    const vars = h?.variables;
    if (!vars || typeof vars.name !== "string")
      throw new InputError(`resolved_packages[${i}] is not a variant handle`, { file });
    if (h.key !== "filesystem.variant") {
      throw new InputError(`resolved_packages[${i}]: repository type '${h.key}' is not supported (only filesystem)`, {
        file,
      });
    }
    const location = bundleDir && !path.isAbsolute(vars.location) ? path.join(bundleDir, vars.location) : vars.location;
    const family = repos.family(vars.name);
    const version = Version.parse(vars.version ?? "");
    const pkg =
      family?.find((p) => p.version.equals(version) && path.resolve(p.repository) === path.resolve(location ?? "")) ??
      family?.find((p) => p.version.equals(version));
    const q = qualifiedVariantName({ name: vars.name, version: vars.version, index: vars.index });
    if (!pkg) throw new InputError(`resolved package ${q} is not found in ${location}`, { file });
    const variant = pkg.variants.find((v) => v.index === vars.index);
    if (!variant) throw new InputError(`resolved package ${q}: ${pkg.file} has no such variant`, { file });
    return toContextVariant(variant);
  });
  const created = typeof d.created === "number" ? new Date(d.created * 1000).toISOString() : new Date().toISOString();
  const requested = d.requested_timestamp;
  return {
    format: CONTEXT_FORMAT,
    // Rez made this resolve; Tantalus only read it.
    tool: { name: "rez", version: typeof d.rez_version === "string" ? d.rez_version : "unknown" },
    importedBy: { name: "tantalus", version: VERSION },
    request: (d.package_requests as string[] | undefined)?.map(String) ?? [],
    implicitPackages: (d.implicit_packages as string[] | undefined)?.map(String) ?? [],
    packagePaths,
    timestamp: typeof requested === "number" && requested > 0 ? requested : null,
    building: Boolean(d.building),
    status,
    ...(status === "failed"
      ? {
          failure: { kind: "rez", description: typeof d.failure_description === "string" ? d.failure_description : "" },
        }
      : {}),
    resolved,
    ephemerals: ((d.resolved_ephemerals as string[] | undefined) ?? []).map(String),
    created,
    ...rxtDecisions(d, file),
  };
}

/** What decided a Rez context besides its request: its package_filter, package_orderers and system. */
function rxtDecisions(d: Record<string, unknown>, file: string): Partial<ResolvedContext> {
  const out: Partial<ResolvedContext> = {};
  const filter = d.package_filter;
  if (filter !== undefined) {
    if (!Array.isArray(filter)) throw new InputError(`package_filter: expected a list of filters`, { file });
    out.packageFilter = filter.map((f: unknown, i): PackageFilterPod => {
      if (typeof f !== "object" || f === null || Array.isArray(f))
        throw new InputError(`package_filter[${i}]: expected a mapping of excludes/includes`, { file });
      const pod: PackageFilterPod = {};
      for (const k of ["excludes", "includes"] as const) {
        const v = (f as Record<string, unknown>)[k];
        if (v === undefined) continue;
        // Rez's from_pod takes one rule as a string too.
        const list = typeof v === "string" ? [v] : v;
        if (!Array.isArray(list) || list.some((r) => typeof r !== "string"))
          throw new InputError(`package_filter[${i}].${k}: expected a list of rules`, { file });
        pod[k] = list as string[];
      }
      return pod;
    });
  }
  const orderers = d.package_orderers;
  if (orderers !== undefined) {
    if (
      orderers !== null &&
      (!Array.isArray(orderers) || orderers.some((o) => typeof o !== "object" || o === null || Array.isArray(o)))
    )
      throw new InputError(`package_orderers: expected null or a list of orderers`, { file });
    out.packageOrderers = orderers as Record<string, unknown>[] | null;
  }
  const [platform, arch, osName] = [d.platform, d.arch, d.os];
  if (typeof platform === "string" && typeof arch === "string" && typeof osName === "string" && osName !== "")
    out.system = { platform, arch, os: osName };
  return out;
}

/**
 * Rez's compact resolve graph (`graph_utils.write_compacted`): request nodes, resolved
 * variant nodes and requirement nodes, with edges request -> variant -> requirement
 * -> variant. `rez-context --graph` reads it back.
 */
function compactGraph(ctx: ResolvedContext): string {
  let n = 0;
  const id = () => `_${++n}`;
  const byName = new Map<string, string>();
  const requestNodes: [string, string][] = [];
  const variantNodes: [string, string][] = [];
  const reqNodes: [string, string][] = [];
  const edges: [string, string][] = [];
  for (const r of ctx.request) requestNodes.push([id(), r]);
  for (const v of ctx.resolved) {
    const nid = id();
    variantNodes.push([nid, qualifiedVariantName(v)]);
    byName.set(v.name, nid);
  }
  for (const [nid, r] of requestNodes) {
    const name = safeName(r);
    const target = name === undefined ? undefined : byName.get(name);
    if (target) edges.push([nid, target]);
  }
  const reqIds = new Map<string, string>();
  for (const v of ctx.resolved) {
    const from = byName.get(v.name)!;
    for (const r of v.requires) {
      const name = safeName(r);
      if (name === undefined || r.startsWith("!") || r.startsWith("~")) continue;
      const target = byName.get(name);
      if (!target) continue;
      let rid = reqIds.get(r);
      if (!rid) {
        rid = id();
        reqIds.set(r, rid);
        reqNodes.push([rid, r]);
        edges.push([rid, target]);
      }
      edges.push([from, rid]);
    }
  }
  const tup = (pairs: [string, string][]) => "[" + pairs.map(([a, b]) => `('${a}', '${b}')`).join(", ") + "]";
  const nodes =
    `[((('fillcolor', '#FFFFAA'), ('fontsize', 10), ('style', 'filled,dashed')), ${tup(requestNodes)}), ` +
    `((('fillcolor', '#AAFFAA'), ('fontsize', 10), ('style', 'filled')), ${tup(variantNodes)}), ` +
    `((('fillcolor', '#F6F6F6'), ('fontsize', 10), ('style', 'filled,dashed')), ${tup(reqNodes)})]`;
  return `{'nodes': ${nodes}, 'edges': [((('arrowsize', '0.5'),), ${tup(edges)})]}`;
}

function safeName(req: string): string | undefined {
  try {
    return Requirement.parse(req).name;
  } catch {
    return undefined;
  }
}
