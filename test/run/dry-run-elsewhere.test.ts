/**
 * `tantalus run --runtime R --dry-run` on a machine without R prints the
 * command line a machine with R would run (a farm node is not the TD's
 * machine), with the image named by digest through --tag; without
 * --dry-run the missing runtime is still an error that says what to install.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import { buildFixtureImage } from "./fixture.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;

test(
  "a dry run prints the exact command line of podman, docker, apptainer and ch-run where none of them is installed, the image named by digest",
  { timeout: 120_000 },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "tantalus-run-elsewhere-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const home = join(dir, "home");
    mkdirSync(home);
    const emptyBin = join(dir, "bin");
    mkdirSync(emptyBin);
    const store = join(dir, "store");
    const img = await buildFixtureImage(store);
    const env = {
      PATH: emptyBin,
      HOME: home,
      USER: "artist",
      TANTALUS_CACHE_DIR: join(dir, "cache"),
      RLM_LICENSE: "5053@lic.studio",
    };
    const tantalus = (...args: string[]) =>
      spawnSync(
        process.execPath,
        [
          "--import",
          TSX,
          join(HERE, "cli.ts"),
          "run",
          "rough_layout",
          "--store",
          store,
          "--tag",
          img.manifestDigest,
          ...args,
        ],
        { cwd: home, env, encoding: "utf8" },
      );
    const lines: Record<string, string> = {};
    for (const runtime of ["podman", "docker", "apptainer", "ch-run"]) {
      const r = tantalus(
        "--runtime",
        runtime,
        "--dry-run",
        "--no-display",
        "--gpu",
        "none",
        "-c",
        "render -frame $SLURM_ARRAY_TASK_ID",
      );
      assert.equal(r.status, 0, `${runtime}: ${r.stderr}`);
      assert.match(
        r.stderr,
        new RegExp(
          `note: ${runtime} cannot run on this machine \\(.*not installed.*\\); printing the command line for a machine that has it`,
        ),
      );
      lines[runtime] = r.stdout.trim().split("\n").pop()!;
      assert.match(lines[runtime], / -c 'render -frame \$SLURM_ARRAY_TASK_ID'$/, runtime);
      assert.match(lines[runtime], /RLM_LICENSE=5053@lic\.studio/, `${runtime} passes the licence variable`);
      assert.match(lines[runtime], new RegExp(`${home}`), `${runtime} mounts or names the home`);
    }
    const configHex = img.configDigest.slice("sha256:".length);
    const manifestHex = img.manifestDigest.slice("sha256:".length);
    // podman and docker name the image by its ID (the config digest), apptainer and ch-run by the manifest digest.
    assert.match(
      lines.podman!,
      new RegExp(`^podman run --rm --init --interactive --entrypoint /\\S+ .* ${configHex} -c `),
    );
    assert.match(
      lines.docker!,
      new RegExp(`^docker run --rm --init --interactive .*--user \\d+:\\d+ .* sha256:${configHex} -c `),
    );
    assert.match(
      lines.apptainer!,
      new RegExp(`^apptainer exec --cleanenv --home ${home} .* \\S+/${manifestHex}\\.sif /\\S+ -c `),
    );
    assert.match(lines["ch-run"]!, new RegExp(`^ch-run '--unset-env=\\*' .* \\S+/${manifestHex} -- /\\S+ -c `));

    const real = tantalus("--runtime", "apptainer", "-c", "true");
    assert.equal(real.status, 1);
    assert.match(
      real.stderr,
      /apptainer cannot run here:\n {2}apptainer: apptainer \(or singularity\) is not installed/,
    );
  },
);
