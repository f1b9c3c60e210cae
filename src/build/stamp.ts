/**
 * A workflow's stamp: proof, checkable with a few stat calls, that the image
 * under the workflow's tag is still what a build would make of the current
 * configuration and repositories. `tantalus run` checks it on every launch
 * and only resolves (and rebuilds) when it fails, so an unchanged workflow
 * starts without loading the solver or the configuration schema.
 *
 * The stamp holds a key over the inputs a resolve depends on besides the
 * repositories (the configuration file's bytes and path, the variables that
 * override it, the host facts behind Rez's implicit packages, the tool
 * version) and the repository observation of the resolve (observation.ts).
 * Written by the build only for a workflow it resolved itself, with no
 * overrides from the command line; anything else simply has no stamp.
 *
 * Light on purpose: node built-ins and the observation module only.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { observationHolds, pathStamp, type RepositoryObservation } from "../rez/repository/observation.js";
import type { OciStore } from "../image/layout/store.js";
import { writeFileAtomic } from "../util/atomic.js";
import { VERSION } from "../version.js";

interface StampFile {
  format: 1;
  workflow: string;
  key: string;
  /** The manifest digest the workflow's tag must still point at. */
  manifest: string;
  observation: RepositoryObservation;
}

function stampFile(metaDir: string, workflow: string): string {
  // Workflow names are image tags ([A-Za-z0-9_][A-Za-z0-9._-]*); anything else must not name a path.
  if (!/^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(workflow)) throw new Error(`not a workflow name: ${JSON.stringify(workflow)}`);
  return path.join(metaDir, "stamps", `${workflow}.json`);
}

/**
 * The key of everything but the repositories; undefined when a configuration
 * file cannot be read. `configFiles` are every file layer (the site file and
 * the project's), lowest first: an edit of either changes the workflow.
 */
export function stampKey(configFiles: readonly string[], env: NodeJS.ProcessEnv = process.env): string | undefined {
  const files: [string, string][] = [];
  for (const file of configFiles) {
    try {
      files.push([path.resolve(file), createHash("sha256").update(fs.readFileSync(file)).digest("hex")]);
    } catch {
      return undefined;
    }
  }
  const inputs = {
    tool: VERSION,
    config: files,
    packagesPath: env.TANTALUS_PACKAGES_PATH ?? null,
    sourceDateEpoch: env.SOURCE_DATE_EPOCH ?? null,
    // What hostSystem() reads to make the default ~platform/~arch/~os, without running lsb_release.
    host: [os.platform(), os.arch(), os.release(), pathStamp("/etc/lsb-release"), pathStamp("/etc/os-release")],
  };
  return createHash("sha256").update(JSON.stringify(inputs)).digest("hex");
}

export function writeWorkflowStamp(metaDir: string, workflow: string, stamp: { key: string; manifest: string; observation: RepositoryObservation }): void {
  const file = stampFile(metaDir, workflow);
  const text = JSON.stringify({ format: 1, workflow, ...stamp } satisfies StampFile);
  // An unchanged rebuild leaves the stamp alone: each write is an fsync'd rename.
  try {
    if (fs.readFileSync(file, "utf8") === text) return;
  } catch {
    // no stamp yet
  }
  writeFileAtomic(file, text);
}

export function removeWorkflowStamp(metaDir: string, workflow: string): void {
  fs.rmSync(stampFile(metaDir, workflow), { force: true });
}

/**
 * The manifest digest the stamp vouches for, when the stamp exists, was
 * made from the same inputs, and the repositories still hold what its
 * resolve read; else undefined (resolve to know).
 */
export function currentStampedManifest(metaDir: string, workflow: string, configFiles: readonly string[], env: NodeJS.ProcessEnv = process.env): string | undefined {
  let stamp: StampFile;
  try {
    stamp = JSON.parse(fs.readFileSync(stampFile(metaDir, workflow), "utf8")) as StampFile;
    if (stamp === null || typeof stamp !== "object") return undefined;
  } catch {
    return undefined;
  }
  if (stamp.format !== 1 || stamp.workflow !== workflow || typeof stamp.manifest !== "string" || !stamp.observation) return undefined;
  if (stamp.key !== stampKey(configFiles, env)) return undefined;
  return observationHolds(stamp.observation) ? stamp.manifest : undefined;
}

/** True when the store's `workflow` tag holds the image the workflow's stamp vouches for. */
export async function isStampedCurrent(store: OciStore, workflow: string, configFiles: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  const manifest = currentStampedManifest(store.metaDir, workflow, configFiles, env);
  return manifest !== undefined && (await store.resolve(workflow))?.digest === manifest;
}
