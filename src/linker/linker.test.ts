/**
 * The emulated library search against the real ld.so of this machine: every
 * test builds real objects with gcc under a temporary directory (real host
 * paths), runs them with LD_TRACE_LOADED_OBJECTS=1 (what ldd does) or
 * `ld.so --list`, and expects the emulation over the host root filesystem to
 * print the same list.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { EM } from "./elf.js";
import { buildElf } from "./elfwrite.js";
import { LayeredImageFs, MemoryLayer, directoryImageFs } from "./imagefs.js";
import { readLdCache } from "./ldcache.js";
import { Linker, traceLines, type LinkerOptions, type LoadTree, type ResolveOptions } from "./linker.js";
import { DEBIAN_X86_64, type LinkerProfile } from "./profile.js";
import {
  compile,
  hostInterpreter,
  probeHostProfile,
  removeDir,
  tempDir,
  traceLoadedObjects,
  traceOutputLines,
} from "./testkit/toolchain.js";

let T: string;
let HOST: LinkerProfile;

before(() => {
  T = tempDir();
  HOST = probeHostProfile(path.join(T, "probe"), DEBIAN_X86_64);
});
after(() => removeDir(T));

function emulate(p: string, opts: Partial<LinkerOptions> = {}, run: ResolveOptions = {}): LoadTree {
  const image = directoryImageFs("/");
  return new Linker(image, { profile: HOST, cache: readLdCache(image), ...opts }).resolve(p, run);
}

/** Runs the program traced and expects the emulation to list the same objects. */
function agree(exe: string, env: Record<string, string> = {}): LoadTree {
  const real = traceLoadedObjects(exe, env);
  const tree = emulate(exe, { ldLibraryPath: env.LD_LIBRARY_PATH });
  assert.deepEqual(traceLines(tree), real.lines, `ld.so said:\n${real.lines.join("\n")}\n${real.stderr}`);
  return tree;
}

function resolutionOf(tree: LoadTree, name: string) {
  const r = tree.resolutions.find((x) => x.name === name);
  assert.ok(r, `a resolution for ${name}`);
  return r;
}

describe("the host profile", () => {
  it("matches the built-in Debian 12 profile on a Debian 12 x86_64 host", (t) => {
    const osRelease = fs.existsSync("/etc/os-release") ? fs.readFileSync("/etc/os-release", "utf8") : "";
    if (!/^ID=debian$/m.test(osRelease) || !/^VERSION_ID="12"$/m.test(osRelease) || process.arch !== "x64") {
      t.skip("not a Debian 12 x86_64 host; the agreement tests below use the measured profile");
      return;
    }
    assert.deepEqual(HOST.systemDirs, DEBIAN_X86_64.systemDirs);
    assert.equal(HOST.lib, DEBIAN_X86_64.lib);
    // $PLATFORM (AT_PLATFORM) depends on the CPU: glibc's x86_64 ld.so reports
    // "haswell" or "xeon_phi" on CPUs with those features, else "x86_64".
    assert.ok(["x86_64", "haswell", "xeon_phi"].includes(HOST.platform), `AT_PLATFORM ${HOST.platform}`);
    // The glibc-hwcaps levels depend on the CPU, and so do the legacy hwcap
    // subdirectories on a CPU whose ld.so reports more than "x86_64" (haswell,
    // avx512_1): those are combinations of the names ld.so --help lists. On a
    // plain x86_64 CPU the list is exactly the built-in profile's.
    const legacy = (dirs: readonly string[]) => dirs.filter((s) => !s.startsWith("glibc-hwcaps/"));
    const cpuNames = new Set(["tls", "haswell", "xeon_phi", "avx512_1", "x86_64"]);
    if (HOST.platform === "x86_64" && !legacy(HOST.searchSubdirs).some((s) => /haswell|xeon_phi|avx512/.test(s))) {
      assert.deepEqual(legacy(HOST.searchSubdirs), legacy(DEBIAN_X86_64.searchSubdirs));
    } else {
      assert.deepEqual(legacy(HOST.searchSubdirs).slice(-2), ["x86_64", ""]);
      for (const s of legacy(HOST.searchSubdirs))
        assert.ok(s === "" || s.split("/").every((n) => cpuNames.has(n)), `legacy subdirectory ${s}`);
    }
  });
});

describe("search order, compared with the real ld.so", () => {
  it("applies the program's RPATH to indirect dependencies but RUNPATH only to direct ones", () => {
    const leaf = compile(path.join(T, "o1/rp/libleaf.so.1"), { shared: true, soname: "libleaf.so.1" });
    const mid = compile(path.join(T, "o1/mid/libmid.so.1"), { shared: true, soname: "libmid.so.1", link: [leaf] });
    const dirs = `${T}/o1/mid:${T}/o1/rp`;
    const withRpath = agree(compile(path.join(T, "o1/exe-rpath"), { link: [mid], rpath: dirs }));
    assert.equal(resolutionOf(withRpath, "libmid.so.1").via, "rpath");
    const leafRes = resolutionOf(withRpath, "libleaf.so.1");
    assert.equal(leafRes.via, "rpath");
    assert.equal(withRpath.objects[leafRes.from]!.requestedAs, "libmid.so.1");
    assert.equal(withRpath.fails, false);

    const withRunpath = agree(compile(path.join(T, "o1/exe-runpath"), { link: [mid], runpath: dirs }));
    assert.equal(resolutionOf(withRunpath, "libmid.so.1").via, "runpath");
    assert.equal(resolutionOf(withRunpath, "libleaf.so.1").status, "missing");
    assert.equal(withRunpath.fails, true);
  });

  it("uses a library's own RUNPATH for its direct dependencies", () => {
    const leaf = compile(path.join(T, "o2/rp/libleaf.so.1"), { shared: true, soname: "libleaf.so.1" });
    const mid = compile(path.join(T, "o2/mid/libmid.so.1"), {
      shared: true,
      soname: "libmid.so.1",
      link: [leaf],
      runpath: `${T}/o2/rp`,
    });
    const tree = agree(compile(path.join(T, "o2/exe"), { link: [mid], runpath: `${T}/o2/mid` }));
    assert.equal(resolutionOf(tree, "libleaf.so.1").via, "runpath");
  });

  it("expands $ORIGIN from the real program path when the kernel runs it, from the given path under ld.so --list", () => {
    compile(path.join(T, "o3/app/lib/libapp.so.1"), { shared: true, soname: "libapp.so.1" });
    compile(path.join(T, "o3/app/bin/tool"), {
      link: [path.join(T, "o3/app/lib/libapp.so.1")],
      runpath: "$ORIGIN/../lib",
    });
    fs.mkdirSync(path.join(T, "o3/links"));
    fs.symlinkSync("../app/bin/tool", path.join(T, "o3/links/tool"));
    const viaLink = path.join(T, "o3/links/tool");

    const executed = agree(viaLink);
    assert.equal(resolutionOf(executed, "libapp.so.1").path, `${T}/o3/app/bin/../lib/libapp.so.1`);

    const listed = spawnSync(hostInterpreter(), ["--list", viaLink], { encoding: "utf8" });
    assert.notEqual(listed.status, 0);
    assert.match(listed.stderr, /libapp\.so\.1: cannot open shared object file/);
    const invoked = emulate(viaLink, { mainOrigin: "invoked" });
    assert.equal(resolutionOf(invoked, "libapp.so.1").status, "missing");
    assert.equal(invoked.objects[0]!.origin, `${T}/o3/links`);
  });

  it("searches LD_LIBRARY_PATH after RPATH and before RUNPATH, and records the copies it hides", () => {
    compile(path.join(T, "o4/d1/libdup.so.1"), { shared: true, soname: "libdup.so.1" });
    compile(path.join(T, "o4/d2/libdup.so.1"), { shared: true, soname: "libdup.so.1" });
    const lib = path.join(T, "o4/d1/libdup.so.1");
    const env = { LD_LIBRARY_PATH: `${T}/o4/none;${T}/o4/d2` };

    const r = agree(compile(path.join(T, "o4/exe-rpath"), { link: [lib], rpath: `${T}/o4/d1` }), env);
    const dupR = resolutionOf(r, "libdup.so.1");
    assert.deepEqual([dupR.via, dupR.path], ["rpath", `${T}/o4/d1/libdup.so.1`]);
    assert.deepEqual(
      dupR.shadowed.map((s) => [s.path, s.via]),
      [[`${T}/o4/d2/libdup.so.1`, "ld_library_path"]],
    );
    assert.deepEqual(
      r.ldLibraryPath.map((d) => [d.dir, d.exists]),
      [
        [`${T}/o4/none/`, false],
        [`${T}/o4/d2/`, true],
      ],
    );

    const n = agree(compile(path.join(T, "o4/exe-runpath"), { link: [lib], runpath: `${T}/o4/d1` }), env);
    const dupN = resolutionOf(n, "libdup.so.1");
    assert.deepEqual([dupN.via, dupN.path], ["ld_library_path", `${T}/o4/d2/libdup.so.1`]);
    assert.deepEqual(
      dupN.shadowed.map((s) => s.via),
      ["runpath"],
    );
  });

  it("skips candidates of another ELF class or machine and keeps searching", () => {
    const good = compile(path.join(T, "o5/w3/libw.so.1"), { shared: true, soname: "libw.so.1" });
    fs.mkdirSync(path.join(T, "o5/w1"));
    fs.mkdirSync(path.join(T, "o5/w2"));
    fs.writeFileSync(
      path.join(T, "o5/w1/libw.so.1"),
      buildElf({ elfClass: 32, machine: EM.I386, soname: "libw.so.1" }),
    );
    fs.writeFileSync(
      path.join(T, "o5/w2/libw.so.1"),
      buildElf({ elfClass: 64, machine: EM.AARCH64, soname: "libw.so.1" }),
    );
    const tree = agree(compile(path.join(T, "o5/exe"), { link: [good], rpath: `${T}/o5/w1:${T}/o5/w2:${T}/o5/w3` }));
    const w = resolutionOf(tree, "libw.so.1");
    assert.equal(w.path, `${T}/o5/w3/libw.so.1`);
    assert.deepEqual(
      w.rejected.map((c) => [c.path, c.reason, c.elfClass, c.machine]),
      [
        [`${T}/o5/w1/libw.so.1`, "wrong-class", 32, "i386"],
        [`${T}/o5/w2/libw.so.1`, "wrong-machine", 64, "aarch64"],
      ],
    );
  });

  it("stops, as ld.so does, at a candidate that is not a loadable ELF object", () => {
    const good = compile(path.join(T, "o6/f2/libf.so.1"), { shared: true, soname: "libf.so.1" });
    const exe = compile(path.join(T, "o6/exe"), { link: [good], rpath: `${T}/o6/f1:${T}/o6/f2` });
    const bad = path.join(T, "o6/f1/libf.so.1");
    const goodBytes = fs.readFileSync(good);
    const cases: [string, () => void, RegExp][] = [
      [
        "a text file",
        () =>
          fs.writeFileSync(
            bad,
            "this is not an ELF object, but it is long enough to be read in full by ld.so\n".repeat(2),
          ),
        /invalid ELF header/,
      ],
      ["a short file", () => fs.writeFileSync(bad, "tiny"), /file too short/],
      ["truncated program headers", () => fs.writeFileSync(bad, goodBytes.subarray(0, 100)), /cannot read file data/],
      [
        "a relocatable object",
        () => fs.writeFileSync(bad, buildElf({ type: 1, soname: "libf.so.1" })),
        /only ET_DYN and ET_EXEC can be loaded/,
      ],
      ["a directory", () => fs.mkdirSync(bad), /cannot read file data/],
    ];
    for (const [what, make, message] of cases) {
      fs.rmSync(bad, { recursive: true, force: true });
      fs.mkdirSync(path.dirname(bad), { recursive: true });
      make();
      const real = traceLoadedObjects(exe);
      assert.notEqual(real.status, 0, what);
      assert.match(real.stderr, message, what);
      const res = resolutionOf(emulate(exe), "libf.so.1");
      assert.equal(res.status, "fatal", what);
      assert.equal(res.path, bad, what);
      assert.match(res.error!, message, what);
    }
    fs.rmSync(bad, { recursive: true, force: true });
  });

  it("loads a file reached under two names once, and prints path dependencies as paths", () => {
    const nos = compile(path.join(T, "o7/n/libnos.so"), { shared: true });
    fs.symlinkSync("libnos.so", path.join(T, "o7/n/libnos-alias.so"));
    const byPath = compile(path.join(T, "o7/p/libpath.so"), { shared: true });
    const exe = compile(path.join(T, "o7/exe"), {
      link: [`-L${T}/o7/n`, "-l:libnos.so", "-l:libnos-alias.so", byPath],
      rpath: `${T}/o7/n`,
    });
    assert.ok(fs.existsSync(nos));
    const tree = agree(exe);
    const a = resolutionOf(tree, "libnos.so");
    const b = resolutionOf(tree, "libnos-alias.so");
    assert.equal(a.object, b.object);
    assert.equal(b.reused, true);
    assert.equal(resolutionOf(tree, byPath).via, "path");
  });

  it("reports versions the provider does not define, which make the real program fail", () => {
    const src = "int v1(void){return 1;}\nint v2(void){return 2;}\n";
    const lib = path.join(T, "o8/lib/libv.so.1");
    compile(lib, {
      shared: true,
      soname: "libv.so.1",
      source: src,
      versionScript: "V_1.0 { global: v1; local: *; };\nV_2.0 { global: v2; } V_1.0;\n",
    });
    const exe = compile(path.join(T, "o8/exe"), {
      source: "int v2(void);\nint main(void){return v2();}\n",
      link: [lib],
      rpath: `${T}/o8/lib`,
    });
    assert.deepEqual(emulate(exe).versionProblems, []);
    compile(lib, {
      shared: true,
      soname: "libv.so.1",
      source: src,
      versionScript: "V_1.0 { global: v1; v2; local: *; };\n",
    });
    const run = spawnSync(exe, [], { encoding: "utf8" });
    assert.notEqual(run.status, 0);
    assert.match(run.stderr, /version `V_2\.0' not found \(required by/);
    const tree = emulate(exe);
    assert.deepEqual(
      tree.versionProblems.map((v) => [v.file, v.version, v.weak, tree.objects[v.provider]!.path]),
      [["libv.so.1", "V_2.0", false, lib]],
    );
    assert.equal(tree.fails, true);
  });

  it("follows a module dlopen()ed by a program through the program's RPATH", () => {
    const pylib = compile(path.join(T, "o9/py/lib/libpy.so.1"), { shared: true, soname: "libpy.so.1" });
    const host = compile(path.join(T, "o9/py/bin/python"), {
      source: [
        "#define _GNU_SOURCE",
        "#include <dlfcn.h>",
        "#include <link.h>",
        "#include <stdio.h>",
        'static int show(struct dl_phdr_info *i, size_t s, void *d) { (void)s; (void)d; printf("%s\\n", i->dlpi_name); return 0; }',
        'int main(int argc, char **argv) { if (argc < 2 || !dlopen(argv[1], RTLD_NOW)) { printf("dlopen failed: %s\\n", dlerror()); return 1; } dl_iterate_phdr(show, 0); return 0; }',
      ].join("\n"),
      rpath: `${T}/o9/py/lib`,
    });
    const mod = compile(path.join(T, "o9/site/ext.so"), { shared: true, link: [pylib] });
    const real = spawnSync(host, [mod], { encoding: "utf8" });
    assert.equal(real.status, 0, real.stdout);
    const loaded = traceOutputLines(real.stdout);
    const tree = emulate(mod, {}, { dlopenFrom: host });
    const ours = tree.order.flatMap((e) =>
      "object" in e && tree.objects[e.object]!.kind !== "main" ? [tree.objects[e.object]!.path] : [],
    );
    assert.deepEqual(ours, loaded);
    assert.equal(tree.objects[tree.rootIndex!]!.kind, "dlopened");
    assert.equal(resolutionOf(tree, "libpy.so.1").via, "rpath");
    // Loaded on its own, the module does not find libpy.
    assert.equal(resolutionOf(emulate(mod), "libpy.so.1").status, "missing");
  });
});

describe("programs the emulation cannot start", () => {
  it("reports a missing interpreter, a static program and a non-ELF file", () => {
    const exe = compile(path.join(T, "o10/exe"));
    const image = new LayeredImageFs([
      new MemoryLayer("only-the-program").set("bin/exe", { type: "file", data: fs.readFileSync(exe) }),
    ]);
    const t1 = new Linker(image, { profile: HOST }).resolve("/bin/exe");
    assert.deepEqual(
      t1.problems.map((p) => p.kind),
      ["interpreter-missing"],
    );
    assert.equal(resolutionOf(t1, "libc.so.6").status, "missing");

    const stat = path.join(T, "o10/static");
    const built = spawnSync("gcc", ["-static", "-o", stat, "-x", "c", "-"], {
      input: "int main(void){return 0;}\n",
      encoding: "utf8",
    });
    if (built.status === 0) {
      assert.deepEqual(
        emulate(stat).problems.map((p) => p.kind),
        ["not-dynamic"],
      );
    }
    fs.writeFileSync(path.join(T, "o10/script"), "#!/bin/sh\necho hi\n");
    assert.deepEqual(
      emulate(path.join(T, "o10/script")).problems.map((p) => p.kind),
      ["not-elf"],
    );
    const arm = path.join(T, "o10/arm-tool");
    fs.writeFileSync(
      arm,
      buildElf({ machine: EM.AARCH64, type: 2, needed: ["libc.so.6"], interpreter: "/lib/ld-linux-aarch64.so.1" }),
    );
    assert.deepEqual(
      emulate(arm).problems.map((p) => p.kind),
      ["wrong-architecture"],
    );
  });
});
