/**
 * charliecloud's ch-run (Debian's charliecloud-runtime): fully unprivileged,
 * runs an image directory in a user namespace as the calling user, with the
 * host's network and /dev, binding copies of the host's passwd and group.
 *
 * Image: unpacked by us (src/image/unpack.ts) from the store into the run
 * cache, once per manifest digest. Bind targets must exist in the image for
 * ch-run, so they are created in the unpacked tree before each launch.
 * Environment: `--unset-env='*'` then the image's Env and ours, in that
 * order (ch-run applies these options in command-line order), so nothing of
 * the host leaks in.
 *
 * Limits (0.31): binds are read-write (no read-only option), there is no
 * network isolation, and GPU drivers are not injected (that needs
 * `ch-fromhost --nvidia` on the image).
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { UsageError } from "../../errors.js";
import { digestHex } from "../../image/digest.js";
import { cacheSubdir } from "../cache.js";
import { ENTRYPOINT_PATH } from "../../image/contract.js";
import { capture } from "../exec.js";
import { which } from "../which.js";
import { dedupeEnv, firstLine, unavailable } from "./common.js";
import type { LaunchPlan, PreparedImage, RunContext, Runtime, RuntimeInfo, WorkflowImage } from "./types.js";

/** What ch-run needs to exist in the image to bind over it (ch-run 0.31: "can't bind: destination not found"). */
export const CHARLIECLOUD_MOUNT_POINTS = {
  directories: ["dev", "proc", "sys", "tmp", "home", "mnt"],
  files: ["etc/passwd", "etc/group", "etc/hosts", "etc/resolv.conf"],
} as const;

export class Charliecloud implements Runtime {
  readonly name = "ch-run" as const;

  detect(ctx: RunContext): RuntimeInfo {
    const path = which("ch-run", ctx.env);
    if (!path)
      return unavailable("ch-run", "charliecloud's ch-run is not installed", "apt-get install charliecloud-runtime");
    const info: RuntimeInfo = {
      name: "ch-run",
      available: true,
      path,
      rootless: true,
      problems: [],
      fixes: [],
      details: {},
    };
    const clone = readNumber("/proc/sys/kernel/unprivileged_userns_clone");
    const max = readNumber("/proc/sys/user/max_user_namespaces");
    if (clone === 0 || max === 0) {
      info.available = false;
      info.problems.push("unprivileged user namespaces are disabled on this machine");
      info.fixes.push(
        clone === 0 ? "sysctl kernel.unprivileged_userns_clone=1" : "sysctl user.max_user_namespaces=15000",
      );
    }
    return info;
  }

  async diagnose(ctx: RunContext): Promise<RuntimeInfo> {
    const info = this.detect(ctx);
    if (!info.path) return info;
    const v = await capture([info.path, "--version"], { env: { ...ctx.env, USER: ctx.env.USER || "tantalus" } });
    const text = firstLine(v.stdout) || firstLine(v.stderr);
    if (/^\d/.test(text)) info.version = text;
    info.details.limits = "binds are read-write; no network isolation; no GPU driver injection";
    return info;
  }

  needsAccountFiles(): boolean {
    return false;
  }

  async prepare(image: WorkflowImage, _info: RuntimeInfo, ctx: RunContext): Promise<PreparedImage> {
    const dir = join(cacheSubdir(ctx.cacheDir, "ch"), digestHex(image.image.manifestDescriptor.digest));
    if (existsSync(dir)) return { ref: dir, steps: [], loaded: false };
    const steps = [`unpack ${image.ref} from ${image.store.dir} into ${dir}`];
    if (ctx.dryRun) return { ref: dir, steps, loaded: true };
    ctx.log(`unpacking ${image.workflow} (${image.ref}) for ch-run into ${dir}; once per image`);
    const { unpackImage } = await import("../../image/unpack.js");
    await unpackImage(image.store, image.image, dir, CHARLIECLOUD_MOUNT_POINTS);
    return { ref: dir, steps, loaded: true };
  }

  async beforeLaunch(plan: LaunchPlan, prepared: PreparedImage): Promise<void> {
    const { ensureMountPoint } = await import("../../image/unpack.js");
    for (const m of plan.mounts) {
      let file: boolean;
      try {
        file = !statSync(m.source).isDirectory();
      } catch {
        file = false;
      }
      await ensureMountPoint(prepared.ref, m.target, file);
    }
    await ensureMountPoint(prepared.ref, plan.workdir, false);
  }

  command(plan: LaunchPlan, prepared: PreparedImage, info: RuntimeInfo): string[] {
    if (plan.network !== "host")
      throw new UsageError(`ch-run always shares the host network; --network ${plan.network} needs podman or docker`);
    if (plan.gpu.nvidia)
      throw new UsageError(
        "ch-run cannot give the container the NVIDIA driver (it needs `ch-fromhost --nvidia` on the image); use podman, docker or apptainer, or --gpu none",
      );
    const argv = [info.path ?? "ch-run", "--unset-env=*", "--env-no-expand"];
    const imageEnv = plan.imageEnv.map((e): [string, string] => {
      const eq = e.indexOf("=");
      return [e.slice(0, eq), e.slice(eq + 1)];
    });
    for (const [k, v] of dedupeEnv([...imageEnv, ...plan.env])) argv.push(`--set-env=${k}=${v}`);
    for (const m of plan.mounts) argv.push(`--bind=${m.source}:${m.target}`);
    argv.push(`--cd=${plan.workdir}`, prepared.ref, "--", ENTRYPOINT_PATH, ...plan.args);
    return argv;
  }

  rawTerminal(): boolean {
    return false;
  }
}

function readNumber(file: string): number | undefined {
  try {
    return Number(readFileSync(file, "utf8").trim());
  } catch {
    return undefined;
  }
}
