/**
 * Auditing one big workflow: a synthetic Rez repository of PACKAGES packages
 * with FILES files each (default 100 × 500 = 50,000 files), one workflow
 * resolving all of them (ten chains of ten packages, each requiring the next
 * two). Each package has 20 shared libraries (needing each other and, for
 * the first three, the same library of a dependency), 5 programs, 5 Python extension
 * modules and 5 plug-ins, all real ELF objects (minimal, from
 * src/linker/elfwrite), the rest Python sources; the packages' commands put
 * their lib/ on LD_LIBRARY_PATH. The audit runs over the demo base, as
 * `tantalus audit` does: resolve, environment, repair plan, a walk of every
 * file, a load tree per ELF object, findings. The reference, measured in the
 * same run, is the least any audit must do: walk the tree and read the first
 * 64 bytes of every file.
 * Run: npm run bench -- audit-workflow [PACKAGES] [FILES]
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadConfig } from "../src/config/index.js";
import { Repositories } from "../src/rez/repository/index.js";
import { buildElf } from "../src/linker/elfwrite.js";
import { EM, ET } from "../src/linker/elf.js";
import { auditWorkflow, demoBase } from "../src/audit/workflow/index.js";

const LIBS = 20;
const PROGRAMS = 5;
const MODULES = 5;
const PLUGINS = 5;

/** Packages form groups of GROUP, each a chain of requirements: load trees stay as deep as a real application's. */
const GROUP = 10;

/** Numbers as letters: digits at the end of a library name would make every library one "family" (libfoo_1, libfoo_2). */
const letters = (n: number) =>
  String.fromCharCode(97 + (Math.floor(n / 26 / 26) % 26), 97 + (Math.floor(n / 26) % 26), 97 + (n % 26));
const pkgName = (i: number) => `synth_${letters(i)}`;
const libName = (i: number, j: number) => `lib${letters(i)}${letters(j)}.so.1`;

function writeRepository(dir: string, packages: number, filesPer: number): number {
  let files = 0;
  const write = (p: string, data: string | Uint8Array, mode = 0o644) => {
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, data, { mode });
    files++;
  };
  const elf = { elfClass: 64 as const, data: "lsb" as const, machine: EM.X86_64 };
  for (let i = 0; i < packages; i++) {
    const root = path.join(dir, pkgName(i), "1.0.0");
    const deps = [i + 1, i + 2].filter((d) => d < packages && Math.floor(d / GROUP) === Math.floor(i / GROUP));
    write(
      path.join(root, "package.py"),
      `name = '${pkgName(i)}'\nversion = '1.0.0'\nrequires = [${deps.map((d) => `'${pkgName(d)}-1'`).join(", ")}]\n` +
        `def commands():\n    env.LD_LIBRARY_PATH.prepend('{root}/lib')\n    env.PATH.prepend('{root}/bin')\n    env.PYTHONPATH.append('{root}/python')\n`,
    );
    for (let j = 0; j < LIBS; j++) {
      const needed = [
        "libc.so.6",
        ...(j > 0 ? [libName(i, j - 1)] : []),
        ...(j > 1 ? [libName(i, j - 2)] : []),
        ...(deps.length && j < 3 ? [libName(deps[0]!, j)] : []),
      ];
      write(path.join(root, "lib", libName(i, j)), buildElf({ ...elf, soname: libName(i, j), needed }), 0o755);
    }
    for (let j = 0; j < PROGRAMS; j++) {
      const needed = [libName(i, LIBS - 1), libName(i, j), "libc.so.6"];
      write(
        path.join(root, "bin", `tool${j}`),
        buildElf({ ...elf, type: ET.DYN, interpreter: "/lib64/ld-linux-x86-64.so.2", needed, flags1: 0x08000000 }),
        0o755,
      );
    }
    for (let j = 0; j < MODULES; j++) {
      write(
        path.join(root, "python", pkgName(i), `_ext${j}.cpython-311-x86_64-linux-gnu.so`),
        buildElf({ ...elf, needed: [libName(i, j), "libc.so.6"] }),
        0o755,
      );
    }
    for (let j = 0; j < PLUGINS; j++) {
      write(
        path.join(root, "plugins", `plugin${j}.so`),
        buildElf({ ...elf, needed: [libName(i, LIBS - 1 - j), "libc.so.6"], runpath: "$ORIGIN/../lib" }),
        0o755,
      );
    }
    const rest = filesPer - 1 - LIBS - PROGRAMS - MODULES - PLUGINS;
    for (let k = 0; k < rest; k++) {
      write(
        path.join(root, "python", pkgName(i), `m${Math.floor(k / 50)}`, `f${k}.py`),
        `# ${pkgName(i)} module ${k}\nVALUE = ${k}\n`,
      );
    }
  }
  return files;
}

export async function run(args: string[]): Promise<void> {
  const packages = Number(args[0] ?? 100);
  const filesPer = Number(args[1] ?? 500);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tantalus-bench-audit-"));
  try {
    const t0 = performance.now();
    const written = writeRepository(path.join(dir, "packages"), packages, filesPer);
    const heads = Array.from({ length: Math.ceil(packages / GROUP) }, (_, g) => pkgName(g * GROUP));
    fs.writeFileSync(
      path.join(dir, "tantalus.yaml"),
      `packages_path: [packages]\nimplicit_packages: []\nworkflows:\n  big:\n    request: [${heads.join(", ")}]\n`,
    );
    const config = loadConfig(path.join(dir, "tantalus.yaml"));
    const t1 = performance.now();
    const base = demoBase();
    const runs: { seconds: number; files: number; audited: number; findings: number }[] = [];
    const reference: number[] = [];
    for (let r = 0; r < 3; r++) {
      const t = performance.now();
      readHeads(path.join(dir, "packages"));
      reference.push((performance.now() - t) / 1000);
      const repos = new Repositories(config.packagesPath, { cache: false });
      const s = performance.now();
      const a = await auditWorkflow(config, "big", { repos, base });
      runs.push({
        seconds: (performance.now() - s) / 1000,
        files: a.files,
        audited: a.audited,
        findings: a.findings.length,
      });
    }
    const secs = runs.map((r) => r.seconds).sort((a, b) => a - b);
    const ref = reference.sort((a, b) => a - b);
    console.log(
      JSON.stringify(
        {
          packages,
          files: runs[0]!.files,
          filesWritten: written,
          elfObjectsAudited: runs[0]!.audited,
          findings: runs[0]!.findings,
          generateSeconds: round((t1 - t0) / 1000),
          auditSeconds: secs.map(round),
          medianAuditSeconds: round(secs[1]!),
          referenceSeconds: ref.map(round),
          auditOverReference: round(secs[1]! / ref[1]!),
          filesPerSecond: Math.round(runs[0]!.files / secs[1]!),
          loadTreesPerSecond: Math.round(runs[0]!.audited / secs[1]!),
        },
        null,
        2,
      ),
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The reference: what any audit must do at least, walk the tree and read the first bytes of every file. */
function readHeads(dir: string): number {
  let n = 0;
  const buf = Buffer.alloc(64);
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) n += readHeads(p);
    else if (e.isFile()) {
      const fd = fs.openSync(p, "r");
      fs.readSync(fd, buf, 0, 64, 0);
      fs.closeSync(fd);
      n++;
    }
  }
  return n;
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
