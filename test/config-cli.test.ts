/**
 * Configuration layers through the CLI: `tantalus config` shows each value's
 * origin, `--check` validates one file, and a studio's commands work from
 * any folder with TANTALUS_CONFIG and from below the studio without flags,
 * with the site file's store and repairs under the project's file.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { which } from "../src/run/which.js";
import { sampleStudio, scratchDir, tantalus, type Studio } from "./builder/fixture.js";

const SITE = `# the studio's site file: one store for every project, the audit's repair
store: stores/main
packages:
  layout_tools: { add_requires: [alembic-1.8] }
run:
  network: none
registry: registry.studio.internal/tantalus
`;

describe("configuration layers", () => {
  let scratch: string;
  let studio: Studio;
  let site: string;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    scratch = scratchDir("config-cli");
    studio = await sampleStudio(scratch);
    fs.mkdirSync(path.join(scratch, "site"));
    site = path.join(scratch, "site", "tantalus.yaml");
    fs.writeFileSync(site, SITE);
    fs.mkdirSync(path.join(studio.dir, "shots", "sh010"), { recursive: true });
    fs.mkdirSync(path.join(scratch, "elsewhere"));
    env = {
      TANTALUS_SITE_CONFIG: site,
      XDG_CACHE_HOME: path.join(scratch, "cache"),
      TANTALUS_CACHE_DIR: path.join(scratch, "cache", "tantalus"),
    };
  });
  after(() => fs.rmSync(scratch, { recursive: true, force: true }));

  test("tantalus config prints each effective value with the file and line, variable, flag or default it comes from", () => {
    const r = tantalus(["config", "--store", "flagged"], {
      cwd: path.join(studio.dir, "shots"),
      env: { ...env, TANTALUS_PACKAGES_PATH: "/repo/a" },
    });
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split("\n");
    assert.equal(
      lines[0],
      `# layers, lowest first: default < site ${site} < project ${studio.config} < environment TANTALUS_PACKAGES_PATH < flag --store`,
    );
    const line = (key: string) =>
      lines.find((l) => l.endsWith(`  ${key}`) || new RegExp(`\\s${key.replace(/[.[\]]/g, "\\$&")}=`).test(l));
    assert.match(line("store")!, new RegExp(`^flag:--store +store=${path.join(studio.dir, "shots", "flagged")}$`));
    assert.match(line("packages_path")!, /^env:TANTALUS_PACKAGES_PATH +packages_path=\["\/repo\/a"\]$/);
    assert.match(
      line("packages.layout_tools.add_requires")!,
      new RegExp(`^file:${site}:4 +packages\\.layout_tools\\.add_requires=\\["alembic-1\\.8"\\]$`),
    );
    // The project's file says network: host; it wins over the site's none, key by key.
    assert.match(line("run.network")!, new RegExp(`^file:${studio.config}:\\d+ +run\\.network=host$`));
    assert.match(line("registry")!, new RegExp(`^file:${site}:7 +registry=registry\\.studio\\.internal/tantalus$`));
    assert.match(line("run.licence_servers")!, /^default +run\.licence_servers=\[\]$/);
    assert.match(
      line("workflows.rough_layout.request")!,
      new RegExp(`^file:${studio.config}:\\d+ +workflows\\.rough_layout\\.request=\\[`),
    );

    const json = JSON.parse(tantalus(["config", "--json"], { cwd: studio.dir, env }).stdout) as {
      layers: { kind: string }[];
      config: { store: string };
      values: { key: string; origin: { kind: string; label: string } }[];
    };
    assert.deepEqual(
      json.layers.map((l) => l.kind),
      ["default", "site", "project"],
    );
    assert.equal(
      json.config.store,
      path.join(scratch, "site", "stores", "main"),
      "the site's store, relative to the site file",
    );
    assert.equal(json.values.find((v) => v.key === "store")!.origin.label, `file:${site}:2`);
  });

  test("tantalus config --check validates one file: its problems with their lines and exit 1, or 'valid'", () => {
    const bad = path.join(scratch, "bad.yaml");
    fs.writeFileSync(bad, "workflows:\n  fx: { request: [houdini] }\nrun:\n  netwrk: host\n");
    const r = tantalus(["config", "--check", bad], { env });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `tantalus: error: ${bad}:4:3: run.netwrk: unknown key 'netwrk'; did you mean network?\n`);
    const ok = tantalus(["config", "--check", site], { env });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, `${site}: valid\n`);
  });

  test("a --config or TANTALUS_CONFIG file that does not exist is a usage error", () => {
    const r = tantalus(["resolve", "-w", "rough_layout", "--config", "nowhere.yaml"], { cwd: scratch, env });
    assert.equal(r.code, 2);
    assert.equal(r.stderr, "tantalus: error: --config nowhere.yaml: no such file\n");
    const v = tantalus(["plan", "--summary"], { cwd: scratch, env: { ...env, TANTALUS_CONFIG: "nowhere.yaml" } });
    assert.equal(v.code, 2);
    assert.equal(v.stderr, "tantalus: error: TANTALUS_CONFIG=nowhere.yaml: no such file\n");
  });

  test("from any folder with TANTALUS_CONFIG, and from a subfolder of the studio without flags, resolve and plan find the studio", () => {
    const fromSub = tantalus(["resolve", "-w", "rough_layout"], { cwd: path.join(studio.dir, "shots", "sh010"), env });
    assert.equal(fromSub.code, 0, fromSub.stderr);
    assert.match(fromSub.stdout, /^layout_tools-/m);
    const viaVar = tantalus(["resolve", "-w", "rough_layout"], {
      cwd: path.join(scratch, "elsewhere"),
      env: { ...env, TANTALUS_CONFIG: studio.config },
    });
    assert.equal(viaVar.code, 0, viaVar.stderr);
    assert.equal(viaVar.stdout, fromSub.stdout);
    // The site's add_requires is part of the resolve: alembic comes with layout_tools.
    assert.match(viaVar.stdout, /^alembic-1\.8/m);
    const plan = tantalus(["plan", "rough_layout"], { cwd: path.join(studio.dir, "shots"), env });
    assert.equal(plan.code, 0, plan.stderr);
    assert.match(plan.stdout, /^Layer plan of \d+ workflow images/);
  });

  test(
    "tantalus run from any folder with TANTALUS_CONFIG, then from a subfolder without flags; the site's store holds the image",
    { skip: which("podman") ? false : "podman is not installed", timeout: 600_000 },
    () => {
      const first = tantalus(["run", "rough_layout", "-c", "true"], {
        cwd: path.join(scratch, "elsewhere"),
        env: { ...env, TANTALUS_CONFIG: studio.config },
      });
      assert.equal(first.code, 0, first.stderr);
      const store = path.join(scratch, "site", "stores", "main");
      assert.ok(fs.existsSync(path.join(store, "oci-layout")), "the image was built into the site file's store");
      assert.ok(!fs.existsSync(path.join(scratch, "cache", "tantalus", "store")), "not into the default store");
      const again = tantalus(["run", "rough_layout", "-c", "launch_app -show=dragon"], {
        cwd: path.join(studio.dir, "shots", "sh010"),
        env,
      });
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /launch_app: show=dragon/);
      assert.doesNotMatch(
        again.stderr,
        /building|resolving/,
        "the same configuration: the image is current, nothing is rebuilt",
      );
    },
  );
});
