/**
 * What a particular glibc build of ld.so does that is not in the ELF files:
 * its trusted default directories, the values of $LIB and $PLATFORM, the
 * hardware-capability subdirectories it tries inside every search
 * directory, and the ld.so.cache flags it accepts. These differ between
 * distributions (Debian's multiarch directories, RHEL's lib64) and between
 * glibc versions, so they are data: one profile per base image.
 */
import { EM } from "./elf.js";

/** ld.so.cache flag bits (glibc elf/cache.h, sysdeps/generic/ldconfig.h). */
export const CACHE_FLAG = {
  TYPE_MASK: 0x00ff,
  LIBC4: 0x0000,
  ELF: 0x0001,
  ELF_LIBC5: 0x0002,
  ELF_LIBC6: 0x0003,
  REQUIRED_MASK: 0xff00,
  SPARC_LIB64: 0x0100,
  IA64_LIB64: 0x0200,
  X8664_LIB64: 0x0300,
  S390_LIB64: 0x0400,
  POWERPC_LIB64: 0x0500,
  MIPS64_LIBN32: 0x0600,
  MIPS64_LIBN64: 0x0700,
  X8664_LIBX32: 0x0800,
  ARM_LIBHF: 0x0900,
  AARCH64_LIB64: 0x0a00,
  ARM_LIBSF: 0x0b00,
  MIPS_LIB32_NAN2008: 0x0c00,
  MIPS64_LIBN32_NAN2008: 0x0d00,
  MIPS64_LIBN64_NAN2008: 0x0e00,
  RISCV_FLOAT_ABI_SOFT: 0x0f00,
  RISCV_FLOAT_ABI_DOUBLE: 0x1000,
  LARCH_FLOAT_ABI_SOFT: 0x1100,
  LARCH_FLOAT_ABI_DOUBLE: 0x1200,
} as const;

export interface LinkerProfile {
  /** e.g. "debian-12-x86_64" */
  name: string;
  elfClass: 32 | 64;
  data: "lsb" | "msb";
  /** e_machine ld.so accepts. */
  machine: number;
  /** Default PT_INTERP of executables on this base. */
  interpreter: string;
  /** glibc's SYSTEM_DIRS: searched last, and the prefixes DF_1_NODEFLIB rejects from the cache. */
  systemDirs: string[];
  /** Directories ldconfig always scans after ld.so.conf (SLIBDIR, LIBDIR and what add_system_dir adds). */
  ldconfigDirs: string[];
  /** Expansion of $LIB. */
  lib: string;
  /** Expansion of $PLATFORM (AT_PLATFORM). */
  platform: string;
  /**
   * Subdirectories tried, in order, inside every search directory; "" is the
   * directory itself and must be last. glibc derives them from the CPU
   * (glibc-hwcaps levels) and, before 2.37, legacy hwcap/platform names.
   */
  searchSubdirs: string[];
  /** glibc-hwcaps names accepted from ld.so.cache extension entries, most preferred first. */
  cacheHwcaps: string[];
  /** ld.so.cache flags values this ld.so accepts (_dl_cache_check_flags). */
  cacheFlags: number[];
  /** The exact flags value that stops the cache search (_DL_CACHE_DEFAULT_ID). */
  cacheDefaultFlags: number;
  /** ELF header size of this class: shorter candidates are "file too short". */
  ehdrSize: number;
  /** Highest EI_ABIVERSION accepted with ELFOSABI_GNU (LIBC_ABI_MAX - 1). */
  maxGnuAbiVersion: number;
}

const X86_64_HWCAPS = ["x86-64-v4", "x86-64-v3", "x86-64-v2"];

/**
 * Debian 12 (glibc 2.36) on x86_64, verified with LD_DEBUG=libs on such a
 * host: multiarch system directories, $LIB = lib/x86_64-linux-gnu, and the
 * legacy tls/x86_64 subdirectories that glibc 2.36 still tries.
 */
export const DEBIAN_X86_64: LinkerProfile = {
  name: "debian-x86_64",
  elfClass: 64,
  data: "lsb",
  machine: EM.X86_64,
  interpreter: "/lib64/ld-linux-x86-64.so.2",
  systemDirs: ["/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib", "/usr/lib"],
  ldconfigDirs: ["/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib", "/usr/lib"],
  lib: "lib/x86_64-linux-gnu",
  platform: "x86_64",
  // As glibc 2.36 tries them on an x86-64-v4 CPU (the repeated legacy
  // entries are glibc's own: platform and hwcap name coincide).
  searchSubdirs: [
    ...X86_64_HWCAPS.map((h) => `glibc-hwcaps/${h}`),
    "tls/x86_64/x86_64",
    "tls/x86_64",
    "tls/x86_64",
    "tls",
    "x86_64/x86_64",
    "x86_64",
    "x86_64",
    "",
  ],
  cacheHwcaps: X86_64_HWCAPS,
  cacheFlags: [CACHE_FLAG.X8664_LIB64 | CACHE_FLAG.ELF_LIBC6],
  cacheDefaultFlags: CACHE_FLAG.X8664_LIB64 | CACHE_FLAG.ELF_LIBC6,
  ehdrSize: 64,
  maxGnuAbiVersion: 3,
};

/** Debian on arm64: multiarch directories as on x86_64; glibc 2.36 has no aarch64 hwcaps levels. */
export const DEBIAN_AARCH64: LinkerProfile = {
  ...DEBIAN_X86_64,
  name: "debian-aarch64",
  machine: EM.AARCH64,
  interpreter: "/lib/ld-linux-aarch64.so.1",
  systemDirs: ["/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/lib", "/usr/lib"],
  ldconfigDirs: ["/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/lib", "/usr/lib"],
  lib: "lib/aarch64-linux-gnu",
  platform: "aarch64",
  searchSubdirs: [""],
  cacheHwcaps: [],
  cacheFlags: [CACHE_FLAG.AARCH64_LIB64 | CACHE_FLAG.ELF_LIBC6],
  cacheDefaultFlags: CACHE_FLAG.AARCH64_LIB64 | CACHE_FLAG.ELF_LIBC6,
};

/**
 * RHEL/Rocky/Alma 9 (glibc 2.34) on x86_64: upstream glibc's lib64 layout
 * (slibdir=/lib64, libdir=/usr/lib64, $LIB = lib64). Taken from glibc's
 * build defaults, not measured on such a host: confirm a base with
 * `parseLdDebugSearchPath` before relying on the subdirectory list.
 */
export const RHEL_X86_64: LinkerProfile = {
  ...DEBIAN_X86_64,
  name: "rhel-x86_64",
  systemDirs: ["/lib64", "/usr/lib64"],
  // ldconfig's add_system_dir on x86_64 also scans the lib and libx32 siblings.
  ldconfigDirs: ["/lib", "/lib64", "/libx32", "/usr/lib", "/usr/lib64", "/usr/libx32"],
  lib: "lib64",
  searchSubdirs: [...X86_64_HWCAPS.map((h) => `glibc-hwcaps/${h}`), "tls/x86_64", "tls", "x86_64", ""],
};

export const PROFILES: Readonly<Record<string, LinkerProfile>> = {
  [DEBIAN_X86_64.name]: DEBIAN_X86_64,
  [DEBIAN_AARCH64.name]: DEBIAN_AARCH64,
  [RHEL_X86_64.name]: RHEL_X86_64,
};

export interface LdDebugSearchPath {
  /** Search directories in order. */
  dirs: string[];
  /** Subdirectories tried in each of them, "" last. */
  searchSubdirs: string[];
}

/**
 * Reads a "search path=..." line that `LD_DEBUG=libs` prints, by default the
 * "(system search path)" one (printed when a library is searched all the
 * way to the default directories, e.g. `LD_DEBUG=libs ld.so --list PROG` with
 * a missing library in the base image), or another one such as
 * "RPATH from file". Returns null when there is no such line.
 */
export function parseLdDebugSearchPath(output: string, label = "system search path"): LdDebugSearchPath | null {
  const line = output.split("\n").find((l) => l.includes(`(${label}`));
  if (!line) return null;
  const m = /search path=(\S*)\s+\(/.exec(line);
  if (!m) return null;
  const entries = m[1]!.split(":").filter((e) => e !== "");
  if (entries.length === 0) return null;
  // Every system directory is printed as its subdirectories followed by the
  // directory itself, with the same subdirectories each time. The first entry
  // that is the parent of all entries before it ends the first group.
  let group = 1;
  for (let k = 1; k < entries.length; k++) {
    const base = entries[k]! + "/";
    if (entries.slice(0, k).every((e) => e.startsWith(base))) {
      group = k + 1;
      break;
    }
  }
  if (entries.length % group !== 0) return null;
  const firstBase = entries[group - 1]!;
  const searchSubdirs = [...entries.slice(0, group - 1).map((e) => e.slice(firstBase.length + 1)), ""];
  const dirs: string[] = [];
  for (let g = 0; g < entries.length; g += group) {
    const base = entries[g + group - 1]!;
    for (let i = 0; i < group - 1; i++) {
      if (entries[g + i] !== `${base}/${searchSubdirs[i]}`) return null;
    }
    dirs.push(base);
  }
  return { dirs, searchSubdirs };
}
