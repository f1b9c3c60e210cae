/**
 * The audit's missing-version findings against the real loader of a real
 * older OS: on Debian 11 (glibc 2.31), every executable the audit calls
 * broken (it needs GLIBC_2.34, which the sample studio's host compiler binds
 * __libc_start_main to) fails to start in podman with ld.so's own
 * "version `GLIBC_2.34' not found", and every one it calls fine starts: the
 * studio's older-generation packages (src/studio/catalog OLDER_GENERATION)
 * keep `modeling` whole on the older OS.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { buildWorkflows } from "../../src/builder/index.js";
import { loadConfig } from "../../src/config/index.js";
import { walkImageFiles } from "../../src/audit/audit.js";
import { auditResolve, loadBaseImage, planWorkflow } from "../../src/audit/workflow/index.js";
import { ET } from "../../src/linker/elf.js";
import { Repositories } from "../../src/rez/repository/index.js";
import { resolveWorkflow } from "../../src/workflow/resolve.js";
import { missingTools, podmanRunPrivate, removeDir, sampleStudio, setBaseImage } from "../builder/fixture.js";
import { debianBase, osBasesUnavailable } from "./os-bases.js";

const skip = osBasesUnavailable() || missingTools("podman", "runc");
let scratch: string;

before(() => {
  // podman wants a short runroot and a lower-case oci: path.
  scratch = path.join(os.tmpdir(), `tsv-${process.pid.toString(36)}${Date.now().toString(36)}`);
  fs.mkdirSync(scratch);
});
after(() => {
  if (scratch) removeDir(scratch);
});

function podmanRun(store: string, image: string, args: string[]): ReturnType<typeof podmanRunPrivate> {
  return podmanRunPrivate(path.join(scratch, "p"), store, image, args);
}

test(
  "on Debian 11 the executables the audit calls broken fail with the loader's version error, the others start",
  { skip, timeout: 15 * 60_000 },
  async () => {
    const tar = debianBase("bullseye");
    const studio = await sampleStudio(scratch);
    setBaseImage(studio, `rootfs:${tar}`);
    const config = loadConfig(studio.config);
    const store = path.join(scratch, "store");
    const workflows = ["modeling", "animation"];
    // Built without the audit gate, as a studio would have them before asking.
    await buildWorkflows(config, workflows, { store, source: false });
    const base = await loadBaseImage(`rootfs:${tar}`, { store, configDir: studio.dir });
    const repos = new Repositories(config.packagesPath, { cache: false });

    const verdicts: Record<string, { broken: string[]; fine: string[] }> = {};
    for (const name of workflows) {
      const resolve = resolveWorkflow(config, name, { repos });
      const audit = auditResolve(config, resolve, base);
      const planned = planWorkflow(config, resolve, base);
      const needs234 = new Set(
        audit.findings
          .filter((f) => f.kind === "missing-version" && f.version?.needed === "GLIBC_2.34")
          .map((f) => f.file),
      );
      for (const f of audit.findings.filter((f) => f.kind === "missing-version")) {
        // What the base provides and what to rebuild, in the finding itself.
        assert.deepEqual(f.version, { needed: "GLIBC_2.34", newest: "GLIBC_2.30" }, f.message);
        assert.match(f.message, /it defines GLIBC_ versions up to GLIBC_2\.30\): rebuild \S+ for this base OS/);
      }
      const programs: string[] = [];
      for (const pkg of planned.image.packages)
        for (const p of walkImageFiles(planned.image.fs, pkg.imageRoot)) {
          if (planned.image.ownerOf(p) !== pkg.id) continue;
          const elf = planned.linker.fileFacts(p).elf;
          if (elf.ok && elf.dynamic && (elf.interpreter !== undefined || elf.type === ET.EXEC)) programs.push(p);
        }
      assert.ok(programs.length > 3, `${name}: ${programs.length} programs`);
      // Each program is started by the kernel and Debian 11's ld.so; `--version` ends the sample studio's programs at once.
      const script = programs
        .map(
          (p) =>
            `echo "== ${p}"; "${p}" --version >/dev/null 2>&1 </dev/null; echo "rc=$?"; "${p}" --version 2>&1 >/dev/null | head -n 1`,
        )
        .join("\n");
      const run = podmanRun(store, name, ["sh", "-c", script]);
      assert.equal(run.status, 0, run.stderr);
      const v = (verdicts[name] = { broken: [] as string[], fine: [] as string[] });
      for (const block of run.stdout.split("== ").slice(1)) {
        const [p, rc, err = ""] = block.split("\n");
        if (needs234.has(p!)) {
          v.broken.push(p!);
          assert.notEqual(rc, "rc=0", `${p} should not start`);
          assert.match(err, /version `GLIBC_2\.34' not found/, `${p}: ${err}`);
        } else {
          v.fine.push(p!);
          assert.equal(rc, "rc=0", `${p} should start: ${err}`);
        }
      }
      assert.equal(v.broken.length + v.fine.length, programs.length);
    }
    // The older generation survives whole; the CY2024 one breaks, with python and maya among the broken.
    assert.deepEqual(verdicts.modeling!.broken, []);
    assert.ok(verdicts.modeling!.fine.length > 3);
    assert.ok(
      verdicts.animation!.broken.some((p) => /\/python3\.11$/.test(p)),
      verdicts.animation!.broken.join(" "),
    );
    assert.ok(verdicts.animation!.broken.some((p) => /maya/.test(p)));
    assert.ok(
      verdicts.animation!.fine.some((p) => /launch_app$/.test(p)),
      "the launcher is built for both generations",
    );
  },
);
