/**
 * `tantalus run --norc`: the interactive shell of the image does not read the
 * user's ~/.bashrc (rez-env --norc). The CLI passes TANTALUS_NORC=1 to the
 * container, and the image's bash startup file honours it.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import { which } from "../../src/run/which.js";
import { bashrcScript } from "../../src/image/entrypoint.js";
import { buildFixtureImage } from "./fixture.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;

test(
  "run --norc passes TANTALUS_NORC=1 to the container; without it nothing is passed",
  { skip: which("podman") ? false : "podman is not installed", timeout: 120_000 },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "tantalus-run-norc-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const home = join(dir, "home");
    mkdirSync(home, { recursive: true });
    await buildFixtureImage(join(dir, "store"));
    writeFileSync(join(dir, "tantalus.yaml"), "store: ./store\nworkflows:\n  rough_layout:\n    request: [busybox]\n");
    const env = { PATH: process.env.PATH, HOME: home, USER: "root", TANTALUS_CACHE_DIR: join(dir, "cache") };
    const dry = (...flags: string[]) => {
      // --tag: the fixture image was not built from this configuration (it has no stamp), and a dry run
      // builds a stale image first, as a real run would.
      const r = spawnSync(
        process.execPath,
        [
          "--import",
          TSX,
          join(HERE, "cli.ts"),
          "run",
          "rough_layout",
          "--tag",
          "rough_layout:test",
          "--runtime",
          "podman",
          "--dry-run",
          ...flags,
        ],
        { cwd: dir, env, encoding: "utf8" },
      );
      assert.equal(r.status, 0, r.stderr);
      return r.stdout.trim().split("\n").pop()!;
    };
    assert.match(dry("--norc"), / --env TANTALUS_NORC=1 /);
    assert.doesNotMatch(dry(), /TANTALUS_NORC/);
  },
);

test("the image's interactive bash reads ~/.bashrc unless TANTALUS_NORC is set", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "tantalus-bashrc-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, ".bashrc"), "export FROM_USER_RC=yes\n");
  writeFileSync(join(dir, "environment.sh"), "export FROM_WORKFLOW=yes\n");
  writeFileSync(join(dir, "bashrc"), bashrcScript());
  const shell = (extra: Record<string, string>) =>
    spawnSync("bash", ["--rcfile", join(dir, "bashrc"), "-i"], {
      input: 'echo "rc=${FROM_USER_RC:-no} wf=${FROM_WORKFLOW:-no}"\n',
      env: { PATH: process.env.PATH, HOME: dir, TANTALUS_ENVIRONMENT: join(dir, "environment.sh"), ...extra },
      encoding: "utf8",
    }).stdout;
  assert.match(shell({}), /rc=yes wf=yes/);
  assert.match(shell({ TANTALUS_NORC: "1" }), /rc=no wf=yes/);
});
