/**
 * Kubernetes: a Pod or batch/v1 Job that runs the workflow's image by
 * digest through its entrypoint. The variables, asset mounts and command
 * come from buildLaunchPlan (src/run), the code that plans `tantalus run`;
 * the cluster then does what a runtime's flags do elsewhere: securityContext
 * for the identity (never root unless asked), hostPath volumes for the
 * mounts, `nvidia.com/gpu` limits for GPUs, imagePullSecrets for the
 * registry.
 */
import { UsageError } from "../errors.js";
import { digestHex } from "../image/digest.js";
import { ENTRYPOINT_PATH } from "../image/contract.js";
import { buildLaunchPlan } from "../run/plan.js";
import type { RunSettings } from "../run/settings.js";
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
  /** Who the container runs as: the submitting user or the configured farm user. */
  user: { uid: number; gid: number; name: string; home: string };
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
  // The submitting user's home is not the nodes': only the configured and -v mounts travel.
  const mounts = plan.mounts.filter((m) => !(m.source === opts.user.home && m.target === opts.user.home));
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
    workingDir: mounts.some((m) => m.target === plan.workdir) ? plan.workdir : "/",
    securityContext: { allowPrivilegeEscalation: false },
  };
  if (mounts.length > 0)
    container.volumeMounts = mounts.map((m, i) => ({ name: `mount-${i}`, mountPath: m.target, readOnly: m.readOnly }));
  if (opts.gpus > 0) container.resources = { limits: { "nvidia.com/gpu": opts.gpus } };
  const podSpec: Record<string, unknown> = {
    restartPolicy: "Never",
    securityContext: {
      runAsUser: opts.user.uid,
      runAsGroup: opts.user.gid,
      fsGroup: opts.user.gid,
      ...(opts.user.uid !== 0 ? { runAsNonRoot: true } : {}),
    },
    containers: [container],
  };
  if (mounts.length > 0) podSpec.volumes = mounts.map((m, i) => ({ name: `mount-${i}`, hostPath: { path: m.source } }));
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
