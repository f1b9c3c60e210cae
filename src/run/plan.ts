/**
 * The runtime-neutral launch plan: who runs (identity), what is mounted
 * (home, asset volumes, display sockets, -v), which variables are set
 * (identity, licences, display, configured and -e ones), where the command
 * starts, the network and host entries, GPUs, and the terminal.
 */
import { lookup } from "node:dns/promises";
import { TantalusError } from "../errors.js";
import { planDisplay } from "./display.js";
import { hasNvidiaGpu, type GpuInfo } from "./gpu.js";
import type { Identity } from "../util/identity.js";
import { containerPathOf, finalizeMounts, isDirectory, type Mount } from "./mounts.js";
import { licenceHosts, licenceValues, selectPassthrough } from "./passthrough.js";
import type { RunSettings } from "./settings.js";
import { dedupeEnv } from "./runtimes/common.js";
import type { HostEntry, LaunchPlan, RuntimeInfo } from "./runtimes/types.js";

export interface PlanInput {
  workflow: string;
  /** `-c COMMAND`: run by /bin/sh in the workflow environment. */
  command?: string;
  /** A program and its arguments, run directly (when there is no command). */
  argv?: string[];
  settings: RunSettings;
  identity: Identity;
  env: NodeJS.ProcessEnv;
  cwd: string;
  tty: boolean;
  cacheDir: string;
  runtime: RuntimeInfo;
  imageEnv: string[];
  gpu: GpuInfo;
  /** Name → address for host entries in a bridged network (default: the system resolver). */
  resolveHost?: (host: string) => Promise<string | undefined>;
}

async function systemResolve(host: string): Promise<string | undefined> {
  try {
    return (await lookup(host, { family: 4 })).address;
  } catch {
    return undefined;
  }
}

/** GPU flags for this runtime: "auto" uses what works, "all" insists and says what is missing. */
export function planGpu(
  mode: RunSettings["gpu"],
  gpu: GpuInfo,
  runtime: RuntimeInfo,
  notes: string[],
): LaunchPlan["gpu"] {
  if (mode === "none") return { nvidia: false };
  const out: LaunchPlan["gpu"] = { nvidia: false };
  if (gpu.dri && (runtime.name === "podman" || runtime.name === "docker")) out.dri = gpu.dri;
  const present = hasNvidiaGpu(gpu);
  let missing: string | undefined;
  switch (runtime.name) {
    case "podman":
      if (!gpu.cdiAll)
        missing =
          "podman needs a CDI spec for nvidia.com/gpu=all: nvidia-ctk cdi generate --output=/etc/cdi/nvidia.yaml (NVIDIA Container Toolkit ≥ 1.12)";
      break;
    case "docker":
      if (!gpu.containerToolkit)
        missing = "docker --gpus needs the NVIDIA Container Toolkit (nvidia-container-toolkit), then restart dockerd";
      break;
    case "apptainer":
      break;
    case "ch-run":
      missing = "ch-run cannot give containers the NVIDIA driver (use podman, docker or apptainer)";
      break;
  }
  if (mode === "all") {
    if (!present) throw new TantalusError("--gpu all: this machine has no NVIDIA GPU (/dev/nvidia0 is missing)");
    if (missing) throw new TantalusError(`--gpu all: ${missing}`);
  }
  if (present && !missing) out.nvidia = true;
  else if (present && missing) notes.push(`not passing the NVIDIA GPU: ${missing}`);
  return out;
}

export async function buildLaunchPlan(input: PlanInput): Promise<LaunchPlan> {
  const { identity: id, settings } = input;
  const notes: string[] = [];
  const onceNotes: LaunchPlan["onceNotes"] = [];
  const hostNetwork = settings.network === "host";
  const display = settings.display
    ? planDisplay({ env: input.env, home: id.home, uid: id.uid, cacheDir: input.cacheDir, hostNetwork })
    : undefined;
  if (display) notes.push(...display.notes);

  const wanted: Mount[] = [];
  if (isDirectory(id.home)) wanted.push({ source: id.home, target: id.home, readOnly: false });
  else notes.push(`home ${id.home} does not exist: not mounted`);
  wanted.push(...settings.mounts, ...(display?.mounts ?? []));
  const mounts = finalizeMounts(wanted, notes);

  let workdir = containerPathOf(input.cwd, mounts);
  if (workdir === undefined) {
    workdir = mounts.some((m) => m.target === id.home) ? id.home : "/";
    onceNotes.push({
      key: "workdir-not-mounted",
      note: `the working directory ${input.cwd} is not mounted in the container: starting in ${workdir}`,
    });
  }

  const env: Array<[string, string]> = [
    ["HOME", id.home],
    ["USER", id.user],
    ["LOGNAME", id.user],
  ];
  if (id.shell) env.push(["SHELL", id.shell]);
  env.push(["TANTALUS_WORKFLOW", input.workflow]);
  env.push(...selectPassthrough(input.env, settings.passthrough));
  env.push(...(display?.env ?? []));
  env.push(...settings.env);

  const addHosts: HostEntry[] = [];
  if (settings.network === "bridge") {
    const resolve = input.resolveHost ?? systemResolve;
    for (const host of licenceHosts([...licenceValues(input.env), ...settings.licenceServers])) {
      const address = await resolve(host);
      if (address) addHosts.push({ host, address });
      else notes.push(`licence server ${host} does not resolve on this machine: no host entry added`);
    }
  }

  return {
    workflow: input.workflow,
    identity: id,
    mounts,
    env: dedupeEnv(env),
    workdir,
    network: settings.network,
    addHosts,
    gpu: planGpu(settings.gpu, input.gpu, input.runtime, notes),
    tty: input.tty,
    args: input.command !== undefined ? ["-c", input.command] : [...(input.argv ?? [])],
    imageEnv: [...input.imageEnv],
    notes,
    onceNotes,
  };
}
