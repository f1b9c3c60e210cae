/**
 * Repair settings: tantalus.yaml and the package's own `tantalus` attribute
 * merged, ignore rules matched by glob, add_requires applied to plain and
 * @late requires, and the environment additions appended after what the
 * packages set.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { InputError } from "../src/errors.js";
import { parseConfig } from "../src/config/index.js";
import { Package, type PackageSummary } from "../src/rez/package.js";
import { Version } from "../src/rez/version/index.js";
import { matchIgnore, packageSettings } from "../src/audit/repair.js";
import { applyEnvAdditions } from "../src/workflow/environment.js";
import { applyPackageOverrides, overrideLateRequires } from "../src/workflow/overrides.js";

function pkg(name: string, summary: Partial<PackageSummary>): Package {
  const full: PackageSummary = {
    file: `/repo/${name}/1.0/package.py`,
    requires: [],
    buildRequires: [],
    variants: [],
    hashedVariants: false,
    lines: {},
    ...summary,
  };
  return new Package(full, name, Version.parse("1.0"), "/repo", `/repo/${name}/1.0`);
}

const config = parseConfig(
  `packages:
  viewer:
    add_requires: [libtiff-4]
    repair: { system_libraries: [libjpeg.so.62] }
    ignore:
      - { soname: "libGLU.so.*", reason: "the GPU driver image brings it" }
`,
  "/studio/tantalus.yaml",
);

test("settings from tantalus.yaml and from the package's tantalus attribute are merged", () => {
  const p = pkg("viewer", {
    tantalus: {
      repair: { system_libraries: ["libtiff.so.5", "libjpeg.so.62"] },
      ignore: [{ soname: "libcuda.so.1", reason: "injected by the runtime" }],
    },
  });
  const s = packageSettings(config, p);
  assert.deepEqual(s.addRequires, ["libtiff-4"]);
  assert.deepEqual(s.systemLibraries, [
    { soname: "libjpeg.so.62", source: "tantalus.yaml" },
    { soname: "libtiff.so.5", source: "package" },
  ]);
  assert.deepEqual(
    s.ignore.map((i) => [i.soname, i.source]),
    [
      ["libGLU.so.*", "tantalus.yaml"],
      ["libcuda.so.1", "package"],
    ],
  );
  assert.equal(matchIgnore(s, ["libGLU.so.1"])?.reason, "the GPU driver image brings it");
  assert.equal(matchIgnore(s, ["libGL.so.1"]), undefined);
  assert.deepEqual(packageSettings(config, pkg("other", {})), {
    addRequires: [],
    systemLibraries: [],
    donorDirs: [],
    ignore: [],
  });
});

test("a malformed tantalus attribute is an error naming the package file", () => {
  for (const attr of [
    { repair: "libtiff.so.5" },
    { repair: { system_libraries: "libtiff.so.5" } },
    { ignore: [{ soname: "libx.so.1" }] },
  ]) {
    assert.throws(
      () => packageSettings(undefined, pkg("bad", { tantalus: attr as never })),
      (e: unknown) =>
        e instanceof InputError &&
        e.location?.file === "/repo/bad/1.0/package.py" &&
        /bad-1\.0: tantalus attribute/.test(e.message),
    );
  }
});

test("add_requires extends plain requires in the source and @late requires through the hook", () => {
  const plain = pkg("viewer", { requires: ["python-3"] });
  const source = applyPackageOverrides({ family: (n) => (n === "viewer" ? [plain] : undefined) }, config);
  assert.deepEqual(
    source.family("viewer")!.map((p) => p.requires.map(String)),
    [["python-3", "libtiff-4"]],
  );
  assert.equal(source.family("viewer")![0]!.base, plain.base);
  assert.deepEqual(plain.requires.map(String), ["python-3"], "the original package is untouched");
  const repos = { family: (n: string) => (n === "viewer" ? [plain] : undefined) };
  assert.equal(
    applyPackageOverrides(repos, config),
    applyPackageOverrides(repos, config),
    "one overridden source per repositories and configuration, so resolves share the solver's cache",
  );
  const hook = overrideLateRequires(() => ["python-3"], config);
  assert.deepEqual(hook(pkg("viewer", { requires: "late" }), { building: false, request: [] }), [
    "python-3",
    "libtiff-4",
  ]);
  assert.deepEqual(hook(pkg("other", { requires: "late" }), { building: false, request: [] }), ["python-3"]);
});

test("environment additions go after the packages' values, once", () => {
  const add = [{ name: "LD_LIBRARY_PATH", append: ["/opt/tantalus/repair/viewer/lib"], separator: ":" }];
  assert.deepEqual(applyEnvAdditions({ LD_LIBRARY_PATH: "/pkg/lib" }, add), {
    LD_LIBRARY_PATH: "/pkg/lib:/opt/tantalus/repair/viewer/lib",
  });
  assert.deepEqual(applyEnvAdditions({}, add), { LD_LIBRARY_PATH: "/opt/tantalus/repair/viewer/lib" });
  assert.deepEqual(applyEnvAdditions({ LD_LIBRARY_PATH: "/opt/tantalus/repair/viewer/lib" }, add), {
    LD_LIBRARY_PATH: "/opt/tantalus/repair/viewer/lib",
  });
});
