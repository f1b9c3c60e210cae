/**
 * Findings over a planned image made of this machine's root filesystem as
 * the base and package trees (real gcc-built objects) mounted under
 * /opt/rez, with a package model given as plain callbacks.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { auditFiles, walkImageFiles } from "./audit.js";
import { EM } from "../linker/elf.js";
import { buildElf } from "../linker/elfwrite.js";
import {
  classifyLoadTree,
  dedupeFindings,
  environmentHostLeaks,
  globToRegExp,
  libraryFamily,
  type Finding,
  type PackageModel,
} from "./findings.js";
import { HostDirLayer, LayeredImageFs } from "../linker/imagefs.js";
import { readLdCache } from "../linker/ldcache.js";
import { Linker, type LinkerOptions } from "../linker/linker.js";
import { pollutionCheck } from "./pollute.js";
import { DEBIAN_X86_64, type LinkerProfile } from "../linker/profile.js";
import { compile, probeHostProfile, removeDir, tempDir } from "../linker/testkit/toolchain.js";

const PREFIX = "/opt/rez";
/** Package name -> its requirement closure (itself included). */
const CLOSURES: Record<string, string[]> = {
  app: ["app", "openexr-3", "plugin", "openexr-2", "dup-a", "dup-b", "arm", "good", "v", "broken"],
  plugin: ["plugin", "openexr-2"],
  "openexr-2": ["openexr-2"],
  "openexr-3": ["openexr-3"],
  other: ["other"],
  "dup-a": ["dup-a"],
  "dup-b": ["dup-b"],
  arm: ["arm"],
  good: ["good"],
  v: ["v"],
  broken: ["broken"],
};

const model: PackageModel = {
  ownerOf(p) {
    if (!p.startsWith(PREFIX + "/")) return null;
    return p.slice(PREFIX.length + 1).split("/")[0]!;
  },
  requires(pkg, dep) {
    return (CLOSURES[pkg] ?? [pkg]).includes(dep);
  },
};

let T: string;
let PKGS: string;
let image: LayeredImageFs;
let options: LinkerOptions;
let HOST: LinkerProfile;

/** Builds a package file at its image path; returns the host path. */
function pkgFile(imagePath: string, opts: Parameters<typeof compile>[1]): string {
  return compile(path.join(PKGS, imagePath.slice(PREFIX.length + 1)), opts);
}

before(() => {
  T = tempDir();
  PKGS = path.join(T, "pkgs");
  HOST = probeHostProfile(path.join(T, "probe"), DEBIAN_X86_64);
  const exr2 = pkgFile(`${PREFIX}/openexr-2/lib/libOpenEXR-2_5.so.25`, {
    shared: true,
    soname: "libOpenEXR-2_5.so.25",
  });
  const exr3 = pkgFile(`${PREFIX}/openexr-3/lib/libOpenEXR-3_1.so.30`, {
    shared: true,
    soname: "libOpenEXR-3_1.so.30",
  });
  const plug = pkgFile(`${PREFIX}/plugin/lib/libplug.so.1`, {
    shared: true,
    soname: "libplug.so.1",
    link: [exr2],
    runpath: `${PREFIX}/openexr-2/lib`,
  });
  const undecl = pkgFile(`${PREFIX}/other/lib/libundecl.so.1`, { shared: true, soname: "libundecl.so.1" });
  const nothere = compile(path.join(T, "elsewhere/libnothere.so.1"), { shared: true, soname: "libnothere.so.1" });
  const cuda = compile(path.join(T, "elsewhere/libcuda.so.1"), { shared: true, soname: "libcuda.so.1" });
  const dupA = pkgFile(`${PREFIX}/dup-a/lib/libdup.so.1`, { shared: true, soname: "libdup.so.1" });
  pkgFile(`${PREFIX}/dup-b/lib/libdup.so.1`, { shared: true, soname: "libdup.so.1" });
  const good = pkgFile(`${PREFIX}/good/lib/libw.so.1`, { shared: true, soname: "libw.so.1" });
  fs.mkdirSync(path.join(PKGS, "arm/lib"), { recursive: true });
  fs.writeFileSync(path.join(PKGS, "arm/lib/libw.so.1"), buildElf({ machine: EM.AARCH64, soname: "libw.so.1" }));
  const vsrc = "int v1(void){return 1;}\nint v2(void){return 2;}\n";
  const v = pkgFile(`${PREFIX}/v/lib/libv.so.1`, {
    shared: true,
    soname: "libv.so.1",
    source: vsrc,
    versionScript: "V_1.0 { global: v1; local: *; };\nV_2.0 { global: v2; } V_1.0;\n",
  });
  const broken = compile(path.join(T, "elsewhere/libbroken.so.1"), { shared: true, soname: "libbroken.so.1" });
  fs.mkdirSync(path.join(PKGS, "broken/lib"), { recursive: true });
  fs.writeFileSync(path.join(PKGS, "broken/lib/libbroken.so.1"), "INPUT(-lbroken-real)\n".repeat(10));

  const runpath = [
    "openexr-3/lib",
    "plugin/lib",
    "other/lib",
    "dup-a/lib",
    "arm/lib",
    "good/lib",
    "v/lib",
    "broken/lib",
  ]
    .map((d) => `${PREFIX}/${d}`)
    .concat(["/home/builder/build/lib", "$ORIGIN/../lib64"])
    .join(":");
  const libz = "/lib/x86_64-linux-gnu/libz.so.1";
  pkgFile(`${PREFIX}/app/bin/app`, {
    source: "int v2(void);\nint main(void){return v2();}\n",
    link: [exr3, plug, undecl, nothere, cuda, dupA, good, v, broken, libz, "-lm"],
    runpath,
  });
  // The library is then replaced by an older build without V_2.0.
  pkgFile(`${PREFIX}/v/lib/libv.so.1`, {
    shared: true,
    soname: "libv.so.1",
    source: vsrc,
    versionScript: "V_1.0 { global: v1; v2; local: *; };\n",
  });
  fs.writeFileSync(path.join(PKGS, "app/bin/run.py"), "print('not an ELF file')\n");
  fs.writeFileSync(path.join(PKGS, "app/bin/truncated.so"), fs.readFileSync(good).subarray(0, 200));

  image = new LayeredImageFs([new HostDirLayer("/"), new HostDirLayer(PKGS, PREFIX)]);
  options = { profile: HOST, cache: readLdCache(image) };
});
after(() => removeDir(T));

function summary(findings: Finding[]): string[] {
  return findings.map((f) => `${f.kind} ${f.package ?? "-"} ${f.name ?? ""}`.trim()).sort();
}

describe("classifying a load tree", () => {
  it("reports missing, system, undeclared, conflicts, wrong architecture, versions, unloadable files and host leaks", () => {
    const tree = new Linker(image, { ...options, ldLibraryPath: `${PREFIX}/dup-b/lib` }).resolve(
      `${PREFIX}/app/bin/app`,
    );
    const findings = classifyLoadTree(tree, model);
    assert.deepEqual(summary(findings), [
      "conflict app",
      "conflict dup-b libdup.so.1",
      "host-leak app",
      "missing app libnothere.so.1",
      "missing-version app libv.so.1",
      "system app libz.so.1",
      "undeclared app libundecl.so.1",
      "unloadable app libbroken.so.1",
      "wrong-architecture arm libw.so.1",
    ]);
    const byKind = (k: string) => findings.filter((f) => f.kind === k);
    const family = byKind("conflict").find((f) => f.name === undefined)!;
    assert.match(
      family.message,
      /libOpenEXR-3_1\.so\.30 and libOpenEXR-2_5\.so\.25: two versions of libOpenEXR in one process/,
    );
    assert.deepEqual(
      family.others!.map((o) => o.package),
      ["openexr-3", "openexr-2"],
    );
    const shadow = byKind("conflict").find((f) => f.name === "libdup.so.1")!;
    assert.equal(shadow.provider?.package, "dup-b");
    assert.deepEqual(
      shadow.others!.map((o) => [o.package, o.detail]),
      [["dup-a", "shadowed (runpath)"]],
    );
    assert.match(
      byKind("host-leak")[0]!.message,
      /RUNPATH of .*app: \/home\/builder\/build\/lib does not exist in the image/,
    );
    assert.equal(byKind("system")[0]!.provider?.package, null);
    assert.equal(byKind("undeclared")[0]!.provider?.package, "other");
    assert.match(byKind("unloadable")[0]!.message, /invalid ELF header/);
    // What the provider has instead, and which package to rebuild against it.
    const gap = byKind("missing-version")[0]!;
    assert.deepEqual(gap.version, { needed: "V_2.0", newest: "V_1.0" });
    assert.match(
      gap.message,
      /version V_2\.0 of libv\.so\.1 .* \(it defines V_ versions up to V_1\.0\): rebuild app for package v, or use a version whose libv\.so\.1 defines V_2\.0/,
    );
    // libcuda.so.1 is absent too, but the NVIDIA runtime injects it.
    assert.ok(!findings.some((f) => f.name === "libcuda.so.1"));
    assert.ok(
      findings.some((f) => f.kind === "missing") &&
        classifyLoadTree(tree, model, { runtimeProvided: [] }).some((f) => f.name === "libcuda.so.1"),
    );
  });

  it("accepts allow-listed system libraries and configurable allow-lists", () => {
    const tree = new Linker(image, options).resolve(`${PREFIX}/app/bin/app`);
    const defaults = classifyLoadTree(tree, model);
    assert.ok(!defaults.some((f) => f.kind === "system" && /^lib(m|c)\.so/.test(f.name ?? "")));
    const withZ = classifyLoadTree(tree, model, { systemAllow: ["libz.so.*", "libc.so.*", "libm.so.*", "ld-linux*"] });
    assert.ok(!withZ.some((f) => f.kind === "system"));
  });
});

describe("auditing many files", () => {
  it("audits every ELF object under the packages, skips other files and reports unreadable ones", () => {
    const files = [...walkImageFiles(image, PREFIX)];
    assert.ok(files.includes(`${PREFIX}/app/bin/run.py`));
    const result = auditFiles(image, files, { ...options, model });
    assert.equal(result.files, files.length);
    // app, libplug, two OpenEXRs, libundecl, two libdups, libw, libv: the text "library" and the aarch64 one are not audited.
    assert.equal(result.audited, 9);
    const unreadable = result.findings.filter((f) => f.kind === "unreadable");
    assert.deepEqual(
      unreadable.map((f) => [f.file, f.package]),
      [[`${PREFIX}/app/bin/truncated.so`, "app"]],
    );
    assert.match(unreadable[0]!.message, /truncated program header table/);
    assert.ok(result.findings.some((f) => f.kind === "wrong-architecture" && f.file === `${PREFIX}/arm/lib/libw.so.1`));
    assert.equal(result.findings.length, dedupeFindings(result.findings).length);
  });
});

describe("a module loaded by its host program", () => {
  it("is not a dependency of the host's package: the dlopen() itself is no finding", () => {
    // A copy app does not link (app loads dup-a's libdup.so.1): only the dlopen() brings it in.
    const plugin = `${PREFIX}/dup-b/lib/libdup.so.1`;
    const tree = new Linker(image, options).resolve(plugin, { dlopenFrom: `${PREFIX}/app/bin/app` });
    assert.equal(tree.objects[tree.rootIndex!]!.realPath, plugin);
    // app does not require dup-b here: were the dlopen a need of app, it would be "undeclared".
    const strict: PackageModel = { ownerOf: (p) => model.ownerOf(p), requires: (pkg, dep) => pkg === dep };
    const findings = classifyLoadTree(tree, strict);
    assert.ok(
      findings.some((f) => f.kind === "undeclared" && f.package === "app"),
      "app's own needs are still checked",
    );
    assert.deepEqual(
      findings.filter((f) => f.name === plugin || f.provider?.path === plugin),
      [],
    );
  });
});

describe("pollution check over the package image", () => {
  it("moves only the loads that relied on the default search", () => {
    const report = pollutionCheck(image, [`${PREFIX}/app/bin/app`], options);
    assert.deepEqual(report.switches.map((s) => [s.name, s.before?.via ?? "missing"]).sort(), [
      ["libcuda.so.1", "missing"],
      ["libnothere.so.1", "missing"],
    ]);
    // The worst case, decoys listed before everything in the cache, moves the base's libz.
    const worst = pollutionCheck(image, [`${PREFIX}/app/bin/app`], options, {
      cache: "prepend",
      decoyDir: "/usr/local/lib",
    });
    assert.ok(worst.switches.some((s) => s.name === "libz.so.1" && s.before?.via === "cache"));
    assert.ok(!worst.switches.some((s) => s.name.startsWith("libOpenEXR")));
  });
});

describe("helpers", () => {
  it("derives library families from sonames", () => {
    const cases: [string, string][] = [
      ["libOpenEXR-2_5.so.25", "libOpenEXR"],
      ["libOpenEXR-3_1.so.30", "libOpenEXR"],
      ["libpython3.9.so.1.0", "libpython"],
      ["libpython3.10.so.1.0", "libpython"],
      ["libpng16.so.16", "libpng"],
      ["libpng12.so.0", "libpng"],
      ["libboost_python39.so.1.74.0", "libboost_python"],
      ["libX11.so.6", "libX11"],
      ["libQt5Core.so.5", "libQt5Core"],
      ["libssl.so.3", "libssl"],
      ["libtbb.so.12", "libtbb"],
      ["libLLVM-15.so.1", "libLLVM"],
      ["ext.cpython-311-x86_64-linux-gnu.so", "ext.cpython-311-x86_64-linux-gnu"],
    ];
    for (const [soname, family] of cases) assert.equal(libraryFamily(soname), family, soname);
  });

  it("matches sonames against allow-list globs", () => {
    assert.ok(globToRegExp("libX*.so.*").test("libXext.so.6"));
    assert.ok(!globToRegExp("libX*.so.*").test("libxml2.so.2"));
    assert.ok(globToRegExp("libGL[!U]*").test("libGLX.so.0"));
    assert.ok(!globToRegExp("libGL[!U]*").test("libGLU.so.1"));
    assert.ok(globToRegExp("libstdc++.so.?").test("libstdc++.so.6"));
  });

  it("finds environment values that point outside the image", () => {
    const leaks = environmentHostLeaks(image, {
      PATH: `/usr/bin:${PREFIX}/app/bin:/home/artist/bin`,
      PYTHONPATH: "relative/dir:/nonexistent/site-packages",
      DISPLAY: ":0",
    });
    assert.deepEqual(
      leaks.map((l) => l.message),
      [
        "PATH contains /home/artist/bin, which does not exist in the image",
        "PYTHONPATH contains /nonexistent/site-packages, which does not exist in the image",
      ],
    );
  });
});
