/**
 * RunSettings from tantalus.yaml: the `run:` section for every workflow,
 * then the workflow's own mounts and env. Mount targets starting with `~`
 * are in the user's home inside the container (the same path as outside).
 */
import { posix } from "node:path";
import { InputError } from "../errors.js";
import { getWorkflow, mountSource, type LoadedConfig } from "../config/index.js";
import type { Mount } from "./mounts.js";
import { defaultRunSettings, parseRuntime, type GpuMode, type RunSettings } from "./settings.js";
import type { NetworkMode } from "./runtimes/types.js";

/** The config's names for networks and GPU modes, as the run layer spells them. */
const NETWORKS: Record<string, NetworkMode> = { host: "host", bridge: "bridge", private: "bridge", none: "none" };
const GPUS: Record<string, GpuMode> = { auto: "auto", none: "none", all: "all", nvidia: "all" };

export function settingsFromConfig(loaded: LoadedConfig, workflow: string, home: string): RunSettings {
  const wf = getWorkflow(loaded, workflow);
  const run = loaded.config.run as Record<string, unknown> & typeof loaded.config.run;
  const s = defaultRunSettings();
  try {
    s.runtime = parseRuntime(String(run.runtime));
  } catch (e) {
    throw new InputError(`run.runtime: ${(e as Error).message}`, loaded.locate(["run", "runtime"]));
  }
  const network = NETWORKS[String(run.network)];
  if (!network) throw new InputError(`run.network: ${String(run.network)} is not host, bridge or none`, loaded.locate(["run", "network"]));
  s.network = network;
  s.gpu = GPUS[String(run.gpu)] ?? "auto";
  s.display = run.display !== false;
  s.passthrough.push(...run.env);
  if (Array.isArray(run.licence_servers)) s.licenceServers.push(...(run.licence_servers as unknown[]).map(String));
  const toMount = (m: { source: string; target: string; readonly: boolean }): Mount => ({
    source: mountSource(loaded, m),
    target: m.target === "~" ? home : m.target.startsWith("~/") ? posix.join(home, m.target.slice(2)) : m.target,
    readOnly: m.readonly,
  });
  s.mounts.push(...run.mounts.map(toMount), ...wf.mounts.map(toMount));
  s.env.push(...Object.entries(wf.env));
  if (loaded.config.registry) s.registry = loaded.config.registry;
  return s;
}
