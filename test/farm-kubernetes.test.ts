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
  pushPinned,
  removeDir,
  studioWithImage,
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
  const built = await studioWithImage("farm-k8s");
  ({ scratch, studio, store } = built);
  chmodSync(scratch, 0o755); // the pod's user (1000) reaches the frames folder through it
  reg = await startRegistry();
  pinned = pushPinned(built, `${reg.host}/studio/rough_layout:v1`);
  frames = join(scratch, "frames");
  mkdirSync(frames);
  chmodSync(frames, 0o777);
});

after(async () => {
  await reg?.stop();
  if (scratch) removeDir(scratch);
});

const manifestWith = (config: string, ...args: string[]) =>
  tantalus([
    "farm",
    "manifest",
    "rough_layout",
    "--engine",
    "kubernetes",
    "--config",
    config,
    "--store",
    store,
    "--registry",
    `${reg.host}/studio`,
    ...args,
  ]);
const manifest = (...args: string[]) => manifestWith(studio.config, ...args);

let configs = 0;
/** The studio's tantalus.yaml with a farm section added, beside it (its relative paths stay valid). */
function withFarmSection(farm: string): string {
  const file = join(studio.dir, `tantalus-farm-${++configs}.yaml`);
  writeFileSync(file, `${readFileSync(studio.config, "utf8")}\nfarm:\n${farm}`);
  return file;
}

interface PodSpec {
  securityContext: Record<string, unknown>;
  volumes?: Record<string, unknown>[];
  imagePullSecrets?: unknown;
  containers: {
    env: { name: string; value: string }[];
    volumeMounts?: { name: string; mountPath: string; readOnly: boolean; subPath?: string }[];
  }[];
}

/** Each mount path with its volume (the name left out): what a reader of the manifest checks. */
function mountsOf(spec: PodSpec): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const m of spec.containers[0]!.volumeMounts ?? []) {
    const { name: _name, ...volume } = spec.volumes!.find((v) => v.name === m.name)!;
    out[m.mountPath] = { ...volume, readOnly: m.readOnly, ...(m.subPath ? { subPath: m.subPath } : {}) };
  }
  return out;
}

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

  it("takes the farm user, NFS, PVC and node-path volumes and pull secrets from tantalus.yaml's farm section", () => {
    const config = withFarmSection(
      [
        "  user: { uid: 1000, gid: 1000, fs_group: 2000, home: /home/render }",
        "  image_pull_secrets: [studio-registry]",
        "  volumes:",
        "    - { target: /assets, nfs: { server: nfs.studio.internal, path: /export/assets } }",
        "    - { target: /renders, pvc: renders, sub_path: dragon, readonly: false }",
        `    - { target: /frames, host_path: ${frames}, readonly: false }`,
        "",
      ].join("\n"),
    );
    const job = tantalusOk(
      [
        "farm",
        "manifest",
        "rough_layout",
        "--engine",
        "kubernetes",
        "--config",
        config,
        "--store",
        store,
        "--registry",
        `${reg.host}/studio`,
        // a run mount whose target a farm volume names takes the cluster's way there (read-only stays)
        "-v",
        `${scratch}:/assets:ro`,
        "-v",
        `${frames}:/cache`,
        "-c",
        "render -frame 7",
      ],
      {},
    );
    new Job(parse(job.stdout) as Record<string, never>).validate();
    assert.match(
      job.stderr,
      /^tantalus: note: podman kube play \(podman 4\.3\) does not run Jobs; to try the task on this machine, print the Pod form \(--kind Pod\) and play that$/m,
      "where the user meets the Job form, they learn podman cannot play it",
    );
    const podOut = manifestWith(
      config,
      "--kind",
      "Pod",
      "-v",
      `${scratch}:/assets:ro`,
      "-v",
      `${frames}:/cache`,
      "-c",
      "render -frame 7",
    );
    assert.equal(podOut.code, 0, podOut.stderr);
    assert.doesNotMatch(podOut.stderr, /does not run Jobs/);
    const pod = parse(podOut.stdout) as Record<string, never>;
    new Pod(pod).validate();
    const spec = (pod as unknown as { spec: PodSpec }).spec;
    assert.deepEqual(spec.securityContext, { runAsUser: 1000, runAsGroup: 1000, fsGroup: 2000, runAsNonRoot: true });
    assert.deepEqual(spec.imagePullSecrets, [{ name: "studio-registry" }]);
    const env = new Map(spec.containers[0]!.env.map((e) => [e.name, e.value]));
    assert.equal(env.get("HOME"), "/home/render");
    assert.deepEqual(mountsOf(spec), {
      "/assets": { nfs: { server: "nfs.studio.internal", path: "/export/assets", readOnly: true }, readOnly: true },
      "/renders": {
        persistentVolumeClaim: { claimName: "renders", readOnly: false },
        readOnly: false,
        subPath: "dragon",
      },
      "/frames": { hostPath: { path: frames }, readOnly: false },
      "/cache": { hostPath: { path: frames }, readOnly: false },
      // the workflow's own mount; the submitting user's home (run.mounts' ~) is not the nodes'
      "/studio/projects": { hostPath: { path: join(studio.dir, "projects") }, readOnly: true },
      "/home/render": { emptyDir: {}, readOnly: false },
    });
    // --user replaces the configured identity; the configured home stays.
    const other = parse(manifestWith(config, "--kind", "Pod", "--user", "1500:1600", "-c", "true").stdout) as {
      spec: PodSpec;
    };
    assert.deepEqual(other.spec.securityContext, {
      runAsUser: 1500,
      runAsGroup: 1600,
      fsGroup: 1600,
      runAsNonRoot: true,
    });
  });

  it("refuses a bad farm section in one sentence naming the file, the line and what was expected", () => {
    const cases: [string, RegExp][] = [
      [
        "  volumes:\n    - { target: /shots, pvc: shots, host_path: /mnt/shots }\n",
        /^tantalus: error: .*tantalus-farm-\d+\.yaml:\d+:\d+: farm\.volumes\[0\]: expected exactly one of host_path, nfs or pvc$/,
      ],
      [
        "  volumes:\n    - { target: shots, pvc: shots }\n",
        /^tantalus: error: .*tantalus-farm-\d+\.yaml:\d+:\d+: farm\.volumes\[0\]\.target: expected an absolute path, got string "shots"$/m,
      ],
      [
        "  image_pull_secrets: [Studio_Registry]\n",
        /^tantalus: error: .*tantalus-farm-\d+\.yaml:\d+:\d+: farm\.image_pull_secrets\[0\]: expected a Kubernetes object name \(lower-case letters, digits, - and \.\), got string "Studio_Registry"$/,
      ],
      [
        "  user: { uid: 0, gid: 0 }\n",
        /^tantalus: error: .*tantalus-farm-\d+\.yaml:\d+:\d+: farm\.user\.uid: 0 is root, and farm pods never run as root unless asked: set the farm user's uid, or pass --allow-root to mean it$/,
      ],
    ];
    for (const [section, expected] of cases) {
      const config = withFarmSection(section);
      const r = manifestWith(config, "--kind", "Pod", "-c", "true");
      assert.equal(r.code, 1, r.stderr);
      assert.equal(r.stdout, "", "nothing printed for a manifest that cannot be right");
      assert.match(r.stderr.trim().split("\n")[0]!, expected);
      assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
    }
    // The flags that name Kubernetes objects are checked as such too, before anything is printed.
    for (const [flag, value, expected] of [
      [
        "--image-pull-secret",
        "Studio_Registry",
        /^tantalus: error: --image-pull-secret "Studio_Registry": expected a Kubernetes object name/,
      ],
      ["--name", "Frame 7", /^tantalus: error: --name "Frame 7": expected a Kubernetes name of at most 63/],
    ] as const) {
      const r = manifest("--kind", "Pod", "--user", "1000:1000", flag, value, "-c", "true");
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stdout, "");
      assert.match(r.stderr, expected);
    }
    // The line named is the volume's.
    const config = withFarmSection("  volumes:\n    - { target: /shots, pvc: shots, host_path: /mnt/shots }\n");
    const line =
      readFileSync(config, "utf8").split("\n").indexOf("    - { target: /shots, pvc: shots, host_path: /mnt/shots }") +
      1;
    assert.match(manifestWith(config, "-c", "true").stderr, new RegExp(`tantalus-farm-\\d+\\.yaml:${line}:`));
  });

  it(
    "plays the Pod with podman kube play, pulling by digest from the registry, as the configured farm user with a PVC, an NFS share (a hostPath here) and a home: output and exit status",
    { skip: (process.getuid?.() ?? 1) !== 0 ? "rootful podman kube play needs root here" : false },
    () => {
      const name = `tantalus-k8s-${process.pid}`;
      // podman kube play gives a persistentVolumeClaim the podman volume of that name: a real PVC for the pod.
      const claim = `tantalus-renders-${process.pid}`;
      const assets = join(scratch, "assets");
      mkdirSync(assets);
      writeFileSync(join(assets, "shot.txt"), "sh010 layout\n");
      const config = withFarmSection(
        [
          "  user: { uid: 1000, gid: 1000, home: /home/render }",
          "  volumes:",
          "    - { target: /assets, nfs: { server: nfs.studio.internal, path: /export/assets } }",
          `    - { target: /renders, pvc: ${claim}, readonly: false }`,
          "",
        ].join("\n"),
      );
      const file = join(scratch, "pod.yaml");
      const out = manifestWith(
        config,
        "--kind",
        "Pod",
        "--name",
        name,
        "-v",
        `${frames}:/frames`,
        "-c",
        'launch_app -show=dragon > /frames/pod.txt; cat /assets/shot.txt; echo rendered > /renders/r.txt; touch "$HOME/prefs" && echo "home $HOME writable"; id -u; exit 3',
      );
      assert.equal(out.code, 0, out.stderr);
      const pod = parse(out.stdout) as {
        metadata: { annotations?: unknown };
        spec: { volumes: { nfs?: { path: string }; hostPath?: { path: string } }[] };
      };
      new Pod(pod as unknown as Record<string, never>).validate();
      // podman 4.3 checks annotation values against the 63-character limit of label values and refuses
      // the resolve and image annotations; Kubernetes allows 256 KiB of annotations (validated above).
      delete pod.metadata.annotations;
      // No NFS server runs here and podman kube play has no nfs volumes: the share is a hostPath of the
      // same content in the played copy (the manifest above, with its nfs volume, is what a cluster gets).
      const nfs = pod.spec.volumes.find((v) => v.nfs !== undefined)!;
      assert.equal(nfs.nfs!.path, "/export/assets");
      delete nfs.nfs;
      nfs.hostPath = { path: assets };
      writeFileSync(file, stringify(pod));
      const made = spawnSync("podman", ["volume", "create", claim], { encoding: "utf8" });
      assert.equal(made.status, 0, made.stderr);
      try {
        const volumeDir = spawnSync("podman", ["volume", "inspect", "--format", "{{.Mountpoint}}", claim], {
          encoding: "utf8",
        }).stdout.trim();
        chmodSync(volumeDir, 0o777); // rootful podman's volume is root's; the pod runs as uid 1000
        const play = spawnSync("podman", ["kube", "play", "--tls-verify=false", file], { encoding: "utf8" });
        assert.equal(play.status, 0, play.stderr);
        const wait = spawnSync("podman", ["wait", `${name}-task`], { encoding: "utf8" });
        assert.equal(wait.stdout.trim(), "3", wait.stderr);
        const logs = spawnSync("podman", ["logs", `${name}-task`], { encoding: "utf8" });
        assert.deepEqual(logs.stdout.trim().split("\n").slice(-3), [
          "sh010 layout",
          "home /home/render writable",
          "1000",
        ]);
        assert.match(
          readFileSync(join(frames, "pod.txt"), "utf8"),
          /launch_app: show=dragon workflow=rough_layout user=1000 app=maya-2025\.1/,
        );
        assert.equal(readFileSync(join(volumeDir, "r.txt"), "utf8"), "rendered\n", "written through the PVC");
      } finally {
        spawnSync("podman", ["kube", "down", file], { stdio: "ignore" });
        spawnSync("podman", ["volume", "rm", "--force", claim], { stdio: "ignore" });
        spawnSync("podman", ["rmi", "--force", pinned], { stdio: "ignore" });
      }
    },
  );
});
