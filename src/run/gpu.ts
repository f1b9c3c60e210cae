/**
 * GPUs on this machine and what can hand them to a container:
 *  - NVIDIA: device nodes /dev/nvidia*; for podman a CDI spec
 *    (`nvidia-ctk cdi generate --output=/etc/cdi/nvidia.yaml`) naming
 *    `nvidia.com/gpu=all`; for docker the NVIDIA Container Toolkit
 *    (`--gpus` needs its prestart hook / runtime); apptainer's `--nv` binds
 *    the host driver itself.
 *  - Mesa (Intel, AMD): the DRM render nodes /dev/dri, passed as devices.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createRequire } from "node:module";
import { which } from "./which.js";

export const CDI_DIRS = ["/etc/cdi", "/var/run/cdi", "/run/cdi"] as const;
export const NVIDIA_CDI_ALL = "nvidia.com/gpu=all";

export interface GpuInfo {
  /** /dev/nvidia0, /dev/nvidiactl, ... */
  nvidiaDevices: string[];
  /** /dev/dri when it has render nodes. */
  dri?: string;
  /** CDI spec files declaring nvidia.com/gpu, and whether one has the "all" device. */
  cdiSpecs: string[];
  cdiAll: boolean;
  /** Paths of the NVIDIA Container Toolkit pieces found on PATH. */
  nvidiaCtk?: string;
  containerToolkit?: string;
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Device names a CDI spec file declares for kind nvidia.com/gpu (undefined when it is not one). */
export function cdiNvidiaDevices(text: string): string[] | undefined {
  if (!text.includes("nvidia.com/gpu")) return undefined;
  // yaml is loaded only on machines with CDI specs: `tantalus run` starts faster without it.
  const { parse } = createRequire(import.meta.url)("yaml") as typeof import("yaml");
  let doc: unknown;
  try {
    doc = parse(text);
  } catch {
    return undefined;
  }
  const spec = doc as { kind?: unknown; devices?: Array<{ name?: unknown }> } | null;
  if (!spec || spec.kind !== "nvidia.com/gpu") return undefined;
  return (spec.devices ?? []).map((d) => String(d.name));
}

export function detectGpu(
  env: NodeJS.ProcessEnv = process.env,
  devDir = "/dev",
  cdiDirs: readonly string[] = CDI_DIRS,
): GpuInfo {
  const nvidiaDevices = list(devDir)
    .filter((n) => /^nvidia(\d+|ctl|-uvm|-modeset)$/.test(n))
    .map((n) => join(devDir, n))
    .sort();
  const info: GpuInfo = { nvidiaDevices, cdiSpecs: [], cdiAll: false };
  if (list(join(devDir, "dri")).some((n) => n.startsWith("renderD"))) info.dri = join(devDir, "dri");
  for (const dir of cdiDirs) {
    for (const f of list(dir)
      .filter((n) => /\.(ya?ml|json)$/.test(n))
      .sort()) {
      const file = join(dir, f);
      let names: string[] | undefined;
      try {
        names = cdiNvidiaDevices(readFileSync(file, "utf8"));
      } catch {
        continue;
      }
      if (names === undefined) continue;
      info.cdiSpecs.push(file);
      if (names.includes("all")) info.cdiAll = true;
    }
  }
  const ctk = which("nvidia-ctk", env);
  if (ctk) info.nvidiaCtk = ctk;
  const toolkit =
    which("nvidia-container-runtime-hook", env) ??
    which("nvidia-container-runtime", env) ??
    which("nvidia-container-cli", env);
  if (toolkit) info.containerToolkit = toolkit;
  return info;
}

export function hasNvidiaGpu(info: GpuInfo): boolean {
  return info.nvidiaDevices.some((d) => /nvidia\d+$/.test(d));
}
