// Rez's configuration as a layer: where it stacks among Tantalus's layers, how its files and
// variables combine, and the one sentence for what cannot be read. (Resolves under each setting
// are compared with real Rez in test/cli-rez-config.test.ts.)

// integration: {system.os} and platform_map start from the host's OS, which Rez (and Tantalus) ask lsb_release for
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import test from "node:test";
import { InputError } from "../errors.js";
import { hostSystem } from "../rez/system.js";
import { configFilesRead, discoverConfigFiles } from "./discover.js";
import { loadConfig } from "./load.js";
import { readRezConfiguration, rezConfigFiles } from "./rez.js";

function scratch(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "tantalus-rezconfig-"));
}

function write(dir: string, name: string, text: string): string {
  const file = path.join(dir, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
}

/** An environment with nothing of the caller's Rez or Tantalus configuration. */
function cleanEnv(dir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { HOME: path.join(dir, "home"), PATH: process.env.PATH, TANTALUS_SITE_CONFIG: "", ...extra };
}

test("the Rez layer sits above the site file and below the project's file, TANTALUS_* variables and flags", () => {
  const dir = scratch();
  const site = write(dir, "site.yaml", "packages_path: [/site/packages]\nimplicit_packages: ['~platform==linux']\n");
  const project = write(dir, "project/tantalus.yaml", "packages_path: [/project/packages]\n");
  const base = cleanEnv(dir, { TANTALUS_SITE_CONFIG: site, REZ_PACKAGES_PATH: "/rez/a:/rez/b" });

  const noProject = loadConfig(undefined, { cwd: dir, env: base, required: false });
  assert.deepEqual(noProject.packagesPath, ["/rez/a", "/rez/b"]);
  assert.deepEqual(noProject.origin(["packages_path"]), {
    kind: "rez",
    source: "REZ_PACKAGES_PATH",
    location: { file: "REZ_PACKAGES_PATH" },
  });
  // What Rez's configuration does not set still comes from the site file.
  assert.deepEqual(noProject.implicitPackages, ["~platform==linux"]);
  assert.equal(noProject.origin(["implicit_packages"]).kind, "site");

  const withProject = loadConfig(project, { cwd: dir, env: base });
  assert.deepEqual(withProject.packagesPath, ["/project/packages"]);

  const withVariable = loadConfig(project, { cwd: dir, env: { ...base, TANTALUS_PACKAGES_PATH: "/tantalus" } });
  assert.deepEqual(withVariable.packagesPath, ["/tantalus"]);

  const withFlag = loadConfig(project, { cwd: dir, env: base, flags: { paths: "/flag" } });
  assert.deepEqual(withFlag.packagesPath, ["/flag"]);

  const without = loadConfig(undefined, { cwd: dir, env: { ...base, TANTALUS_NO_REZ_CONFIG: "1" }, required: false });
  assert.deepEqual(without.packagesPath, ["/site/packages"]);
  assert.ok(!without.sources.some((l) => l.kind === "rez"));
});

test("REZ_CONFIG_FILE's files apply in order, ~/.rezconfig last, and REZ_<KEY> over them all", () => {
  const dir = scratch();
  const a = write(dir, "a.py", 'variant_select_mode = "intersection_priority"\nuse_variant_shortlinks = False\n');
  const b = write(dir, "b.yaml", "use_variant_shortlinks: yes\n"); // YAML 1.1, as Rez's loader reads it
  write(dir, "home/.rezconfig", "variant_select_mode: version_priority\nerror_on_missing_variant_requires: off\n");
  const env = cleanEnv(dir, { REZ_CONFIG_FILE: `${a}:${b}` });
  assert.deepEqual(
    rezConfigFiles({ env, cwd: dir }).map((f) => [path.basename(f.file), f.format]),
    [
      ["a.py", "python"],
      ["b.yaml", "yaml"],
      [".rezconfig", "yaml"],
    ],
  );
  const rez = readRezConfiguration({ env, cwd: dir });
  assert.equal(rez.values.variant_select_mode, "version_priority");
  assert.equal(rez.values.use_variant_shortlinks, true);
  assert.equal(rez.values.error_on_missing_variant_requires, false);
  assert.deepEqual(rez.origins.use_variant_shortlinks!.location, { file: b, line: 1 });

  const disabled = readRezConfiguration({ env: { ...env, REZ_DISABLE_HOME_CONFIG: "T" }, cwd: dir });
  assert.equal(disabled.values.variant_select_mode, "intersection_priority");

  const overridden = readRezConfiguration({
    env: { ...env, REZ_VARIANT_SELECT_MODE: "intersection_priority", REZ_USE_VARIANT_SHORTLINKS_JSON: "false" },
    cwd: dir,
  });
  assert.equal(overridden.values.variant_select_mode, "intersection_priority");
  assert.equal(overridden.values.use_variant_shortlinks, false);
  assert.equal(overridden.origins.use_variant_shortlinks!.source, "REZ_USE_VARIANT_SHORTLINKS_JSON");
  // REZ_<KEY> is read before REZ_<KEY>_JSON.
  const both = readRezConfiguration({
    env: { ...env, REZ_USE_VARIANT_SHORTLINKS: "1", REZ_USE_VARIANT_SHORTLINKS_JSON: "false" },
    cwd: dir,
  });
  assert.equal(both.values.use_variant_shortlinks, true);
});

test("a named file is read as NAME.py when that exists, as Rez does, else as YAML", () => {
  const dir = scratch();
  write(dir, "studio.py", 'local_packages_path = "/from/python"\n');
  const yaml = write(dir, "studio.yaml", "local_packages_path: /from/yaml\n");
  const rez = readRezConfiguration({ env: cleanEnv(dir, { REZ_CONFIG_FILE: yaml }), cwd: dir });
  assert.equal(rez.values.local_packages_path, "/from/python");
});

test("rezconfig values expand $VARIABLES, ~ and {system.*}, with os and arch through platform_map", () => {
  const dir = scratch();
  const file = write(
    dir,
    "rezconfig.py",
    [
      'packages_path = ["$STUDIO/packages", "~/dev", "${NOT_SET}/x", "relative"]',
      'implicit_packages = ["~platform=={system.platform}", "~os=={system.os}", "~arch=={system.arch}"]',
      // Python's re.subn: ".*" matches twice (the whole text, then the empty end), "^.*$" once.
      'platform_map = {"os": {r"^(\\w+)-(\\d+).*$": r"\\1-\\2-mapped"}, "arch": {"^none$": "any", ".*": "arch"}}',
      "",
    ].join("\n"),
  );
  const env = cleanEnv(dir, { REZ_CONFIG_FILE: file, STUDIO: "/studio" });
  const loaded = loadConfig(undefined, { cwd: dir, env, required: false });
  assert.deepEqual(loaded.packagesPath, [
    "/studio/packages",
    path.join(dir, "home", "dev"),
    path.join(dir, "${NOT_SET}", "x"),
    path.join(dir, "relative"),
  ]);
  const host = hostSystem();
  const os = host.os.replace(/^(\w+)-(\d+).*$/, "$1-$2-mapped");
  assert.deepEqual(loaded.implicitPackages, [`~platform==${host.platform}`, `~os==${os}`, "~arch==archarch"]);
});

test("platform_map alone changes the default implicit packages (they name system.os)", () => {
  const dir = scratch();
  const env = cleanEnv(dir, { REZ_PLATFORM_MAP_JSON: '{"os": {"^.+$": "Rocky-9"}}' });
  const loaded = loadConfig(undefined, { cwd: dir, env, required: false });
  const host = hostSystem();
  assert.deepEqual(loaded.implicitPackages, [`~platform==${host.platform}`, `~arch==${host.arch}`, "~os==Rocky-9"]);
});

test("ModifyList edits Rez's own default, and DelayLoad reads a JSON file", () => {
  const dir = scratch();
  write(dir, "filters.json", JSON.stringify([{ excludes: ["glob(*.beta)"] }]));
  const file = write(
    dir,
    "rezconfig.py",
    `packages_path = ModifyList(append=["/studio"])\npackage_filter = DelayLoad("${dir}/filters.json")\n`,
  );
  const loaded = loadConfig(undefined, { cwd: dir, env: cleanEnv(dir, { REZ_CONFIG_FILE: file }), required: false });
  const home = path.join(dir, "home");
  assert.deepEqual(loaded.packagesPath, [
    `${home}/packages`,
    `${home}/.rez/packages/int`,
    `${home}/.rez/packages/ext`,
    "/studio",
  ]);
  assert.deepEqual(loaded.packageFilter?.toPod(), [{ excludes: ["glob(*.beta)"] }]);
});

/** The error loading the configuration gives, as the CLI prints it. */
function errorOf(dir: string, env: Record<string, string>): string {
  try {
    loadConfig(undefined, { cwd: dir, env: cleanEnv(dir, env), required: false });
  } catch (err) {
    assert.ok(err instanceof InputError, String(err));
    return err.message;
  }
  assert.fail("expected an error");
}

test("what cannot be read from Rez's configuration is one sentence naming the file and line, or the variable", () => {
  const dir = scratch();
  const py = write(dir, "rezconfig.py", 'import os\nimport subprocess\npackages_path = ["/x"]\n');
  const refused = errorOf(dir, { REZ_CONFIG_FILE: py });
  assert.match(refused, new RegExp(`^${py}:2: cannot evaluate this Rez configuration: .*subprocess`));
  assert.ok(!refused.includes("\n") && !refused.includes("package definition") && !refused.includes("python:"));

  const mode = write(dir, "mode.py", 'packages_path = []\n\nvariant_select_mode = "fastest"\n');
  assert.equal(
    errorOf(dir, { REZ_CONFIG_FILE: mode }),
    `${mode}:3: variant_select_mode: expected 'version_priority' or 'intersection_priority', got string "fastest"`,
  );

  const rule = write(dir, "rule.yaml", "package_filter:\n  excludes: ['regex([)']\n");
  assert.match(errorOf(dir, { REZ_CONFIG_FILE: rule }), new RegExp(`^${rule}:1: package_filter.*regex\\(\\[\\)`));

  const orderer = write(dir, "orderer.py", 'package_orderers = [{"type": "newest_first"}]\n');
  assert.match(
    errorOf(dir, { REZ_CONFIG_FILE: orderer }),
    new RegExp(`^${orderer}:1: .*unknown orderer type 'newest_first'`),
  );

  const syntax = write(dir, "syntax.py", "packages_path = [\n");
  assert.match(errorOf(dir, { REZ_CONFIG_FILE: syntax }), new RegExp(`^${syntax}:\\d+: `));

  assert.equal(
    errorOf(dir, { REZ_PACKAGE_FILTER: "glob(*.beta)" }),
    "REZ_PACKAGE_FILTER: Rez cannot read this variable (it takes REZ_PACKAGE_FILTER_JSON, a JSON-encoded value)",
  );
  assert.match(
    errorOf(dir, { REZ_USE_VARIANT_SHORTLINKS: "maybe" }),
    /^REZ_USE_VARIANT_SHORTLINKS: expected one of 1, /,
  );
  assert.equal(
    errorOf(dir, { REZ_IMPLICIT_PACKAGES_JSON: "{" }),
    "REZ_IMPLICIT_PACKAGES_JSON: expected a JSON-encoded value",
  );
  assert.match(
    errorOf(dir, { REZ_LOCAL_PACKAGES_PATH: "{system.shell}/x" }),
    /^REZ_LOCAL_PACKAGES_PATH: \{system\.shell\} is not answered by Tantalus/,
  );
});

test("LoadedConfig.files lists every rezconfig file read, as configFilesRead finds them for run's image check", () => {
  const dir = scratch();
  const site = write(dir, "site.yaml", "store: /tmp/store\n");
  const project = write(dir, "project/tantalus.yaml", "packages_path: [p]\n");
  // One file decides a value, the other only settings Tantalus does not read: both are read.
  const a = write(dir, "a.py", 'default_shell = "tcsh"\n');
  const b = write(dir, "b.yaml", "variant_select_mode: intersection_priority\n");
  const env = cleanEnv(dir, { TANTALUS_SITE_CONFIG: site, REZ_CONFIG_FILE: `${a}:${b}` });
  const loaded = loadConfig(project, { cwd: dir, env });
  assert.deepEqual(loaded.files, [site, a, b, project]);
  const files = discoverConfigFiles({ config: project, cwd: dir, env });
  assert.deepEqual(configFilesRead(files, env, dir), loaded.files);
  assert.deepEqual(configFilesRead(files, { ...env, TANTALUS_NO_REZ_CONFIG: "1" }, dir), [site, project]);
});
