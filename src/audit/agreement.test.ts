/**
 * Agreement with the real dynamic linker inside a planned image: a small
 * root filesystem (usrmerge symlinks, this machine's libc and ld.so, an
 * ld.so.conf with includes, a cache built by the real ldconfig) holds
 * libraries reached through every rule: the cache, glibc-hwcaps
 * subdirectories, the default directories, DF_1_NODEFLIB, RPATH,
 * LD_LIBRARY_PATH, and a missing one. The real ld.so runs chrooted into it
 * (as root, or in a user namespace); the emulation reads the same directory
 * as an image and must list the same objects, also after decoys are
 * planted for the pollution check.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { directoryImageFs } from "../linker/imagefs.js";
import { readLdCache, type LdCache } from "../linker/ldcache.js";
import { synthesizeLdCache } from "../linker/ldconfig.js";
import { Linker, traceLines, type LoadTree } from "../linker/linker.js";
import { pollutionCheck } from "./pollute.js";
import { DEBIAN_X86_64, type LinkerProfile } from "../linker/profile.js";
import {
  asRoot,
  compile,
  ldconfigInRoot,
  probeHostProfile,
  removeDir,
  tempDir,
  traceOutputLines,
} from "../linker/testkit/toolchain.js";

let T: string;
let ROOT: string;
let HOST: LinkerProfile;
let chrootWorks = false;

/** Copies a host file to the same path inside the root. */
function copyIn(hostPath: string): void {
  const dest = path.join(ROOT, hostPath);
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  fs.copyFileSync(fs.realpathSync(hostPath), dest);
}

function lib(imagePath: string, opts: Parameters<typeof compile>[1] = {}): string {
  return compile(path.join(ROOT, imagePath), { shared: true, soname: path.basename(imagePath), ...opts });
}

function realTrace(env: string[] = []): string[] {
  const r = asRoot("chroot", [ROOT, "/usr/bin/env", "LD_TRACE_LOADED_OBJECTS=1", ...env, "/usr/bin/app"]);
  assert.equal(r.status, 0, r.stderr);
  return traceOutputLines(r.stdout);
}

function emulated(cache: LdCache | null, ldLibraryPath?: string): LoadTree {
  return new Linker(directoryImageFs(ROOT), { profile: HOST, cache, ldLibraryPath }).resolve("/usr/bin/app");
}

before(() => {
  T = tempDir();
  ROOT = path.join(T, "root");
  HOST = probeHostProfile(path.join(T, "probe"), DEBIAN_X86_64);

  for (const d of ["usr/lib/x86_64-linux-gnu", "usr/bin", "etc/ld.so.conf.d", "lib64"])
    fs.mkdirSync(path.join(ROOT, d), { recursive: true });
  fs.symlinkSync("usr/lib", path.join(ROOT, "lib"));
  fs.symlinkSync("usr/bin", path.join(ROOT, "bin"));
  // env and what it loads on this host, at the same paths.
  const host = directoryImageFs("/");
  const envTree = new Linker(host, { profile: HOST, cache: readLdCache(host) }).resolve("/usr/bin/env");
  for (const o of envTree.objects) copyIn(o.realPath);
  const interp = envTree.objects.find((o) => o.kind === "interpreter")!;
  fs.symlinkSync(interp.realPath, path.join(ROOT, "lib64/ld-linux-x86-64.so.2"));

  fs.writeFileSync(path.join(ROOT, "etc/ld.so.conf"), "include /etc/ld.so.conf.d/*.conf\n");
  fs.writeFileSync(path.join(ROOT, "etc/ld.so.conf.d/pkg.conf"), "/opt/pkg/lib\n");

  const pkg = lib("opt/pkg/lib/libpkg.so.1");
  const pkg2 = lib("opt/pkg/lib/libpkg2.so.1");
  lib("opt/alt/lib/libpkg.so.1");
  const sys = lib("usr/lib/x86_64-linux-gnu/libsys.so.1");
  const sys2 = lib("usr/lib/x86_64-linux-gnu/libsys2.so.1");
  const deflt = lib("usr/lib/libdeflt.so.1");
  // ldconfig only indexes lib*.so* and ld-*.so* names: this one is found by the default search.
  const plain = lib("usr/lib/plain.so.1");
  const hw = lib("opt/pkg/lib/libhw.so.1");
  lib("opt/pkg/lib/glibc-hwcaps/x86-64-v2/libhw.so.1");
  const fast = lib("opt/app/lib/libfast.so.1");
  lib("opt/app/lib/glibc-hwcaps/x86-64-v2/libfast.so.1");
  const nd = lib("opt/nd/lib/libnd.so.1", { link: [sys2, pkg2], extra: ["-Wl,-z,nodefaultlib"] });
  const missing = compile(path.join(T, "build/libmissing.so.1"), { shared: true, soname: "libmissing.so.1" });
  compile(path.join(ROOT, "usr/bin/app"), {
    link: [pkg, sys, deflt, plain, hw, fast, nd, missing],
    rpath: "/opt/app/lib:/opt/nd/lib",
  });
  ldconfigInRoot(ROOT);

  chrootWorks = asRoot("chroot", [ROOT, "/usr/bin/env"]).status === 0;
});
after(() => removeDir(T));

describe("agreement with ld.so inside a planned image", () => {
  it("lists the same objects as the real ld.so, with the image's own ld.so.cache", (t) => {
    if (!chrootWorks) return t.skip("cannot chroot here (neither root nor user namespaces)");
    const real = realTrace();
    const tree = emulated(readLdCache(directoryImageFs(ROOT)));
    assert.deepEqual(traceLines(tree), real);
    const via = Object.fromEntries(
      tree.resolutions.filter((r) => r.from === 0).map((r) => [r.name, `${r.via ?? r.status} ${r.path ?? ""}`]),
    );
    assert.equal(via["libpkg.so.1"], "cache /opt/pkg/lib/libpkg.so.1");
    assert.equal(via["libsys.so.1"], "cache /lib/x86_64-linux-gnu/libsys.so.1");
    assert.equal(via["libdeflt.so.1"], "cache /lib/libdeflt.so.1");
    assert.equal(via["plain.so.1"], "default /lib/plain.so.1");
    assert.equal(via["libmissing.so.1"], "missing ");
    if (HOST.cacheHwcaps.includes("x86-64-v2")) {
      assert.equal(via["libhw.so.1"], "cache /opt/pkg/lib/glibc-hwcaps/x86-64-v2/libhw.so.1");
      assert.equal(via["libfast.so.1"], "rpath /opt/app/lib/glibc-hwcaps/x86-64-v2/libfast.so.1");
    }
    // DF_1_NODEFLIB: cache entries in system directories and the defaults are off limits.
    const nodeflib = tree.resolutions.filter(
      (r) => tree.objects[r.from]!.requestedAs === "libnd.so.1" && r.name !== "libc.so.6",
    );
    assert.deepEqual(
      nodeflib.map((r) => [r.name, r.status, r.via ?? ""]),
      [
        ["libsys2.so.1", "missing", ""],
        ["libpkg2.so.1", "found", "cache"],
      ],
    );
  });

  it("agrees with LD_LIBRARY_PATH set", (t) => {
    if (!chrootWorks) return t.skip("cannot chroot here");
    const real = realTrace(["LD_LIBRARY_PATH=/opt/alt/lib:/nonexistent"]);
    const tree = emulated(readLdCache(directoryImageFs(ROOT)), "/opt/alt/lib:/nonexistent");
    assert.deepEqual(traceLines(tree), real);
    assert.equal(tree.resolutions.find((r) => r.name === "libpkg.so.1")?.path, "/opt/alt/lib/libpkg.so.1");
  });

  it("agrees with an old-format cache, where glibc-hwcaps entries carry no hwcap data", (t) => {
    if (!chrootWorks) return t.skip("cannot chroot here");
    ldconfigInRoot(ROOT, { format: "old" });
    try {
      const cache = readLdCache(directoryImageFs(ROOT))!;
      assert.equal(cache.format, "old");
      assert.deepEqual(traceLines(emulated(cache)), realTrace());
    } finally {
      ldconfigInRoot(ROOT);
    }
  });

  it("predicts the same loads from a cache synthesised from ld.so.conf", (t) => {
    if (!chrootWorks) return t.skip("cannot chroot here");
    const synthesized = synthesizeLdCache(directoryImageFs(ROOT), HOST).cache;
    assert.deepEqual(traceLines(emulated(synthesized)), realTrace());
  });

  it("predicts which loads switch to decoys planted in the OS directory", (t) => {
    if (!chrootWorks) return t.skip("cannot chroot here");
    const image = directoryImageFs(ROOT);
    const report = pollutionCheck(image, ["/usr/bin/app"], { profile: HOST, cache: readLdCache(image) });
    assert.deepEqual(report.switches.map((s) => [s.name, s.before?.via ?? "missing", s.after.via]).sort(), [
      ["libdeflt.so.1", "cache", "cache"],
      ["libmissing.so.1", "missing", "cache"],
      ["plain.so.1", "default", "default"],
    ]);
    // Plant real decoys where the report did, let the real ldconfig index
    // them, and ld.so must load what the polluted emulation predicted.
    for (const decoy of report.decoys) lib(decoy.slice(1));
    ldconfigInRoot(ROOT);
    try {
      assert.deepEqual(realTrace(), traceLines(report.polluted[0]!));
    } finally {
      for (const decoy of report.decoys) fs.rmSync(path.join(ROOT, decoy));
      ldconfigInRoot(ROOT);
    }
  });
});
