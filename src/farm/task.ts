/**
 * One farm task on a node: get the image by digest from the studio's
 * registry into the node-local store, let the runtime take it, then launch
 * exactly as `tantalus run` does (prepareRun from src/run: same identity,
 * mounts, licences, GPU and environment rules; the settings come from the
 * submitting side, where the configuration was read).
 *
 * Every task of every job on a node shares the node store. The first task
 * pulls and prepares (podman load, SIF build, ch-run unpack) under the
 * store's farm lock; the others wait on the lock and find everything there,
 * so N tasks on a node fetch each blob once. A pull that fails fails the
 * task with one sentence naming the node, the image and the reason.
 */
import { hostname } from "node:os";
import { join } from "node:path";
import { TantalusError, UsageError } from "../errors.js";
import { isDigest, type Digest } from "../image/digest.js";
import { StoreLock } from "../image/layout/lock.js";
import { OciStore } from "../image/layout/store.js";
import { formatReference, parseReference } from "../image/remote/reference.js";
import { launch, prepareRun } from "../run/run.js";
import type { RunSettings } from "../run/settings.js";

export interface FarmTaskOptions {
  /** REGISTRY/REPO@sha256:… : farm jobs never name a tag, which could move under a running job. */
  image: string;
  workflow: string;
  /** The node-local store shared by the node's tasks. */
  nodeStore: string;
  settings: RunSettings;
  command?: string;
  argv?: string[];
  insecure?: boolean;
  env?: NodeJS.ProcessEnv;
  /** How long a task waits for another task's pull (default one hour: a DCC image can be many GB). */
  lockTimeoutMs?: number;
  log?: (line: string) => void;
}

/** Variables of the scheduler that the task's command needs inside the container ($SLURM_ARRAY_TASK_ID…). */
export const SCHEDULER_PASSTHROUGH = [
  "SLURM_ARRAY_TASK_ID",
  "SLURM_ARRAY_JOB_ID",
  "SLURM_ARRAY_TASK_COUNT",
  "SLURM_ARRAY_TASK_MIN",
  "SLURM_ARRAY_TASK_MAX",
  "SLURM_JOB_ID",
  "SLURM_JOB_NAME",
  "SLURM_CPUS_ON_NODE",
  "SLURM_NODEID",
  "SLURMD_NODENAME",
];

export function pinnedReference(image: string): { reference: string; digest: Digest } {
  const ref = parseReference(image);
  if (ref.digest === undefined || !isDigest(ref.digest)) {
    throw new UsageError(
      `farm image ${JSON.stringify(image)}: expected REGISTRY/REPO@sha256:… (farm jobs name images by digest, never by a tag)`,
    );
  }
  return {
    reference: formatReference({ registry: ref.registry, repository: ref.repository, digest: ref.digest }),
    digest: ref.digest,
  };
}

/** Make sure the node store holds the image, pulling it once per node under the lock; then prepare and launch. */
export async function runFarmTask(opts: FarmTaskOptions): Promise<number> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? ((line: string) => void process.stderr.write(`tantalus: ${line}\n`));
  const { reference, digest } = pinnedReference(opts.image);
  const node = env.SLURMD_NODENAME || hostname();
  const store = await OciStore.open(opts.nodeStore);
  const lock = await StoreLock.acquire(join(store.metaDir, "farm-node.lock"), store.tmpDir, {
    timeoutMs: opts.lockTimeoutMs ?? 3_600_000,
  });
  let run;
  try {
    // The manifest is stored after every blob it names, so its presence means the whole image is here.
    if (!(await store.hasBlob(digest))) {
      log(`pulling ${reference} into the node store ${store.dir} on ${node}`);
      const { pullIntoStore } = await import("../builder/distribution.js");
      try {
        await pullIntoStore(store, reference, {
          insecure: opts.insecure === true,
          tag: `farm/${opts.workflow.toLowerCase()}:${digest.slice(7, 23)}`,
        });
      } catch (e) {
        const why = e instanceof Error ? e.message : String(e);
        throw new TantalusError(
          `farm task on ${node}: cannot pull ${reference} into the node store ${store.dir}: ${why}`,
        );
      }
    }
    // The runtime takes the image (podman load, SIF, unpack) under the same lock: once per node too.
    run = await prepareRun({
      workflow: opts.workflow,
      command: opts.command,
      argv: opts.argv,
      settings: opts.settings,
      source: { storeDir: store.dir },
      tag: digest,
      noBuild: true,
      env,
      tty: false,
      stdinIsTTY: false,
      log,
    });
  } finally {
    await lock.release();
  }
  for (const note of run.plan.notes) log(`note: ${note}`);
  return launch(run.argv, { env: run.runtimeEnv, foreground: false, forwardTerminalSignals: true });
}
