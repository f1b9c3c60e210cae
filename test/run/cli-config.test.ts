/**
 * `tantalus run --dry-run` through the CLI with a real tantalus.yaml: the
 * workflow's mounts (relative and ~ paths, read-only), its env, the run
 * section's passthrough globs; the settings are re-read when the file changes.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import { which } from "../../src/run/which.js";
import { buildFixtureImage } from "./fixture.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;

const config = (show: string) => `store: ./store
workflows:
  rough_layout:
    request: [busybox]
    mounts:
      - { source: assets, target: /assets, readonly: true }
      - { source: ~/proj, target: ~/proj }
    env: { STUDIO_SHOW: ${show} }
run:
  env: ["SITE_*"]
`;

test(
  "the dry run prints the runtime command with the workflow's mounts and environment from tantalus.yaml, re-read when it changes",
  { skip: which("podman") ? false : "podman is not installed", timeout: 120_000 },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "tantalus-run-cfg-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const home = join(dir, "home");
    mkdirSync(join(home, "proj"), { recursive: true });
    mkdirSync(join(dir, "assets"));
    await buildFixtureImage(join(dir, "store"));
    writeFileSync(join(dir, "tantalus.yaml"), config("dragon"));
    const env = {
      PATH: process.env.PATH,
      HOME: home,
      USER: "root",
      SITE_NAME: "london",
      OTHER: "x",
      TANTALUS_CACHE_DIR: join(dir, "cache"),
    };
    const dry = () => {
      // --tag: the fixture image was not built from this configuration (it has no stamp), and a dry run, like a
      // real run, would otherwise build the workflow first; the stored image is what this test is about.
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
          "-c",
          "echo hi",
        ],
        { cwd: dir, env, encoding: "utf8" },
      );
      assert.equal(r.status, 0, r.stderr);
      return r.stdout.trim().split("\n").pop()!;
    };
    const line = dry();
    assert.match(line, new RegExp(` --volume ${join(dir, "assets")}:/assets:ro `));
    assert.match(line, new RegExp(` --volume ${join(home, "proj")}:${join(home, "proj")} `));
    assert.match(line, / --env STUDIO_SHOW=dragon /);
    assert.match(line, / --env SITE_NAME=london /);
    assert.doesNotMatch(line, /OTHER=/);
    assert.match(line, / -c 'echo hi'$/);
    assert.equal(readdirSync(join(dir, "cache", "run", "settings")).length, 1, "the validated settings are cached");
    writeFileSync(join(dir, "tantalus.yaml"), config("phoenix"));
    assert.match(dry(), / --env STUDIO_SHOW=phoenix /, "an edited configuration is read again");
  },
);
