/**
 * Kubernetes: a Pod or batch/v1 Job that runs the workflow's image by
 * digest through its entrypoint. The variables, asset mounts and command
 * come from buildLaunchPlan (src/run), the code that plans `tantalus run`;
 * the cluster then does what a runtime's flags do elsewhere: securityContext
 * for the identity (never root unless asked), volumes for the mounts,
 * `nvidia.com/gpu` limits for GPUs, imagePullSecrets for the registry.
 *
 * A node of a cluster reaches the studio's shares its own way: the farm
 * section of tantalus.yaml names, per container path, an NFS export, a
 * PersistentVolumeClaim or a node path. A run mount (run.mounts, the
 * workflow's mounts, -v) whose target one of them names uses it; any other
 * mount is a hostPath of the same path, as on the artist's machine.
 */
import { UsageError } from "../errors.js";
import { digestHex } from "../image/digest.js";
import { ENTRYPOINT_PATH } from "../image/contract.js";
import { buildLaunchPlan } from "../run/plan.js";
import type { RunSettings } from "../run/settings.js";
import type { FarmConfig } from "../config/schema.js";
import { pinnedReference } from "./task.js";

export const MANIFEST_KINDS = ["Job", "Pod"] as const;
export type ManifestKind = (typeof MANIFEST_KINDS)[number];

export interface ManifestOptions {
  kind: ManifestKind;
  workflow: string;
  /** REGISTRY/REPO@sha256:… */
  image: string;
  settings: RunSettings;
  command?: string;
  argv?: string[];
  /** Who the container runs as: the submitting user or the configured farm user (fsGroup: default gid). */
  user: { uid: number; gid: number; name: string; home: string; fsGroup?: number };
  /** The submitting user's home: `~` mounts of the configuration point there, and it is not the nodes'. */
  submitterHome?: string;
  /** How the cluster reaches shared paths (tantalus.yaml's farm.volumes). */
  volumes?: FarmConfig["volumes"];
  /** Allow uid 0 (never the default). */
  allowRoot?: boolean;
  /** The submitting side's environment: licence and passthrough variables are taken from it. */
  env: NodeJS.ProcessEnv;
  imagePullSecrets: string[];
  /** NVIDIA GPUs per pod (0: none). */
  gpus: number;
  /** Annotations naming the resolve (the image's labels). */
  resolve?: string;
  contextDigest?: string;
  name?: string;
}

/** A DNS-1123 name from the workflow and the digest: `tantalus-rough-layout-47dfd0c8`. */
export function manifestName(workflow: string, digest: string): string {
  const wf =
    workflow
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 40) || "workflow";
  return `tantalus-${wf}-${digestHex(digest as `sha256:${string}`).slice(0, 8)}`;
}

/** A label value: at most 63 characters of [A-Za-z0-9._-], starting and ending alphanumeric. */
function labelValue(v: string): string {
  return (
    v
      .replace(/[^A-Za-z0-9._-]+/g, "_")
      .slice(0, 63)
      .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, "") || "x"
  );
}

export async function kubernetesManifest(opts: ManifestOptions): Promise<Record<string, unknown>> {
  const { reference, digest } = pinnedReference(opts.image);
  if (opts.user.uid === 0 && !opts.allowRoot) {
    throw new UsageError(
      "the pod would run as root (uid 0): pass --user UID:GID (the farm user), or --allow-root to mean it",
    );
  }
  if (opts.command === undefined && (opts.argv === undefined || opts.argv.length === 0)) {
    throw new UsageError("a farm manifest needs something to run: -c COMMAND, or a program after --");
  }
  const plan = await buildLaunchPlan({
    workflow: opts.workflow,
    ...(opts.command !== undefined ? { command: opts.command } : {}),
    ...(opts.argv !== undefined ? { argv: opts.argv } : {}),
    // The display and host networking are the artist's machine's; GPUs are the cluster's to give.
    settings: { ...opts.settings, display: false, gpu: "none", network: "host" },
    identity: {
      uid: opts.user.uid,
      gid: opts.user.gid,
      user: opts.user.name,
      home: opts.user.home,
      groups: [],
      viaSudo: false,
    },
    env: opts.env,
    cwd: "/",
    tty: false,
    cacheDir: "/nonexistent",
    runtime: { name: "podman", available: true, problems: [], fixes: [], details: {} },
    imageEnv: [],
    gpu: { nvidiaDevices: [], cdiSpecs: [], cdiAll: false },
  });
  // The submitting user's home is not the nodes' (nor is the farm user's on this machine): only the
  // configured and -v mounts travel.
  const homes = new Set([opts.user.home, opts.submitterHome]);
  const mounts = plan.mounts.filter((m) => !(homes.has(m.source) && m.target === m.source));
  const { volumes, volumeMounts } = podVolumes(mounts, opts.volumes ?? [], plan.env, opts.user.home);
  const name = opts.name ?? manifestName(opts.workflow, digest);
  const labels = {
    "app.kubernetes.io/name": "tantalus",
    "app.kubernetes.io/component": "farm-task",
    "io.tantalus.workflow": labelValue(opts.workflow),
  };
  const annotations: Record<string, string> = { "io.tantalus.workflow": opts.workflow, "io.tantalus.image": reference };
  if (opts.resolve) annotations["io.tantalus.resolve"] = opts.resolve;
  if (opts.contextDigest) annotations["io.tantalus.context.digest"] = opts.contextDigest;
  const container: Record<string, unknown> = {
    name: "task",
    image: reference,
    imagePullPolicy: "IfNotPresent",
    command: [ENTRYPOINT_PATH],
    args: plan.args,
    env: plan.env.map(([n, value]) => ({ name: n, value })),
    workingDir: volumeMounts.some((m) => m.mountPath === plan.workdir) ? plan.workdir : "/",
    securityContext: { allowPrivilegeEscalation: false },
  };
  if (volumeMounts.length > 0) container.volumeMounts = volumeMounts;
  if (opts.gpus > 0) container.resources = { limits: { "nvidia.com/gpu": opts.gpus } };
  const podSpec: Record<string, unknown> = {
    restartPolicy: "Never",
    securityContext: {
      runAsUser: opts.user.uid,
      runAsGroup: opts.user.gid,
      fsGroup: opts.user.fsGroup ?? opts.user.gid,
      ...(opts.user.uid !== 0 ? { runAsNonRoot: true } : {}),
    },
    containers: [container],
  };
  if (volumes.length > 0) podSpec.volumes = volumes;
  if (opts.imagePullSecrets.length > 0) podSpec.imagePullSecrets = opts.imagePullSecrets.map((n) => ({ name: n }));
  const metadata = { name, labels, annotations };
  if (opts.kind === "Pod") return { apiVersion: "v1", kind: "Pod", metadata, spec: podSpec };
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata,
    spec: { backoffLimit: 0, template: { metadata: { labels, annotations }, spec: podSpec } },
  };
}

interface VolumeMount {
  name: string;
  mountPath: string;
  readOnly: boolean;
  subPath?: string;
}

/**
 * The pod's volumes: every configured farm volume (NFS, PVC or node path),
 * then the run's mounts that none of them covers, as hostPaths; read-only
 * when either the mount or the volume says so. HOME gets an emptyDir when no
 * volume holds it and it is not /tmp: the farm user's home exists nowhere in
 * the image, and applications write their preferences there.
 */
function podVolumes(
  mounts: { source: string; target: string; readOnly: boolean }[],
  configured: FarmConfig["volumes"],
  env: Array<[string, string]>,
  home: string,
): { volumes: Record<string, unknown>[]; volumeMounts: VolumeMount[] } {
  const volumes: Record<string, unknown>[] = [];
  const volumeMounts: VolumeMount[] = [];
  const add = (source: Record<string, unknown>, mount: Omit<VolumeMount, "name">) => {
    const name = `volume-${volumes.length}`;
    volumes.push({ name, ...source });
    volumeMounts.push({ name, ...mount });
  };
  for (const v of configured) {
    const readOnly = v.readonly || mounts.some((m) => m.target === v.target && m.readOnly);
    const source =
      v.nfs !== undefined
        ? { nfs: { server: v.nfs.server, path: v.nfs.path, readOnly } }
        : v.pvc !== undefined
          ? { persistentVolumeClaim: { claimName: v.pvc, readOnly } }
          : { hostPath: { path: v.host_path } };
    add(source, { mountPath: v.target, readOnly, ...(v.sub_path !== undefined ? { subPath: v.sub_path } : {}) });
  }
  for (const m of mounts) {
    if (configured.some((v) => v.target === m.target)) continue;
    add({ hostPath: { path: m.source } }, { mountPath: m.target, readOnly: m.readOnly });
  }
  const homeVar = env.find(([n]) => n === "HOME")?.[1] ?? home;
  if (homeVar !== "/tmp" && !volumeMounts.some((m) => m.mountPath === homeVar))
    add({ emptyDir: {} }, { mountPath: homeVar, readOnly: false });
  return { volumes, volumeMounts };
}
