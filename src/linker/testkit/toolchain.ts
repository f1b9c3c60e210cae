/**
 * Test support: builds real ELF objects with the system gcc into temporary
 * directories and runs the real dynamic linker, so audit tests compare the
 * emulation with glibc itself. Not used by the library.
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseLdDebugSearchPath, type LinkerProfile } from "../profile.js";
import { makeDirsSync } from "../../util/dirs.js";

export function tempDir(prefix = "tantalus-audit-"): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

export interface CompileOptions {
  /** C source; defaults to a one-function library or an empty main. */
  source?: string;
  shared?: boolean;
  soname?: string;
  /** Libraries to link against, by file path (each becomes a DT_NEEDED of its SONAME). */
  link?: string[];
  /** DT_RPATH (old tags). */
  rpath?: string;
  /** DT_RUNPATH (new tags). */
  runpath?: string;
  m32?: boolean;
  /** No libc, no start files (for -m32 without 32-bit libc installed). */
  nostdlib?: boolean;
  /** Linker version script contents (defines symbol versions). */
  versionScript?: string;
  extra?: string[];
}

let counter = 0;

/** Compiles `out` with gcc; DT_NEEDED entries are kept even when unused (--no-as-needed). */
export function compile(out: string, opts: CompileOptions = {}): string {
  makeDirsSync(path.dirname(out));
  const src = path.join(path.dirname(out), `.src-${process.pid}-${counter++}.c`);
  const source =
    opts.source ??
    (opts.shared
      ? `int f_${counter}(void) { return ${counter}; }\n`
      : opts.nostdlib
        ? "void _start(void) { for (;;) ; }\n"
        : "int main(void) { return 0; }\n");
  fs.writeFileSync(src, source);
  const args = ["-o", out, src, "-Wl,--no-as-needed"];
  if (opts.shared) args.push("-shared", "-fPIC");
  if (opts.m32) args.push("-m32");
  if (opts.nostdlib) args.push("-nostdlib");
  if (opts.soname) args.push(`-Wl,-soname,${opts.soname}`);
  if (opts.rpath !== undefined) args.push("-Wl,--disable-new-dtags", `-Wl,-rpath,${opts.rpath}`);
  if (opts.runpath !== undefined) args.push("-Wl,--enable-new-dtags", `-Wl,-rpath,${opts.runpath}`);
  if (opts.versionScript !== undefined) {
    const vs = `${src}.map`;
    fs.writeFileSync(vs, opts.versionScript);
    args.push(`-Wl,--version-script,${vs}`);
  }
  for (const l of opts.link ?? []) args.push(l);
  args.push(...(opts.extra ?? []));
  try {
    execFileSync("gcc", args, { stdio: ["ignore", "pipe", "pipe"] });
  } finally {
    fs.rmSync(src, { force: true });
    fs.rmSync(`${src}.map`, { force: true });
  }
  return out;
}

/** True if gcc can build a 32-bit shared object (without a 32-bit libc). */
export function canCompileM32(dir: string): boolean {
  try {
    compile(path.join(dir, ".m32probe.so"), { shared: true, m32: true, nostdlib: true });
    return true;
  } catch {
    return false;
  }
}

/** Normalises ldd-style output: no load addresses, no vDSO, trimmed. */
export function traceOutputLines(stdout: string): string[] {
  return stdout
    .split("\n")
    .map((l) => l.trim().replace(/\s*\(0x[0-9a-f]+\)$/, ""))
    .filter((l) => l !== "" && !l.startsWith("linux-vdso.so") && l !== "statically linked");
}

/** Runs `exe` with LD_TRACE_LOADED_OBJECTS=1 (what ldd does): the kernel executes it, ld.so lists. */
export function traceLoadedObjects(
  exe: string,
  env: Record<string, string> = {},
): { lines: string[]; stderr: string; status: number | null } {
  const p = spawnSync(exe, [], { env: { LD_TRACE_LOADED_OBJECTS: "1", ...env }, encoding: "utf8" });
  return { lines: traceOutputLines(p.stdout ?? ""), stderr: p.stderr ?? "", status: p.status };
}

/** The host's dynamic linker (PT_INTERP of /bin/sh's libc world). */
export function hostInterpreter(): string {
  for (const p of ["/lib64/ld-linux-x86-64.so.2", "/lib/ld-linux-aarch64.so.1"]) if (fs.existsSync(p)) return p;
  throw new Error("no known dynamic linker on this host");
}

/** Runs a command as root: directly when we are root, else in a user namespace (unshare -r). */
export function asRoot(
  cmd: string,
  args: string[],
  env?: Record<string, string>,
): { stdout: string; stderr: string; status: number | null } {
  const uid = process.getuid?.() ?? 0;
  const [c, a] = uid === 0 ? [cmd, args] : ["unshare", ["-r", cmd, ...args]];
  const p = spawnSync(c, a, { encoding: "utf8", env: env ?? process.env });
  return { stdout: p.stdout ?? "", stderr: p.stderr ?? "", status: p.status };
}

/** `ldconfig -r root` with a cache file and configuration inside the root; no links are created. */
export function ldconfigInRoot(
  root: string,
  opts: { format?: "new" | "old" | "compat"; cache?: string; conf?: string } = {},
): void {
  const args = ["-r", root, "-X", "-C", opts.cache ?? "/etc/ld.so.cache", "-f", opts.conf ?? "/etc/ld.so.conf"];
  if (opts.format) args.push("-c", opts.format);
  const r = asRoot("ldconfig", args);
  if (r.status !== 0) throw new Error(`ldconfig failed: ${r.stderr}`);
}

/**
 * The host ld.so's profile, measured: an executable with a missing library
 * and an RPATH of "$LIB" and "$PLATFORM" markers is run with LD_DEBUG=libs,
 * and the printed search paths give the system directories, the hwcaps
 * subdirectories and the token expansions. Agreement tests use it so they
 * hold on any glibc host, and check it against the built-in profile.
 */
export function probeHostProfile(dir: string, base: LinkerProfile): LinkerProfile {
  const exe = compile(path.join(dir, "ld-probe"), {
    rpath: "/tantalus-probe-lib/$LIB:/tantalus-probe-platform/$PLATFORM",
    link: [
      compile(path.join(dir, "probe-lib", "libtantalus-probe.so.1"), {
        shared: true,
        soname: "libtantalus-probe.so.1",
      }),
    ],
  });
  const p = spawnSync(exe, [], { env: { LD_DEBUG: "libs" }, encoding: "utf8" });
  const out = `${p.stdout}\n${p.stderr}`;
  const system = parseLdDebugSearchPath(out);
  const rpath = parseLdDebugSearchPath(out, "RPATH from file");
  if (!system || !rpath || rpath.dirs.length !== 2) throw new Error(`cannot read LD_DEBUG output:\n${out}`);
  return {
    ...base,
    name: `${base.name} (probed)`,
    systemDirs: system.dirs,
    searchSubdirs: system.searchSubdirs,
    lib: rpath.dirs[0]!.slice("/tantalus-probe-lib/".length),
    platform: rpath.dirs[1]!.slice("/tantalus-probe-platform/".length),
    cacheHwcaps: system.searchSubdirs
      .filter((s) => s.startsWith("glibc-hwcaps/"))
      .map((s) => s.slice("glibc-hwcaps/".length)),
  };
}
