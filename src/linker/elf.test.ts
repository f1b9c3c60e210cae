import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { FileSource, type ByteSource } from "./bytesource.js";
import { DF_1, EM, ET, isElf, readElf, type ElfInfo, type ElfResult } from "./elf.js";
import { buildElf } from "./elfwrite.js";
import { canCompileM32, compile, removeDir, tempDir } from "./testkit/toolchain.js";

function ok(r: ElfResult): ElfInfo {
  if (!r.ok) assert.fail(`expected an ELF object, got ${r.code}: ${r.reason}`);
  return r;
}

function readelf(args: string[], file: string): string {
  return execFileSync("readelf", [...args, file], { encoding: "utf8" });
}

describe("readElf on objects built by gcc", () => {
  let dir: string;
  before(() => {
    dir = tempDir();
  });
  after(() => removeDir(dir));

  it("reads SONAME, NEEDED, class, machine and type of a shared library", () => {
    const dep = compile(path.join(dir, "libdep.so.3"), { shared: true, soname: "libdep.so.3" });
    const lib = compile(path.join(dir, "libx.so.1.2"), { shared: true, soname: "libx.so.1", link: [dep] });
    const e = ok(readElf(lib));
    assert.equal(e.elfClass, 64);
    assert.equal(e.data, "lsb");
    assert.equal(e.machine, EM.X86_64);
    assert.equal(e.machineName, "x86_64");
    assert.equal(e.type, ET.DYN);
    assert.equal(e.dynamic?.soname, "libx.so.1");
    assert.deepEqual(e.dynamic?.needed, ["libdep.so.3", "libc.so.6"]);
    assert.equal(e.interpreter, undefined);
  });

  it("tells DT_RPATH from DT_RUNPATH and keeps $ORIGIN unexpanded", () => {
    const a = ok(readElf(compile(path.join(dir, "rp"), { rpath: "$ORIGIN/../lib:/opt/x" })));
    assert.equal(a.dynamic?.rpath, "$ORIGIN/../lib:/opt/x");
    assert.equal(a.dynamic?.runpath, undefined);
    const b = ok(readElf(compile(path.join(dir, "rnp"), { runpath: "${ORIGIN}/lib" })));
    assert.equal(b.dynamic?.runpath, "${ORIGIN}/lib");
    assert.equal(b.dynamic?.rpath, undefined);
  });

  it("reads the interpreter and the PIE flag of an executable", () => {
    const e = ok(readElf(compile(path.join(dir, "exe"))));
    assert.equal(e.interpreter, readelf(["-lW"], path.join(dir, "exe")).match(/interpreter: (.*)\]/)![1]);
    assert.equal(e.type, ET.DYN);
    assert.ok((e.dynamic!.flags1 & DF_1.PIE) !== 0);
  });

  it("reads version needs and version definitions like readelf -V", () => {
    const lib = compile(path.join(dir, "libv.so.1"), {
      shared: true,
      soname: "libv.so.1",
      source: "int v1(void){return 1;}\nint v2(void){return 2;}\n",
      versionScript: "V_1.0 { global: v1; local: *; };\nV_2.0 { global: v2; } V_1.0;\n",
    });
    const exe = compile(path.join(dir, "usesv"), {
      source: "int v2(void);\nint main(void){return v2();}\n",
      link: [lib],
    });
    const e = ok(readElf(exe));
    const r = readelf(["-VW"], exe);
    const libv = e.dynamic!.versionNeeds.find((n) => n.file === "libv.so.1")!;
    assert.deepEqual(
      libv.versions.map((v) => v.name),
      ["V_2.0"],
    );
    for (const need of e.dynamic!.versionNeeds) {
      assert.match(r, new RegExp(`File: ${need.file.replace(/[.+]/g, "\\$&")}`));
      for (const v of need.versions) assert.match(r, new RegExp(`Name: ${v.name}`));
    }
    assert.ok(
      e.dynamic!.versionNeeds.some((n) => n.file === "libc.so.6" && n.versions.some((v) => /^GLIBC_2\./.test(v.name))),
    );
    const defs = ok(readElf(lib)).dynamic!.versionDefs!;
    assert.deepEqual(
      defs.map((d) => [d.name, d.base]),
      [
        ["libv.so.1", true],
        ["V_1.0", false],
        ["V_2.0", false],
      ],
    );
  });

  it("reads a 32-bit object built with gcc -m32 (or reports why it cannot)", (t) => {
    if (!canCompileM32(dir)) {
      t.skip("gcc cannot produce 32-bit objects here; the 32-bit reader is covered by the crafted objects below");
      return;
    }
    const e = ok(
      readElf(compile(path.join(dir, "lib32.so"), { shared: true, m32: true, nostdlib: true, soname: "lib32.so.1" })),
    );
    assert.equal(e.elfClass, 32);
    assert.equal(e.machine, EM.I386);
    assert.equal(e.dynamic?.soname, "lib32.so.1");
  });

  it("reads a separate debug-info file (program headers without contents) as ELF without a dynamic section", () => {
    const exe = path.join(dir, "exe");
    const debug = path.join(dir, "exe.debug");
    execFileSync("objcopy", ["--only-keep-debug", exe, debug]);
    const e = ok(readElf(debug));
    assert.equal(e.interpreter, undefined);
    assert.equal(e.dynamic, undefined);
    assert.equal(e.emptyDynamic, true);
  });

  it("gives the same answer for a path, a descriptor and a buffer", () => {
    const lib = path.join(dir, "libx.so.1.2");
    const fd = fs.openSync(lib, "r");
    try {
      assert.deepEqual(readElf({ fd }), readElf(lib));
    } finally {
      fs.closeSync(fd);
    }
    assert.deepEqual(readElf(fs.readFileSync(lib)), readElf(lib));
  });

  it("reads only header pages of a large library, not the whole file", () => {
    const libc = execFileSync("gcc", ["-print-file-name=libc.so.6"], { encoding: "utf8" }).trim();
    const real = fs.realpathSync(libc);
    let bytes = 0;
    const inner = FileSource.open(real);
    const counting: ByteSource = {
      size: inner.size,
      read(o, l) {
        const b = inner.read(o, l);
        bytes += b.length;
        return b;
      },
      close: () => inner.close(),
    };
    try {
      ok(readElf(counting));
    } finally {
      inner.close();
    }
    assert.ok(inner.size > 1_000_000, "libc is big enough to make the point");
    assert.ok(bytes < 64 * 1024, `read ${bytes} bytes of ${inner.size}`);
  });
});

describe("readElf on crafted objects of other classes and byte orders", () => {
  let dir: string;
  before(() => {
    dir = tempDir();
  });
  after(() => removeDir(dir));

  const cases = [
    { elfClass: 64, data: "msb", machine: EM.PPC64, readelfMachine: "PowerPC64" },
    { elfClass: 32, data: "lsb", machine: EM.I386, readelfMachine: "Intel 80386" },
    { elfClass: 32, data: "msb", machine: EM.PPC, readelfMachine: "PowerPC" },
    { elfClass: 64, data: "lsb", machine: EM.AARCH64, readelfMachine: "AArch64" },
  ] as const;
  for (const c of cases) {
    it(`${c.elfClass}-bit ${c.data} ${c.readelfMachine}: our reader and readelf agree`, () => {
      const file = path.join(dir, `crafted-${c.elfClass}-${c.data}-${c.machine}`);
      fs.writeFileSync(
        file,
        buildElf({
          elfClass: c.elfClass,
          data: c.data,
          machine: c.machine,
          soname: "libcrafted.so.7",
          needed: ["liba.so.1", "libb.so.2"],
          runpath: "$ORIGIN/../lib",
          interpreter: "/lib/ld.so.1",
          flags1: DF_1.NODEFLIB,
        }),
      );
      const e = ok(readElf(file));
      assert.equal(e.elfClass, c.elfClass);
      assert.equal(e.data, c.data);
      assert.equal(e.machine, c.machine);
      const out = readelf(["-hldW"], file);
      assert.match(out, new RegExp(`Class:\\s+ELF${c.elfClass}`));
      assert.match(out, new RegExp(`Data:.*${c.data === "lsb" ? "little" : "big"} endian`));
      assert.match(out, new RegExp(`Machine:\\s+${c.readelfMachine}`));
      const needed = [...out.matchAll(/\(NEEDED\)\s+Shared library: \[(.*)\]/g)].map((m) => m[1]);
      assert.deepEqual(e.dynamic?.needed, needed);
      assert.equal(e.dynamic?.soname, out.match(/Library soname: \[(.*)\]/)![1]);
      assert.equal(e.dynamic?.runpath, out.match(/Library runpath: \[(.*)\]/)![1]);
      assert.equal(e.interpreter, out.match(/interpreter: (.*)\]/)![1]);
      assert.match(out, /Flags: NODEFLIB/);
      assert.equal(e.dynamic.flags1 & DF_1.NODEFLIB, DF_1.NODEFLIB);
    });
  }
});

describe("readElf on non-ELF, truncated and hostile input", () => {
  let dir: string;
  let lib: Buffer;
  before(() => {
    dir = tempDir();
    lib = fs.readFileSync(compile(path.join(dir, "libok.so.1"), { shared: true, soname: "libok.so.1", link: [] }));
  });
  after(() => removeDir(dir));

  it("says 'not an ELF file' for text and empty files", () => {
    fs.writeFileSync(path.join(dir, "script.py"), "#!/usr/bin/env python3\nprint('hi')\n");
    fs.writeFileSync(path.join(dir, "empty"), "");
    for (const f of ["script.py", "empty"]) {
      const r = readElf(path.join(dir, f));
      assert.equal(r.ok, false);
      assert.equal(!r.ok && r.code, "not-elf");
      assert.equal(!r.ok && r.reason, "not an ELF file");
      assert.equal(isElf(path.join(dir, f)), false);
    }
    assert.equal(isElf(path.join(dir, "libok.so.1")), true);
  });

  it("reports I/O problems as errors, not exceptions", () => {
    assert.deepEqual(readElf(path.join(dir, "does-not-exist")), { ok: false, code: "io", reason: "no such file" });
    assert.deepEqual(readElf(dir), { ok: false, code: "io", reason: "is a directory" });
  });

  it("names the truncated structure and its offset", () => {
    const r1 = readElf(lib.subarray(0, 30));
    assert.deepEqual(r1.ok ? null : [r1.code, r1.reason], [
      "too-short",
      "truncated ELF header: file has 30 bytes, the header needs 64",
    ]);
    const phoff = Number(lib.readBigUInt64LE(32));
    const r2 = readElf(lib.subarray(0, phoff + 10));
    assert.equal(r2.ok, false);
    assert.match(!r2.ok ? r2.reason : "", new RegExp(`^truncated program header table at offset ${phoff} `));
    assert.equal(!r2.ok && r2.header?.machine, EM.X86_64, "the header is still reported for the loader's class checks");
  });

  it("rejects offsets and counts that point outside the file", () => {
    const bad = Buffer.from(lib);
    bad.writeBigUInt64LE(0xffffffffffn, 32); // e_phoff far beyond the end
    const r = readElf(bad);
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.code, "truncated");

    const badStr = buildElf({ needed: ["liba.so.1"] });
    // Point DT_STRTAB (second dynamic entry after NEEDED) at an unmapped address.
    const info = ok(readElf(badStr));
    assert.deepEqual(info.dynamic?.needed, ["liba.so.1"]);
    const dynOff = Number(badStr.readBigUInt64LE(64 + 56 + 8)); // PT_DYNAMIC p_offset (second program header)
    badStr.writeBigUInt64LE(0x7fff0000n, dynOff + 16 + 8);
    const r2 = readElf(badStr);
    assert.deepEqual(r2.ok ? null : r2.reason, "DT_STRTAB address 0x7fff0000 is not inside any PT_LOAD segment");
  });

  it("never throws or hangs on thousands of mutated headers", () => {
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed % n;
    };
    const span = Math.min(lib.length, 4096);
    const codes = new Set<string>();
    for (let i = 0; i < 3000; i++) {
      const m = Buffer.from(lib);
      const edits = 1 + rand(8);
      for (let k = 0; k < edits; k++) m[rand(span)] = rand(256);
      const cut = rand(4) === 0 ? rand(m.length) : m.length;
      const r = readElf(m.subarray(0, cut));
      codes.add(r.ok ? "ok" : r.code);
      if (!r.ok) assert.ok(r.reason.length > 0);
    }
    assert.ok(codes.has("ok") && codes.size > 2, `outcomes: ${[...codes].join(",")}`);
  });
});
