/**
 * `tantalus doctor`: what this machine offers `tantalus run`: the container
 * runtimes (versions, rootless readiness, the host fixes podman needs),
 * GPUs and how they would reach a container, the display, and registry
 * credentials, each problem with what to install or fix.
 */
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { runCacheDir } from "./cache.js";
import { parseDisplay, parseXauthority, cookiesForDisplay } from "./display.js";
import { detectGpu, hasNvidiaGpu, type GpuInfo } from "./gpu.js";
import { currentIdentity, type Identity } from "../util/identity.js";
import { DEFAULT_RUNTIME_ORDER, RUNTIMES } from "./runtimes/index.js";
import type { RunContext, RuntimeInfo, RuntimeName } from "./runtimes/types.js";

export interface Section {
  ok: boolean;
  facts: Record<string, string>;
  problems: string[];
  fixes: string[];
}

export interface DoctorReport {
  identity: Pick<Identity, "uid" | "gid" | "user" | "home" | "groups">;
  runtimes: RuntimeInfo[];
  /** What `--runtime auto` would use. */
  selected?: RuntimeName;
  gpu: Section & { info: GpuInfo };
  display: Section;
  registry: Section;
}

export interface DoctorOptions {
  env?: NodeJS.ProcessEnv;
  order?: readonly RuntimeName[];
  /** The configured registry (`registry` in tantalus.yaml), e.g. registry.studio:5000/tantalus. */
  registry?: string;
}

export async function diagnoseMachine(opts: DoctorOptions = {}): Promise<DoctorReport> {
  const env = opts.env ?? process.env;
  const identity = currentIdentity(env);
  const ctx: RunContext = {
    env,
    cacheDir: runCacheDir(env, env.HOME || identity.home),
    dryRun: true,
    log: () => undefined,
  };
  const order = opts.order ?? DEFAULT_RUNTIME_ORDER;
  const runtimes = await Promise.all(order.map((n) => RUNTIMES[n].diagnose(ctx)));
  const selected = runtimes.find((r) => r.available)?.name;
  const gpuInfo = detectGpu(env);
  const report: DoctorReport = {
    identity: {
      uid: identity.uid,
      gid: identity.gid,
      user: identity.user,
      home: identity.home,
      groups: identity.groups,
    },
    runtimes,
    gpu: { ...gpuSection(gpuInfo, runtimes), info: gpuInfo },
    display: displaySection(env, identity.home),
    registry: await registrySection(env, opts.registry),
  };
  if (selected) report.selected = selected;
  return report;
}

function gpuSection(gpu: GpuInfo, runtimes: RuntimeInfo[]): Section {
  const s: Section = { ok: true, facts: {}, problems: [], fixes: [] };
  const nvidia = hasNvidiaGpu(gpu);
  s.facts.nvidia = nvidia ? gpu.nvidiaDevices.join(" ") : "none";
  s.facts.dri = gpu.dri ?? "none";
  s.facts.cdi = gpu.cdiSpecs.length ? `${gpu.cdiSpecs.join(" ")}${gpu.cdiAll ? " (nvidia.com/gpu=all)" : ""}` : "none";
  s.facts.toolkit = gpu.containerToolkit ?? "none";
  if (!nvidia) return s;
  const have = (n: RuntimeName) => runtimes.some((r) => r.name === n && r.available);
  if (have("podman") && !gpu.cdiAll) {
    s.ok = false;
    s.problems.push("podman cannot pass the NVIDIA GPU: no CDI spec declares nvidia.com/gpu=all");
    s.fixes.push("install nvidia-container-toolkit, then: nvidia-ctk cdi generate --output=/etc/cdi/nvidia.yaml");
  }
  if (have("docker") && !gpu.containerToolkit) {
    s.ok = false;
    s.problems.push("docker --gpus needs the NVIDIA Container Toolkit");
    s.fixes.push(
      "install nvidia-container-toolkit, then: nvidia-ctk runtime configure --runtime=docker and restart dockerd",
    );
  }
  return s;
}

function displaySection(env: NodeJS.ProcessEnv, home: string): Section {
  const s: Section = { ok: true, facts: {}, problems: [], fixes: [] };
  const display = env.DISPLAY;
  s.facts.DISPLAY = display ?? "unset";
  if (display) {
    const parsed = parseDisplay(display);
    if (!parsed) {
      s.ok = false;
      s.problems.push(`DISPLAY=${display} is not of the form [host]:number[.screen]`);
      s.fixes.push("fix DISPLAY, e.g. :0");
    } else {
      if (parsed.host === "") {
        const socket = `/tmp/.X11-unix/X${parsed.number}`;
        s.facts.socket = existsSync(socket) ? socket : `${socket} (missing)`;
        if (!existsSync(socket)) {
          s.ok = false;
          s.problems.push(`the X server socket ${socket} does not exist`);
          s.fixes.push("start the X server, or set DISPLAY to the running one");
        }
      } else s.facts.tcp = `${parsed.host}:${6000 + Number(parsed.number)} (needs --network host when on this machine)`;
      const auth = env.XAUTHORITY || join(home, ".Xauthority");
      let cookies: number;
      try {
        cookies = cookiesForDisplay(parseXauthority(readFileSync(auth)), parsed.number).length;
      } catch {
        cookies = 0;
      }
      s.facts.xauthority =
        cookies > 0 ? `${auth} (cookie for :${parsed.number})` : `${auth} (no cookie for :${parsed.number})`;
      if (cookies === 0)
        s.fixes.push(
          `without a cookie only an X server that allows the container's user (xhost +si:localuser:${env.USER ?? "USER"}) accepts it`,
        );
    }
  }
  const wayland = env.WAYLAND_DISPLAY;
  s.facts.WAYLAND_DISPLAY = wayland ?? "unset";
  if (wayland) {
    const sock = wayland.startsWith("/")
      ? wayland
      : env.XDG_RUNTIME_DIR
        ? join(env.XDG_RUNTIME_DIR, wayland)
        : undefined;
    if (!sock || !existsSync(sock)) {
      s.ok = false;
      s.problems.push(`the Wayland socket ${sock ?? "(XDG_RUNTIME_DIR unset)"} does not exist`);
      s.fixes.push("set XDG_RUNTIME_DIR and WAYLAND_DISPLAY to the running compositor's socket");
    }
  }
  if (!display && !wayland)
    s.facts.note = "no display: GUI applications cannot open windows (batch work is unaffected)";
  return s;
}

interface AuthFileSummary {
  auths?: Record<string, unknown>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

async function registrySection(env: NodeJS.ProcessEnv, registry: string | undefined): Promise<Section> {
  const { credentialFiles, findCredential } = await import("../image/remote/credentials.js");
  const s: Section = { ok: true, facts: {}, problems: [], fixes: [] };
  const home = env.HOME || homedir();
  const files = credentialFiles({ env, homeDir: home });
  const known: string[] = [];
  for (const f of files) {
    if (!existsSync(f)) continue;
    try {
      const data = JSON.parse(readFileSync(f, "utf8")) as AuthFileSummary;
      const names = [
        ...Object.keys(data.auths ?? {}),
        ...Object.keys(data.credHelpers ?? {}).map((h) => `${h} (helper)`),
      ];
      if (data.credsStore) names.push(`* (credsStore ${data.credsStore})`);
      known.push(`${f}: ${names.join(", ") || "no entries"}`);
    } catch {
      s.ok = false;
      s.problems.push(`${f} is not valid JSON`);
      s.fixes.push(`fix or remove ${f}, then log in again`);
    }
  }
  s.facts.files = known.length ? known.join("; ") : `none of ${files.join(", ")}`;
  if (registry) {
    s.facts.registry = registry;
    const host = registry.split("/")[0]!;
    const repo = registry.includes("/") ? registry.slice(host.length + 1) : undefined;
    try {
      const cred = await findCredential(host, repo, { env, homeDir: home });
      s.facts.credential = cred ? cred.describe() : "none (anonymous)";
      if (!cred) s.fixes.push(`if ${host} needs a login: podman login ${host} (or docker login ${host})`);
    } catch (e) {
      s.ok = false;
      s.problems.push((e as Error).message);
      s.fixes.push(`podman login ${host}`);
    }
  } else s.facts.registry = "none configured (registry: in tantalus.yaml)";
  return s;
}

export function formatDoctor(r: DoctorReport): string {
  const lines: string[] = [];
  const groups = r.identity.groups.map((g) => g.name ?? String(g.gid)).join(",");
  lines.push(
    `user: ${r.identity.user} (uid ${r.identity.uid}, gid ${r.identity.gid}${groups ? `, groups ${groups}` : ""}), home ${r.identity.home}`,
  );
  lines.push("");
  lines.push(`runtimes (tried in this order by --runtime auto; it would use: ${r.selected ?? "none"}):`);
  for (const rt of r.runtimes) {
    const mark = rt.available ? "ok  " : "no  ";
    const mode = rt.rootless === undefined ? "" : rt.rootless ? ", rootless" : ", rootful";
    lines.push(`  ${mark}${rt.name}${rt.version ? ` ${rt.version}` : ""}${rt.path ? ` (${rt.path}${mode})` : ""}`);
    for (const [k, v] of Object.entries(rt.details)) if (v) lines.push(`        ${k}: ${v}`);
    for (const p of rt.problems) lines.push(`        problem: ${p}`);
    for (const f of rt.fixes) lines.push(`        fix: ${f}`);
  }
  const section = (title: string, s: Section) => {
    lines.push("");
    lines.push(`${title}: ${s.ok ? "ok" : "needs attention"}`);
    for (const [k, v] of Object.entries(s.facts)) lines.push(`  ${k}: ${v}`);
    for (const p of s.problems) lines.push(`  problem: ${p}`);
    for (const f of s.fixes) lines.push(`  fix: ${f}`);
  };
  section("gpu", r.gpu);
  section("display", r.display);
  section("registry", r.registry);
  return lines.join("\n") + "\n";
}
