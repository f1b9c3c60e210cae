/**
 * The demo base image: the smallest root file system the sample studio's
 * images run on, assembled from the build host itself, so a studio can try
 * Tantalus without pulling anything.
 *
 *  - a shell and the tools the entrypoint uses: busybox (static) when the
 *    host has it, else the host's /bin/sh and a few coreutils;
 *  - the dynamic loader and the libraries the studio's binaries expect from
 *    the system (glibc, libstdc++, libgcc_s; the names audit.allow_system
 *    lists), with every library they need in turn;
 *  - /etc/passwd, /etc/group, /etc/nsswitch.conf, /etc/os-release, and the
 *    directories runtimes mount over (/proc, /sys, /dev, /tmp …).
 *
 * Host files keep their paths, and every symbolic link met on the way to
 * them (/lib -> usr/lib, /lib64/ld-linux-x86-64.so.2 -> …) is kept as a
 * link, so the loader finds its libraries in its own default directories and
 * no ld.so.cache is needed. The layer goes through the layer cache keyed by
 * those files' metadata: the same host gives the same base, byte for byte.
 * It is a demo: a studio's images should name a real base (base.image).
 */
import { execFileSync } from "node:child_process";
import { lstatSync, readlinkSync, statSync } from "node:fs";
import { posix } from "node:path";
import { readElf } from "../linker/elf.js";
import { TantalusError } from "../errors.js";
import type { LayerSource, LayerSpec } from "../image/layer/spec.js";
import type { OciStore } from "../image/layout/store.js";
import { writeImage } from "../image/mutate.js";
import { Annotation, type LayerCompression, type ResolvedImage } from "../image/types.js";
import type { BuildEventSink } from "./events.js";
import { Label } from "../image/contract.js";
import { fingerprintPath } from "./fingerprint.js";
import { writeOneLayer } from "./layers.js";
import { StoreMemo, memoKey } from "./memo.js";

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

const PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/** Without busybox: what the entrypoint and a quick look around need. */
const FALLBACK_TOOLS = [
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

export interface DemoBaseOptions {
  /** More SONAMEs to take from the host (non-glob entries of audit.allow_system). */
  libraries?: readonly string[];
  compression: LayerCompression;
  level?: number;
  mtime: Date;
  created: string;
  onEvent: BuildEventSink;
}

export interface DemoBaseContent {
  spec: LayerSpec;
  /** "busybox" or the host shell's path. */
  shell: string;
  warnings: string[];
}

/** The demo base in the store (its layer from the cache when the host files did not change). */
export async function demoBaseImage(store: OciStore, opts: DemoBaseOptions): Promise<ResolvedImage> {
  const content = await rememberedContent(store, opts.libraries ?? []);
  for (const message of content.warnings) opts.onEvent({ type: "warning", message });
  const layer = await writeOneLayer(store, content.spec, {
    ...opts,
    id: "demo-base",
    kind: "base",
    label: "demo base (host shell and system libraries)",
    expectedBytes: 0,
    annotations: { [Label.LayerKind]: "base" },
    comment: `demo base: ${content.shell} and the build host's system libraries`,
  });
  const built = await writeImage(store, {
    layers: [{ layer: layer.descriptor, createdBy: "tantalus demo base", comment: layer.comment }],
    config: {
      Env: [PATH_ENV],
      Cmd: ["/bin/sh"],
      Labels: {
        [Label.Base]: "demo",
        [Annotation.Title]: "tantalus demo base",
        [Annotation.Description]:
          "A shell and the build host's C/C++ runtime libraries, for trying Tantalus without a registry",
      },
    },
    created: opts.created,
    annotations: { [Label.Base]: "demo" },
  });
  return store.loadImage(built.descriptor);
}

interface RememberedContent extends DemoBaseContent {
  /** Fingerprint of every host file of the spec when it was assembled. */
  files: Record<string, string>;
}

/**
 * demoBaseContent, remembered in the store: assembling it runs busybox and
 * reads every ELF file's dynamic section. The entry is used while the host
 * files it names (and the candidates it would look for) are unchanged.
 */
async function rememberedContent(store: OciStore, libraries: readonly string[]): Promise<DemoBaseContent> {
  const wanted = [...new Set([...DEMO_BASE_LIBRARIES, ...libraries.filter((l) => !/[*?[]/.test(l))])].sort();
  const dirs = libraryDirectories();
  const candidates = {
    arch: process.arch,
    wanted,
    programs: ["busybox", "sh", ...FALLBACK_TOOLS].map((t) => stamp(t === "sh" ? "/bin/sh" : findProgram(t))),
    libraries: wanted.map((l) => stamp(findLibrary(l, dirs))),
  };
  const memo = new StoreMemo<RememberedContent>(store, "demo-base-cache");
  const key = memoKey("demo-base/v1", candidates);
  const hit = await memo.get(key);
  if (hit && Object.entries(hit.files).every(([f, fp]) => stamp(f) === fp)) return hit;
  const content = demoBaseContent(libraries);
  const files: Record<string, string> = {};
  for (const e of content.spec.entries) if (e.type === "hostFile") files[e.source] = stamp(e.source);
  await memo.put(key, { ...content, files });
  return content;
}

/** What lstat says about a host path (its fingerprint), or "absent". */
function stamp(path: string | undefined): string {
  if (path === undefined) return "absent";
  try {
    return fingerprintPath(path, { followRoot: false });
  } catch {
    return `absent:${path}`;
  }
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

function findProgram(name: string): string | undefined {
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
function libraryDirectories(): string[] {
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

function findLibrary(soname: string, dirs: readonly string[]): string | undefined {
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
