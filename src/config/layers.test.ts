import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ConfigError, discoverConfigFiles, loadConfig, mountSource } from "./index.js";
import { UsageError } from "../errors.js";

function tree(files: Record<string, string>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "tantalus-layers-"));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    fs.writeFileSync(path.join(root, name), text);
  }
  return root;
}

const SITE = `store: stores/main
registry: registry.site/tantalus
packages_path: [site-packages]
run:
  network: bridge
  env: ["SITE_*", "LC_*"]
  mounts: [{ source: shows, target: /shows }]
packages:
  layout_tools: { add_requires: [alembic-1.8] }
workflows:
  rough_layout:
    request: [maya]
    env: { DEPARTMENT: layout, SHOW: site }
  comp: { request: [nuke] }
`;

const PROJECT = `packages_path: [packages]
run:
  network: none
workflows:
  rough_layout:
    request: [launch_app]
    env: { SHOW: dragon }
`;

test("the project's file is --config, else TANTALUS_CONFIG, else ./tantalus.yaml or the nearest one in a parent folder", () => {
  const root = tree({
    "studio/tantalus.yaml": "",
    "studio/shots/a/.keep": "",
    "other/x.yaml": "",
    "elsewhere/.keep": "",
  });
  const env = { TANTALUS_SITE_CONFIG: "" };
  const deep = path.join(root, "studio/shots/a");
  assert.deepEqual(discoverConfigFiles({ cwd: deep, env }), {
    project: path.join(root, "studio/tantalus.yaml"),
    projectVia: "search",
  });
  const viaEnv = { ...env, TANTALUS_CONFIG: path.join(root, "other/x.yaml") };
  assert.equal(
    discoverConfigFiles({ cwd: deep, env: viaEnv }).project,
    path.join(root, "other/x.yaml"),
    "TANTALUS_CONFIG wins over the search",
  );
  assert.equal(
    discoverConfigFiles({ cwd: deep, env: viaEnv, config: "../../tantalus.yaml" }).project,
    path.join(root, "studio/tantalus.yaml"),
    "--config wins over TANTALUS_CONFIG",
  );
  assert.deepEqual(discoverConfigFiles({ cwd: path.join(root, "elsewhere"), env }), {});
  assert.throws(
    () => discoverConfigFiles({ cwd: root, env: { ...env, TANTALUS_CONFIG: "gone.yaml" } }),
    (e: unknown) =>
      e instanceof UsageError && e.exitCode === 2 && e.message === "TANTALUS_CONFIG=gone.yaml: no such file",
  );
  assert.throws(
    () => discoverConfigFiles({ cwd: root, env: { TANTALUS_SITE_CONFIG: "site.yaml" } }),
    /TANTALUS_SITE_CONFIG=site\.yaml: no such file/,
  );
});

test("layers merge key by key: the project's file over the site's, lists and scalars replaced whole, mappings merged", () => {
  const root = tree({ "site/tantalus.yaml": SITE, "studio/tantalus.yaml": PROJECT });
  const c = loadConfig(undefined, {
    cwd: path.join(root, "studio"),
    env: { TANTALUS_SITE_CONFIG: path.join(root, "site/tantalus.yaml") },
  });
  assert.deepEqual(c.files, [path.join(root, "site/tantalus.yaml"), path.join(root, "studio/tantalus.yaml")]);
  // The site's store, since the project sets none; relative to the site file.
  assert.equal(c.store, path.join(root, "site/stores/main"));
  // The project's packages_path replaces the site's; relative to the project's file.
  assert.deepEqual(c.packagesPath, [path.join(root, "studio/packages")]);
  assert.equal(c.config.registry, "registry.site/tantalus");
  assert.equal(c.config.run.network, "none");
  assert.deepEqual(c.config.run.env, ["SITE_*", "LC_*"]);
  // A mount's source stays as written (it goes into the image's workflow definition); it is used relative to the site file.
  assert.deepEqual(c.config.run.mounts, [{ source: "shows", target: "/shows", readonly: false }]);
  assert.equal(mountSource(c, c.config.run.mounts[0]!, ["run", "mounts"]), path.join(root, "site/shows"));
  assert.deepEqual(c.packages.layout_tools!.add_requires, ["alembic-1.8"]);
  // A workflow both define: the project's keys over the site's, key by key.
  assert.deepEqual(c.workflows.rough_layout!.request, ["launch_app"]);
  assert.deepEqual(c.workflows.rough_layout!.env, { DEPARTMENT: "layout", SHOW: "dragon" });
  assert.deepEqual(Object.keys(c.workflows).sort(), ["comp", "rough_layout"]);

  // Origins name the layer and the line.
  const site = path.join(root, "site/tantalus.yaml");
  assert.deepEqual(c.origin(["store"]), { kind: "site", source: site, location: { file: site, line: 1, column: 8 } });
  assert.equal(c.origin(["run", "network"]).kind, "project");
  assert.equal(c.origin(["run", "network"]).location?.line, 3);
  assert.equal(c.origin(["workflows", "rough_layout", "env", "DEPARTMENT"]).kind, "site");
  assert.equal(c.origin(["workflows", "rough_layout", "env", "SHOW"]).kind, "project");
  assert.deepEqual(c.origin(["layers", "budget"]), { kind: "default", source: "default" });
  assert.deepEqual(
    c.origin(["run", "gpu"]),
    { kind: "default", source: "default" },
    "a default inside a section a file writes is still a default",
  );
  assert.equal(
    c.locate(["workflows", "comp", "request", 0]).line,
    14,
    "values are located in the file that wrote them",
  );

  // The project's own store wins over the site's.
  fs.appendFileSync(path.join(root, "studio/tantalus.yaml"), "store: ../my-store\n");
  const own = loadConfig(undefined, { cwd: path.join(root, "studio"), env: { TANTALUS_SITE_CONFIG: site } });
  assert.equal(own.store, path.join(root, "my-store"));
  assert.equal(own.origin(["store"]).kind, "project");
});

test("variables are over the files and flags over the variables; their relative paths are the working directory's", () => {
  const root = tree({ "site/tantalus.yaml": SITE, "studio/tantalus.yaml": PROJECT, "work/.keep": "" });
  const cwd = path.join(root, "work");
  const env = {
    TANTALUS_SITE_CONFIG: path.join(root, "site/tantalus.yaml"),
    TANTALUS_CONFIG: path.join(root, "studio/tantalus.yaml"),
    TANTALUS_STORE: "env-store",
    TANTALUS_PACKAGES_PATH: `a${path.delimiter}/abs/b`,
  };
  const byEnv = loadConfig(undefined, { cwd, env });
  assert.equal(byEnv.store, path.join(cwd, "env-store"));
  assert.deepEqual(byEnv.packagesPath, [path.join(cwd, "a"), "/abs/b"]);
  assert.deepEqual(byEnv.origin(["store"]), {
    kind: "environment",
    source: "TANTALUS_STORE",
    location: { file: "TANTALUS_STORE" },
  });
  const byFlag = loadConfig(undefined, { cwd, env, flags: { store: "/flag/store", paths: "p" } });
  assert.equal(byFlag.store, "/flag/store");
  assert.deepEqual(byFlag.packagesPath, [path.join(cwd, "p")]);
  assert.equal(byFlag.origin(["packages_path"]).source, "--paths");
  assert.deepEqual(
    byFlag.sources.map((l) => `${l.kind} ${l.source}`),
    [
      `site ${path.join(root, "site/tantalus.yaml")}`,
      `project ${path.join(root, "studio/tantalus.yaml")}`,
      "environment TANTALUS_PACKAGES_PATH",
      "environment TANTALUS_STORE",
      "flag --paths",
      "flag --store",
    ],
  );
});

test("a site file alone is a configuration; an error in it names the site file and line", () => {
  const root = tree({ "site.yaml": SITE, "bad.yaml": "run:\n  network: hostt\n", "empty/.keep": "" });
  const alone = loadConfig(undefined, {
    cwd: path.join(root, "empty"),
    env: { TANTALUS_SITE_CONFIG: path.join(root, "site.yaml") },
  });
  assert.deepEqual(Object.keys(alone.workflows).sort(), ["comp", "rough_layout"]);
  assert.deepEqual(alone.packagesPath, [path.join(root, "site-packages")]);
  assert.throws(
    () =>
      loadConfig(undefined, {
        cwd: path.join(root, "empty"),
        env: { TANTALUS_SITE_CONFIG: path.join(root, "bad.yaml") },
      }),
    (e: unknown) =>
      e instanceof ConfigError &&
      e.message ===
        `${path.join(root, "bad.yaml")}:2:12: run.network: expected one of host, bridge, none, got string "hostt"`,
  );
});
