/**
 * podman, rootful (run by root, e.g. through sudo) or rootless (any user).
 *
 * Identity: rootless uses `--userns=keep-id`, which maps the user's UID/GID
 * to themselves and adds their passwd/group entries; rootful for a non-root
 * user runs `--user UID:GID` with generated passwd/group files mounted over
 * the image's and the supplementary groups added. Rootless with crun also
 * keeps the user's supplementary groups (`--group-add keep-groups`); runc
 * drops them.
 *
 * Image: loaded from our OCI store into containers-storage with
 * `skopeo copy oci:STORE:TAG containers-storage:localhost/tantalus/WF:TAG`
 * (fallback `podman load` of an exported oci-archive), only when podman
 * does not hold it yet. The run names the image by its ID (the config
 * digest, the same in both stores), so a re-tag can never run the wrong one;
 * whether podman has it is a stat in its graph root, learnt once from
 * `podman info`, because asking podman costs ~100 ms per run.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { userInfo } from "node:os";
import { join } from "node:path";
import { TantalusError } from "../../errors.js";
import { digestHex, isDigest } from "../../image/digest.js";
import { storeId } from "../../locations.js";
import { writeFileAtomic } from "../../util/atomic.js";
import { cacheSubdir } from "../cache.js";
import { ENTRYPOINT_PATH } from "../../image/contract.js";
import { capture, runStep } from "../exec.js";
import { NVIDIA_CDI_ALL } from "../gpu.js";
import { containersConfFiles, podmanHostFindings, podmanOciRuntime, tomlSetting } from "../host-checks.js";
import type { Identity } from "../../util/identity.js";
import { shellJoin } from "../quote.js";
import { which } from "../which.js";
import { envArgs, firstLine, hasSubordinateRange, unavailable, volumeArg } from "./common.js";
import type { LaunchPlan, PreparedImage, RunContext, Runtime, RuntimeInfo, WorkflowImage } from "./types.js";

/** Where podman looks for its init when containers.conf sets no init_path. */
const PODMAN_INIT_PATHS = [
  "/usr/libexec/podman/catatonit",
  "/usr/local/libexec/podman/catatonit",
  "/usr/lib/podman/catatonit",
];

interface StorageFacts {
  graphRoot: string;
  driver: string;
}

function storageCacheFile(ctx: RunContext): string {
  return join(ctx.cacheDir, `podman-storage-${process.getuid?.() ?? 0}.json`);
}

function readStorageFacts(ctx: RunContext): StorageFacts | undefined {
  try {
    return JSON.parse(readFileSync(storageCacheFile(ctx), "utf8")) as StorageFacts;
  } catch {
    return undefined;
  }
}

/** Prefix of every name Tantalus gives an image it loads into podman or docker. */
export const RUNTIME_NAME_PREFIX = "localhost/tantalus/";

/**
 * The image's name in podman / docker: `localhost/tantalus/<store id>/<workflow>:<manifest digest prefix>`.
 * Runs use the image ID; the name is for humans (`podman images`) and for `tantalus gc`, and
 * depends on the store and the image, so two stores (two studios) on one machine with a workflow
 * of the same name never move each other's names and leave no `<none>` images behind.
 */
export function podmanImageName(image: WorkflowImage): string {
  const wf =
    image.workflow
      .toLowerCase()
      .replace(/[^a-z0-9._-]/g, "-")
      .replace(/^[._-]+/, "") || "workflow";
  return `${RUNTIME_NAME_PREFIX}${storeId(image.store.dir)}/${wf}:${digestHex(image.image.manifestDescriptor.digest).slice(0, 16)}`;
}

export class Podman implements Runtime {
  readonly name = "podman" as const;

  detect(ctx: RunContext): RuntimeInfo {
    const path = which("podman", ctx.env);
    if (!path)
      return unavailable(
        "podman",
        "podman is not installed",
        "apt-get install podman uidmap slirp4netns (dnf install podman)",
      );
    const rootless = (process.getuid?.() ?? 0) !== 0;
    const info: RuntimeInfo = { name: "podman", available: true, path, rootless, problems: [], fixes: [], details: {} };
    info.details.ociRuntime = podmanOciRuntime(ctx.env, rootless, (c) => which(c, ctx.env));
    // --init (signals reach the application, `kill $$` works, zombies are reaped) needs podman's init binary.
    const init =
      tomlSetting(containersConfFiles(ctx.env, rootless), "containers", "init_path") ??
      PODMAN_INIT_PATHS.find((p) => existsSync(p));
    if (!init || !existsSync(init)) {
      info.available = false;
      info.problems.push("podman's container init (catatonit) is missing: `podman run --init` fails");
      info.fixes.push("apt-get install catatonit (dnf install catatonit)");
    } else info.details.init = init;
    if (rootless) {
      const user = userInfo().username;
      for (const f of ["/etc/subuid", "/etc/subgid"]) {
        if (!hasSubordinateRange(f, user)) {
          info.available = false;
          info.problems.push(`${user} has no subordinate IDs in ${f}: rootless podman cannot start containers`);
          info.fixes.push(`usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${user}`);
        }
      }
    }
    return info;
  }

  async diagnose(ctx: RunContext): Promise<RuntimeInfo> {
    const info = this.detect(ctx);
    if (!info.path) return info;
    const v = await capture([info.path, "--version"], { env: ctx.env });
    if (v.status === 0) info.version = firstLine(v.stdout).replace(/^podman version\s*/, "");
    for (const f of podmanHostFindings({
      env: ctx.env,
      rootless: info.rootless ?? false,
      which: (c) => which(c, ctx.env),
      bridge: true,
    })) {
      info.problems.push(f.problem);
      info.fixes.push(f.fix);
    }
    const facts = await capture(
      [
        info.path,
        "info",
        "--format",
        "{{.Store.GraphRoot}}\t{{.Store.GraphDriverName}}\t{{.Host.OCIRuntime.Name}}\t{{.Host.CgroupsVersion}}",
      ],
      { env: ctx.env },
    );
    if (facts.status === 0) {
      const [graphRoot, driver, oci, cgroups] = firstLine(facts.stdout).split("\t");
      info.details.graphRoot = graphRoot ?? "";
      info.details.storageDriver = driver ?? "";
      info.details.ociRuntime = oci ?? info.details.ociRuntime ?? "";
      info.details.cgroups = cgroups ?? "";
    } else {
      info.available = false;
      info.problems.push(`\`podman info\` fails: ${firstLine(facts.stderr)}`);
      info.fixes.push("see the podman problems above; `podman info` must work before anything can run");
    }
    return info;
  }

  needsAccountFiles(info: RuntimeInfo, identity: Identity): boolean {
    return !info.rootless && identity.uid !== 0;
  }

  async prepare(image: WorkflowImage, info: RuntimeInfo, ctx: RunContext): Promise<PreparedImage> {
    const id = digestHex(image.image.manifest.config.digest);
    const facts = readStorageFacts(ctx);
    if (facts && existsSync(join(facts.graphRoot, `${facts.driver}-images`, id)))
      return { ref: id, steps: [], loaded: false };
    const podman = info.path!;
    const name = podmanImageName(image);
    // skopeo's oci: transport names images by tag only; an image named by digest goes through podman load.
    const skopeo = isDigest(image.ref) ? undefined : which("skopeo", ctx.env);
    const archive = join(ctx.cacheDir, `podman-load-${process.pid}.tar`);
    const copy = [
      skopeo ?? "skopeo",
      "copy",
      "--quiet",
      `oci:${image.store.dir}:${image.ref}`,
      `containers-storage:${name}`,
    ];
    const load = [podman, "load", "--quiet", "--input", archive];
    const steps = skopeo
      ? [shellJoin(copy)]
      : [`export ${image.ref} from ${image.store.dir} to oci-archive ${archive}`, shellJoin(load)];
    if (!facts) {
      // Maybe podman has it but we never learnt where its storage is.
      const exists = await capture([podman, "image", "exists", id], { env: ctx.env });
      if (exists.status === 0) {
        await this.learnStorage(podman, ctx);
        return { ref: id, steps: [], loaded: false };
      }
    }
    if (ctx.dryRun) return { ref: id, steps, loaded: true };
    ctx.log(`loading ${image.workflow} (${image.ref}) into podman as ${name}`);
    if (skopeo) await runStep(copy, "copying the image into podman's storage", ctx.env);
    else {
      const { exportOciArchive } = await import("../../image/sinks/index.js");
      try {
        cacheSubdir(ctx.cacheDir); // a first run on a fresh farm node has no cache yet
        await exportOciArchive(image.store, image.ref, archive, { tag: name });
        await runStep(load, "podman load", ctx.env);
      } finally {
        rmSync(archive, { force: true });
      }
    }
    await this.learnStorage(podman, ctx);
    return { ref: id, steps, loaded: true };
  }

  private async learnStorage(podman: string, ctx: RunContext): Promise<void> {
    const out = await runStep(
      [podman, "info", "--format", "{{.Store.GraphRoot}}\t{{.Store.GraphDriverName}}"],
      "podman info",
      ctx.env,
    );
    const [graphRoot, driver] = firstLine(out).split("\t");
    if (!graphRoot || !driver) throw new TantalusError(`podman info gave no storage location: ${JSON.stringify(out)}`);
    writeFileAtomic(storageCacheFile(ctx), JSON.stringify({ graphRoot, driver } satisfies StorageFacts));
  }

  command(plan: LaunchPlan, prepared: PreparedImage, info: RuntimeInfo): string[] {
    const argv = [info.path ?? "podman", "run", "--rm", "--init", "--interactive"];
    if (plan.tty) argv.push("--tty");
    argv.push("--entrypoint", ENTRYPOINT_PATH);
    // Binds of the user's own files must not be relabelled (":z" would relabel their home) nor denied.
    argv.push("--security-opt", "label=disable");
    const id = plan.identity;
    if (info.rootless) {
      argv.push("--userns=keep-id");
      if (id.groups.length > 0 && info.details.ociRuntime?.endsWith("crun")) argv.push("--group-add", "keep-groups");
    } else if (id.uid !== 0) {
      argv.push("--user", `${id.uid}:${id.gid}`);
      for (const g of id.groups) argv.push("--group-add", String(g.gid));
      if (plan.accounts) {
        argv.push("--passwd=false");
        argv.push(
          "--volume",
          `${plan.accounts.passwd}:/etc/passwd:ro`,
          "--volume",
          `${plan.accounts.group}:/etc/group:ro`,
        );
      }
    }
    if (plan.network === "bridge") argv.push(info.rootless ? "--network=slirp4netns" : "--network=bridge");
    else argv.push(`--network=${plan.network}`);
    for (const h of plan.addHosts) argv.push("--add-host", `${h.host}:${h.address}`);
    argv.push("--tz=local");
    for (const m of plan.mounts) argv.push("--volume", volumeArg(m));
    argv.push(...envArgs("--env", plan.env));
    argv.push("--workdir", plan.workdir);
    if (plan.gpu.nvidia) argv.push("--device", NVIDIA_CDI_ALL);
    if (plan.gpu.dri) argv.push("--device", plan.gpu.dri);
    argv.push(prepared.ref, ...plan.args);
    return argv;
  }

  rawTerminal(plan: LaunchPlan): boolean {
    return plan.tty;
  }
}

/**
 * `tantalus gc`'s part in podman: the names this store gave images it loaded
 * (`localhost/tantalus/<store id>/...`) whose manifest is no longer in the
 * store. Removing a name removes the image when no other name or container
 * holds it. Returns the names removed (or that would be, with dryRun).
 */
export async function removeUnreferencedPodmanCopies(
  store: { dir: string; readIndex(): Promise<{ manifests: { digest: string }[] }> },
  env: NodeJS.ProcessEnv,
  dryRun: boolean,
): Promise<string[]> {
  const podman = which("podman", env);
  if (!podman) return [];
  const listed = await capture([podman, "images", "--format", "{{.Repository}}:{{.Tag}}"], { env });
  if (listed.status !== 0) return [];
  const prefix = `${RUNTIME_NAME_PREFIX}${storeId(store.dir)}/`;
  const present = new Set(
    (await store.readIndex()).manifests.map((d) => digestHex(d.digest as `sha256:${string}`).slice(0, 16)),
  );
  const stale = [...new Set(listed.stdout.split("\n").filter((n) => n.startsWith(prefix)))].filter(
    (n) => !present.has(n.slice(n.lastIndexOf(":") + 1)),
  );
  if (!dryRun) for (const name of stale) await capture([podman, "rmi", name], { env });
  return stale.sort();
}
