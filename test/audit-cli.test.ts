/**
 * `tantalus audit` on the sample studio: the human table grouped by package,
 * --json, --suggest, --pollute, --donor, --no-repair, and the exit status CI
 * acts on (0 clean, 1 errors, 2 usage).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import type { AuditJson } from "../src/audit/report.js";
import { runCli, tempDir } from "./helpers.js";
import { generateStudio } from "../src/studio/index.js";
import { makeLibtiffDonor } from "./donor.js";

let scratch: string;
let studio: string;
let cfg: string;
let store: string;
let donorDir: string;

before(async () => {
  scratch = tempDir("tantalus-audit-cli-");
  studio = path.join(scratch, "studio");
  await generateStudio(studio, { scale: "small" });
  cfg = path.join(studio, "tantalus.yaml");
  store = path.join(scratch, "store");
  donorDir = await makeLibtiffDonor(path.join(scratch, "donor"), path.join(scratch, "elf"));
});

after(() => fs.rmSync(scratch, { recursive: true, force: true }));

const audit = (...args: string[]) => runCli(["audit", "--config", cfg, ...args], { env: { XDG_CACHE_HOME: store } });

test("a workflow with a defect: a table grouped by package, exit status 1", () => {
  const r = audit("review");
  assert.equal(r.code, 1, r.stderr);
  const lines = r.stdout.split("\n");
  const group = lines.findIndex((l) => l.trim() === "flipbook-3.1.0");
  assert.ok(group > 0, r.stdout);
  assert.match(lines[group + 1]!, /^\s+ERROR\s+missing\s+bin\/flipbook\s+libtiff\.so\.5\s+not found$/);
  assert.match(r.stdout, /cannot repair libtiff\.so\.5 for flipbook-3\.1\.0/);
  assert.match(r.stdout, /1 error, 0 warnings, 0 ignored/);
});

test("a clean workflow: exit status 0", () => {
  const r = audit("animation");
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /Workflow animation: \d+ ELF objects audited/);
  assert.match(r.stdout, /^ {2}clean$/m);
});

test("--all --json --suggest: every workflow, the failing ones, and YAML that repairs them", () => {
  const r = audit("--all", "--json", "--suggest");
  assert.equal(r.code, 1, r.stderr);
  const out = JSON.parse(r.stdout) as AuditJson;
  assert.equal(out.version, 1);
  assert.equal(out.workflows.length, 10);
  assert.deepEqual(out.summary.failing, ["legacy_comp", "review", "rough_layout"]);
  assert.equal(out.summary.clean.length, 7);
  const undeclared = out.workflows.find((w) => w.workflow === "rough_layout")!.findings;
  assert.deepEqual(
    undeclared.map((f) => [f.kind, f.package, f.name]),
    [["undeclared", "layout_tools-2.3.1", "libAlembic.so.1.8"]],
  );
  const yaml = parse(out.suggestedConfig!) as { packages: Record<string, unknown> };
  assert.deepEqual(yaml.packages, { layout_tools: { add_requires: ["alembic-1.8"] } });
  assert.ok(
    out.suggestions!.some((s) => s.soname === "libtiff.so.5" && s.proposal === null && /nothing provides/.test(s.note)),
  );
});

test("--suggest in the table names the provider and prints the entries to paste", () => {
  const r = audit("rough_layout", "--suggest");
  assert.equal(r.code, 1);
  assert.match(r.stdout, /provided by alembic-1\.8\.8 \(in the resolve\)/);
  assert.match(
    r.stdout,
    /Add to tantalus\.yaml:\n {2}packages:\n {4}layout_tools:\n {6}add_requires:\n {8}- alembic-1\.8\n/,
  );
});

test("--donor repairs the missing library; --pollute then finds every load pinned; --no-repair shows the defect again", () => {
  const polluted = audit("review", "--pollute");
  assert.equal(polluted.code, 1);
  assert.match(
    polluted.stdout,
    /1 load would switch to a decoy\n {4}flipbook-3\.1\.0 {2}bin\/flipbook {2}libtiff\.so\.5: not found -> \S+\/libtiff\.so\.5/,
  );

  const repaired = audit("review", "--donor", donorDir, "--pollute");
  assert.equal(repaired.code, 0, repaired.stdout);
  assert.match(
    repaired.stdout,
    /\/opt\/tantalus\/repair\/flipbook\/lib\/libtiff\.so\.5 {2}<- \S+libtiff\.so\.5 {2}\(libtiff\.so\.5 for flipbook-3\.1\.0\)/,
  );
  assert.match(repaired.stdout, /LD_LIBRARY_PATH \+= \/opt\/tantalus\/repair\/flipbook\/lib/);
  assert.match(repaired.stdout, /every load is pinned/);

  const unrepaired = audit("review", "--donor", donorDir, "--no-repair");
  assert.equal(unrepaired.code, 1);
  assert.match(unrepaired.stdout, /repairs not applied/);
});

test("--base rootfs:DIR audits over another base: there the OS has libtiff.so.5, so it is a system library", () => {
  const root = path.join(scratch, "rocky");
  const lib64 = path.join(root, "usr/lib64");
  fs.mkdirSync(lib64, { recursive: true });
  fs.mkdirSync(path.join(root, "etc"));
  fs.symlinkSync("usr/lib64", path.join(root, "lib64"));
  const hostLibs = ["/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64"];
  for (const n of ["ld-linux-x86-64.so.2", "libc.so.6", "libm.so.6"]) {
    const found = hostLibs.map((d) => path.join(d, n)).find((p) => fs.existsSync(p))!;
    fs.copyFileSync(fs.realpathSync(found), path.join(lib64, n));
  }
  fs.copyFileSync(path.join(donorDir, "libtiff.so.5"), path.join(lib64, "libtiff.so.5"));
  fs.writeFileSync(path.join(root, "etc/os-release"), 'ID="rocky"\nID_LIKE="rhel centos fedora"\n');

  const r = audit("review", "--base", `rootfs:${root}`, "--no-repair");
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /base: root filesystem \S+rocky; ld\.so profile rhel-x86_64; repairs not applied/);
  assert.match(
    r.stdout,
    /ERROR\s+system\s+bin\/flipbook\s+libtiff\.so\.5\s+only the base image \(\/usr\/lib64\/libtiff\.so\.5\) provides it/,
  );
  // flipbook's own repair copies the base's copy into the image: clean.
  assert.equal(audit("review", "--base", `rootfs:${root}`).code, 0);
});

test("usage errors exit with status 2", () => {
  for (const args of [[], ["review", "--all"], ["reveiw"]]) {
    const r = audit(...args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, /^tantalus: error: /);
  }
  assert.match(audit("reveiw").stderr, /did you mean review\?/);
});
