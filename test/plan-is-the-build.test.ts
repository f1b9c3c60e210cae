/**
 * One resolve of a workflow for every command (src/workflow): `tantalus plan`
 * lists exactly the layers `tantalus build` writes, and `tantalus audit`
 * gives the verdict the build's audit gate gives, for every workflow of the
 * sample studio and for configurations with add_requires, `@late()` requires
 * and a small layer budget. Driven through the CLI on the generated studio
 * (real ELF payloads, the demo base), as a user would run it.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { parse, stringify } from "yaml";
import { runCli, tempDir } from "./helpers.js";

let scratch: string;
let studio: string;

before(() => {
  scratch = tempDir("tantalus-plan-build-");
  studio = path.join(scratch, "studio");
  const r = runCli(["studio", "generate", studio, "--scale", "small"]);
  assert.equal(r.code, 0, r.stderr);
  // layout_tools-2.3.1 again, in a repository searched first, with its requires as a @late() function
  // (what it evaluates to is what the plain list says): the studio's undeclared-alembic defect, late.
  const late = path.join(studio, "late-packages", "layout_tools");
  fs.cpSync(path.join(studio, "packages", "layout_tools", "2.3.1"), path.join(late, "2.3.1"), {
    recursive: true,
    verbatimSymlinks: true,
  });
  const file = path.join(late, "2.3.1", "package.py");
  const text = fs.readFileSync(file, "utf8");
  const plain = "requires = [\n    'usd',\n    'studio_core-1.2+'\n]\n";
  assert.ok(text.includes(plain), text);
  fs.writeFileSync(file, text.replace(plain, "@late()\ndef requires():\n    return ['usd', 'studio_core-1.2+']\n"));
});

after(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** The parts of tantalus.yaml the configurations below change. */
interface Doc {
  packages_path?: string[];
  packages: Record<string, { add_requires: string[] }>;
  layers: { budget: number };
}

interface Configuration {
  file: string;
  store: string;
}

/** The studio's tantalus.yaml changed by `edit`, beside it (relative paths keep working), with a store of its own. */
function configuration(name: string, edit: (doc: Doc) => void = () => {}): Configuration {
  const doc = parse(fs.readFileSync(path.join(studio, "tantalus.yaml"), "utf8")) as Doc;
  doc.packages ??= {};
  edit(doc);
  const file = path.join(studio, `tantalus-${name}.yaml`);
  fs.writeFileSync(file, stringify(doc));
  return { file, store: path.join(scratch, `store-${name}`) };
}

function cli(c: Configuration, args: string[]) {
  return runCli([...args, "--config", c.file], { env: { TANTALUS_STORE: c.store, TANTALUS_CONFIG: undefined } });
}

const lateRepaired = (doc: Doc) => {
  doc.packages_path = ["late-packages", "packages"];
  doc.packages.layout_tools = { add_requires: ["alembic-1.8"] };
};
const smallBudget = (doc: Doc) => {
  doc.layers.budget = 12;
};
const openvdbAdded = (doc: Doc) => {
  doc.packages.layout_tools = { add_requires: ["openvdb"] };
};

interface PlanJson {
  budget: number;
  layers: { key: string; variants: string[] }[];
  images: { name: string; layers: string[]; baseLayers: number; topLayers: number }[];
}
interface BuildJson {
  images: {
    workflow: string;
    layers: { kind: string; variants?: string[] }[];
    emptyLayers: string[][];
    audit?: { errors: string[] };
  }[];
}
interface AuditJson {
  workflows: {
    workflow: string;
    errors: number;
    findings: { package: string | null; kind: string; message: string; severity: string; ignored?: unknown }[];
  }[];
}

/** Each workflow's package layers as `plan --json` lists them: the variants of each, bottom first. */
function plannedLayers(plan: PlanJson): Map<string, string[][]> {
  const byKey = new Map(plan.layers.map((l) => [l.key, l.variants.map((id) => id.slice(0, id.lastIndexOf("@")))]));
  return new Map(plan.images.map((i) => [i.name, i.layers.map((k) => byKey.get(k)!)]));
}

/** Each workflow's package layers as the built image has them. */
function builtLayers(build: BuildJson): Map<string, string[][]> {
  return new Map(
    build.images.map((i) => [i.workflow, i.layers.filter((l) => l.kind === "packages").map((l) => l.variants!)]),
  );
}

const results = new Map<string, { plan: PlanJson; build: BuildJson; audit: AuditJson }>();

/** plan --json, build --all --json (audit errors allowed, so every image is written) and audit --all --json, once per configuration. */
function planBuildAudit(name: string, c: Configuration) {
  let r = results.get(name);
  if (r) return r;
  const plan = cli(c, ["plan", "--json"]);
  assert.equal(plan.code, 0, plan.stderr);
  const build = cli(c, ["build", "--all", "--allow-audit-errors", "--json", "--no-progress"]);
  assert.equal(build.code, 0, build.stderr);
  const audit = cli(c, ["audit", "--all", "--json"]);
  // Exit 1: the studio's deliberate defects.
  assert.ok(audit.code === 0 || audit.code === 1, audit.stderr);
  r = {
    plan: JSON.parse(plan.stdout) as PlanJson,
    build: JSON.parse(build.stdout) as BuildJson,
    audit: JSON.parse(audit.stdout) as AuditJson,
  };
  results.set(name, r);
  return r;
}

const configurations: [string, (doc: Doc) => void][] = [
  ["sample", () => {}],
  ["small-budget", smallBudget],
  ["openvdb-added", (doc) => (smallBudget(doc), openvdbAdded(doc))],
  ["late-repaired", (doc) => (smallBudget(doc), lateRepaired(doc))],
];

for (const [name, edit] of configurations) {
  test(`${name}: plan --json lists exactly the layers of every built image, and audit gives the gate's verdict`, () => {
    const c = configuration(name, edit);
    const { plan, build, audit } = planBuildAudit(name, c);
    const workflows = Object.keys((parse(fs.readFileSync(c.file, "utf8")) as { workflows: object }).workflows).sort();
    assert.deepEqual(plan.images.map((i) => i.name).sort(), workflows);
    assert.deepEqual(build.images.map((i) => i.workflow).sort(), workflows);

    const planned = plannedLayers(plan);
    const built = builtLayers(build);
    for (const image of build.images) {
      assert.deepEqual(image.emptyLayers, [], `${image.workflow}: the sample studio has no empty install root`);
      assert.deepEqual(built.get(image.workflow), planned.get(image.workflow), `${image.workflow}: plan = build`);
      // Within the budget the plan shows: base + package layers + the top layers it reserved.
      const p = plan.images.find((i) => i.name === image.workflow)!;
      assert.ok(image.layers.length <= p.baseLayers + p.layers.length + p.topLayers, image.workflow);
      assert.ok(p.baseLayers + p.layers.length + p.topLayers <= plan.budget, image.workflow);
    }

    // The gate's refusals are the audit's counted errors, line for line.
    const line = (f: AuditJson["workflows"][number]["findings"][number]) =>
      `${f.package ?? "base image"}: ${f.kind}: ${f.message}`;
    for (const a of audit.workflows) {
      const gate = build.images.find((i) => i.workflow === a.workflow)!.audit!;
      const counted = a.findings.filter((f) => f.severity === "error" && !f.ignored).map(line);
      assert.deepEqual([...gate.errors].sort(), counted.sort(), `${a.workflow}: audit and the build's gate`);
      assert.equal(gate.errors.length, a.errors, a.workflow);
    }
  });
}

test("a @late() requires repaired with add_requires: audit says clean and build writes the image (regression)", () => {
  const c = configuration("late-repaired", (doc) => (smallBudget(doc), lateRepaired(doc)));
  const audit = cli(c, ["audit", "rough_layout"]);
  assert.equal(audit.code, 0, audit.stdout + audit.stderr);
  // Without --allow-audit-errors: the build's gate must see the add_requires the audit saw.
  const build = cli(c, ["build", "rough_layout", "--json", "--no-progress"]);
  assert.equal(build.code, 0, build.stderr);
  const image = (JSON.parse(build.stdout) as BuildJson).images[0]!;
  assert.deepEqual(image.audit!.errors, []);
  // The late function really ran from the first repository, and the package without the repair is still caught.
  const unrepaired = configuration("late-unrepaired", (doc) => {
    doc.packages_path = ["late-packages", "packages"];
  });
  const refused = cli(unrepaired, ["build", "rough_layout", "--no-progress"]);
  assert.equal(refused.code, 1, refused.stderr);
  assert.match(refused.stderr, /undeclared: libAlembic\.so\.1\.8/);
});

test("with layers.budget 12, plan shows lookdev with the package layers the build writes (regression)", () => {
  const c = configuration("small-budget", smallBudget);
  const { plan, build } = planBuildAudit("small-budget", c);
  const lookdev = plan.images.find((i) => i.name === "lookdev")!;
  // The base, and the two layers the build reserves above the packages (top, repair).
  assert.equal(lookdev.topLayers, 2);
  assert.equal(lookdev.baseLayers + lookdev.layers.length + lookdev.topLayers, 12);
  assert.equal(builtLayers(build).get("lookdev")!.length, lookdev.layers.length);
});

test("add_requires: [openvdb] on layout_tools puts openvdb in rough_layout's plan, as in its image (regression)", () => {
  const c = configuration("openvdb-added", (doc) => (smallBudget(doc), openvdbAdded(doc)));
  const { plan, build } = planBuildAudit("openvdb-added", c);
  const has = (layers: string[][] | undefined) => (layers ?? []).flat().some((v) => v.startsWith("openvdb-"));
  assert.ok(has(plannedLayers(plan).get("rough_layout")), "planned with openvdb");
  assert.ok(has(builtLayers(build).get("rough_layout")), "built with openvdb");
  // And the plain studio's rough_layout has none: the add_requires brought it.
  const sample = planBuildAudit("sample", configuration("sample"));
  assert.ok(!has(plannedLayers(sample.plan).get("rough_layout")));
});

test("resolve -w and env -w apply the configuration's add_requires, as the build does", () => {
  const c = configuration("openvdb-added", (doc) => (smallBudget(doc), openvdbAdded(doc)));
  const resolved = cli(c, ["resolve", "-w", "rough_layout", "--json"]);
  assert.equal(resolved.code, 0, resolved.stderr);
  const names = (JSON.parse(resolved.stdout) as { resolved: string[] }).resolved;
  assert.ok(
    names.some((n) => n.startsWith("openvdb-")),
    names.join(" "),
  );
  const env = cli(c, ["env", "-w", "rough_layout", "--json"]);
  assert.equal(env.code, 0, env.stderr);
  const environ = JSON.parse(env.stdout) as Record<string, string>;
  assert.match(environ.REZ_USED_RESOLVE!, /(^| )openvdb-/);
  // The same workflow's image was built with it (the configuration's earlier test built every image).
  const { build } = planBuildAudit("openvdb-added", c);
  const image = build.images.find((i) => i.workflow === "rough_layout")!;
  assert.ok(image.layers.some((l) => (l.variants ?? []).some((v) => v.startsWith("openvdb-"))));
});

test("a saved context of a @late() package repaired with add_requires builds: the gate sees the repair (regression)", () => {
  const c = configuration("late-repaired", (doc) => (smallBudget(doc), lateRepaired(doc)));
  const context = path.join(scratch, "rough_layout-late.json");
  const saved = cli(c, ["resolve", "-w", "rough_layout", "-o", context]);
  assert.equal(saved.code, 0, saved.stderr);
  // The lock does not record what the @late() requires evaluated to: the build evaluates it again, with the repair.
  const build = cli(c, ["build", "rough_layout", "--context", context, "--json", "--no-progress"]);
  assert.equal(build.code, 0, build.stderr);
  assert.deepEqual((JSON.parse(build.stdout) as BuildJson).images[0]!.audit!.errors, []);
});
