import { execFile } from "node:child_process";
import { accessSync, constants, readFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/**
 * The host C toolchain, located once. The generator compiles with the gcc
 * driver and links with ld directly: on small machines process start-up is
 * most of the cost, and one ld per object is the cheapest real link.
 */
export interface Toolchain {
  gcc: string;
  ld: string;
  /** e.g. "gcc (Debian 12.2.0-14) 12.2.0" */
  version: string;
  crt: { scrt1: string; crti: string; crtbeginS: string; crtendS: string; crtn: string };
  /** The libc.so linker script (or library) to link against. */
  libc: string;
  /** The libm.so linker script (or library). */
  libm: string;
  /** Program interpreter for executables, e.g. /lib64/ld-linux-x86-64.so.2. */
  interp: string;
  /**
   * glibc's version node of __cxa_finalize (GLIBC_2.2.5 on x86_64), the only libc
   * symbol a library that calls no libc function references; null if unknown.
   */
  cxaFinalizeVersion: string | null;
}

export function which(program: string, path = process.env.PATH ?? ""): string | null {
  if (program.includes("/")) return isExecutable(program) ? program : null;
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, program);
    if (isExecutable(candidate)) return candidate;
  }
  return null;
}

function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Returns null when there is no usable gcc + ld (the caller falls back to host binaries). */
export async function findToolchain(): Promise<Toolchain | null> {
  const gcc = which("gcc");
  if (!gcc) return null;
  try {
    const printFile = async (name: string) => {
      const { stdout } = await run(gcc, [`-print-file-name=${name}`]);
      const p = stdout.trim();
      if (!p.startsWith("/")) throw new Error(`gcc cannot find ${name}`);
      return p;
    };
    const ldName = (await run(gcc, ["-print-prog-name=ld"])).stdout.trim();
    const ld = which(ldName);
    if (!ld) return null;
    const [version, scrt1, crti, crtbeginS, crtendS, crtn, libc, libm] = await Promise.all([
      run(gcc, ["--version"]).then((r) => r.stdout.split("\n")[0]!.trim()),
      printFile("Scrt1.o"),
      printFile("crti.o"),
      printFile("crtbeginS.o"),
      printFile("crtendS.o"),
      printFile("crtn.o"),
      printFile("libc.so"),
      printFile("libm.so"),
    ]);
    const interp = programInterpreter("/bin/sh") ?? programInterpreter(process.execPath);
    if (!interp) return null;
    const cxaFinalizeVersion = await libcSymbolVersion(await printFile("libc.so.6"), "__cxa_finalize");
    return { gcc, ld, version, crt: { scrt1, crti, crtbeginS, crtendS, crtn }, libc, libm, interp, cxaFinalizeVersion };
  } catch {
    return null;
  }
}

async function libcSymbolVersion(libc: string, symbol: string): Promise<string | null> {
  const readelf = which("readelf");
  if (!readelf) return null;
  try {
    const { stdout } = await run(readelf, ["--dyn-syms", "-W", libc], { maxBuffer: 64 * 1024 * 1024 });
    const m = new RegExp(` ${symbol}@@(\\S+)`).exec(stdout);
    return m ? m[1]! : null;
  } catch {
    return null;
  }
}

/** PT_INTERP of a 64-bit little-endian ELF executable. */
export function programInterpreter(file: string): string | null {
  let b: Buffer;
  try {
    b = readFileSync(file);
  } catch {
    return null;
  }
  if (b.length < 64 || b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2 || b[5] !== 1) return null;
  const phoff = Number(b.readBigUInt64LE(0x20));
  const phentsize = b.readUInt16LE(0x36);
  const phnum = b.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    if (b.readUInt32LE(ph) !== 3) continue; // PT_INTERP
    const off = Number(b.readBigUInt64LE(ph + 8));
    const size = Number(b.readBigUInt64LE(ph + 32));
    return b.toString("latin1", off, off + size).replace(/\0+$/, "");
  }
  return null;
}
