/**
 * docker: a daemon, reached through DOCKER_HOST or /var/run/docker.sock.
 *
 * Identity: `--user UID:GID` with the supplementary groups added and
 * generated /etc/passwd and /etc/group (the image's entries plus the user's)
 * mounted read-only, so `whoami`, `~` and tools that look the user up work.
 * With a rootless daemon, container root already is the user on the host:
 * the container runs as root there and HOME/USER name the user.
 *
 * Image: `docker load` of an oci-archive exported from our store (it carries
 * a docker manifest.json, which docker ≥ 20.10 needs), only when the daemon
 * has no image with the config digest as its ID; the run names the ID.
 */
import { accessSync, constants, existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { digestHex } from "../../image/digest.js";
import { ENTRYPOINT_PATH } from "../../image/contract.js";
import { capture, runStep } from "../exec.js";
import type { Identity } from "../../util/identity.js";
import { shellJoin } from "../quote.js";
import { which } from "../which.js";
import { envArgs, firstLine, unavailable, volumeArg } from "./common.js";
import { podmanImageName } from "./podman.js";
import type { LaunchPlan, PreparedImage, RunContext, Runtime, RuntimeInfo, WorkflowImage } from "./types.js";

/** The daemon's Unix socket, or undefined for a TCP/SSH DOCKER_HOST. */
export function dockerSocket(env: NodeJS.ProcessEnv): string | undefined {
  const host = env.DOCKER_HOST;
  if (!host) return "/var/run/docker.sock";
  return host.startsWith("unix://") ? host.slice("unix://".length) : undefined;
}

export class Docker implements Runtime {
  readonly name = "docker" as const;

  detect(ctx: RunContext): RuntimeInfo {
    const path = which("docker", ctx.env);
    if (!path)
      return unavailable(
        "docker",
        "docker is not installed",
        "apt-get install docker.io (or Docker CE), then start dockerd",
      );
    const info: RuntimeInfo = { name: "docker", available: true, path, problems: [], fixes: [], details: {} };
    const socket = dockerSocket(ctx.env);
    info.details.host = ctx.env.DOCKER_HOST ?? "unix:///var/run/docker.sock";
    if (socket) {
      if (!existsSync(socket)) {
        info.available = false;
        info.problems.push(`no docker daemon: ${socket} does not exist`);
        info.fixes.push("start dockerd (systemctl start docker), or point DOCKER_HOST at a running daemon");
      } else {
        try {
          accessSync(socket, constants.R_OK | constants.W_OK);
        } catch {
          info.available = false;
          info.problems.push(`no permission to use ${socket}`);
          info.fixes.push("add the user to the docker group (usermod -aG docker USER), or use podman");
        }
      }
      const uid = process.getuid?.() ?? 0;
      info.rootless = uid !== 0 && socket.startsWith(`/run/user/${uid}/`);
    }
    return info;
  }

  async diagnose(ctx: RunContext): Promise<RuntimeInfo> {
    const info = this.detect(ctx);
    if (!info.path) return info;
    const v = await capture([info.path, "version", "--format", "{{.Client.Version}}\t{{.Server.Version}}"], {
      env: ctx.env,
      timeoutMs: 10_000,
    });
    const [client, server] = firstLine(v.stdout).split("\t");
    if (client) info.version = client;
    if (v.status === 0 && server) info.details.serverVersion = server;
    else if (info.available) {
      info.available = false;
      info.problems.push(`the docker daemon does not answer: ${firstLine(v.stderr)}`);
      info.fixes.push("start dockerd, or fix DOCKER_HOST");
    }
    if (info.available) {
      const rt = await capture([info.path, "info", "--format", "{{json .Runtimes}}\t{{json .SecurityOptions}}"], {
        env: ctx.env,
      });
      if (rt.status === 0) {
        const [runtimes, security] = firstLine(rt.stdout).split("\t");
        info.details.runtimes = Object.keys(JSON.parse(runtimes || "{}") as object).join(",");
        if (security?.includes("rootless")) info.rootless = true;
      }
    }
    return info;
  }

  needsAccountFiles(info: RuntimeInfo, identity: Identity): boolean {
    return !info.rootless && identity.uid !== 0;
  }

  async prepare(image: WorkflowImage, info: RuntimeInfo, ctx: RunContext): Promise<PreparedImage> {
    const id = `sha256:${digestHex(image.image.manifest.config.digest)}`;
    const docker = info.path!;
    const inspect = [docker, "image", "inspect", "--format", "{{.Id}}", id];
    const has = await capture(inspect, { env: ctx.env });
    if (has.status === 0 && firstLine(has.stdout) === id) return { ref: id, steps: [], loaded: false };
    const archive = join(ctx.cacheDir, `docker-load-${process.pid}.tar`);
    const load = [docker, "load", "--quiet", "--input", archive];
    const steps = [`export ${image.ref} from ${image.store.dir} to oci-archive ${archive}`, shellJoin(load)];
    if (ctx.dryRun) return { ref: id, steps, loaded: true };
    ctx.log(`loading ${image.workflow} (${image.ref}) into docker`);
    const { exportOciArchive } = await import("../../image/sinks/index.js");
    try {
      await exportOciArchive(image.store, image.ref, archive, {
        tag: podmanImageName(image).replace(/^localhost\//, ""),
      });
      await runStep(load, "docker load", ctx.env);
    } finally {
      rmSync(archive, { force: true });
    }
    return { ref: id, steps, loaded: true };
  }

  command(plan: LaunchPlan, prepared: PreparedImage, info: RuntimeInfo): string[] {
    const argv = [info.path ?? "docker", "run", "--rm", "--init", "--interactive"];
    if (plan.tty) argv.push("--tty");
    argv.push("--entrypoint", ENTRYPOINT_PATH);
    argv.push("--security-opt", "label=disable");
    const id = plan.identity;
    if (!info.rootless) {
      argv.push("--user", `${id.uid}:${id.gid}`);
      for (const g of id.groups) argv.push("--group-add", String(g.gid));
      if (plan.accounts)
        argv.push(
          "--volume",
          `${plan.accounts.passwd}:/etc/passwd:ro`,
          "--volume",
          `${plan.accounts.group}:/etc/group:ro`,
        );
    }
    argv.push(`--network=${plan.network}`);
    for (const h of plan.addHosts) argv.push("--add-host", `${h.host}:${h.address}`);
    if (existsSync("/etc/localtime")) argv.push("--volume", "/etc/localtime:/etc/localtime:ro");
    for (const m of plan.mounts) argv.push("--volume", volumeArg(m));
    argv.push(...envArgs("--env", plan.env));
    argv.push("--workdir", plan.workdir);
    if (plan.gpu.nvidia) {
      argv.push("--gpus", "all");
      // The toolkit exposes only "utility" without this; DCCs need graphics and display too.
      if (!plan.env.some(([k]) => k === "NVIDIA_DRIVER_CAPABILITIES"))
        argv.push("--env", "NVIDIA_DRIVER_CAPABILITIES=all");
    }
    if (plan.gpu.dri) argv.push("--device", plan.gpu.dri);
    argv.push(prepared.ref, ...plan.args);
    return argv;
  }

  rawTerminal(plan: LaunchPlan): boolean {
    return plan.tty;
  }
}
