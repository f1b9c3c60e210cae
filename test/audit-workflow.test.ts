/**
 * The workflow audit on the sample studio: the deliberate defects are found
 * with their kind, file and package; the clean workflows report nothing;
 * ignore rules, add_requires, the repair layer, suggestions, the pollution
 * check and host-leak / wrong-architecture findings work on real resolves of
 * real (gcc-built) ELF files, in the planned image over the demo base or a
 * root filesystem.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parse, stringify } from "yaml";
import { loadConfig, type LoadedConfig } from "../src/config/index.js";
import { Repositories } from "../src/rez/repository/index.js";
import { DEFECTS_FILE, generateStudio, STUDIO_WORKFLOWS, type StudioDefect } from "../src/studio/index.js";
import { buildElf } from "../src/linker/elfwrite.js";
import { compile } from "../src/linker/testkit/toolchain.js";
import { EM } from "../src/linker/elf.js";
import { RHEL_X86_64 } from "../src/linker/profile.js";
import { baseLibrary } from "../src/audit/repair.js";
import { applyPackageOverrides } from "../src/workflow/overrides.js";
import { resolveWorkflow } from "../src/workflow/resolve.js";
import { SonameIndex, suggestRepairs, suggestionsYaml } from "../src/audit/suggest.js";
import { auditExitCode } from "../src/audit/report.js";
import {
  auditWorkflow,
  demoBase,
  directoryBase,
  requirementClosures,
  type AuditFinding,
  type BaseImage,
  type WorkflowAudit,
} from "../src/audit/workflow/index.js";
import { makeLibtiffDonor } from "./donor.js";

let scratch: string;
let studio: string;
let config: LoadedConfig;
let repos: Repositories;
let demo: BaseImage;
let defects: StudioDefect[];
/** A libtiff.so.5 as the workstation OS had it (the studio's link stub, built for real). */
let donorDir: string;
/** A Rocky-like root filesystem whose OS has libtiff.so.5. */
let rockyRoot: string;

before(async () => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), "tantalus-audit-wf-"));
  studio = path.join(scratch, "studio");
  await generateStudio(studio, { scale: "small" });
  config = loadConfig(path.join(studio, "tantalus.yaml"));
  repos = new Repositories(config.packagesPath, { cache: false });
  demo = demoBase(config.config.audit.allow_system);
  defects = (JSON.parse(fs.readFileSync(path.join(studio, DEFECTS_FILE), "utf8")) as { defects: StudioDefect[] })
    .defects;

  donorDir = await makeLibtiffDonor(path.join(scratch, "workstation-lib64"), path.join(scratch, "build"));

  // /lib64 -> usr/lib64 with this host's loader and C library, the OS's libtiff.so.5, os-release of Rocky.
  rockyRoot = path.join(scratch, "rocky");
  const lib64 = path.join(rockyRoot, "usr/lib64");
  fs.mkdirSync(lib64, { recursive: true });
  fs.mkdirSync(path.join(rockyRoot, "etc"));
  fs.symlinkSync("usr/lib64", path.join(rockyRoot, "lib64"));
  for (const f of [
    "/lib64/ld-linux-x86-64.so.2",
    ...["libc.so.6", "libm.so.6"].map((n) => baseLibrary(demo, n)!.hostSource),
  ]) {
    fs.copyFileSync(fs.realpathSync(f), path.join(lib64, path.basename(f)));
  }
  fs.copyFileSync(path.join(donorDir, "libtiff.so.5"), path.join(lib64, "libtiff.so.5"));
  fs.writeFileSync(
    path.join(rockyRoot, "etc/os-release"),
    'NAME="Rocky Linux"\nID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.3"\n',
  );
});

after(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** A workflow of tantalus.yaml, as far as these tests edit it. */
interface WorkflowYaml {
  request: string[];
  mounts?: unknown;
  env?: Record<string, string>;
}

/** The parts of the studio's tantalus.yaml these tests edit; the rest is written back as read. */
interface StudioYaml {
  packages_path: string[];
  packages?: Record<string, unknown>;
  workflows: Record<string, WorkflowYaml> & Record<"rough_layout" | "review", WorkflowYaml>;
}

/** The studio's tantalus.yaml changed by `edit`, written beside it (relative paths keep working). */
function configWith(
  name: string,
  edit: (doc: StudioYaml & { packages: Record<string, unknown> }) => void,
): LoadedConfig {
  const read = parse(fs.readFileSync(path.join(studio, "tantalus.yaml"), "utf8")) as StudioYaml;
  const doc = { ...read, packages: read.packages ?? {} };
  edit(doc);
  const file = path.join(studio, `tantalus-${name}.yaml`);
  fs.writeFileSync(file, stringify(doc));
  return loadConfig(file);
}

const counted = (a: WorkflowAudit) => a.findings.filter((f) => !f.ignored && f.severity === "error");
const qualified = (d: StudioDefect) => `${d.package}-${d.version}`;
const audits = new Map<string, WorkflowAudit>();

async function audit(workflow: string): Promise<WorkflowAudit> {
  let a = audits.get(workflow);
  if (!a) audits.set(workflow, (a = await auditWorkflow(config, workflow, { repos, base: demo })));
  return a;
}

test("every deliberate defect of the sample studio is found with its kind, file and package", async () => {
  assert.equal(defects.length, 3);
  for (const d of defects) {
    const a = await audit(d.workflow);
    const file = path.join(studio, d.file);
    const at = a.findings.filter((f) => f.file === file && f.package === qualified(d) && !f.ignored);
    assert.ok(at.length > 0, `${d.workflow}: nothing reported for ${d.file}: ${JSON.stringify(a.findings, null, 1)}`);
    if (d.kind === "undeclared") {
      const f = at.find((x) => x.kind === "undeclared")!;
      assert.ok(f, `${d.file}: an undeclared finding`);
      assert.ok(d.needed.includes(f.name!), f.name);
      assert.equal(f.provider!.package!.split("-")[0], d.provider);
    } else if (d.kind === "system") {
      // No package provides the library: a base that has it provides it ("system"), one that has not leaves it missing.
      const expected = d.needed.map((n) => (baseLibrary(demo, n) ? "system" : "missing"));
      assert.deepEqual(at.map((f) => f.kind).sort(), [...new Set(expected)].sort());
      assert.deepEqual(at.map((f) => f.name).sort(), [...d.needed].sort());
    } else {
      assert.equal(d.kind, "mixed");
      const conflicts = at.filter((x) => x.kind === "conflict" && x.name === undefined);
      assert.ok(conflicts.length > 0, `${d.file}: a conflict of library families`);
      const loaded = new Set(conflicts.flatMap((c) => (c.others ?? []).map((o) => o.detail!)));
      for (const [family, sonames] of Object.entries(d.families!)) {
        assert.ok(
          sonames.some((s) => loaded.has(s)),
          `${d.file}: loads ${family} (${[...loaded].join(", ")})`,
        );
      }
      // Each conflict names a member of each major.
      for (const c of conflicts) {
        const names = (c.others ?? []).map((o) => o.detail!);
        assert.ok(
          Object.values(d.families!).every((members) => names.some((n) => members.includes(n))),
          names.join(", "),
        );
      }
    }
    // Nothing else is wrong in the defect's workflow.
    const others = counted(a).filter(
      (f) => !defects.some((x) => x.workflow === d.workflow && f.file === path.join(studio, x.file)),
    );
    assert.deepEqual(others, [], `${d.workflow}: only the defects`);
    assert.equal(auditExitCode([a]), 1);
  }
});

test("the clean workflows report nothing", async () => {
  const clean = STUDIO_WORKFLOWS.map((w) => w.name).filter((n) => !defects.some((d) => d.workflow === n));
  assert.ok(clean.length >= 6);
  for (const name of clean) {
    const a = await audit(name);
    assert.ok(a.audited > 10, `${name}: ${a.audited} objects audited`);
    assert.deepEqual(a.findings, [], `${name}: ${JSON.stringify(a.findings, null, 1)}`);
    assert.equal(a.errors + a.warnings + a.ignored, 0);
    assert.equal(auditExitCode([a]), 0);
  }
});

test("a plug-in is loaded by its host program: the legacy EXR reader by Nuke, Maya plug-ins by maya.bin", async () => {
  const a = await audit("legacy_comp");
  const conflict = a.findings.find((f) => f.kind === "conflict" && f.package === "legacy_exr_plugin-1.4.2")!;
  // The OpenEXR 3 side comes from Nuke's libDDImage.so, loaded only because Nuke dlopen()s the plug-in.
  assert.ok(
    conflict.others!.some((o) => o.package === "openexr-3.1.13"),
    JSON.stringify(conflict.others),
  );
  assert.ok(conflict.others!.some((o) => o.package === "ilmbase-2.5.5"));
  const hostOf = (w: WorkflowAudit, file: string) => w.dlopened.find((d) => d.file === path.join(studio, file))?.host;
  assert.equal(
    hostOf(a, "packages/legacy_exr_plugin/1.4.2/plugins/exrReaderLegacy.so"),
    path.join(studio, "packages/nuke/14.1v5/Nuke14.1"),
  );
  // animTools.so takes libOpenMayaAnim.so from Maya: it is audited inside maya.bin, where it loads.
  const anim = await audit("animation");
  assert.equal(
    hostOf(anim, "packages/anim_tools/1.8.0/maya-2025/plug-ins/animTools.so"),
    path.join(studio, "packages/maya/2025.1/bin/maya.bin"),
  );
  // Python extension modules are imported by the python on PATH.
  const ext = anim.dlopened.find((d) => d.file.endsWith("/_usd.so"))!;
  assert.match(ext.host, /\/python\/3\.11\.13\/.*\/bin\/python3$/);
  // A plug-in that finds all it needs by itself is loaded by itself.
  assert.equal(hostOf(anim, "packages/maya/2025.1/plug-ins/fbxmaya.so"), undefined);
});

test("on a base whose OS has the library, the system defect is a system finding, and the package's own repair vendors it", async () => {
  const rocky = directoryBase(rockyRoot, "Rocky-like root filesystem");
  assert.equal(rocky.profile.name, RHEL_X86_64.name);
  const unrepaired = await auditWorkflow(config, "review", { repos, base: rocky, repairs: false });
  const [f] = counted(unrepaired);
  assert.equal(counted(unrepaired).length, 1, JSON.stringify(unrepaired.findings, null, 1));
  assert.equal(f!.kind, "system");
  assert.equal(f!.package, "flipbook-3.1.0");
  assert.equal(f!.file, path.join(studio, "packages/flipbook/3.1.0/bin/flipbook"));
  assert.equal(f!.name, "libtiff.so.5");
  assert.equal(f!.provider!.package, null);
  assert.equal(f!.provider!.path, "/usr/lib64/libtiff.so.5");

  // flipbook's package.py says tantalus = {"repair": {"system_libraries": ["libtiff.so.5"]}}: copied from the base.
  const repaired = await auditWorkflow(config, "review", { repos, base: rocky });
  assert.deepEqual(repaired.findings, []);
  assert.deepEqual(
    repaired.repairs.layerFiles.map((x) => [x.imagePath, x.hostSource, x.package]),
    [
      [
        "/opt/tantalus/repair/flipbook/lib/libtiff.so.5",
        fs.realpathSync(path.join(rockyRoot, "usr/lib64/libtiff.so.5")),
        "flipbook-3.1.0",
      ],
    ],
  );
  assert.deepEqual(repaired.repairs.envAdditions, [
    { name: "LD_LIBRARY_PATH", append: ["/opt/tantalus/repair/flipbook/lib"], separator: ":" },
  ]);
  assert.ok(repaired.ldLibraryPath.endsWith(":/opt/tantalus/repair/flipbook/lib"), repaired.ldLibraryPath);
});

test("on the demo base the missing library is repaired from a donor directory, and the load is then pinned", async () => {
  const before = await auditWorkflow(config, "review", { repos, base: demo, pollute: true });
  assert.deepEqual(
    before.repairs.unresolved.map((u) => u.soname),
    ["libtiff.so.5"],
  );
  const sw = before.pollution!.switches;
  assert.deepEqual(
    sw.map((s) => [s.package, s.name, s.before]),
    [["flipbook-3.1.0", "libtiff.so.5", null]],
  );
  assert.equal(path.posix.dirname(sw[0]!.after.path), before.pollution!.decoyDir);

  const after = await auditWorkflow(config, "review", { repos, base: demo, donorDirs: [donorDir], pollute: true });
  assert.deepEqual(after.findings, []);
  assert.deepEqual(
    after.repairs.layerFiles.map((x) => x.hostSource),
    [fs.realpathSync(path.join(donorDir, "libtiff.so.5"))],
  );
  assert.deepEqual(after.pollution!.switches, [], "the repaired library is on LD_LIBRARY_PATH: decoys do not move it");
  assert.equal(after.errors, 0);
});

test("a repaired library's own needs that the image lacks are copied along from the same donor", async () => {
  const donor = path.join(scratch, "donor-with-deps");
  const jbig = compile(path.join(donor, "libjbig.so.0"), { shared: true, soname: "libjbig.so.0" });
  compile(path.join(donor, "libtiff.so.5"), { shared: true, soname: "libtiff.so.5", link: [jbig] });
  const a = await auditWorkflow(config, "review", { repos, base: demo, donorDirs: [donor] });
  assert.deepEqual(a.findings, []);
  assert.deepEqual(
    a.repairs.layerFiles.map((f) => [f.soname, f.imagePath]),
    [
      ["libtiff.so.5", "/opt/tantalus/repair/flipbook/lib/libtiff.so.5"],
      ["libjbig.so.0", "/opt/tantalus/repair/flipbook/lib/libjbig.so.0"],
    ],
  );
  assert.deepEqual(a.repairs.unresolved, []);

  // Without the dependency in the donor, the copy is made and the gap reported.
  const partial = path.join(scratch, "donor-partial");
  fs.mkdirSync(partial);
  fs.copyFileSync(path.join(donor, "libtiff.so.5"), path.join(partial, "libtiff.so.5"));
  const b = await auditWorkflow(config, "review", { repos, base: demo, donorDirs: [partial] });
  assert.deepEqual(
    b.repairs.unresolved.map((u) => [u.package, u.soname]),
    [["flipbook-3.1.0", "libjbig.so.0"]],
  );
  assert.deepEqual(
    counted(b).map((f) => [f.kind, f.package, f.name]),
    [["missing", "flipbook-3.1.0", "libjbig.so.0"]],
  );
});

test("the pollution check reports nothing when every library is pinned by RUNPATH or the environment", async () => {
  const a = await auditWorkflow(config, "rough_layout", { repos, base: demo, pollute: true });
  assert.ok(a.pollution!.decoys > 10, `${a.pollution!.decoys} decoys`);
  assert.deepEqual(a.pollution!.switches, []);
});

test("an ignore rule keeps the finding, marked with its reason, and it no longer counts", async () => {
  const cfg = configWith("ignore", (doc) => {
    doc.packages.layout_tools = {
      ignore: [{ soname: "libAlembic.so.*", reason: "alembic always comes with studio_assets in layout workflows" }],
    };
  });
  const a = await auditWorkflow(cfg, "rough_layout", { repos, base: demo });
  const f = a.findings.find((x) => x.kind === "undeclared")!;
  assert.deepEqual(f.ignored, {
    rule: "libAlembic.so.*",
    reason: "alembic always comes with studio_assets in layout workflows",
    source: "tantalus.yaml",
  });
  assert.equal(a.errors, 0);
  assert.equal(a.ignored, 1);
  assert.equal(auditExitCode([a]), 0);
});

test("add_requires makes the undeclared library declared, at resolve time, without touching the package", async () => {
  const cfg = configWith("add-requires", (doc) => {
    doc.packages.layout_tools = { add_requires: ["alembic-1.8"] };
  });
  const overridden = applyPackageOverrides(repos, cfg).family("layout_tools")!;
  assert.ok(overridden.every((p) => p.requires.some((r) => r.toString() === "alembic-1.8")));
  assert.ok(
    repos.family("layout_tools")!.every((p) => !p.requires.some((r) => r.name === "alembic")),
    "the repository's packages are unchanged",
  );

  const resolve = resolveWorkflow(cfg, "rough_layout", { repos });
  assert.ok(requirementClosures(resolve).get("layout_tools-2.3.1")!.has("alembic-1.8.8"));
  const a = await auditWorkflow(cfg, "rough_layout", { repos, base: demo });
  assert.deepEqual(a.findings, []);
  // Without repairs, the configuration's add_requires is not applied either.
  const plain = await auditWorkflow(cfg, "rough_layout", { repos, base: demo, repairs: false });
  assert.deepEqual(
    counted(plain).map((f) => f.kind),
    ["undeclared"],
  );
});

test("suggestions name the providing package or file, and the YAML they print repairs the audit", async () => {
  const cfg = configWith("suggest", (doc) => {
    // layout_tools without studio_assets: nothing brings alembic in.
    doc.workflows.layout_only = {
      request: ["launch_app", "layout_tools", "maya-2025", "show_config"],
      mounts: doc.workflows.rough_layout.mounts,
    };
  });
  const index = new SonameIndex(repos, path.join(scratch, "soname-index.json"));
  index.save();
  const layoutOnly = await auditWorkflow(cfg, "layout_only", { repos, base: demo });
  const missing = counted(layoutOnly);
  assert.deepEqual(
    missing.map((f) => [f.kind, f.name]),
    [["missing", "libAlembic.so.1.8"]],
  );
  const rough = await audit("rough_layout");
  const review = await auditWorkflow(config, "review", { repos, base: demo });
  const suggestions = suggestRepairs([layoutOnly, rough, review], {
    index,
    base: demo,
    config: cfg,
    donorDirs: [donorDir],
  });

  const bySoname = (w: string) => suggestions.find((s) => s.workflow === w)!;
  const lo = bySoname("layout_only");
  assert.equal(lo.providers[0]!.package, "alembic-1.8.8");
  assert.equal(lo.providers[0]!.inResolve, false);
  assert.deepEqual(lo.proposal, { add_requires: ["alembic-1.8"] });
  const rl = bySoname("rough_layout");
  assert.equal(rl.providers[0]!.inResolve, true);
  assert.deepEqual(rl.proposal, { add_requires: ["alembic-1.8"] });
  const rv = bySoname("review");
  assert.equal(rv.donorFile, fs.realpathSync(path.join(donorDir, "libtiff.so.5")));
  assert.deepEqual(rv.proposal, { repair: { system_libraries: ["libtiff.so.5"] } });

  // The index is cached: a second one reads the file and answers the same.
  const again = new SonameIndex(repos, path.join(scratch, "soname-index.json"));
  assert.deepEqual(again.providers("libAlembic.so.1.8"), index.providers("libAlembic.so.1.8"));

  // Paste the YAML into tantalus.yaml: the undeclared and missing alembic are gone.
  const yaml = parse(suggestionsYaml(suggestions)) as { packages: Record<string, unknown> };
  assert.deepEqual(yaml.packages.layout_tools, { add_requires: ["alembic-1.8"] });
  assert.deepEqual(yaml.packages.flipbook, { repair: { system_libraries: ["libtiff.so.5"] } });
  const fixed = configWith("suggested", (doc) => {
    doc.workflows.layout_only = {
      request: ["launch_app", "layout_tools", "maya-2025", "show_config"],
      mounts: doc.workflows.rough_layout.mounts,
    };
    Object.assign(doc.packages, yaml.packages);
  });
  for (const w of ["layout_only", "rough_layout"])
    assert.deepEqual((await auditWorkflow(fixed, w, { repos, base: demo })).findings, [], w);
});

test("environment values pointing outside the image are host leaks", async () => {
  const cfg = configWith("leak", (doc) => {
    doc.workflows.review.env = {
      ...doc.workflows.review.env,
      LD_LIBRARY_PATH: "/opt/workstation/lib64",
      RENDER_FARM: "https://farm.studio.internal/api",
    };
  });
  const a = await auditWorkflow(cfg, "review", { repos, base: demo, donorDirs: [donorDir] });
  const leaks = a.findings.filter((f) => f.kind === "host-leak");
  assert.deepEqual(
    leaks.map((f: AuditFinding) => [f.package, f.file, f.severity]),
    [[null, "$LD_LIBRARY_PATH", "error"]],
  );
  assert.match(leaks[0]!.message, /\/opt\/workstation\/lib64/);
});

test("one soname in two packages is a conflict: the package first on the search path hides the other", async () => {
  const extra = path.join(scratch, "extra-vendored");
  const root = path.join(extra, "abc_vendored", "1.0.0");
  fs.mkdirSync(path.join(root, "lib"), { recursive: true });
  fs.writeFileSync(
    path.join(root, "package.py"),
    "name = 'abc_vendored'\nversion = '1.0.0'\ndef commands():\n    env.LD_LIBRARY_PATH.prepend('{root}/lib')\n",
  );
  compile(path.join(root, "lib", "libAlembic.so.1.8"), { shared: true, soname: "libAlembic.so.1.8" });
  const cfg = configWith("vendored", (doc) => {
    doc.packages_path = [...doc.packages_path, extra];
    doc.workflows.rough_layout.request = [...doc.workflows.rough_layout.request, "abc_vendored"];
  });
  const a = await auditWorkflow(cfg, "rough_layout", {
    repos: new Repositories(cfg.packagesPath, { cache: false }),
    base: demo,
  });
  const conflicts = a.findings.filter((f) => f.kind === "conflict");
  assert.equal(conflicts.length, 1, JSON.stringify(a.findings, null, 1));
  const [c] = conflicts;
  assert.equal(c!.name, "libAlembic.so.1.8");
  // abc_vendored's commands run last, so its lib/ is first on LD_LIBRARY_PATH.
  assert.equal(c!.provider!.package, "abc_vendored-1.0.0");
  assert.deepEqual(
    c!.others!.map((o) => o.package),
    ["alembic-1.8.8"],
  );
  assert.equal(c!.severity, "error");
});

test("an object of another architecture is a wrong-architecture finding of its package", async () => {
  const extra = path.join(scratch, "extra");
  const root = path.join(extra, "legacy_viewer", "1.0.0");
  fs.mkdirSync(path.join(root, "lib"), { recursive: true });
  fs.writeFileSync(
    path.join(root, "package.py"),
    "name = 'legacy_viewer'\nversion = '1.0.0'\ndef commands():\n    env.LD_LIBRARY_PATH.prepend('{root}/lib')\n",
  );
  fs.writeFileSync(
    path.join(root, "lib", "libviewer.so.1"),
    buildElf({ elfClass: 32, machine: EM.I386, soname: "libviewer.so.1", needed: ["libc.so.6"] }),
  );
  const cfg = configWith("arch", (doc) => {
    doc.packages_path = [...doc.packages_path, extra];
    doc.workflows.viewer = { request: ["legacy_viewer"] };
  });
  const a = await auditWorkflow(cfg, "viewer", {
    repos: new Repositories(cfg.packagesPath, { cache: false }),
    base: demo,
  });
  assert.deepEqual(
    a.findings.map((f) => [f.kind, f.package, f.file]),
    [["wrong-architecture", "legacy_viewer-1.0.0", path.join(root, "lib", "libviewer.so.1")]],
  );
});
