import { after, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseConfig } from "../config/index.js";
import { captureEnvironment } from "./environment.js";
import { resolveWorkflow } from "./resolve.js";

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
