/**
 * What a TD meets every day, tried as a new user would, on the sample
 * studio: names that do not exist get the known ones or the closest; a
 * resolve failure is said once; `images WORKFLOW` filters and `diff` exits 1
 * when the images differ; the build's counts add up (layers written, reused,
 * left out for having no files); a context's missing install root is drift
 * only when it existed; a context imported from a Rez .rxt says Rez made it.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { sampleStudio, scratchDir, tantalus, tantalusOk, type Studio } from "./builder/fixture.js";

describe("a TD's everyday commands", () => {
  let scratch: string;
  let studio: Studio;
  let env: NodeJS.ProcessEnv;
  const inStudio = (args: string[]) => tantalus(args, { cwd: studio.dir, env });
  before(async () => {
    scratch = scratchDir("everyday");
    studio = await sampleStudio(scratch);
    // A package with nothing installed but its definition: its variant's root is an empty folder
    // (as rez-build leaves it; a root that does not exist at all is refused by build and audit).
    fs.mkdirSync(path.join(studio.packages, "empty_tool", "1.0", "platform-linux"), { recursive: true });
    fs.writeFileSync(
      path.join(studio.packages, "empty_tool", "1.0", "package.py"),
      'name = "empty_tool"\nversion = "1.0"\nvariants = [["platform-linux"]]\n',
    );
    fs.appendFileSync(studio.config, "  hollow:\n    request: [empty_tool, launch_app]\n");
    env = {
      TANTALUS_SITE_CONFIG: "",
      XDG_CACHE_HOME: path.join(scratch, "cache"),
      TANTALUS_CACHE_DIR: path.join(scratch, "cache", "tantalus"),
    };
  });
  after(() => fs.rmSync(scratch, { recursive: true, force: true }));

  test("resolve -w and env -w with an unknown workflow list the known ones and the closest, as run, build and audit do", () => {
    for (const cmd of ["resolve", "env"]) {
      const r = inStudio([cmd, "-w", "rough_layot"]);
      assert.equal(r.code, 2, cmd);
      assert.match(
        r.stderr,
        /^tantalus: error: no workflow 'rough_layot' in tantalus\.yaml \(did you mean rough_layout\?\); known: animation, comp, .*rough_layout\n$/,
      );
      const byBuild = inStudio(["build", "rough_layot", "--no-progress"]);
      assert.equal(byBuild.code, 2);
      assert.equal(r.stderr, byBuild.stderr, `${cmd} says what build says`);
    }
    // With progress on, the mistyped name is still the one line: refused before "resolving N workflow(s)".
    const withProgress = inStudio(["build", "rough_layot"]);
    assert.equal(withProgress.code, 2);
    assert.match(withProgress.stderr, /^tantalus: error: no workflow 'rough_layot' in tantalus\.yaml [^\n]*\n$/);
  });

  test("an unknown package name gets a 'did you mean'", () => {
    const r = inStudio(["resolve", "mayaa-2025", "launch_app"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no package family 'mayaa' exists in .* \(requested\); did you mean maya\?/);
    const info = inStudio(["info", "layout_tool"]);
    assert.equal(info.code, 1);
    assert.match(info.stderr, /package family 'layout_tool' not found in .*; did you mean layout_tools\?\n$/);
  });

  test("a resolve failure is said once", () => {
    const r = inStudio(["resolve", "maya-2024", "maya-2025"]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.match(/maya-2025/g)?.length, 2, r.stderr); // the request line and the one account of the conflict
    assert.match(
      r.stderr,
      /resolve FAILED after \d+ steps?:\n {2}maya-2024 \(requested\) conflicts with maya-2025 \(requested\)\n$/,
    );
  });

  test("the build's counts add up: layers to write and reused; the image's layer count is the plan's", () => {
    // Every install root must exist (build refuses missing ones), so no planned layer is left out here:
    // empty_tool's empty root is a layer of its own, as the plan says.
    const store = path.join(scratch, "store");
    const build = () => inStudio(["build", "hollow", "--allow-audit-errors", "--store", store]);
    const first = build();
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /^writing 3 package layer\(s\) \(gzip\) into \S+$/m);
    assert.equal(first.stderr.match(/^ {2}written {2}studio: empty_tool-1\.0\[0\]/gm)?.length, 1, first.stderr);
    const again = build();
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /^writing 0 package layer\(s\) \(gzip\) into .*; 3 reused from the layer cache$/m);
    assert.match(inStudio(["plan", "hollow"]).stdout, /^hollow: 5 layers/m);
    assert.match(again.stdout, /^ {2}hollow +sha256:[0-9a-f]{64} +5 layers /m);
    const json = JSON.parse(
      tantalusOk(["build", "hollow", "--allow-audit-errors", "--store", store, "--json", "--no-progress"], {
        cwd: studio.dir,
        env,
      }).stdout,
    ) as { images: { layers: unknown[]; emptyLayers: string[][] }[] };
    assert.equal(json.images[0]!.layers.length, 5);
    assert.deepEqual(json.images[0]!.emptyLayers, []);
  });

  test("images WORKFLOW lists that workflow's images only; diff exits 1 when the images differ, 0 when they are the same", () => {
    const store = path.join(scratch, "store");
    tantalusOk(["build", "rough_layout", "--allow-audit-errors", "--store", store, "--no-progress"], {
      cwd: studio.dir,
      env,
    });
    const all = inStudio(["images", "--store", store, "--json"]);
    const workflows = (JSON.parse(all.stdout) as { workflow?: string }[]).map((i) => i.workflow);
    assert.ok(workflows.includes("hollow") && workflows.includes("rough_layout"));
    const only = JSON.parse(inStudio(["images", "hollow", "--store", store, "--json"]).stdout) as {
      workflow?: string;
    }[];
    assert.ok(only.length > 0 && only.every((i) => i.workflow === "hollow"), JSON.stringify(only));
    const text = inStudio(["images", "hollow", "--store", store]).stdout;
    assert.doesNotMatch(text, /rough_layout/);
    const typo = inStudio(["images", "holow", "--store", store]);
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /no workflow 'holow' in tantalus\.yaml \(did you mean hollow\?\)/);

    const same = inStudio(["diff", "hollow", "hollow", "--store", store]);
    assert.equal(same.code, 0, same.stderr);
    assert.match(same.stdout, /identical images/);
    const differ = inStudio(["diff", "hollow", "rough_layout", "--store", store]);
    assert.equal(differ.code, 1, differ.stderr);
    assert.match(differ.stdout, /^packages: \d+ added/m);
    assert.equal(inStudio(["diff", "hollow", "rough_layout", "--store", store, "--json"]).code, 1);
  });

  test("a context's install root is 'gone' only when it existed; one missing from the start is said so, and one that appears since is drift", () => {
    const ctx = path.join(scratch, "hollow.json");
    tantalusOk(["resolve", "-w", "hollow", "-o", ctx], { cwd: studio.dir, env });
    const clean = inStudio(["context", "verify", ctx]);
    assert.equal(clean.code, 0, clean.stderr);
    assert.equal(clean.stdout, "context is current: nothing moved\n");
    const root = path.join(studio.packages, "empty_tool", "1.0", "platform-linux");
    // A root that existed when the context was made: its absence is "gone".
    fs.rmdirSync(root);
    try {
      const gone = inStudio(["context", "verify", ctx]);
      assert.equal(gone.code, 1);
      assert.equal(gone.stderr, `empty_tool-1.0[0]: install root ${root} is gone\n`);
      // A context made while the root was missing: never "gone", but still not current (build --context refuses it).
      const missingCtx = path.join(scratch, "hollow-missing.json");
      tantalusOk(["resolve", "-w", "hollow", "-o", missingCtx], { cwd: studio.dir, env });
      const resolved = (
        JSON.parse(fs.readFileSync(missingCtx, "utf8")) as { resolved: { name: string; rootMissing?: true }[] }
      ).resolved;
      assert.deepEqual(
        resolved.filter((v) => v.rootMissing).map((v) => v.name),
        ["empty_tool"],
      );
      const missing = inStudio(["context", "verify", missingCtx]);
      assert.equal(missing.code, 1);
      assert.equal(
        missing.stderr,
        `empty_tool-1.0[0]: install root ${root} is missing (it was missing when the context was made too)\n`,
      );
      fs.mkdirSync(root);
      const appeared = inStudio(["context", "verify", missingCtx]);
      assert.equal(appeared.code, 1);
      assert.equal(
        appeared.stderr,
        `empty_tool-1.0[0]: install root ${root} appeared (it did not exist when the context was made)\n`,
      );
    } finally {
      fs.mkdirSync(root, { recursive: true });
    }
  });

  test("a context imported from a Rez .rxt says Rez made the resolve, not tantalus", () => {
    const rxt = path.join(scratch, "hollow.rxt");
    tantalusOk(["resolve", "-w", "hollow", "--rxt", rxt], { cwd: studio.dir, env });
    const imported = path.join(scratch, "imported.json");
    tantalusOk(["context", "import", rxt, "-o", imported], { cwd: studio.dir, env });
    const shown = tantalusOk(["context", "show", imported], { cwd: studio.dir, env }).stdout;
    assert.match(shown, /^created: \S+ by rez 3\.4\.0 \(imported from a \.rxt by tantalus \S+\)$/m);
    const own = path.join(scratch, "own.json");
    tantalusOk(["resolve", "-w", "hollow", "-o", own], { cwd: studio.dir, env });
    assert.match(
      tantalusOk(["context", "show", own], { cwd: studio.dir, env }).stdout,
      /^created: \S+ by tantalus \S+$/m,
    );
  });
});
