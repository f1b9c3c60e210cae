/**
 * Objects built "for the older OS generation": linked against a stand-in
 * libc.so.6 that defines each of the host libc's symbols only at its oldest
 * version, and none newer than OLDER_GLIBC. ld records the version it links
 * against, so such an object needs nothing the older generation's glibc
 * lacks (an executable gets __libc_start_main@GLIBC_2.2.5, not the
 * GLIBC_2.34 one glibc 2.34+ start files bind to) and still runs on the newer
 * one, which keeps the old versions as compatibility symbols. This is how
 * vendors ship one binary for several OS releases; the sample studio uses it
 * so that a migration between two Debian generations has survivors as well
 * as breakages.
 */
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { makeDirs } from "../../util/dirs.js";

const run = promisify(execFile);

/** The newest glibc symbol version an older-generation object may need (glibc 2.17: RHEL/CentOS 7). */
export const OLDER_GLIBC = "GLIBC_2.17";

/** Where buildElfs links older-generation objects' libc from, relative to its scratch directory. */
export const OLDER_LIBC_STUB = "older/libc.so.6";

interface DynSym {
  name: string;
  version: string;
  object: boolean;
}

/** GLIBC_2.2.5 → [2, 2, 5], for ordering versions. */
function versionKey(v: string): number[] {
  return v
    .replace(/^GLIBC_/, "")
    .split(".")
    .map((n) => Number(n));
}

function compareVersions(a: string, b: string): number {
  const x = versionKey(a);
  const y = versionKey(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** The defined, versioned symbols of `libc` (readelf --dyn-syms), each at its oldest GLIBC_ version. */
export function oldestVersions(readelfOutput: string): DynSym[] {
  const oldest = new Map<string, DynSym>();
  for (const line of readelfOutput.split("\n")) {
    // Num: Value Size Type Bind Vis Ndx Name@[@]VERSION
    const f = line.trim().split(/\s+/);
    if (f.length < 8 || !/^\d+:$/.test(f[0]!) || f[6] === "UND") continue;
    const type = f[3]!;
    if (type !== "FUNC" && type !== "IFUNC" && type !== "OBJECT") continue;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)@@?(GLIBC_\d+(?:\.\d+)*)$/.exec(f[7]!);
    if (!m) continue;
    const sym: DynSym = { name: m[1]!, version: m[2]!, object: type === "OBJECT" };
    const had = oldest.get(sym.name);
    if (!had || compareVersions(sym.version, had.version) < 0) oldest.set(sym.name, sym);
  }
  return [...oldest.values()].filter((s) => compareVersions(s.version, OLDER_GLIBC) <= 0);
}

/** Assembler and version script of the stand-in libc for `symbols`. */
export function olderLibcSource(symbols: readonly DynSym[]): { asm: string; map: string } {
  const sorted = [...symbols].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const asm = ["\t.text"];
  for (const s of sorted) {
    if (s.object) {
      asm.push(`\t.data`, `\t.globl ${s.name}`, `\t.type ${s.name},@object`, `\t.size ${s.name},8`, `${s.name}:`);
      asm.push(`\t.zero 8`, `\t.text`);
    } else asm.push(`\t.globl ${s.name}`, `\t.type ${s.name},@function`, `${s.name}:`, `\tret`);
  }
  const byVersion = new Map<string, string[]>();
  for (const s of sorted) {
    const list = byVersion.get(s.version);
    if (list) list.push(s.name);
    else byVersion.set(s.version, [s.name]);
  }
  const versions = [...byVersion.keys()].sort(compareVersions);
  const map = versions
    .map((v, i) => {
      const names = byVersion.get(v)!.map((n) => `    ${n};\n`);
      return `${v} {\n  global:\n${names.join("")}${i === 0 ? "  local: *;\n" : ""}}${i > 0 ? ` ${versions[i - 1]}` : ""};\n`;
    })
    .join("");
  return { asm: asm.join("\n") + "\n", map };
}

/** Builds OLDER_LIBC_STUB in `scratch` from the libc.so.6 `gcc` links against. */
export async function buildOlderLibcStub(scratch: string, gcc: string): Promise<void> {
  // Not the toolchain's libc.so: that is a linker script naming libc.so.6 and libc_nonshared.a.
  const libc = (await run(gcc, ["-print-file-name=libc.so.6"])).stdout.trim();
  const { stdout } = await run("readelf", ["--dyn-syms", "-W", libc], { maxBuffer: 64 * 1024 * 1024 });
  const symbols = oldestVersions(stdout);
  if (!symbols.some((s) => s.name === "__libc_start_main"))
    throw new Error(`${libc} has no __libc_start_main at ${OLDER_GLIBC} or older: not a glibc for x86-64?`);
  const { asm, map } = olderLibcSource(symbols);
  await makeDirs(join(scratch, "older"));
  await writeFile(join(scratch, "older", "libc.s"), asm);
  await writeFile(join(scratch, "older", "libc.map"), map);
  await run(
    gcc,
    [
      "-shared",
      "-nostdlib",
      "-Wl,-soname,libc.so.6",
      "-Wl,--version-script,older/libc.map",
      "-o",
      OLDER_LIBC_STUB,
      "older/libc.s",
    ],
    { cwd: scratch },
  );
}
