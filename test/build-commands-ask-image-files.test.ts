/**
 * A package's commands that ask the file system (`os.path.exists(
 * os.path.join(this.root, "python"))`, the everyday idiom) get the image's
 * answer when the image's environment is captured: with image.root_map moving
 * the repository, `this.root` is an image path that does not exist on the
 * build host, yet the image holds the folder. Checked in the capture and in
 * the built image's /etc/tantalus/environment.sh, run by podman.
 */
import assert from "node:assert/strict";
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { loadConfig } from "../src/config/index.js";
import { captureEnvironment, resolveWorkflow } from "../src/workflow/index.js";
import {
  PODMAN_RUN_FLAGS,
  missingTools,
  podman,
  removeDir,
  sampleStudio,
  scratchDir,
  setImageOption,
  tantalusOk,
  buildArgs,
  type Studio,
} from "./builder/fixture.js";

let scratch: string;
let studio: Studio;
/** A folder of the build host that is under no package root: the base image's, as far as the image knows. */
let hostOnly: string;

before(async () => {
  scratch = scratchDir("image-files");
  studio = await sampleStudio(scratch);
  hostOnly = path.join(scratch, "host-only");
  mkdirSync(hostOnly);
  const root = path.join(studio.packages, "probe", "1.0");
  mkdirSync(path.join(root, "python", "probe"), { recursive: true });
  writeFileSync(path.join(root, "python", "probe", "__init__.py"), "");
  writeFileSync(
    path.join(root, "package.py"),
    [
      "name = 'probe'",
      "version = '1.0'",
      "def commands():",
      "    import os",
      "    if os.path.exists(os.path.join(this.root, 'python')):",
      "        env.PYTHONPATH.append('{root}/python')",
      "    env.PROBE_PYTHON_IS_DIR = str(os.path.isdir(os.path.join(this.root, 'python', 'probe')))",
      "    env.PROBE_HAS_DOCS = str(os.path.exists(os.path.join(this.root, 'docs')))",
      "    env.PROBE_CWD = os.getcwd()",
      `    env.PROBE_HOST_ONLY = str(os.path.isdir(${JSON.stringify(hostOnly)}))`,
      "",
    ].join("\n"),
  );
  appendFileSync(studio.config, "  probe:\n    description: asks its files\n    request: [probe]\n");
  setImageOption(studio, "root_map", JSON.stringify({ [studio.packages]: "/studio/packages" }));
});
after(() => removeDir(scratch));

describe("commands' file-system questions in an image's capture", () => {
  it("are answered for the image: this.root's folders from the host root root_map moves there", () => {
    const config = loadConfig(studio.config);
    const env = captureEnvironment(resolveWorkflow(config, "probe"), { rootMap: config.config.image.root_map });
    assert.equal(env.environ.PYTHONPATH, "/studio/packages/probe/1.0/python");
    assert.equal(env.environ.PROBE_PYTHON_IS_DIR, "True");
    assert.equal(env.environ.PROBE_HAS_DOCS, "False");
    // The image's working directory, not the build's.
    assert.equal(env.environ.PROBE_CWD, "/");
    // A path outside every package root: the build host answered, and the query says so.
    assert.equal(env.environ.PROBE_HOST_ONLY, "True");
    const fsQueries = env.hostQueries
      .filter((q) => q.kind === "filesystem")
      .map((q) => [q.query, q.answer, q.buildHost ?? false]);
    assert.deepEqual(fsQueries, [
      ['os.path.exists("/studio/packages/probe/1.0/python")', "directory", false],
      ['os.path.isdir("/studio/packages/probe/1.0/python/probe")', "directory", false],
      ['os.path.exists("/studio/packages/probe/1.0/docs")', "missing", false],
      ["os.getcwd()", "/", false],
      [`os.path.isdir(${JSON.stringify(hostOnly)})`, "directory", true],
    ]);
  });

  it(
    "ship in the built image: its environment.sh has the folder the image holds",
    { skip: missingTools("podman", "runc") },
    () => {
      const archive = path.join(scratch, "probe.oci.tar");
      tantalusOk(
        buildArgs(studio.config, path.join(scratch, "store"), ["probe"], "--output", `oci-archive:${archive}`),
      );
      const root = path.join(scratch, "podman");
      podman(root, ["load", "-q", "-i", archive]);
      const out = podman(root, [
        "run",
        ...PODMAN_RUN_FLAGS,
        "localhost/probe:latest",
        "-c",
        'grep -c "/studio/packages/probe/1.0/python" /etc/tantalus/environment.sh; printenv PYTHONPATH; ' +
          'test -f "$PYTHONPATH/probe/__init__.py" && echo importable; printenv PROBE_CWD',
      ]);
      assert.deepEqual(out.trim().split("\n").slice(-4), ["1", "/studio/packages/probe/1.0/python", "importable", "/"]);
    },
  );
});
