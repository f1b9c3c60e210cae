/**
 * The audit against real images and the real dynamic linker, with podman:
 *  - flipbook, linked against the workstation's libtiff.so.5, fails to start
 *    in the unrepaired review image; the build refuses that image when it
 *    runs the audit; with the configured repair (a donor directory) the
 *    audit is clean, the build adds the repair layer, and flipbook starts;
 *  - for the sample studio's images, every load tree the audit predicts for
 *    the executables and shared libraries of the resolve (from the planned
 *    image, before any layer is written) is what ld.so lists inside the
 *    container (LD_TRACE_LOADED_OBJECTS=1 / ld.so --list).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { buildWorkflows } from "../src/builder/index.js";
import { loadConfig, type LoadedConfig } from "../src/config/index.js";
import { Repositories } from "../src/rez/repository/index.js";
import { ET } from "../src/linker/elf.js";
import { Linker, traceLines } from "../src/linker/linker.js";
import { walkImageFiles } from "../src/audit/audit.js";
import { traceOutputLines } from "../src/linker/testkit/toolchain.js";
import { demoBase, libraryAuditGate, planWorkflow } from "../src/audit/workflow/index.js";
import { resolveWorkflow } from "../src/workflow/resolve.js";
import { missingTools, podmanRunPrivate, removeDir, sampleStudio, type Studio } from "./builder/fixture.js";
import { makeLibtiffDonor } from "./donor.js";

const skip = missingTools("podman", "runc");
let scratch: string;
let studio: Studio;
let config: LoadedConfig;
let store: string;
let donorDir: string;

before(async () => {
  if (skip) return;
  // podman derives an image name from an oci: path (lower case only) and wants a runroot under 50 characters.
  scratch = path.join(os.tmpdir(), `tac-${process.pid.toString(36)}${Date.now().toString(36)}`);
  fs.mkdirSync(scratch);
  studio = await sampleStudio(scratch);
  config = loadConfig(studio.config);
  store = path.join(scratch, "store");
  donorDir = await makeLibtiffDonor(path.join(scratch, "workstation-lib64"), path.join(scratch, "elf"));
});

after(() => {
  if (scratch) removeDir(scratch);
});

function podmanRun(image: string, args: string[]): ReturnType<typeof podmanRunPrivate> {
  return podmanRunPrivate(path.join(scratch, "p"), store, image, args);
}

test(
  "flipbook fails to start in the unrepaired image, the build refuses it, and it starts once the configured repair is applied",
  { skip },
  async () => {
    // Built without the audit: the image a studio gets today.
    await buildWorkflows(config, ["review"], { store, source: false });
    const broken = podmanRun("review", ["flipbook", "--version"]);
    assert.notEqual(broken.status, 0);
    assert.match(broken.stderr, /libtiff\.so\.5: cannot open shared object file/);

    // With the audit, the same image is refused...
    await assert.rejects(
      buildWorkflows(config, ["review"], { store, source: false, audit: libraryAuditGate(config) }),
      (e: Error) => /audit found errors/.test(e.message) && /flipbook-3\.1\.0: missing: libtiff\.so\.5/.test(e.message),
    );

    // ...and with flipbook's repair (its package.py names libtiff.so.5) taking the library from the workstation's
    // directory, it is clean, carries the repair layer, and flipbook runs.
    const report = await buildWorkflows(config, ["review"], {
      store,
      source: false,
      audit: libraryAuditGate(config, { donorDirs: [donorDir] }),
    });
    const image = report.results[0]!;
    assert.deepEqual(image.audit, { errors: [], warnings: [] });
    assert.ok(
      image.layers.some((l) => l.kind === "repair"),
      "the image has a repair layer",
    );
    const ok = podmanRun("review", ["flipbook", "--version"]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /flipbook-3\.1\.0/);
  },
);

test("every load tree the audit predicts is what ld.so lists inside the container", { skip }, async () => {
  const workflows = ["rough_layout", "legacy_comp", "lighting"];
  await buildWorkflows(config, workflows, { store, source: false });
  const repos = new Repositories(config.packagesPath, { cache: false });
  const base = demoBase(config.config.audit.allow_system);
  let compared = 0;
  for (const name of workflows) {
    const planned = planWorkflow(config, resolveWorkflow(config, name, { repos }), base);
    // Executables are run by the kernel; libraries are listed by ld.so itself (--list): $ORIGIN is then the path given.
    const programs: string[] = [];
    const libraries: string[] = [];
    for (const pkg of planned.image.packages) {
      for (const p of walkImageFiles(planned.image.fs, pkg.imageRoot)) {
        const elf = planned.linker.fileFacts(p).elf;
        if (!elf.ok || !elf.dynamic) continue;
        if (elf.interpreter !== undefined || elf.type === ET.EXEC) programs.push(p);
        else if (elf.dynamic.soname) libraries.push(p);
      }
    }
    assert.ok(
      programs.length > 3 && libraries.length > 10,
      `${name}: ${programs.length} programs, ${libraries.length} libraries`,
    );
    const script = [
      ...programs.map((p) => `echo "== ${p}"; LD_TRACE_LOADED_OBJECTS=1 "${p}"`),
      ...libraries.map((p) => `echo "== ${p}"; /lib64/ld-linux-x86-64.so.2 --list "${p}"`),
    ].join("\n");
    const r = podmanRun(name, ["-c", script]);
    assert.equal(r.status, 0, r.stderr);
    const actual = new Map<string, string[]>();
    let current = "";
    for (const line of r.stdout.split("\n")) {
      if (line.startsWith("== ")) actual.set((current = line.slice(3)), []);
      else if (current) actual.get(current)!.push(line);
    }
    const listed = (p: string) => traceOutputLines(actual.get(p)!.join("\n"));
    for (const p of programs) {
      assert.deepEqual(listed(p), traceLines(planned.linker.resolve(p)), `${name}: ${p}`);
      compared++;
    }
    const invoked = new Linker(planned.image.fs, { ...planned.linker.options, mainOrigin: "invoked" });
    for (const p of libraries) {
      assert.deepEqual(listed(p), traceLines(invoked.resolve(p)), `${name}: ${p}`);
      compared++;
    }
  }
  assert.ok(compared > 100, `${compared} load trees compared`);
});
