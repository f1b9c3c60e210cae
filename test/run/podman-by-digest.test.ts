/**
 * `tantalus run --tag sha256:…` with podman: the image named by its manifest
 * digest (as farm jobs name it) is loaded and run. skopeo's oci: transport
 * cannot name a digest, so this path loads through `podman load`.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import { which } from "../../src/run/which.js";
import { buildFixtureImage } from "./fixture.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
const skip = !which("podman")
  ? "podman is not installed"
  : (process.getuid?.() ?? 1) !== 0
    ? "needs root (rootful podman; the rootless case is in real-runtimes.test.ts)"
    : false;

test("podman runs an image of the store named by its manifest digest", { skip, timeout: 180_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "tantalus-run-digest-"));
  const home = join(dir, "home");
  mkdirSync(home);
  const img = await buildFixtureImage(join(dir, "store"), { workflow: `bydigest${process.pid}` });
  t.after(() => {
    spawnSync("podman", ["rmi", "--force", img.configDigest.slice(7)], { stdio: "ignore" });
    rmSync(dir, { recursive: true, force: true });
  });
  const env = { PATH: process.env.PATH, HOME: home, USER: "root", TANTALUS_CACHE_DIR: join(dir, "cache") };
  const r = spawnSync(
    process.execPath,
    [
      "--import",
      TSX,
      join(HERE, "cli.ts"),
      "run",
      img.workflow,
      "--store",
      join(dir, "store"),
      "--tag",
      img.manifestDigest,
      "--runtime",
      "podman",
      "--no-display",
      "--gpu",
      "none",
      "-c",
      "echo from-$TANTALUS_WORKFLOW; exit 4",
    ],
    { cwd: home, env, encoding: "utf8" },
  );
  assert.equal(r.status, 4, r.stderr);
  assert.equal(r.stdout.trim(), `from-${img.workflow}`);
});
