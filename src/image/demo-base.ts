/**
 * What goes into the demo base image, taken from the build host: the
 * smallest root file system the sample studio's images run on, so a studio
 * can try Tantalus without pulling anything. src/builder/demo-base.ts writes
 * it into the store (through the layer cache, remembered per host); the
 * audit reads the same content as the base of a workflow it checks without
 * a store. It is a layer spec, no I/O beyond reading the host.
 *
 *  - a shell and the tools the entrypoint uses: busybox (static) when the
 *    host has it, else the host's /bin/sh and a few coreutils;
 *  - the dynamic loader and the libraries the studio's binaries expect from
 *    the system (glibc, libstdc++, libgcc_s; the names audit.allow_system
 *    lists), with every library they need in turn (their DT_NEEDED, read
 *    with src/linker's ELF reader);
 *  - /etc/passwd, /etc/group, /etc/nsswitch.conf, /etc/os-release, and the
 *    directories runtimes mount over (/proc, /sys, /dev, /tmp …).
 *
 * Host files keep their paths, and every symbolic link met on the way to
 * them (/lib -> usr/lib, /lib64/ld-linux-x86-64.so.2 -> …) is kept as a
 * link, so the loader finds its libraries in its own default directories and
 * no ld.so.cache is needed. It is a demo: a studio's images should name a
 * real base (base.image).
 */
import { execFileSync } from "node:child_process";
import { lstatSync, readlinkSync, statSync } from "node:fs";
import { posix } from "node:path";
import { TantalusError } from "../errors.js";
import { readElf } from "../linker/elf.js";
import type { LayerSource, LayerSpec } from "./layer/spec.js";

/** Libraries every studio binary may take from the system (glibc and the GCC runtime). */
export const DEMO_BASE_LIBRARIES = [
  "libc.so.6",
  "libm.so.6",
  "libdl.so.2",
  "libpthread.so.0",
  "librt.so.1",
  "libstdc++.so.6",
  "libgcc_s.so.1",
];

/** Without busybox: what the entrypoint and a quick look around need. */
export const FALLBACK_TOOLS = [
  "env",
  "printenv",
  "cat",
  "ls",
  "id",
  "uname",
  "hostname",
  "mkdir",
  "rm",
  "cp",
  "ln",
  "readlink",
  "true",
  "false",
];

export interface DemoBaseContent {
  spec: LayerSpec;
  /** "busybox" or the host shell's path. */
  shell: string;
  warnings: string[];
}

/** What goes into the demo base, from this host. */
export function demoBaseContent(extraLibraries: readonly string[] = []): DemoBaseContent {
  const tree = new HostTree();
  const warnings: string[] = [];
  const busybox = findProgram("busybox");
  let shell: string;
  if (busybox) {
    const real = tree.addFile(busybox);
    const dir = posix.dirname(real);
    const applets = execFileSync(busybox, ["--list"], { encoding: "utf8" })
      .split("\n")
      .map((s) => s.trim())
      .filter((s) => s && !s.includes("/") && s !== "busybox");
    for (const a of applets.sort()) tree.symlinkIfFree(`${dir}/${a}`, "busybox");
    // Distribution builds of busybox leave some tools out (Debian's has no printenv): take the host's.
    for (const t of FALLBACK_TOOLS) {
      const p = applets.includes(t) ? undefined : findProgram(t);
      if (p) tree.addFile(p);
    }
    shell = "busybox";
    // /bin/sh and /usr/bin/env are what scripts name; make sure both reach busybox.
    tree.mirrorDirectory("/bin");
    tree.mirrorDirectory("/usr/bin");
    for (const p of ["/bin/sh", "/usr/bin/env"]) if (!tree.resolves(p)) tree.symlinkIfFree(p, real);
  } else {
    const sh = "/bin/sh";
    try {
      statSync(sh);
    } catch {
      throw new TantalusError(
        "cannot assemble the demo base: this host has neither busybox nor /bin/sh; set base.image to a real base image",
      );
    }
    tree.addFile(sh);
    shell = posix.basename(tree.realPathOf(sh) ?? sh);
    for (const t of FALLBACK_TOOLS) {
      const p = findProgram(t);
      if (p) tree.addFile(p);
    }
  }
  const libDirs = libraryDirectories();
  const wanted = [...new Set([...DEMO_BASE_LIBRARIES, ...extraLibraries.filter((l) => !/[*?[]/.test(l))])];
  for (const soname of wanted) {
    const found = findLibrary(soname, libDirs);
    if (found) tree.addFile(found);
    else warnings.push(`demo base: ${soname} is not installed on this host; images that need it will not run`);
  }
  // Every ELF file's loader and DT_NEEDED libraries, transitively.
  for (let i = 0; i < tree.files.length; i++) {
    const file = tree.files[i]!;
    const elf = readElf(file);
    if (!elf.ok) continue;
    if (elf.interpreter) tree.addFile(elf.interpreter);
    for (const needed of elf.dynamic?.needed ?? []) {
      const found = findLibrary(needed, libDirs);
      if (found) tree.addFile(found);
      else warnings.push(`demo base: ${needed} (needed by ${file}) is not installed on this host`);
    }
  }
  const entries: LayerSource[] = [
    ...tree.sources(),
    ...["/dev", "/proc", "/sys", "/run", "/etc", "/home", "/usr/local/bin"].map((path): LayerSource => ({
      type: "directory",
      path,
      mode: 0o755,
    })),
    { type: "directory", path: "/tmp", mode: 0o1777 },
    { type: "directory", path: "/var/tmp", mode: 0o1777 },
    { type: "directory", path: "/root", mode: 0o700 },
    {
      type: "file",
      path: "/etc/passwd",
      content: "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
    },
    { type: "file", path: "/etc/group", content: "root:x:0:\nnogroup:x:65534:\n" },
    {
      type: "file",
      path: "/etc/nsswitch.conf",
      content: "passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n",
    },
    { type: "file", path: "/etc/hosts", content: "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n" },
    { type: "file", path: "/etc/resolv.conf", content: "" },
    {
      type: "file",
      path: "/etc/os-release",
      content: 'NAME="Tantalus demo base"\nID=tantalus-demo\nPRETTY_NAME="Tantalus demo base (build host libraries)"\n',
    },
  ];
  return { spec: { entries }, shell, warnings };
}

/**
 * Host paths as they will appear in the image: regular files at their real
 * paths, each symbolic link met while resolving them as a link.
 */
class HostTree {
  readonly files: string[] = [];
  private readonly links = new Map<string, string>();
  private readonly fileSet = new Set<string>();

  /** Add a host file (following and recording links); returns its real path. */
  addFile(path: string): string {
    const real = this.resolveOnHost(path);
    if (!this.fileSet.has(real)) {
      this.fileSet.add(real);
      this.files.push(real);
    }
    return real;
  }

  realPathOf(path: string): string | undefined {
    try {
      return this.resolveOnHost(path, false);
    } catch {
      return undefined;
    }
  }

  /** Record the links on the way to a host directory (e.g. /bin -> usr/bin), if it exists. */
  mirrorDirectory(path: string): void {
    try {
      this.resolveOnHost(path);
    } catch {
      // absent on this host: nothing to mirror
    }
  }

  symlinkIfFree(path: string, target: string): void {
    if (this.links.has(path) || this.fileSet.has(path)) return;
    this.links.set(path, target);
  }

  /** Does `path` lead to a file of this tree (through its links)? */
  resolves(path: string): boolean {
    const target = followLinks(path, (p) => this.links.get(p));
    return target !== undefined && this.fileSet.has(target);
  }

  sources(): LayerSource[] {
    const out: LayerSource[] = [];
    for (const f of [...this.files].sort()) out.push({ type: "hostFile", source: f, path: f });
    for (const [path, target] of [...this.links.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      out.push({ type: "symlink", path, linkTarget: target });
    }
    return out;
  }

  private resolveOnHost(path: string, record = true): string {
    const resolved = followLinks(path, (p) => {
      if (!lstatSync(p).isSymbolicLink()) return undefined;
      const target = readlinkSync(p);
      if (record) this.links.set(p, target);
      return target;
    });
    if (resolved === undefined) throw new TantalusError(`demo base: too many symbolic links resolving ${path}`);
    return resolved || "/";
  }
}

/**
 * Resolve an absolute path component by component as the kernel does, with
 * `linkAt` saying which prefixes are symbolic links (the host's, or the
 * tree's own); undefined after 40 links, the kernel's limit.
 */
function followLinks(path: string, linkAt: (prefix: string) => string | undefined): string | undefined {
  let parts = path.split("/").filter(Boolean);
  let cur = "";
  for (let hops = 0; parts.length > 0;) {
    const comp = parts.shift()!;
    if (comp === ".") continue;
    if (comp === "..") {
      cur = posix.dirname(cur || "/") === "/" ? "" : posix.dirname(cur);
      continue;
    }
    const next = `${cur}/${comp}`;
    const link = linkAt(next);
    if (link !== undefined) {
      if (++hops > 40) return undefined;
      parts = [...link.split("/").filter(Boolean), ...parts];
      if (link.startsWith("/")) cur = "";
      continue;
    }
    cur = next;
  }
  return cur;
}

export function findProgram(name: string): string | undefined {
  for (const dir of ["/usr/bin", "/bin", "/usr/sbin", "/sbin", "/usr/local/bin"]) {
    const p = `${dir}/${name}`;
    try {
      if (statSync(p).isFile()) return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Where this host's loader looks by default: the multiarch directories (Debian), then lib64 (RHEL), then lib. */
export function libraryDirectories(): string[] {
  const triplet = (
    {
      x64: "x86_64-linux-gnu",
      arm64: "aarch64-linux-gnu",
      ppc64: "powerpc64le-linux-gnu",
      s390x: "s390x-linux-gnu",
    } as Record<string, string>
  )[process.arch];
  const dirs = triplet ? [`/lib/${triplet}`, `/usr/lib/${triplet}`] : [];
  return [...dirs, "/lib64", "/usr/lib64", "/lib", "/usr/lib"];
}

export function findLibrary(soname: string, dirs: readonly string[]): string | undefined {
  for (const d of dirs) {
    const p = `${d}/${soname}`;
    try {
      if (statSync(p).isFile()) return p;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}
