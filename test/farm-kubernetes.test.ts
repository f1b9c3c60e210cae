/**
 * `tantalus farm manifest --engine kubernetes`: Job and Pod manifests of the
 * sample studio's image, validated against Kubernetes' own schema
 * (kubernetes-models), and the Pod played for real by `podman kube play`
 * from a docker-registry on 127.0.0.1: its output and exit status checked.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parse, stringify } from "yaml";
import { Pod } from "kubernetes-models/v1";
import { Job } from "kubernetes-models/batch/v1";
import { startRegistry, type RunningRegistry } from "./image-remote/harness.js";
import {
  missingTools,
  removeDir,
  sampleStudio,
  scratchDir,
  tantalus,
  tantalusOk,
  type Studio,
} from "./builder/fixture.js";

const skip = missingTools("docker-registry", "podman");
let scratch: string;
let studio: Studio;
let store: string;
let reg: RunningRegistry;
let pinned: string;
let frames: string;

before(async () => {
  if (skip) return;
  scratch = scratchDir("farm-k8s");
  chmodSync(scratch, 0o755); // the pod's user (1000) reaches the frames folder through it
  studio = await sampleStudio(scratch);
  store = join(scratch, "store");
  tantalusOk([
    "build",
    "--allow-audit-errors",
    "rough_layout",
    "--config",
    studio.config,
    "--store",
    store,
    "--no-progress",
  ]);
  reg = await startRegistry();
  pinned = tantalusOk([
    "push",
    "rough_layout",
    `${reg.host}/studio/rough_layout:v1`,
    "--insecure",
    "--store",
    store,
    "--config",
    studio.config,
  ])
    .stdout.trim()
    .split("\n")[1]!;
  frames = join(scratch, "frames");
  mkdirSync(frames);
  chmodSync(frames, 0o777);
});

after(async () => {
  await reg?.stop();
  if (scratch) removeDir(scratch);
});

const manifest = (...args: string[]) =>
  tantalus([
    "farm",
    "manifest",
    "rough_layout",
    "--engine",
    "kubernetes",
    "--config",
    studio.config,
    "--store",
    store,
    "--registry",
    `${reg.host}/studio`,
    ...args,
  ]);

describe("Kubernetes manifests", { skip, timeout: 600_000 }, () => {
  it("gives a Job and a Pod that Kubernetes' schema accepts: image by digest, entrypoint, identity, mounts, licences, GPUs, pull secrets, labels", () => {
    const args = [
      "--user",
      "1000:1000",
      "--gpus",
      "2",
      "--image-pull-secret",
      "studio-registry",
      "-v",
      `${frames}:/frames`,
      "-c",
      "render -frame 7",
    ];
    const job = parse(
      tantalusOk(
        [
          "farm",
          "manifest",
          "rough_layout",
          "--engine",
          "kubernetes",
          "--config",
          studio.config,
          "--store",
          store,
          "--registry",
          `${reg.host}/studio`,
          ...args,
        ],
        { env: { RLM_LICENSE: "5053@lic.studio" } },
      ).stdout,
    ) as Record<string, never>;
    new Job(job).validate();
    const pod = parse(manifest("--kind", "Pod", ...args).stdout) as Record<string, never>;
    new Pod(pod).validate();
    const spec = (job as unknown as { spec: { template: { spec: Record<string, unknown> } } }).spec.template.spec as {
      securityContext: Record<string, unknown>;
      containers: {
        image: string;
        command: string[];
        args: string[];
        env: { name: string; value: string }[];
        resources: unknown;
        volumeMounts: { mountPath: string }[];
      }[];
      imagePullSecrets: unknown;
    };
    const c = spec.containers[0]!;
    assert.equal(c.image, pinned);
    assert.deepEqual(c.command, ["/etc/tantalus/entrypoint.sh"]);
    assert.deepEqual(c.args, ["-c", "render -frame 7"]);
    assert.deepEqual(spec.securityContext, { runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, runAsNonRoot: true });
    assert.deepEqual(c.resources, { limits: { "nvidia.com/gpu": 2 } });
    assert.deepEqual(spec.imagePullSecrets, [{ name: "studio-registry" }]);
    assert.ok(
      c.env.some((e) => e.name === "RLM_LICENSE" && e.value === "5053@lic.studio"),
      "licence variables, as tantalus run passes them",
    );
    assert.ok(
      c.env.some((e) => e.name === "STUDIO_DEPARTMENT" && e.value === "layout"),
      "the workflow's env from tantalus.yaml",
    );
    assert.ok(c.volumeMounts.some((m) => m.mountPath === "/frames"));
    const meta = (
      job as unknown as { metadata: { labels: Record<string, string>; annotations: Record<string, string> } }
    ).metadata;
    assert.equal(meta.labels["io.tantalus.workflow"], "rough_layout");
    assert.match(meta.annotations["io.tantalus.resolve"]!, /maya-2025\.1\[\]/);
  });

  it("never runs as root by default", () => {
    if ((process.getuid?.() ?? 1) !== 0) return;
    const r = manifest("-c", "true");
    assert.equal(r.code, 2);
    assert.match(r.stderr, /the pod would run as root \(uid 0\): pass --user UID:GID/);
  });

  it(
    "plays the Pod with podman kube play, pulling by digest from the registry: output and exit status",
    { skip: (process.getuid?.() ?? 1) !== 0 ? "rootful podman kube play needs root here" : false },
    () => {
      const name = `tantalus-k8s-${process.pid}`;
      const file = join(scratch, "pod.yaml");
      const pod = parse(
        manifest(
          "--kind",
          "Pod",
          "--name",
          name,
          "--user",
          "1000:1000",
          "-v",
          `${frames}:/frames`,
          "-c",
          "launch_app -show=dragon > /frames/pod.txt; id -u; exit 3",
        ).stdout,
      ) as { metadata: { annotations?: unknown } };
      // podman 4.3 checks annotation values against the 63-character limit of label values and refuses
      // the resolve and image annotations; Kubernetes allows 256 KiB of annotations (validated above).
      delete pod.metadata.annotations;
      writeFileSync(file, stringify(pod));
      try {
        const play = spawnSync("podman", ["kube", "play", "--tls-verify=false", file], { encoding: "utf8" });
        assert.equal(play.status, 0, play.stderr);
        const wait = spawnSync("podman", ["wait", `${name}-task`], { encoding: "utf8" });
        assert.equal(wait.stdout.trim(), "3", wait.stderr);
        const logs = spawnSync("podman", ["logs", `${name}-task`], { encoding: "utf8" });
        assert.equal(logs.stdout.trim().split("\n").pop(), "1000", "the pod ran as the farm user");
        assert.match(
          readFileSync(join(frames, "pod.txt"), "utf8"),
          /launch_app: show=dragon workflow=rough_layout user=1000 app=maya-2025\.1/,
        );
      } finally {
        spawnSync("podman", ["kube", "down", file], { stdio: "ignore" });
        spawnSync("podman", ["rmi", "--force", pinned], { stdio: "ignore" });
      }
    },
  );
});
