import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { InputError, UsageError } from "../errors.js";
import { renderConfigSchema, SCHEMA_FILE } from "../../scripts/write-config-schema.js";
import { ConfigError, configJsonSchema, getWorkflow, loadConfig, mountSource, parseConfig } from "./index.js";

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "tantalus-config-"));
}

const GOOD = `# a studio
packages_path: [packages, /opt/rez/release]
implicit_packages: ["~platform==linux", "~os==Rocky-9.3"]
base: { image: "docker.io/library/rockylinux:9" }
image: { compression: zstd, root_map: { /mnt/rez: /studio/packages } }
layers:
  budget: 60
  tiers:
    - { name: platform, packages: [python, "py*"] }
    - { name: apps, packages: [maya] }
audit: { allow_system: [libc.so.6, "ld-linux-*.so.*"] }
packages:
  layout_tools:
    add_requires: [alembic-1.8]
    ignore: [{ soname: libGL.so.1, reason: "driver library, mounted by the runtime" }]
run:
  runtime: podman
  env: [DISPLAY, "LC_*"]
  mounts: [{ source: "~", target: "~" }]
workflows:
  rough_layout:
    description: Rough layout
    request: [launch_app, layout_tools, maya-2025, "python-3.10+<3.12"]
    env: { STUDIO_DEPARTMENT: layout }
    mounts:
      - { source: projects, target: /studio/projects, readonly: true }
`;

test("a valid tantalus.yaml loads with defaults filled in and paths resolved against its directory", () => {
  const dir = tempDir();
  const file = path.join(dir, "tantalus.yaml");
  fs.writeFileSync(file, GOOD);
  const c = loadConfig(file);
  assert.equal(c.file, file);
  assert.equal(c.dir, dir);
  assert.deepEqual(c.packagesPath, [path.join(dir, "packages"), "/opt/rez/release"]);
  assert.deepEqual(c.implicitPackages, ["~platform==linux", "~os==Rocky-9.3"]);
  assert.equal(c.config.base.image, "docker.io/library/rockylinux:9");
  assert.deepEqual(c.config.image, { compression: "zstd", root_map: { "/mnt/rez": "/studio/packages" } });
  assert.equal(c.layers.budget, 60);
  assert.deepEqual(c.layers.tiers[0], { name: "platform", packages: ["python", "py*"] });
  assert.deepEqual(c.packages.layout_tools!.add_requires, ["alembic-1.8"]);
  assert.equal(c.config.registry, null);
  assert.equal(c.config.run.network, "host");
  assert.equal(c.config.run.display, true);
  const wf = getWorkflow(c, "rough_layout");
  assert.deepEqual(
    wf.mounts,
    [{ source: "projects", target: "/studio/projects", readonly: true }],
    "as written: the definition goes into the image",
  );
  assert.equal(mountSource(c, wf.mounts[0]!, ["workflows", "rough_layout", "mounts"]), path.join(dir, "projects"));
  assert.equal(mountSource(c, c.config.run.mounts[0]!, ["run", "mounts"]), os.homedir());
  assert.deepEqual(c.locate(["workflows", "rough_layout", "request", 2]), { file: file, line: 23, column: 41 });
});

test("an empty file is a valid configuration with every section defaulted", () => {
  const c = parseConfig("", "/x/tantalus.yaml");
  assert.deepEqual(c.packagesPath, []);
  assert.equal(c.implicitPackages, undefined);
  assert.deepEqual(c.workflows, {});
  assert.equal(c.config.base.image, "demo");
  assert.equal(c.config.image.compression, "gzip");
  assert.equal(c.layers.budget, 100);
  assert.ok(c.config.audit.allow_system.includes("libc.so.6"));
});

test("commands find their configuration with --config FILE, else ./tantalus.yaml; a missing --config file is a usage error", () => {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, "tantalus.yaml"), "packages_path: [here]\n");
  fs.mkdirSync(path.join(dir, "other"));
  fs.writeFileSync(path.join(dir, "other", "studio.yaml"), "packages_path: [there]\n");
  assert.deepEqual(loadConfig(undefined, { cwd: dir, env: { TANTALUS_SITE_CONFIG: "" } }).packagesPath, [
    path.join(dir, "here"),
  ]);
  const explicit = loadConfig("other/studio.yaml", { cwd: dir, env: { TANTALUS_SITE_CONFIG: "" } });
  assert.deepEqual(explicit.packagesPath, [path.join(dir, "other", "there")]);
  assert.equal(explicit.displayFile, "other/studio.yaml");
  const empty = tempDir();
  const env = { TANTALUS_SITE_CONFIG: "" };
  assert.throws(
    () => loadConfig(undefined, { cwd: empty, env }),
    (e: unknown) =>
      e instanceof UsageError &&
      /no tantalus\.yaml in .* or a parent folder: pass --config FILE or set TANTALUS_CONFIG/.test(e.message),
  );
  assert.throws(
    () => loadConfig("missing.yaml", { cwd: empty, env }),
    (e: unknown) => e instanceof UsageError && e.exitCode === 2 && e.message === "--config missing.yaml: no such file",
  );
});

function errorOf(text: string): ConfigError {
  try {
    parseConfig(text, "/studio/tantalus.yaml", "tantalus.yaml");
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  assert.fail("expected a ConfigError");
}

test("a value of the wrong type is reported at its file, line and column", () => {
  const e = errorOf(
    "workflows:\n  rough_layout:\n    request: [launch_app]\n    mounts:\n      - source: projects\n        target: /studio/projects\n        readonly: yes-please\n",
  );
  assert.equal(
    e.message,
    'tantalus.yaml:7:19: workflows.rough_layout.mounts[0].readonly: expected boolean, got string "yes-please"',
  );
  assert.deepEqual(e.location, { file: "tantalus.yaml", line: 7, column: 19 });
  assert.ok(e instanceof InputError);
});

test("unknown keys are errors at the key, with the closest known key suggested", () => {
  const e = errorOf("packages_path: [p]\nworkflows:\n  fx:\n    reqest: [houdini]\nrun:\n  netwrk: host\n");
  assert.deepEqual(
    e.issues.map((i) => `${i.location.line}:${i.location.column} ${i.message}`),
    [
      "3:3 missing required key 'request' (expected a list)",
      "4:5 unknown key 'reqest'; did you mean request?",
      "6:3 unknown key 'netwrk'; did you mean network?",
    ],
  );
  assert.match(e.message, /^tantalus\.yaml:3:3: workflows\.fx\.request: missing required key/);
  assert.match(e.message, /\ntantalus\.yaml:6:3: run\.netwrk: unknown key 'netwrk'; did you mean network\?/);
  const top = errorOf("workflow: {}\n");
  assert.match(top.message, /^tantalus\.yaml:1:1: workflow: unknown key 'workflow'; did you mean workflows\?/);
});

test("bad values name what was expected", () => {
  const e = errorOf(
    [
      "image: { compression: lz4 }",
      "layers:",
      "  budget: 300",
      "  tiers: [{ name: a }, { name: a }]",
      "workflows:",
      "  comp: { request: [] }",
      "  'bad name': { request: [nuke] }",
      "  lighting: { request: ['houdini 20'] }",
      "base: { image: 'Not An Image' }",
    ].join("\n"),
  );
  const byPath = Object.fromEntries(e.issues.map((i) => [i.path.join("."), `${i.location.line} ${i.message}`]));
  assert.equal(byPath["image.compression"], '1 expected one of gzip, zstd, none, got string "lz4"');
  assert.equal(byPath["layers.budget"], "3 expected a number <= 125, got integer 300");
  assert.equal(byPath["layers.tiers.1.name"], "4 tier a is defined twice");
  assert.equal(byPath["workflows.comp.request"], "6 a workflow needs at least one requirement");
  assert.match(byPath["workflows.lighting.request.0"]!, /^8 expected a Rez requirement/);
  assert.match(byPath["base.image"]!, /^9 expected demo, an image reference/);
  assert.equal(byPath["workflows.bad name"], "7 expected a workflow name (letters, digits, _, . and -)");
  assert.match(e.message, /\ntantalus\.yaml:7:3: workflows\["bad name"\]: expected a workflow name/);
});

test("YAML syntax errors and a non-mapping document are reported at their line", () => {
  const syntax = errorOf("packages_path: [a, b\nworkflows: {}\n");
  assert.match(syntax.message, /^tantalus\.yaml:2:1: invalid YAML: Flow sequence/);
  const dup = errorOf("registry: a\nregistry: b\n");
  assert.match(dup.message, /^tantalus\.yaml:2:1: invalid YAML: Map keys must be unique/);
  assert.match(errorOf("- a\n- b\n").message, /^tantalus\.yaml:1:1: expected a mapping of settings, got a list/);
});

test("an unknown workflow name lists the known ones and the closest", () => {
  const c = parseConfig(
    "workflows:\n  rough_layout: { request: [a] }\n  comp: { request: [b] }\n",
    "/x/tantalus.yaml",
    "tantalus.yaml",
  );
  assert.throws(
    () => getWorkflow(c, "rough_layot"),
    (e: unknown) =>
      e instanceof UsageError &&
      e.message ===
        "no workflow 'rough_layot' in tantalus.yaml (did you mean rough_layout?); known: comp, rough_layout",
  );
});

test("schema/tantalus.schema.json is up to date (node --import tsx scripts/write-config-schema.ts)", () => {
  assert.equal(fs.readFileSync(SCHEMA_FILE, "utf8"), renderConfigSchema());
  const schema = configJsonSchema() as {
    properties: Record<string, { additionalProperties?: unknown }>;
    additionalProperties: unknown;
  };
  assert.equal(schema.additionalProperties, false);
  assert.equal(schema.properties.run!.additionalProperties, false);
  assert.ok("workflows" in schema.properties && "packages_path" in schema.properties);
});

test("a base image spelling Tantalus does not read is refused at its line with the spellings that exist", () => {
  const e = errorOf("packages_path: [p]\nbase:\n  image: docker-daemon:rockylinux:9\n");
  assert.match(
    e.message,
    /^tantalus\.yaml:3:10: base\.image: docker-daemon: is not a transport Tantalus reads \(docker save NAME -o FILE\.tar, then docker-archive:FILE\.tar\); a base is one of: demo; .*containers-storage:NAME/,
  );
  const ok = parseConfig("base: { image: 'containers-storage:localhost/vfx/base:2024' }\n", "/x/tantalus.yaml");
  assert.equal(ok.config.base.image, "containers-storage:localhost/vfx/base:2024", "a podman store name is not a path");
  assert.equal(
    parseConfig("base: { image: 'docker://rockylinux:9' }\n", "/x/tantalus.yaml").config.base.image,
    "docker://rockylinux:9",
  );
});
