/**
 * `tantalus farm submit`: the workflow's image as built (no resolve, no
 * rebuild) goes to the studio's registry by digest, and a scheduler job runs
 * it on the nodes. The image is pushed by digest only: no tag of the
 * registry moves, and nothing a running job names can change under it.
 */
import { TantalusError, UsageError } from "../errors.js";
import { OciStore } from "../image/layout/store.js";
import { formatReference, parseReference } from "../image/remote/reference.js";
import { Label } from "../image/contract.js";
import { findStoredImage } from "../builder/stored.js";
import { pushStoredImage } from "../builder/distribution.js";
import { SCHEDULER_PASSTHROUGH } from "./task.js";
import { slurmScript, submitSlurmScript, type SlurmJobSpec } from "./slurm.js";

export const FARM_ENGINES = ["slurm"] as const;
export type FarmEngine = (typeof FARM_ENGINES)[number];

/** Where a node keeps images when neither --node-store nor $TANTALUS_NODE_STORE says: node-local, per user. */
export const DEFAULT_NODE_STORE = "/var/tmp/tantalus-node-store";

/** What `farm submit` takes: the job as the script describes it (slurm.ts), less what the submission finds itself (the pinned image, the comments). */
export interface FarmSubmitOptions extends Omit<SlurmJobSpec, "image" | "comments"> {
  engine: FarmEngine;
  storeDir: string;
  /** REGISTRY/PREFIX: the image goes to PREFIX/<workflow>@sha256:… */
  registry: string;
  /** Push the image (default); without, the registry must already have it (`tantalus push`). */
  push: boolean;
  dryRun: boolean;
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
}

export interface FarmSubmission {
  /** REGISTRY/REPO@sha256:… as the tasks pull it. */
  image: string;
  script: string;
  /** The scheduler's job ID (not in a dry run). */
  jobId?: string;
  pushed: boolean;
}

/** The workflow's built image in the store and the registry reference that pins it: REGISTRY/PREFIX/<workflow>@sha256:… */
export async function pinnedStoredImage(storeDir: string, workflow: string, registry: string) {
  const store = await OciStore.open(storeDir, { readOnly: true });
  const found = await findStoredImage(store, workflow);
  const img = await store.loadImage(found.descriptor);
  const digest = img.manifestDescriptor.digest;
  const prefix = parseReference(registry);
  if (prefix.tag !== undefined || prefix.digest !== undefined) {
    throw new UsageError(
      `registry ${JSON.stringify(registry)}: expected REGISTRY/PREFIX (the image goes to PREFIX/${workflow.toLowerCase()}@sha256:…), not a tag or digest`,
    );
  }
  const target = { registry: prefix.registry, repository: `${prefix.repository}/${workflow.toLowerCase()}`, digest };
  const labels: Record<string, string> = { ...img.manifest.annotations, ...img.config.config?.Labels };
  return { store, found, digest, target, image: formatReference(target), labels };
}

export async function submitFarmJob(opts: FarmSubmitOptions): Promise<FarmSubmission> {
  if (opts.command === undefined && (opts.argv === undefined || opts.argv.length === 0)) {
    throw new UsageError("a farm job needs something to run: -c COMMAND, or a program after --");
  }
  const log = opts.log ?? (() => undefined);
  const { store, found, image, target, labels } = await pinnedStoredImage(opts.storeDir, opts.workflow, opts.registry);
  let pushed = false;
  if (opts.push && !opts.dryRun) {
    log(`pushing ${found.ref} to ${image}`);
    await pushStoredImage(store, found.ref, target, { insecure: opts.insecure });
    pushed = true;
  }
  const {
    engine: _engine,
    storeDir: _storeDir,
    registry: _registry,
    push: _push,
    dryRun: _dryRun,
    env: _env,
    log: _log,
    ...job
  } = opts;
  const spec: SlurmJobSpec = {
    ...job,
    image,
    settings: { ...opts.settings, passthrough: [...opts.settings.passthrough, ...SCHEDULER_PASSTHROUGH] },
    comments: [
      `tantalus farm submit: workflow ${opts.workflow}, image ${image} (store ${found.ref})`,
      ...(labels[Label.Resolve] ? [`resolve: ${labels[Label.Resolve]}`] : []),
    ],
  };
  const script = slurmScript(spec);
  if (opts.dryRun) return { image, script, pushed };
  const jobId = submitSlurmScript(script, { env: opts.env ?? process.env });
  if (!jobId) throw new TantalusError("sbatch gave no job ID");
  return { image, script, jobId, pushed };
}
