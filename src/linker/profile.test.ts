import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { buildElf } from "./elfwrite.js";
import { LayeredImageFs, MemoryLayer } from "./imagefs.js";
import { Linker } from "./linker.js";
import { DEBIAN_X86_64, RHEL_X86_64, parseLdDebugSearchPath } from "./profile.js";

describe("reading LD_DEBUG=libs search paths", () => {
  it("splits directories from the subdirectories tried in each", () => {
    const out = [
      "      8873:	find library=libnothere.so.1 [0]; searching",
      "      8873:	 search cache=/etc/ld.so.cache",
      "      8873:	 search path=/lib64/glibc-hwcaps/x86-64-v3:/lib64/glibc-hwcaps/x86-64-v2:/lib64:/usr/lib64/glibc-hwcaps/x86-64-v3:/usr/lib64/glibc-hwcaps/x86-64-v2:/usr/lib64		(system search path)",
    ].join("\n");
    assert.deepEqual(parseLdDebugSearchPath(out), {
      dirs: ["/lib64", "/usr/lib64"],
      searchSubdirs: ["glibc-hwcaps/x86-64-v3", "glibc-hwcaps/x86-64-v2", ""],
    });
  });

  it("handles a glibc without subdirectories, other labels, and absent lines", () => {
    assert.deepEqual(parseLdDebugSearchPath(" search path=/lib64:/usr/lib64		(system search path)"), {
      dirs: ["/lib64", "/usr/lib64"],
      searchSubdirs: [""],
    });
    assert.deepEqual(
      parseLdDebugSearchPath(" search path=/opt/a/lib:/opt/b/lib		(RPATH from file ./app)", "RPATH from file"),
      {
        dirs: ["/opt/a/lib", "/opt/b/lib"],
        searchSubdirs: [""],
      },
    );
    assert.equal(parseLdDebugSearchPath("nothing here"), null);
  });
});

describe("profiles", () => {
  it("differ where Debian and RHEL builds of glibc differ", () => {
    assert.equal(DEBIAN_X86_64.lib, "lib/x86_64-linux-gnu");
    assert.equal(RHEL_X86_64.lib, "lib64");
    assert.deepEqual(RHEL_X86_64.systemDirs, ["/lib64", "/usr/lib64"]);
    assert.equal(DEBIAN_X86_64.searchSubdirs.at(-1), "");
  });

  it("expand $LIB and $PLATFORM per profile, and restrict $ORIGIN and LD_LIBRARY_PATH in secure mode", () => {
    const image = new LayeredImageFs([
      new MemoryLayer("img")
        .set("opt/app/bin/app", {
          type: "file",
          data: buildElf({
            type: 2,
            needed: ["libx.so.1"],
            rpath: "/opt/$LIB/${PLATFORM}:$ORIGIN/../lib:/opt/x$ORIGIN",
          }),
        })
        .set("lib64/ld-linux-x86-64.so.2", { type: "file", data: buildElf({ soname: "ld-linux-x86-64.so.2" }) }),
    ]);
    const rpathOf = (linker: Linker) => linker.resolve("/opt/app/bin/app").objects[0]!.rpath!.map((d) => d.dir);
    assert.deepEqual(rpathOf(new Linker(image, { profile: RHEL_X86_64 })), [
      "/opt/lib64/x86_64/",
      "/opt/app/bin/../lib/",
      "/opt/x/opt/app/bin/",
    ]);
    assert.deepEqual(rpathOf(new Linker(image, { profile: DEBIAN_X86_64 })), [
      "/opt/lib/x86_64-linux-gnu/x86_64/",
      "/opt/app/bin/../lib/",
      "/opt/x/opt/app/bin/",
    ]);
    // Setuid programs: $ORIGIN only as the first thing in an element, and only into trusted directories.
    const secure = new Linker(image, { profile: DEBIAN_X86_64, secure: true, ldLibraryPath: "/opt/evil" });
    const tree = secure.resolve("/opt/app/bin/app");
    assert.deepEqual(
      tree.objects[0]!.rpath!.map((d) => d.dir),
      ["/opt/lib/x86_64-linux-gnu/x86_64/"],
    );
    assert.deepEqual(tree.ldLibraryPath, []);
  });
});
