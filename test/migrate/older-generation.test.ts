/**
 * The sample studio's older-generation packages (OLDER_GENERATION) need no
 * glibc symbol version newer than GLIBC_2.17, so they run on an older OS;
 * the others, compiled by the host's gcc (glibc 2.34 or newer), need
 * GLIBC_2.34 for every program (__libc_start_main). Read from the generated
 * ELF files themselves: no root, no container.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { compareSymbolVersions } from "../../src/audit/findings.js";
import { readElf } from "../../src/linker/elf.js";
import { OLDER_GENERATION } from "../../src/studio/catalog/index.js";
import { OLDER_GLIBC, oldestVersions, olderLibcSource } from "../../src/studio/elf/older-libc.js";
import { missingTools, removeDir, sampleStudio, type Studio } from "../builder/fixture.js";

const skip = missingTools("gcc", "readelf");
let scratch: string;
let studio: Studio;

before(async () => {
  if (skip) return;
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), "tog-"));
  studio = await sampleStudio(scratch);
});
after(() => {
  if (scratch) removeDir(scratch);
});

/** Every ELF file under `dir` with the GLIBC_ versions it needs. */
function glibcNeeds(dir: string): Map<string, { program: boolean; versions: string[] }> {
  const out = new Map<string, { program: boolean; versions: string[] }>();
  for (const e of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const file = path.join(e.parentPath, e.name);
    const elf = readElf(fs.readFileSync(file));
    if (!elf.ok || !elf.dynamic) continue;
    const versions = elf.dynamic.versionNeeds
      .flatMap((n) => n.versions.map((v) => v.name))
      .filter((v) => v.startsWith("GLIBC_"));
    out.set(file, { program: elf.interpreter !== undefined, versions });
  }
  return out;
}

test(
  "older-generation packages need nothing newer than GLIBC_2.17, the others' programs need GLIBC_2.34",
  { skip },
  () => {
    let older = 0;
    let newer = 0;
    for (const family of fs.readdirSync(studio.packages)) {
      for (const version of fs.readdirSync(path.join(studio.packages, family))) {
        const dir = path.join(studio.packages, family, version);
        if (!fs.statSync(dir).isDirectory()) continue;
        for (const [file, need] of glibcNeeds(dir)) {
          if (OLDER_GENERATION.has(`${family}-${version}`)) {
            older++;
            for (const v of need.versions) assert.ok(compareSymbolVersions(v, OLDER_GLIBC) <= 0, `${file} needs ${v}`);
          } else if (need.program) {
            newer++;
            assert.ok(need.versions.includes("GLIBC_2.34"), `${file}: ${need.versions.join(" ")}`);
          }
        }
      }
    }
    assert.ok(older > 10 && newer > 10, `${older} older-generation objects, ${newer} newer programs`);
  },
);

test("the stand-in libc keeps each symbol's oldest version, none newer than GLIBC_2.17", () => {
  const readelf = [
    "Symbol table '.dynsym' contains 5 entries:",
    "   Num:    Value          Size Type    Bind   Vis      Ndx Name",
    "     1: 0000000000027280   267 FUNC    GLOBAL DEFAULT   16 __libc_start_main@@GLIBC_2.34",
    "     2: 0000000000027280   267 FUNC    GLOBAL DEFAULT   16 __libc_start_main@GLIBC_2.2.5",
    "     3: 00000000000a0a40    10 IFUNC   GLOBAL DEFAULT   16 memcpy@@GLIBC_2.14",
    "     4: 00000000000a0a40    10 IFUNC   GLOBAL DEFAULT   16 memcpy@GLIBC_2.2.5",
    "     5: 00000000001d1760     8 OBJECT  GLOBAL DEFAULT   33 stdout@@GLIBC_2.2.5",
    "     6: 0000000000000000     0 FUNC    GLOBAL DEFAULT  UND _dl_argv@GLIBC_PRIVATE (40)",
    "     7: 0000000000050a40    10 FUNC    GLOBAL DEFAULT   16 pidfd_open@@GLIBC_2.32",
  ].join("\n");
  const syms = oldestVersions(readelf);
  assert.deepEqual(syms.map((s) => `${s.name}@${s.version}${s.object ? " object" : ""}`).sort(), [
    "__libc_start_main@GLIBC_2.2.5",
    "memcpy@GLIBC_2.2.5",
    "stdout@GLIBC_2.2.5 object",
  ]);
  const { map } = olderLibcSource(syms);
  assert.match(
    map,
    /^GLIBC_2\.2\.5 \{\n {2}global:\n {4}__libc_start_main;\n {4}memcpy;\n {4}stdout;\n {2}local: \*;\n\};\n$/,
  );
});
