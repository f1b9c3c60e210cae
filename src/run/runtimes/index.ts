/**
 * The runtimes and the order `--runtime auto` tries them in:
 *
 *  1. podman: no daemon, rootless for everyone with the user's real UID
 *     (keep-id), CDI for GPUs, shares layers with our store's images.
 *  2. docker: needs a running daemon and root-equivalent access (the docker
 *     group); the identity is emulated with --user and generated accounts.
 *  3. apptainer: runs as the user natively, but converts every image to a
 *     SIF first (minutes for a multi-GB DCC image, no layer sharing).
 *  4. ch-run: the unprivileged fallback; an unpacked copy per image, no
 *     read-only binds, no network isolation, no GPU driver injection.
 *
 * The first one that is installed and usable wins; `--runtime` or `run.runtime`
 * in tantalus.yaml picks one, and the configuration may reorder the list.
 */
import { TantalusError } from "../../errors.js";
import { Apptainer } from "./apptainer.js";
import { Charliecloud } from "./charliecloud.js";
import { Docker } from "./docker.js";
import { Podman } from "./podman.js";
import type { RunContext, Runtime, RuntimeInfo, RuntimeName } from "./types.js";

export const DEFAULT_RUNTIME_ORDER: readonly RuntimeName[] = ["podman", "docker", "apptainer", "ch-run"];

export const RUNTIMES: Readonly<Record<RuntimeName, Runtime>> = {
  podman: new Podman(),
  docker: new Docker(),
  apptainer: new Apptainer(),
  "ch-run": new Charliecloud(),
};

export interface SelectedRuntime {
  runtime: Runtime;
  info: RuntimeInfo;
}

export function selectRuntime(
  requested: RuntimeName | "auto",
  order: readonly RuntimeName[],
  ctx: RunContext,
): SelectedRuntime {
  const names = requested === "auto" ? order : [requested];
  const tried: RuntimeInfo[] = [];
  for (const name of names) {
    const runtime = RUNTIMES[name];
    const info = runtime.detect(ctx);
    if (info.available) return { runtime, info };
    // A dry run of a named runtime prints the command line a machine that has it would run
    // (a farm node is not the TD's machine); it never starts anything here.
    if (ctx.dryRun && requested !== "auto") return { runtime, info: dryRunInfo(info, ctx) };
    tried.push(info);
  }
  const lines = tried.map(
    (i) => `  ${i.name}: ${i.problems.join("; ")}${i.fixes.length ? ` (fix: ${i.fixes.join("; ")})` : ""}`,
  );
  const what =
    requested === "auto" ? `no usable container runtime (tried ${names.join(", ")})` : `${requested} cannot run here`;
  throw new TantalusError(`${what}:\n${lines.join("\n")}\n(\`tantalus doctor\` explains what this machine has)`);
}

/** The runtime as a machine that has it would run it: found on PATH by name. */
function dryRunInfo(info: RuntimeInfo, ctx: RunContext): RuntimeInfo {
  ctx.log(
    `note: ${info.name} cannot run on this machine (${info.problems.join("; ")}); printing the command line for a machine that has it`,
  );
  // podman/docker run as the user who runs them: rootless unless that is root.
  const rootless =
    info.rootless ?? (info.name === "podman" ? (process.getuid?.() ?? 0) !== 0 : info.name === "docker" ? false : true);
  return { ...info, path: info.path ?? info.name, rootless, details: { ...info.details } };
}

export { Apptainer, Charliecloud, Docker, Podman };
export * from "./types.js";
