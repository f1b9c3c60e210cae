/**
 * Host facts that decide whether podman works on a machine, learnt on the
 * CI VMs (shared research container-tools.md): no CAP_SYS_RESOURCE makes
 * podman's default 1048576 open-file limit fail; cgroup v1 "hybrid" with a
 * controller on the v2 mount makes crun refuse to start; without udev the
 * device nodes rootless networking and fuse need are root-only; without a
 * storage.conf rootless podman falls back to the slow vfs driver.
 */
import { accessSync, constants, existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export interface Finding {
  problem: string;
  fix: string;
}

const CAP_SYS_RESOURCE = 24;

export function hasCapability(cap: number, statusText?: string): boolean {
  const text = statusText ?? safeRead("/proc/self/status") ?? "";
  const m = /^CapBnd:\s*([0-9a-f]+)/m.exec(text);
  if (!m) return true;
  return (BigInt("0x" + m[1]) & (1n << BigInt(cap))) !== 0n;
}

function safeRead(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

/** The `*.conf` files of a drop-in folder in the order podman reads them (by name), none when it is absent. */
function dropIns(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith(".conf"))
      .sort()
      .map((f) => join(dir, f));
  } catch {
    return [];
  }
}

/**
 * containers.conf files podman reads, lowest priority first: each file, then its
 * `.d` drop-in folder (containers-common 0.50, podman 4.3; scripts/setup-host.sh
 * writes its settings as /etc/containers/containers.conf.d/tantalus.conf).
 */
export function containersConfFiles(env: NodeJS.ProcessEnv, rootless: boolean): string[] {
  if (env.CONTAINERS_CONF) return [env.CONTAINERS_CONF];
  const files = [
    "/usr/share/containers/containers.conf",
    "/etc/containers/containers.conf",
    ...dropIns("/etc/containers/containers.conf.d"),
  ];
  if (rootless) {
    const user = join(env.XDG_CONFIG_HOME || join(env.HOME || homedir(), ".config"), "containers", "containers.conf");
    files.push(user, ...dropIns(`${user}.d`));
  }
  return files;
}

export function storageConfFiles(env: NodeJS.ProcessEnv, rootless: boolean): string[] {
  if (env.CONTAINERS_STORAGE_CONF) return [env.CONTAINERS_STORAGE_CONF];
  const files = ["/usr/share/containers/storage.conf", "/etc/containers/storage.conf"];
  if (rootless)
    files.push(join(env.XDG_CONFIG_HOME || join(env.HOME || homedir(), ".config"), "containers", "storage.conf"));
  return files;
}

/** `key = value` of a TOML table, from the last file that sets it (enough for the flat keys podman uses). */
export function tomlSetting(files: readonly string[], table: string, key: string): string | undefined {
  let found: string | undefined;
  for (const f of files) {
    const text = safeRead(f);
    if (text === undefined) continue;
    let current = "";
    for (const raw of text.split("\n")) {
      const line = raw.replace(/#.*$/, "").trim();
      const t = /^\[([^\]]+)\]$/.exec(line);
      if (t) {
        current = t[1]!.trim();
        continue;
      }
      const kv = /^([A-Za-z0-9_]+)\s*=\s*(.+)$/.exec(line);
      if (kv && current === table && kv[1] === key) found = kv[2]!.trim().replace(/^"(.*)"$/, "$1");
    }
  }
  return found;
}

/** The OCI runtime podman will use: containers.conf's, else crun when installed (podman's default), else runc. */
export function podmanOciRuntime(
  env: NodeJS.ProcessEnv,
  rootless: boolean,
  whichFn: (c: string) => string | undefined,
): string {
  const configured = tomlSetting(containersConfFiles(env, rootless), "engine", "runtime");
  if (configured) return configured;
  return whichFn("crun") ? "crun" : "runc";
}

function mode(path: string): number | undefined {
  try {
    return statSync(path).mode & 0o777;
  } catch {
    return undefined;
  }
}

function usable(path: string): boolean {
  try {
    accessSync(path, constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

export interface PodmanHostContext {
  env: NodeJS.ProcessEnv;
  rootless: boolean;
  which: (c: string) => string | undefined;
  /** The network the run would use (rootless bridge networking needs /dev/net/tun). */
  bridge?: boolean;
}

export function podmanHostFindings(ctx: PodmanHostContext): Finding[] {
  const out: Finding[] = [];
  const conf = containersConfFiles(ctx.env, ctx.rootless);
  if (!ctx.rootless && !hasCapability(CAP_SYS_RESOURCE) && !tomlSetting(conf, "containers", "default_ulimits")) {
    out.push({
      problem:
        "this machine has no CAP_SYS_RESOURCE, so rootful podman's default open-file limit (1048576) fails: `setrlimit RLIMIT_NOFILE: Operation not permitted`",
      fix: 'in /etc/containers/containers.conf or a drop-in in /etc/containers/containers.conf.d/: [containers] default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"] (scripts/setup-host.sh writes it)',
    });
  }
  const runtime = podmanOciRuntime(ctx.env, ctx.rootless, ctx.which);
  const controllers = safeRead("/sys/fs/cgroup/unified/cgroup.controllers");
  if (runtime.endsWith("crun") && controllers !== undefined && controllers.trim() !== "") {
    out.push({
      problem: `cgroups are v1 "hybrid" with controllers (${controllers.trim()}) on the v2 mount: crun refuses to start containers`,
      fix: 'set [engine] runtime = "runc" in containers.conf, or move the controller to v1: mkdir /sys/fs/cgroup/hugetlb && mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb',
    });
  }
  if (
    !existsSync("/run/systemd/system") &&
    (tomlSetting(conf, "engine", "cgroup_manager") ?? "systemd") === "systemd"
  ) {
    out.push({
      problem: "no systemd on this machine, but podman's cgroup manager is systemd",
      fix: 'set [engine] cgroup_manager = "cgroupfs" and events_logger = "file" in containers.conf',
    });
  }
  if (ctx.rootless) {
    const driver = tomlSetting(storageConfFiles(ctx.env, true), "storage", "driver");
    if (!driver || driver === "vfs") {
      out.push({
        problem: `rootless podman stores images with the ${driver ? "vfs" : "default (vfs)"} driver: every layer is a full copy, slow to load and large`,
        fix: 'in /etc/containers/storage.conf (or ~/.config/containers/storage.conf): [storage] driver = "overlay" (kernel ≥ 5.11 does rootless overlay)',
      });
    }
    if (ctx.bridge && existsSync("/dev/net/tun") && !usable("/dev/net/tun")) {
      out.push({
        problem: `/dev/net/tun is mode ${(mode("/dev/net/tun") ?? 0).toString(8)}: rootless bridge networking (slirp4netns) cannot open it`,
        fix: "chmod 0666 /dev/net/tun (as udev would), or use --network host",
      });
    }
    if (
      tomlSetting(storageConfFiles(ctx.env, true), "storage.options.overlay", "mount_program") &&
      !usable("/dev/fuse")
    ) {
      out.push({
        problem: "storage uses fuse-overlayfs but /dev/fuse is not usable by this user",
        fix: "chmod 0666 /dev/fuse",
      });
    }
    if (!ctx.which("newuidmap") || !ctx.which("newgidmap")) {
      out.push({
        problem: "newuidmap/newgidmap are missing: rootless podman cannot map the user's subordinate IDs",
        fix: "apt-get install uidmap (dnf install shadow-utils)",
      });
    }
  }
  const mountinfo = safeRead("/proc/self/mountinfo");
  const rootLine = mountinfo?.split("\n").find((l) => l.split(" ")[4] === "/");
  if (ctx.rootless && rootLine && !/ shared:\d+/.test(rootLine)) {
    out.push({
      problem: '"/" is not a shared mount: podman warns on every rootless run',
      fix: "mount --make-rshared /",
    });
  }
  return out;
}
