/**
 * Apptainer (or SingularityCE): runs as the calling user natively, binds
 * $HOME, /tmp and the working directory itself, shares the host network.
 *
 * Image: a SIF built once per manifest digest with
 * `apptainer build SIF oci-archive://ARCHIVE` from an archive exported from
 * our store, kept in the run cache. `--cleanenv` keeps the host environment
 * out; the image's own environment comes from the SIF.
 */
import { existsSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { UsageError } from "../../errors.js";
import { digestHex } from "../../image/digest.js";
import { cacheSubdir } from "../cache.js";
import { ENTRYPOINT_PATH } from "../../image/contract.js";
import { capture, runStep } from "../exec.js";
import { shellJoin } from "../quote.js";
import { which } from "../which.js";
import { envArgs, firstLine, unavailable, volumeArg } from "./common.js";
import type { LaunchPlan, PreparedImage, RunContext, Runtime, RuntimeInfo, WorkflowImage } from "./types.js";

export class Apptainer implements Runtime {
  readonly name = "apptainer" as const;

  detect(ctx: RunContext): RuntimeInfo {
    const path = which("apptainer", ctx.env) ?? which("singularity", ctx.env);
    if (!path) {
      return unavailable(
        "apptainer",
        "apptainer (or singularity) is not installed",
        "install apptainer from its release packages (https://github.com/apptainer/apptainer/releases); Debian 12 has no package",
      );
    }
    return {
      name: "apptainer",
      available: true,
      path,
      rootless: true,
      problems: [],
      fixes: [],
      details: { flavour: path.endsWith("singularity") ? "singularity" : "apptainer" },
    };
  }

  async diagnose(ctx: RunContext): Promise<RuntimeInfo> {
    const info = this.detect(ctx);
    if (!info.path) return info;
    const v = await capture([info.path, "--version"], { env: ctx.env });
    if (v.status === 0) info.version = firstLine(v.stdout).replace(/^(apptainer|singularity(-ce)?) version\s*/i, "");
    else {
      info.available = false;
      info.problems.push(`\`${info.path} --version\` fails: ${firstLine(v.stderr)}`);
      info.fixes.push("reinstall apptainer");
    }
    return info;
  }

  needsAccountFiles(): boolean {
    return false;
  }

  async prepare(image: WorkflowImage, info: RuntimeInfo, ctx: RunContext): Promise<PreparedImage> {
    const dir = cacheSubdir(ctx.cacheDir, "sif");
    const hex = digestHex(image.image.manifestDescriptor.digest);
    const sif = join(dir, `${hex}.sif`);
    if (existsSync(sif)) return { ref: sif, steps: [], loaded: false };
    const archive = join(dir, `.${hex}.${process.pid}.tar`);
    const tmpSif = join(dir, `.${hex}.${process.pid}.sif`);
    const build = [info.path!, "build", "--force", tmpSif, `oci-archive://${archive}`];
    const steps = [`export ${image.ref} from ${image.store.dir} to oci-archive ${archive}`, shellJoin(build)];
    if (ctx.dryRun) return { ref: sif, steps, loaded: true };
    ctx.log(`building ${sif} for ${image.workflow} (${image.ref}); once per image`);
    const { exportOciArchive } = await import("../../image/sinks/index.js");
    try {
      await exportOciArchive(image.store, image.ref, archive);
      await runStep(build, "apptainer build", ctx.env);
      renameSync(tmpSif, sif);
    } finally {
      rmSync(archive, { force: true });
      rmSync(tmpSif, { force: true });
    }
    return { ref: sif, steps, loaded: true };
  }

  command(plan: LaunchPlan, prepared: PreparedImage, info: RuntimeInfo): string[] {
    if (plan.network === "bridge")
      throw new UsageError(
        "apptainer cannot give an unprivileged user a bridged network; use --network host or none, or podman/docker",
      );
    const argv = [info.path ?? "apptainer", "exec", "--cleanenv", "--home", plan.identity.home];
    if (plan.network === "none") argv.push("--net", "--network", "none");
    for (const m of plan.mounts) {
      if (m.target === plan.identity.home && m.source === plan.identity.home) continue; // bound by --home
      argv.push("--bind", volumeArg(m));
    }
    argv.push(...envArgs("--env", plan.env));
    argv.push("--pwd", plan.workdir);
    if (plan.gpu.nvidia) argv.push("--nv");
    argv.push(prepared.ref, ENTRYPOINT_PATH, ...plan.args);
    return argv;
  }

  rawTerminal(): boolean {
    return false;
  }
}
