/**
 * A workflow's stamp: proof, checkable with a few stat calls, that the image
 * under the workflow's tag is still what a build would make of the current
 * configuration and repositories. `tantalus run` checks it on every launch
 * and only resolves (and rebuilds) when it fails, so an unchanged workflow
 * starts without loading the solver or the configuration schema.
 *
 * The stamp holds a key over the inputs a resolve depends on besides the
 * repositories (the configuration files' bytes and paths, the variables that
 * override it, the host facts behind Rez's implicit packages, the tool
 * version), the repository observation of the resolve (observation.ts), and
 * the fingerprint of every install root in the image as the layer cache keyed
 * it (root-fingerprint.ts: a metadata walk of the payload, no content read).
 * The definitions alone would miss a payload file edited in place in a
 * released package, which `build` sees (new layer digest) and `run` must too.
 * Each check says what changed, so `run` can tell the user why it rebuilds.
 * Written by the build only for a workflow it resolved itself, with no
 * overrides from the command line; anything else simply has no stamp.
 *
 * Light on purpose: node built-ins, the observation module and the root
 * fingerprint only.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { observationChange, pathStamp, type RepositoryObservation } from "../rez/repository/observation.js";
import { fingerprintPath } from "./root-fingerprint.js";
import type { ImageReader, PrivateArea } from "../image/layout/interfaces.js";
import { writeFileAtomic } from "../util/atomic.js";
import { VERSION } from "../version.js";
import { rezVariableNames } from "../config/rez-settings.js";
import { ImageOutOfDateError } from "../errors.js";

/** What the key is made of, kept beside it so a mismatch can say which input changed. */
export interface StampInputs {
  tool: string;
  /** Every configuration file layer (the site file, the project's), lowest first: [absolute path, sha256]. */
  config: [string, string][];
  packagesPath: string | null;
  sourceDateEpoch: string | null;
  host: unknown[];
  /** The variables of Rez's configuration layer that are set, [name, value] by name (absent when none is). */
  rez?: [string, string][];
  /** TANTALUS_PYTHON, when set: it decides which files load (absent otherwise, so older keys stay valid). */
  python?: string;
}

/** The variables that decide Rez's configuration layer (src/config/rez.ts). */
function rezVariables(env: NodeJS.ProcessEnv): [string, string][] {
  return rezVariableNames()
    .flatMap((n): [string, string][] => (env[n] !== undefined ? [[n, env[n]]] : []))
    .sort(([a], [b]) => (a < b ? -1 : 1));
}

/** An install root of the image and its fingerprint when the build planned its layer. */
export interface StampedPayload {
  variant: string;
  root: string;
  fingerprint: string;
}

interface StampFile {
  format: 2;
  workflow: string;
  key: string;
  inputs: StampInputs;
  /** The manifest digest the workflow's tag must still point at. */
  manifest: string;
  observation: RepositoryObservation;
  payloads: StampedPayload[];
}

/** The stamp's answer: the manifest it vouches for, or why it does not. */
export type StampVerdict =
  | { current: true; manifest: string }
  /** `missing`: there is no stamp at all (never built here), as opposed to one that no longer holds. */
  | { current: false; reason: string; missing?: true };

function stampFile(metaDir: string, workflow: string): string {
  // Workflow names are image tags ([A-Za-z0-9_][A-Za-z0-9._-]*); anything else must not name a path.
  if (!/^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(workflow))
    throw new Error(`not a workflow name: ${JSON.stringify(workflow)}`);
  return path.join(metaDir, "stamps", `${workflow}.json`);
}

/**
 * The key of everything but the repositories; undefined when a configuration
 * file cannot be read. `configFiles` are every file layer (the site file and
 * the project's), lowest first: an edit of either changes the workflow.
 */
export function stampKey(configFiles: readonly string[], env: NodeJS.ProcessEnv = process.env): string | undefined {
  return stampKeyOf(configFiles, env)?.key;
}

export function stampKeyOf(
  configFiles: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): { key: string; inputs: StampInputs } | undefined {
  const config: [string, string][] = [];
  for (const file of configFiles) {
    try {
      config.push([path.resolve(file), createHash("sha256").update(fs.readFileSync(file)).digest("hex")]);
    } catch {
      return undefined;
    }
  }
  const inputs: StampInputs = {
    tool: VERSION,
    config,
    packagesPath: env.TANTALUS_PACKAGES_PATH ?? null,
    sourceDateEpoch: env.SOURCE_DATE_EPOCH ?? null,
    // What hostSystem() reads to make the default ~platform/~arch/~os, without running lsb_release.
    host: [os.platform(), os.arch(), os.release(), pathStamp("/etc/lsb-release"), pathStamp("/etc/os-release")],
  };
  // Only when set, so that the key of a build without Rez variables is what it was before they counted.
  const rez = rezVariables(env);
  if (rez.length > 0) inputs.rez = rez;
  if (env.TANTALUS_PYTHON !== undefined) inputs.python = env.TANTALUS_PYTHON;
  return { key: createHash("sha256").update(JSON.stringify(inputs)).digest("hex"), inputs };
}

/** Which input of the key changed, in the user's words. */
function keyChange(was: StampInputs | undefined, now: StampInputs): string {
  if (!was || !Array.isArray(was.config)) return "the stamp is from an older tantalus";
  const wasFiles = was.config.map(([f]) => f).join(", ");
  const nowFiles = now.config.map(([f]) => f).join(", ");
  if (wasFiles !== nowFiles) return `the configuration is now ${nowFiles || "none"}, was ${wasFiles || "none"}`;
  const edited = now.config.find(([f, sha], i) => was.config[i]?.[0] === f && was.config[i]?.[1] !== sha);
  if (edited) return `${path.basename(edited[0])} changed`;
  if (was.packagesPath !== now.packagesPath) return "TANTALUS_PACKAGES_PATH changed";
  const rezNames = (i: StampInputs) => new Map(i.rez ?? []);
  const [wasRez, nowRez] = [rezNames(was), rezNames(now)];
  for (const n of new Set([...wasRez.keys(), ...nowRez.keys()]))
    if (wasRez.get(n) !== nowRez.get(n)) return `${n} changed`;
  if (was.python !== now.python) return "TANTALUS_PYTHON changed";
  if (was.sourceDateEpoch !== now.sourceDateEpoch) return "SOURCE_DATE_EPOCH changed";
  if (was.tool !== now.tool) return `tantalus was upgraded (${was.tool} -> ${now.tool})`;
  return "the host's operating system changed";
}

export function writeWorkflowStamp(
  metaDir: string,
  workflow: string,
  stamp: {
    key: string;
    inputs: StampInputs;
    manifest: string;
    observation: RepositoryObservation;
    payloads: StampedPayload[];
  },
): void {
  const file = stampFile(metaDir, workflow);
  const text = JSON.stringify({ format: 2, workflow, ...stamp } satisfies StampFile);
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
 * made from the same inputs, the repositories still hold what its resolve
 * read and every install root still has its fingerprint; else why not.
 */
export function stampedManifestVerdict(
  metaDir: string,
  workflow: string,
  configFiles: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): StampVerdict {
  let stamp: StampFile;
  try {
    stamp = JSON.parse(fs.readFileSync(stampFile(metaDir, workflow), "utf8")) as StampFile;
  } catch {
    return {
      current: false,
      reason: "no stamp: not built here by `tantalus build` or `tantalus run` (or built from a saved context)",
      missing: true,
    };
  }
  if (
    stamp === null ||
    typeof stamp !== "object" ||
    stamp.format !== 2 ||
    stamp.workflow !== workflow ||
    typeof stamp.manifest !== "string" ||
    !stamp.observation ||
    !Array.isArray(stamp.payloads)
  ) {
    return { current: false, reason: "the stamp is from an older tantalus" };
  }
  const now = stampKeyOf(configFiles, env);
  if (!now) return { current: false, reason: `cannot read ${configFiles.join(" or ")}` };
  if (stamp.key !== now.key) return { current: false, reason: keyChange(stamp.inputs, now.inputs) };
  const changed = observationChange(stamp.observation);
  if (changed) return { current: false, reason: changed };
  for (const p of stamp.payloads) {
    let fingerprint: string;
    try {
      fingerprint = fingerprintPath(p.root);
    } catch {
      return { current: false, reason: `${p.variant}'s install root ${p.root} is gone` };
    }
    if (fingerprint !== p.fingerprint)
      return { current: false, reason: `${p.variant} changed (files under ${p.root})` };
  }
  return { current: true, manifest: stamp.manifest };
}

/** The manifest digest the stamp vouches for, else undefined (resolve to know). */
export function currentStampedManifest(
  metaDir: string,
  workflow: string,
  configFiles: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const v = stampedManifestVerdict(metaDir, workflow, configFiles, env);
  return v.current ? v.manifest : undefined;
}

/**
 * Whether the store's `tag` (the workflow's own, or an ad-hoc request's `request:<hash>`) holds the image
 * the workflow's stamp vouches for, and if not, why.
 */
export async function stampVerdict(
  store: ImageReader & PrivateArea,
  workflow: string,
  configFiles: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  tag: string = workflow,
): Promise<StampVerdict> {
  const v = stampedManifestVerdict(store.metaDir, workflow, configFiles, env);
  if (!v.current) return v;
  const tagged = (await store.resolve(tag))?.digest;
  if (tagged === undefined) return { current: false, reason: `the store has no image tagged ${tag}` };
  return tagged === v.manifest ? v : { current: false, reason: `the tag ${tag} was moved to another image` };
}

/** True when the store's `workflow` tag holds the image the workflow's stamp vouches for. */
export async function isStampedCurrent(
  store: ImageReader & PrivateArea,
  workflow: string,
  configFiles: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<boolean> {
  return (await stampVerdict(store, workflow, configFiles, env)).current;
}

/**
 * `run --no-build` when the stamp does not vouch for the image. Only the
 * stamp can say "current" without building: a stored image whose resolve is
 * unchanged can still differ from what tantalus.yaml now asks for (its
 * environment, its repairs, the base), so anything else is out of date.
 */
export function outOfDate(workflow: string, reason: string): ImageOutOfDateError {
  return new ImageOutOfDateError(workflow, reason);
}
