/**
 * `tantalus audit --all --base A --base B`: the migration report over the
 * sample studio between two real OS generations (Debian 12 and Debian 11).
 * Each workflow is resolved once and audited on both bases: the CY2024
 * workflows break on Debian 11 (their programs need GLIBC_2.34, named per
 * file), modeling (the older-generation stack) is clean on both, the
 * workflows with planted defects stay broken with nothing new, and the fix
 * list names the packages to rebuild. The other direction fixes them.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { MigrationReport } from "../../src/audit/migrate.js";
import { removeDir, sampleStudio, tantalus, type Studio } from "../builder/fixture.js";
import { debianBase, osBasesUnavailable } from "./os-bases.js";

const skip = osBasesUnavailable();
let scratch: string;
let studio: Studio;
let debian11: string;
let debian12: string;

before(async () => {
  if (skip) return;
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), "mig-"));
  studio = await sampleStudio(scratch);
  debian11 = `rootfs:${debianBase("bullseye")}`;
  debian12 = `rootfs:${debianBase("bookworm")}`;
});
after(() => {
  if (scratch) removeDir(scratch);
});

const CY2024 = ["animation", "comp", "fx", "lighting", "lookdev", "render"];

test(
  "from Debian 12 to Debian 11: who survives, what breaks with file and symbol version, and what to rebuild",
  { skip },
  () => {
    const env = { TANTALUS_STORE: path.join(scratch, "store") };
    const r = tantalus(["audit", "--all", "--base", debian12, "--base", debian11, "--suggest", "--json"], {
      cwd: studio.dir,
      env,
    });
    assert.equal(r.code, 1, r.stderr);
    const report = JSON.parse(r.stdout) as MigrationReport;
    assert.equal(report.from.base, debian12);
    assert.equal(report.to.base, debian11);
    assert.deepEqual(report.summary.clean, ["modeling"]);
    assert.deepEqual(report.summary.broken, CY2024);
    assert.deepEqual(report.summary.fixed, []);
    assert.deepEqual(report.summary.stillBroken, ["legacy_comp", "review", "rough_layout"]);

    for (const w of report.workflows) {
      const errors = w.appeared.filter((p) => p.severity === "error");
      // Everything new on Debian 11 is a program needing glibc 2.34, each named with its file.
      for (const p of errors) {
        assert.equal(p.reason, "symbol version", p.message);
        assert.deepEqual(p.version, { needed: "GLIBC_2.34", newest: "GLIBC_2.30" });
        assert.equal(p.name, "libc.so.6");
        assert.ok(p.file.startsWith(studio.packages), p.file);
      }
      if (w.status === "broken") assert.ok(errors.length > 0 && w.from.errors === 0, w.workflow);
      if (w.workflow === "legacy_comp") assert.deepEqual(errors, [], "legacy_comp's own defects, nothing new");
    }
    const animation = report.workflows.find((w) => w.workflow === "animation")!;
    assert.ok(animation.appeared.some((p) => p.package === "python-3.11.13" && /\/bin\/python3\.11$/.test(p.file)));

    const rebuild = report.fixes!.filter((f) => f.action === "rebuild").map((f) => f.package);
    assert.ok(rebuild.includes("python-3.11.13") && rebuild.includes("maya-2025.1") && rebuild.includes("usd-24.08"));
    // The older-generation packages are not on the list.
    for (const p of ["python-3.10.20", "maya-2024.2", "usd-23.08", "launch_app-1.4.0", "studio_core-1.2.0"])
      assert.ok(!rebuild.includes(p), p);
    const python = report.fixes!.find((f) => f.action === "rebuild" && f.package === "python-3.11.13");
    assert.ok(python?.action === "rebuild");
    assert.deepEqual(python.needs, ["GLIBC_2.34 of libc.so.6 (the new base defines up to GLIBC_2.30)"]);
    assert.deepEqual(python.workflows, ["animation", "fx", "lighting", "lookdev", "render", "review", "rough_layout"]);

    // The same for people.
    const text = tantalus(["audit", "--all", "--base", debian12, "--base", debian11, "--suggest"], {
      cwd: studio.dir,
      env,
    });
    assert.equal(text.code, 1, text.stderr);
    assert.match(text.stdout, /^ {2}clean on both \(1\): modeling$/m);
    assert.match(text.stdout, new RegExp(`^  newly broken on B \\(6\\): ${CY2024.join(", ")}$`, "m"));
    assert.match(
      text.stdout,
      /symbol version {2}python-3\.11\.13 {2}\S+\/bin\/python3\.11 needs GLIBC_2\.34 of libc\.so\.6 \(the base has up to GLIBC_2\.30\)/,
    );
    assert.match(text.stdout, /^ {2}rebuild python-3\.11\.13 for the new OS: it needs GLIBC_2\.34 of libc\.so\.6/m);

    // The web report lays the same JSON out side by side (issue 20's migration page).
    const json = path.join(scratch, "migration.json");
    fs.writeFileSync(json, r.stdout);
    const site = path.join(scratch, "site");
    const html = tantalus(["report", "--all", "--html", site, "--migration", json], { cwd: studio.dir, env });
    assert.ok(fs.existsSync(path.join(site, "migration.html")), html.stderr);
    const page = fs.readFileSync(path.join(site, "migration.html"), "utf8");
    for (const w of CY2024) assert.match(page, new RegExp(`<tr data-status="broken">\\s*<th scope="row">${w}</th>`));
    assert.match(page, /<tr data-status="clean">\s*<th scope="row">modeling<\/th>/);
    assert.match(page, /rebuild <strong>python-3\.11\.13<\/strong> for the new base/);
  },
);

test("from Debian 11 to Debian 12 the same workflows are fixed, and nothing breaks", { skip }, () => {
  const r = tantalus(["audit", "--all", "--base", debian11, "--base", debian12, "--json"], {
    cwd: studio.dir,
    env: { TANTALUS_STORE: path.join(scratch, "store") },
  });
  const report = JSON.parse(r.stdout) as MigrationReport;
  assert.deepEqual(report.summary.fixed, CY2024);
  assert.deepEqual(report.summary.broken, []);
  assert.equal(report.fixes, undefined, "no fix list without --suggest");
  const gone = report.workflows.find((w) => w.workflow === "animation")!.resolved;
  assert.ok(gone.length > 0 && gone.every((p) => p.reason === "symbol version"));
  // Still exit 1: three workflows carry their planted defects on both.
  assert.equal(r.code, 1);
});

test("a third --base is a usage error", { skip }, () => {
  const r = tantalus(["audit", "--all", "--base", "demo", "--base", debian11, "--base", debian12], { cwd: studio.dir });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /give --base once .* or twice/);
});
