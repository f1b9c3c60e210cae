/**
 * ELF header reading throughput: every regular file under a directory
 * (default /usr/lib) is classified (not ELF / ELF / unreadable) and, for
 * ELF objects, its dynamic section is decoded with positioned reads.
 * Run: npm run bench -- audit-elf [DIR]
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { readElf } from "../src/linker/elf.js";

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const stack = [dir];
  while (stack.length > 0) {
    const d = stack.pop()!;
    let ents: fs.Dirent[];
    try {
      ents = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of ents) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) stack.push(p);
      else if (e.isFile()) out.push(p);
    }
  }
  return out;
}

export function run(args: string[]): void {
  const dir = args[0] ?? "/usr/lib";
  const t0 = process.hrtime.bigint();
  const files = listFiles(dir);
  const t1 = process.hrtime.bigint();
  let elf = 0;
  let dynamic = 0;
  let needed = 0;
  let errors = 0;
  for (const f of files) {
    const r = readElf(f);
    if (r.ok) {
      elf++;
      if (r.dynamic) {
        dynamic++;
        needed += r.dynamic.needed.length;
      }
    } else if (r.code !== "not-elf") errors++;
  }
  const t2 = process.hrtime.bigint();
  const listMs = Number(t1 - t0) / 1e6;
  const readMs = Number(t2 - t1) / 1e6;
  console.log(
    JSON.stringify(
      {
        dir,
        files: files.length,
        elf,
        dynamic,
        needed,
        unreadable: errors,
        listMs: Math.round(listMs),
        readMs: Math.round(readMs),
        filesPerSecond: Math.round(files.length / (readMs / 1000)),
      },
      null,
      2,
    ),
  );
}
