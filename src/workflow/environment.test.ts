import { after, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseConfig } from "../config/index.js";
import { captureEnvironment } from "./environment.js";
import { resolveWorkflow } from "./resolve.js";

// integration: a resolve without implicit packages is for this host, whose os rex asks lsb_release for

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "tantalus-capture-"));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** A one-package studio: viewer sets FOO and its library directory, and names the user's home. */
function studio() {
  const root = path.join(scratch, "packages", "viewer", "1.0");
  fs.mkdirSync(root, { recursive: true });
  fs.writeFileSync(
    path.join(root, "package.py"),
    [
      "name = 'viewer'",
      "version = '1.0'",
      "def commands():",
      "    env.FOO = 'from-viewer'",
      "    env.LD_LIBRARY_PATH.prepend('{root}/lib')",
      "    env.VIEWER_PREFS = '~/.viewer'",
      "",
    ].join("\n"),
  );
  const file = path.join(scratch, "tantalus.yaml");
  const text = [
    "packages_path: [packages]",
    "implicit_packages: []",
    "image:",
    `  root_map: { ${JSON.stringify(path.join(scratch, "packages"))}: /studio/packages }`,
    "workflows:",
    "  look:",
    "    request: [viewer]",
    "    env: { FOO: from-workflow, BAR: only-workflow }",
    "",
  ].join("\n");
  fs.writeFileSync(file, text);
  return parseConfig(text, file);
}

test("the environment an image ships: packages, then the workflow's variables, then the repairs, as the image sees paths", () => {
  const config = studio();
  const resolve = resolveWorkflow(config, "look");
  const env = captureEnvironment(resolve, {
    rootMap: config.config.image.root_map,
    epochSeconds: 1_700_000_000,
    additions: [{ name: "LD_LIBRARY_PATH", append: ["/opt/tantalus/repair/viewer/lib"], separator: ":" }],
  });
  // FOO is set by the package too: the workflow's value comes after it in the script; BAR goes in the config's Env.
  const script = env.script;
  assert.ok(script.indexOf("from-viewer") < script.indexOf("export FOO='from-workflow'"), script);
  assert.deepEqual(env.configEnv, ["BAR=only-workflow"]);
  assert.match(
    script,
    /# repaired libraries \(library audit\)\nexport LD_LIBRARY_PATH="\$\{LD_LIBRARY_PATH:\+\$LD_LIBRARY_PATH:\}\/opt\/tantalus\/repair\/viewer\/lib"\n$/,
  );
  // What the audit reads: the same values, with image paths and the image user's home, not this host's.
  assert.equal(env.environ.FOO, "from-workflow");
  assert.equal(env.environ.BAR, "only-workflow");
  assert.equal(env.environ.LD_LIBRARY_PATH, "/studio/packages/viewer/1.0/lib:/opt/tantalus/repair/viewer/lib");
  assert.equal(env.environ.VIEWER_PREFS, "${HOME}/.viewer");
  assert.equal(env.environ.REZ_USED_TIMESTAMP, "1700000000");
  assert.equal(env.origins.get("LD_LIBRARY_PATH")?.get("/studio/packages/viewer/1.0/lib"), "viewer-1.0");
});

test("an image's environment never holds the build host's: commands' os.environ has only HOME, as ${HOME}, and each read is kept", () => {
  const root = path.join(scratch, "asks", "packages", "prefs", "1.0");
  fs.mkdirSync(root, { recursive: true });
  fs.writeFileSync(
    path.join(root, "package.py"),
    [
      "name = 'prefs'",
      "version = '1.0'",
      "def commands():",
      "    import os",
      "    env.PREFS_DIR = os.path.expanduser('~/prefs')",
      "    env.PREFS_TOKEN = os.environ.get('TANTALUS_TEST_BUILD_SECRET', 'none')",
      "",
    ].join("\n"),
  );
  const file = path.join(scratch, "asks", "tantalus.yaml");
  const text = "packages_path: [packages]\nimplicit_packages: []\nworkflows:\n  look:\n    request: [prefs]\n";
  fs.writeFileSync(file, text);
  const config = parseConfig(text, file);
  // The build host has a secret and a home: neither may reach the image.
  process.env.TANTALUS_TEST_BUILD_SECRET = "s3cret";
  try {
    const env = captureEnvironment(resolveWorkflow(config, "look"));
    assert.equal(env.environ.PREFS_DIR, "${HOME}/prefs");
    assert.equal(env.environ.PREFS_TOKEN, "none");
    assert.match(env.script, /export PREFS_DIR="\$\{HOME\}\/prefs"/);
    assert.ok(!env.script.includes("s3cret") && !env.script.includes(os.homedir()), env.script);
    assert.deepEqual(
      env.hostQueries.map((q) => [q.package, q.query, q.answer, path.basename(q.file), q.line]),
      [
        ["prefs-1.0", 'os.environ["HOME"]', "${HOME}", "package.py", 5],
        ["prefs-1.0", 'os.environ["TANTALUS_TEST_BUILD_SECRET"]', "<unset>", "package.py", 6],
      ],
    );
  } finally {
    delete process.env.TANTALUS_TEST_BUILD_SECRET;
  }
});

test("commands CPython runs (python: cpython) see the image's process too: no build-host variable, its cwd, its files", () => {
  const root = path.join(scratch, "cpython", "packages", "legacy", "1.0");
  fs.mkdirSync(root, { recursive: true });
  fs.writeFileSync(
    path.join(root, "package.py"),
    [
      "name = 'legacy'",
      "version = '1.0'",
      "def commands():",
      "    import os, subprocess  # subprocess: CPython runs these commands",
      "    env.LEGACY_TOKEN = os.environ.get('TANTALUS_TEST_BUILD_SECRET', 'none')",
      "    env.LEGACY_PREFS = os.path.expanduser('~/legacy')",
      "    env.LEGACY_CWD = os.getcwd()",
      "    env.LEGACY_LIB = str(os.path.isdir(os.path.join(this.root, 'lib')))",
      "    env.LEGACY_DOCS = str(os.path.exists(os.path.join(this.root, 'docs')))",
      "",
    ].join("\n"),
  );
  fs.mkdirSync(path.join(root, "lib"));
  const file = path.join(scratch, "cpython", "tantalus.yaml");
  const text =
    "packages_path: [packages]\nimplicit_packages: []\npython: cpython\nworkflows:\n  look:\n    request: [legacy]\n";
  fs.writeFileSync(file, text);
  const config = parseConfig(text, file);
  process.env.TANTALUS_TEST_BUILD_SECRET = "s3cret";
  try {
    const resolve = resolveWorkflow(config, "look");
    assert.equal(resolve.variants[0]!.package.definition.evaluator, "cpython");
    // root_map moves the root: its folders are asked about at the image path, answered from the host root.
    const env = captureEnvironment(resolve, {
      rootMap: { [path.join(scratch, "cpython", "packages")]: "/studio/pkgs" },
    });
    assert.equal(env.environ.LEGACY_LIB, "True");
    assert.equal(env.environ.LEGACY_DOCS, "False");
    assert.equal(env.environ.LEGACY_TOKEN, "none");
    assert.equal(env.environ.LEGACY_PREFS, "${HOME}/legacy");
    assert.equal(env.environ.LEGACY_CWD, "/");
    assert.ok(!env.script.includes("s3cret"), env.script);
    // The build's own process keeps its environment once the commands are done.
    assert.equal(process.env.TANTALUS_TEST_BUILD_SECRET, "s3cret");
  } finally {
    delete process.env.TANTALUS_TEST_BUILD_SECRET;
  }
});
