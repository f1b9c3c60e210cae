/**
 * `tantalus farm submit --engine slurm` on a real one-node Slurm cluster
 * (test/farm/slurm-cluster.ts) with the sample studio's image going through
 * a docker-registry on 127.0.0.1: an array of frames runs the image by
 * digest with the node's runtime; each task's output and exit status come
 * back (one fails on purpose); the node store fetches each blob once for all
 * tasks, and a second job fetches none; a task whose image the registry
 * lacks fails with a sentence that says so.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startRegistry, type RunningRegistry } from "./image-remote/harness.js";
import { missingTools, removeDir, run, studioWithImage, tantalus, tantalusOk, type Studio } from "./builder/fixture.js";
import { slurmSkipReason, startSlurmCluster, type SlurmCluster } from "./farm/slurm-cluster.js";

const skip = slurmSkipReason() || missingTools("docker-registry", "skopeo", "podman");
let scratch: string;
let studio: Studio;
let store: string;
let reg: RunningRegistry;
let cluster: SlurmCluster;
let digest: string;

interface Task {
  id: string;
  arrayTaskId?: string;
  state: string;
  exitStatus?: number;
}

before(async () => {
  if (skip) return;
  ({ scratch, studio, store, digest } = await studioWithImage("farm-slurm"));
  reg = await startRegistry();
  cluster = await startSlurmCluster();
  mkdirSync(join(scratch, "frames"));
  mkdirSync(join(scratch, "logs"));
});

after(async () => {
  if (digest) {
    // The node's runtime (podman here) keeps the image under a global name: remove it by its ID.
    const manifest = JSON.parse(readFileSync(join(store, "blobs", "sha256", digest.slice(7)), "utf8")) as {
      config: { digest: string };
    };
    spawnSync("podman", ["rmi", "--force", manifest.config.digest.slice(7)], { stdio: "ignore" });
  }
  await cluster?.stop();
  await reg?.stop();
  if (scratch) removeDir(scratch);
});

/** Blob GETs in the registry's access log since `from` (a byte offset), per digest. */
function blobGets(from: number): Map<string, number> {
  const text = readFileSync(reg.logFile, "utf8").slice(from);
  const counts = new Map<string, number>();
  for (const m of text.matchAll(/"GET \/v2\/[^ "]+\/blobs\/(sha256:[0-9a-f]{64}) HTTP\/[\d.]+" 200/g))
    counts.set(m[1]!, (counts.get(m[1]!) ?? 0) + 1);
  return counts;
}

function submit(args: string[]): string {
  const r = tantalus(
    [
      "farm",
      "submit",
      "rough_layout",
      "--engine",
      "slurm",
      "--config",
      studio.config,
      "--store",
      store,
      "--insecure",
      ...args,
    ],
    { env: cluster.env },
  );
  return r.code === 0 ? r.stdout.trim() : assert.fail(`farm submit exited ${r.code}:\n${r.stderr}`);
}

function waitStatus(job: string): Task[] {
  return JSON.parse(tantalusOk(["farm", "status", job, "--wait", "--json"], { env: cluster.env }).stdout) as Task[];
}

describe("farm jobs on Slurm", { skip, timeout: 900_000 }, () => {
  it("prints the job script with the image pinned by digest and the run settings, submitting nothing", () => {
    const script = tantalusOk(
      [
        "farm",
        "submit",
        "rough_layout",
        "--engine",
        "slurm",
        "--config",
        studio.config,
        "--store",
        store,
        "--registry",
        `${reg.host}/studio`,
        "--array",
        "1-4",
        "--partition",
        "farm",
        "--dry-run",
        "-e",
        "SHOT=sh010",
        "-c",
        "render -frame $SLURM_ARRAY_TASK_ID",
        "--",
        "--time=10",
      ],
      { env: cluster.env },
    ).stdout;
    assert.match(
      script,
      /^#!\/bin\/sh\n#SBATCH --job-name=tantalus-rough_layout\n#SBATCH --array=1-4\n#SBATCH --partition=farm\n#SBATCH --time=10\n/,
    );
    assert.match(
      script,
      new RegExp(` farm task ${reg.host.replace(/\./g, "\\.")}/studio/rough_layout@${digest} --workflow rough_layout `),
    );
    assert.match(
      script,
      /"env":\[\["STUDIO_DEPARTMENT","layout"\],\["SHOT","sh010"\]\]/,
      "the workflow's and the flags' variables, as tantalus run computes them",
    );
    assert.match(script, /"SLURM_ARRAY_TASK_ID"/);
    assert.match(script, / -c 'render -frame \$SLURM_ARRAY_TASK_ID' /);
    assert.equal(blobGets(0).size, 0);
    const bad = tantalus([
      "farm",
      "submit",
      "rough_layout",
      "--engine",
      "slurm",
      "--config",
      studio.config,
      "--store",
      store,
      "--registry",
      `${reg.host}/studio`,
      "--array",
      "1-4;rm",
      "--dry-run",
      "-c",
      "true",
    ]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--array "1-4;rm": expected sbatch's syntax/);
  });

  it("runs an array of frames from the registry by digest on the node; each task's output and exit status come back; each blob is fetched once for the node", () => {
    const nodeStore = join(scratch, "node-store");
    const logStart = readFileSync(reg.logFile, "utf8").length;
    const frames = join(scratch, "frames");
    const job = submit([
      "--registry",
      `${reg.host}/studio`,
      "--array",
      "1-4",
      "--node-store",
      nodeStore,
      "--output",
      join(scratch, "logs", "task-%A_%a.txt"),
      "-v",
      `${frames}:/frames`,
      "-c",
      'launch_app -show=dragon > /frames/$SLURM_ARRAY_TASK_ID.txt && echo "frame $SLURM_ARRAY_TASK_ID of $TANTALUS_WORKFLOW" && test $SLURM_ARRAY_TASK_ID -ne 3',
    ]);
    assert.match(job, /^\d+$/);
    const tasks = waitStatus(job);
    assert.deepEqual(
      tasks.map((t) => [t.arrayTaskId, t.state, t.exitStatus]),
      [
        ["1", "COMPLETED", 0],
        ["2", "COMPLETED", 0],
        ["3", "FAILED", 1],
        ["4", "COMPLETED", 0],
      ],
    );
    for (const n of [1, 2, 3, 4]) {
      const out = readFileSync(join(scratch, "logs", `task-${job}_${n}.txt`), "utf8");
      if (n !== 3) assert.match(out, new RegExp(`^frame ${n} of rough_layout$`, "m"), out);
      assert.match(
        readFileSync(join(frames, `${n}.txt`), "utf8"),
        /launch_app: show=dragon workflow=rough_layout .*app=maya-2025\.1/,
      );
    }
    // The image in the registry is the one built, reached by digest; the node store holds it.
    const raw = run("skopeo", [
      "inspect",
      "--raw",
      "--tls-verify=false",
      `docker://${reg.host}/studio/rough_layout@${digest}`,
    ]);
    assert.equal(`sha256:${createHash("sha256").update(raw).digest("hex")}`, digest);
    const tags = spawnSync("skopeo", ["list-tags", "--tls-verify=false", `docker://${reg.host}/studio/rough_layout`], {
      encoding: "utf8",
    });
    assert.notEqual(tags.status, 0, "pushed by digest only: no tag was created or moved");
    assert.ok(existsSync(join(nodeStore, "blobs", "sha256", digest.slice(7))));
    const gets = blobGets(logStart);
    const manifest = JSON.parse(readFileSync(join(nodeStore, "blobs", "sha256", digest.slice(7)), "utf8")) as {
      config: { digest: string };
      layers: { digest: string }[];
    };
    const blobs = [manifest.config.digest, ...manifest.layers.map((l) => l.digest)];
    assert.deepEqual([...gets.keys()].sort(), [...new Set(blobs)].sort(), "every blob of the image was fetched");
    assert.deepEqual([...new Set(gets.values())], [1], "and each exactly once, for four tasks");

    // A second job on the same node starts from the node store: no blob fetched again.
    const again = readFileSync(reg.logFile, "utf8").length;
    const job2 = submit([
      "--registry",
      `${reg.host}/studio`,
      "--no-push",
      "--array",
      "5-6",
      "--node-store",
      nodeStore,
      "--output",
      join(scratch, "logs", "task-%A_%a.txt"),
      "-c",
      "echo frame $SLURM_ARRAY_TASK_ID",
    ]);
    assert.deepEqual(
      waitStatus(job2).map((t) => [t.arrayTaskId, t.exitStatus]),
      [
        ["5", 0],
        ["6", 0],
      ],
    );
    assert.equal(blobGets(again).size, 0);
    assert.match(readFileSync(join(scratch, "logs", `task-${job2}_6.txt`), "utf8"), /^frame 6$/m);
  });

  it("fails a task whose image the registry does not have, saying so, and farm status shows it", () => {
    const job = submit([
      "--registry",
      `${reg.host}/nowhere`,
      "--no-push",
      "--node-store",
      join(scratch, "node-store-2"),
      "--output",
      join(scratch, "logs", "missing-%j.txt"),
      "-c",
      "echo never",
    ]);
    const tasks = waitStatus(job);
    assert.deepEqual(
      tasks.map((t) => [t.state, t.exitStatus]),
      [["FAILED", 1]],
    );
    const out = readFileSync(join(scratch, "logs", `missing-${job}.txt`), "utf8");
    assert.match(
      out,
      new RegExp(
        `tantalus: error: farm task on ${cluster.node}: cannot pull ${reg.host.replace(/\./g, "\\.")}/nowhere/rough_layout@${digest} into the node store .*node-store-2: .*MANIFEST_UNKNOWN`,
      ),
      out,
    );
    assert.doesNotMatch(out, /never/);
    const text = tantalusOk(["farm", "status", job], { env: cluster.env }).stdout;
    assert.match(text, new RegExp(`^${job}\\s+FAILED\\s+1\\s+${cluster.node}\\s`, "m"));
  });
});
