import { after, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { parseConfig } from "../config/index.js";
import { Repositories } from "../rez/repository/index.js";
import { planInputFor, planStudio, type PlanStudioOptions } from "./studio.js";
import { resolveWorkflows } from "../workflow/resolve.js";
import type { LoadedConfig } from "../config/index.js";
import { RootMeasurer } from "./measure.js";
import { InputError, TantalusError } from "../errors.js";
import { fixtureStudio, removeFixtures } from "../../test/plan-fixture.js";

after(removeFixtures);

/** The plan command's way: every workflow resolved by the workflow stage, then planned together. */
function plan(config: LoadedConfig, repos: Repositories, opts: PlanStudioOptions = {}) {
  return planStudio(config, resolveWorkflows(config, undefined, { repos }), opts);
}

test("planning a repository: tiers by precedence, sizes measured on disk, requires graph kept", () => {
  const { dir } = fixtureStudio();
  const file = path.join(dir, "tantalus.yaml");
  const config = parseConfig(fs.readFileSync(file, "utf8"), file);
  const repos = new Repositories(config.packagesPath);
  const resolves = resolveWorkflows(config, undefined, { repos });
  assert.deepEqual(resolves.failed, []);
  const prepared = planInputFor(config, [...resolves.resolves.values()]);
  const byFamily = new Map(prepared.input.images.flatMap((i) => i.variants).map((v) => [v.family, v]));
  // A package without variants has its base as root: package.py is part of it.
  const py = (family: string): number => {
    const [version] = fs.readdirSync(path.join(dir, "packages", family));
    return fs.statSync(path.join(dir, "packages", family, version!, "package.py")).size;
  };
  assert.deepEqual(
    [...byFamily.values()]
      .map((v) => [v.family, v.tier, prepared.tierSources[v.id], v.bytes - py(v.family), (v.files ?? 0) - 1])
      .sort(),
    [
      ["launcher", "rest", "config", 100, 1],
      ["maya", "apps", "pattern", 20000, 1],
      ["notes", "rest", "pattern", 50, 1],
      ["nuke", "apps", "pattern", 15000, 1],
      ["python", "platform", "package", 8000, 2],
      ["usd", "platform", "pattern", 7000, 1],
    ],
  );
  assert.ok(prepared.warnings.some((w) => w.includes("tantalus.layer 'nowhere' is not a configured tier")));
  const layout = prepared.input.images.find((i) => i.name === "layout")!;
  const maya = layout.variants.find((v) => v.family === "maya")!;
  assert.deepEqual(maya.requires!.map((r) => r.split("@")[0]).sort(), ["python-3.11[]", "usd-24.08[]"]);
  assert.ok(maya.id.endsWith(`@${path.join(dir, "packages")}`));
  // The launcher's @late requires were evaluated during the solve and are part of the graph.
  const launcher = layout.variants.find((v) => v.family === "launcher")!;
  assert.deepEqual(
    launcher.requires!.map((r) => r.split("@")[0]),
    ["python-3.11[]"],
  );

  const result = plan(config, repos, { budget: 6 });
  // 1 base + 2 top (the top layer, room for a repair layer) leave 3 layers, one per tier: layout's two platform groups and two rest groups must merge.
  const shared = result.strategies.shared;
  const families = (key: string): string[] =>
    shared.plan.layers.find((l) => l.key === key)!.variants.map((id) => id.split("-")[0]!);
  assert.deepEqual(
    shared.plan.images.map((i) => [i.name, i.layers.map(families)]),
    [
      ["comp", [["python", "usd"], ["nuke"], ["launcher", "notes"]]],
      ["layout", [["python", "usd"], ["maya"], ["launcher", "notes"]]],
    ],
  );
  assert.equal(shared.report.ratio, 1);
});

test("a budget above 125 in tantalus.yaml is refused at its line", () => {
  const { dir } = fixtureStudio();
  const file = path.join(dir, "tantalus.yaml");
  const text = fs.readFileSync(file, "utf8").replace("budget: 100", "budget: 127");
  // The schema refuses it when the file is read, at the budget's line.
  assert.throws(
    () => parseConfig(text, file),
    (err: unknown) => err instanceof InputError && /:4:\d+: layers\.budget: expected a number <= 125/.test(err.message),
  );
});

test("a tier override naming an unknown tier is refused at its line", () => {
  const { dir } = fixtureStudio();
  const file = path.join(dir, "tantalus.yaml");
  const config = parseConfig(
    fs.readFileSync(file, "utf8").replace("launcher: { layer: rest }", "launcher: { layer: tools }"),
    file,
  );
  assert.throws(
    () => plan(config, new Repositories(config.packagesPath)),
    (err: unknown) =>
      err instanceof InputError &&
      err.location?.line === 10 &&
      /packages.launcher.layer 'tools' is not a tier/.test(err.message),
  );
});

test("root sizes are cached per run and a missing root measures as empty", () => {
  const { repo } = fixtureStudio();
  const m = new RootMeasurer();
  const root = path.join(repo, "maya", "2025");
  assert.deepEqual(m.measure(root), {
    bytes: 20000 + fs.statSync(path.join(root, "package.py")).size,
    files: 2,
    exists: true,
  });
  fs.writeFileSync(path.join(root, "more"), "x");
  assert.equal(m.measure(root).files, 2, "cached for the run");
  assert.deepEqual(new RootMeasurer().measure(path.join(repo, "absent")), { bytes: 0, files: 0, exists: false });
});

test("variant ids name the repository as the image sees it (image.root_map), so plans do not depend on mounts", () => {
  const { dir } = fixtureStudio();
  const file = path.join(dir, "tantalus.yaml");
  const text =
    fs.readFileSync(file, "utf8") +
    `image:\n  root_map: { ${JSON.stringify(path.join(dir, "packages"))}: /studio/packages }\n`;
  const config = parseConfig(text, file);
  const result = plan(config, new Repositories(config.packagesPath));
  const ids = result.strategies.shared.plan.layers.flatMap((l) => l.variants);
  assert.ok(ids.length > 0 && ids.every((id) => id.endsWith("@/studio/packages")), ids.join(" "));
  assert.equal(result.variants.get("maya-2025[]@/studio/packages")!.root, path.join(dir, "packages", "maya", "2025"));
});

test("a workflow that does not resolve is left out with a warning, unless it is one the caller needs", () => {
  const { dir } = fixtureStudio();
  const file = path.join(dir, "tantalus.yaml");
  const text = fs
    .readFileSync(file, "utf8")
    .replace("workflows:\n", "workflows:\n  broken: { request: [maya-1999] }\n");
  const config = parseConfig(text, file);
  const repos = new Repositories(config.packagesPath);
  const result = plan(config, repos);
  assert.deepEqual(
    result.input.images.map((i) => i.name),
    ["comp", "layout"],
  );
  assert.equal(result.failed[0]!.workflow, "broken");
  assert.ok(
    result.warnings.some((w) => /workflow broken does not resolve \(maya-1999\).*left out of the layer plan/.test(w)),
  );
  assert.throws(
    () => plan(config, repos, { required: ["broken"] }),
    (err: unknown) => err instanceof TantalusError && err.location?.line === 12,
  );
});
