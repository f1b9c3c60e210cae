/**
 * What `tantalus run` needs to know about a workflow and this site, from
 * tantalus.yaml (the workflow's `mounts`/`env`, the `run:` section) and the
 * command line, merged: flags win over the workflow, the workflow over `run:`.
 */
import { UsageError } from "../errors.js";
import type { Mount } from "./mounts.js";
import { parseVolume } from "./mounts.js";
import { DEFAULT_PASSTHROUGH } from "./passthrough.js";
import { DEFAULT_RUNTIME_ORDER } from "./runtimes/index.js";
import { isRuntimeName, type NetworkMode, type RuntimeName } from "./runtimes/types.js";

export const GPU_MODES = ["auto", "none", "all"] as const;
export type GpuMode = (typeof GPU_MODES)[number];

export interface RunSettings {
  runtime: RuntimeName | "auto";
  runtimeOrder: RuntimeName[];
  network: NetworkMode;
  /** Asset and show volumes, then flags' -v (a later mount of the same target wins). */
  mounts: Mount[];
  /** Fixed values set in the container. */
  env: Array<[string, string]>;
  /** Host variables passed through when set: names or `*` globs. */
  passthrough: string[];
  /** Licence servers (`port@host` or hosts) to add as host entries in a bridged network. */
  licenceServers: string[];
  gpu: GpuMode;
  display: boolean;
  /** Pull `REGISTRY/WORKFLOW:TAG` into the store when the workflow has no local image. */
  registry?: string;
}

export function defaultRunSettings(): RunSettings {
  return {
    runtime: "auto",
    runtimeOrder: [...DEFAULT_RUNTIME_ORDER],
    network: "host",
    mounts: [],
    env: [],
    passthrough: [...DEFAULT_PASSTHROUGH],
    licenceServers: [],
    gpu: "auto",
    display: true,
  };
}

export interface RunFlags {
  runtime?: string;
  network?: string;
  /** `-v SRC[:DST][:ro]`. */
  volumes?: string[];
  /** `-e NAME` (pass the host's value) or `-e NAME=VALUE`. */
  env?: string[];
  gpu?: string;
  /** false for --no-display. */
  display?: boolean;
}

export function parseRuntime(s: string): RuntimeName | "auto" {
  if (s === "auto" || isRuntimeName(s)) return s;
  throw new UsageError(`unknown runtime ${JSON.stringify(s)}: expected auto, podman, docker, apptainer or ch-run`);
}

export function parseNetwork(s: string): NetworkMode {
  if (s === "host" || s === "bridge" || s === "none") return s;
  throw new UsageError(`unknown network ${JSON.stringify(s)}: expected host, bridge or none`);
}

export function parseGpu(s: string): GpuMode {
  if ((GPU_MODES as readonly string[]).includes(s)) return s as GpuMode;
  throw new UsageError(`unknown --gpu ${JSON.stringify(s)}: expected auto, none or all`);
}

export function applyFlags(base: RunSettings, flags: RunFlags, cwd: string = process.cwd()): RunSettings {
  const out: RunSettings = {
    ...base,
    mounts: [...base.mounts],
    env: [...base.env],
    passthrough: [...base.passthrough],
  };
  if (flags.runtime !== undefined) out.runtime = parseRuntime(flags.runtime);
  if (flags.network !== undefined) out.network = parseNetwork(flags.network);
  if (flags.gpu !== undefined) out.gpu = parseGpu(flags.gpu);
  if (flags.display === false) out.display = false;
  for (const v of flags.volumes ?? []) out.mounts.push(parseVolume(v, cwd));
  for (const e of flags.env ?? []) {
    const eq = e.indexOf("=");
    const name = eq < 0 ? e : e.slice(0, eq);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
      throw new UsageError(`-e ${JSON.stringify(e)}: expected NAME or NAME=VALUE`);
    if (eq < 0) out.passthrough.push(name);
    else out.env.push([name, e.slice(eq + 1)]);
  }
  return out;
}
