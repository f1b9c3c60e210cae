/**
 * The library audit as the build runs it (src/audit/build-gate.ts): the
 * build's own resolve (src/workflow, made once for the whole build) and base
 * image go through the same audit as `tantalus audit`; counted errors refuse
 * the image, the repair plan becomes the repair layer, and the repair
 * directories must be appended to the workflow's environment (`environment`
 * of the outcome).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { AuditGate, AuditInput, AuditOutcome } from "../build-gate.js";
import type { ResolvedImage } from "../../image/types.js";
import type { BlobReader } from "../../image/layout/interfaces.js";
import type { LayerSource } from "../../image/layer/spec.js";
import type { EnvAddition } from "../../workflow/environment.js";
import type { RepairPlan } from "../repair.js";
import { directoryBase, unpackForAudit, type BaseImage } from "./base.js";
import { auditResolve, type AuditConfig, type AuditFinding, type WorkflowAudit } from "./audit.js";

/** What the gate returns beyond the build's AuditOutcome: the repairs' environment, and the audit itself. */
export interface LibraryAuditOutcome extends AuditOutcome {
  /** Appended to the workflow's environment after the Rez environment and the workflow's own variables. */
  environment: EnvAddition[];
  audit: WorkflowAudit;
}

export interface LibraryAuditGateOptions {
  /** Donor directories for every package's system_libraries, searched before the base image. */
  donorDirs?: readonly string[];
}

export function libraryAuditGate(config: AuditConfig, opts: LibraryAuditGateOptions = {}): AuditGate {
  const bases = new Map<string, Promise<BaseImage>>();
  const gate: AuditGate = async (input: AuditInput): Promise<LibraryAuditOutcome> => {
    const digest = input.base.manifestDescriptor.digest;
    let base = bases.get(digest);
    if (!base) bases.set(digest, (base = unpackedBase(input.store, input.base)));
    // The build's own resolve, as the stage made it (add_requires and @late requires included): the
    // verdict is the one `tantalus audit` gives, over the environment the image ships.
    const audit = auditResolve(config, input.resolve, await base, {
      donorDirs: opts.donorDirs,
      epochSeconds: input.epochSeconds,
    });
    return outcomeOf(audit);
  };
  // The build caches outcomes by image content; donor directories are an input too.
  gate.settings = { donorDirs: (opts.donorDirs ?? []).map(directoryFingerprint) };
  return gate;
}

/** A donor directory as the audit sees it: its libraries' names, sizes and modification times. */
function directoryFingerprint(dir: string): { dir: string; files: [string, number, number][] } {
  let names: string[] = [];
  try {
    names = fs.readdirSync(dir).sort();
  } catch {
    // A missing donor directory donates nothing.
  }
  const files: [string, number, number][] = [];
  for (const n of names) {
    try {
      const st = fs.statSync(path.join(dir, n));
      if (st.isFile()) files.push([n, st.size, st.mtimeMs]);
    } catch {
      // a dangling link donates nothing
    }
  }
  return { dir: path.resolve(dir), files };
}

/** A stored image unpacked once under <cache>/audit/rootfs/<manifest digest>. */
export async function unpackedBase(store: BlobReader, image: ResolvedImage): Promise<BaseImage> {
  const digest = image.manifestDescriptor.digest;
  const { dest } = await unpackForAudit(store, image);
  return directoryBase(
    dest,
    `${image.manifestDescriptor.annotations?.["org.opencontainers.image.ref.name"] ?? "base image"} ${digest.slice(0, 19)}`,
  );
}

function line(f: AuditFinding): string {
  return `${f.package ?? "base image"}: ${f.kind}: ${f.message}`;
}

export function outcomeOf(audit: WorkflowAudit): LibraryAuditOutcome {
  const live = audit.findings.filter((f) => !f.ignored);
  const errors = live.filter((f) => f.severity === "error").map(line);
  const warnings = [
    ...live.filter((f) => f.severity === "warning").map(line),
    ...audit.repairs.unresolved.map((u) => `${u.package}: cannot repair ${u.soname}: ${u.reason}`),
  ];
  const outcome: LibraryAuditOutcome = { errors, warnings, environment: audit.repairs.envAdditions, audit };
  const repair = repairLayer(audit.repairs);
  if (repair) outcome.repair = repair;
  return outcome;
}

/** The repair layer's entries (one file per repaired library) and its history comment. */
export function repairLayer(plan: RepairPlan): AuditOutcome["repair"] {
  if (plan.layerFiles.length === 0) return undefined;
  const entries: LayerSource[] = plan.layerFiles.map((f) => ({
    type: "hostFile",
    source: f.hostSource,
    path: f.imagePath,
    mode: 0o755,
  }));
  const what = plan.layerFiles.map((f) => `${f.soname} for ${f.package}`).join(", ");
  return { spec: { entries }, comment: `repaired libraries: ${what}` };
}
