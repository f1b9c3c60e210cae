/**
 * `tantalus run`'s way to the build (src/run/image.ts ImageBuilder): make sure
 * the store holds the workflow's current image. First the workflow's stamp
 * (stamp.ts: stats only); when it fails, building is cheap if nothing
 * changed (every layer comes from the cache, the manifest comes out
 * identical), so "ensure" is then simply "build"; without building, the
 * stored image is current when its context (resolve + package definitions,
 * as the image holds it) equals a fresh resolve's.
 *
 * It builds what `tantalus build WORKFLOW` builds: the library audit gates
 * the image and adds its repair layer, so the digest is the same either way
 * and an image the audit refuses is not written behind the user's back.
 */
import { libraryAuditGate } from "../audit/workflow/gate.js";
import type { LoadedConfig } from "../config/index.js";
import { sha256 } from "../image/digest.js";
import { sourceDateEpoch, rfc3339 } from "../image/epoch.js";
import type { OciStore } from "../image/layout/store.js";
import { DEFAULT_CREATED } from "../image/mutate.js";
import type { ImageBuilder } from "../run/image.js";
import { buildWorkflows, type BuildOptions } from "./build.js";
import { imageContextJson } from "./environment.js";
import { Label } from "./labels.js";
import { isStampedCurrent } from "./stamp.js";
import { implicitPackagesOf, openBuildRepositories, resolveWorkflow } from "./resolve.js";

export function workflowImageBuilder(config: LoadedConfig, opts: Omit<BuildOptions, "store" | "contextFile"> = {}): ImageBuilder {
  return {
    async ensureBuilt(workflow: string, store: OciStore, { noBuild, log }) {
      if (await isStampedCurrent(store, workflow, config.files)) return { tag: workflow, built: false };
      if (noBuild) return (await isCurrent(config, workflow, store)) ? { tag: workflow, built: false } : undefined;
      const before = (await store.resolve(workflow))?.digest;
      const report = await buildWorkflows(config, [workflow], {
        audit: libraryAuditGate(config),
        ...opts,
        store,
        onEvent: (e) => {
          opts.onEvent?.(e);
          if (e.type === "step" || e.type === "warning") log(e.type === "warning" ? `warning: ${e.message}` : e.message);
        },
      });
      const result = report.results[0]!;
      return { tag: result.tag, built: result.digest !== before };
    },
  };
}

async function isCurrent(config: LoadedConfig, workflow: string, store: OciStore): Promise<boolean> {
  const desc = await store.resolve(workflow);
  if (!desc) return false;
  const img = await store.loadImage(desc);
  const stored = img.config.config?.Labels?.[Label.Context];
  if (!stored) return false;
  const fresh = resolveWorkflow(config, workflow, openBuildRepositories(config), implicitPackagesOf(config));
  const epoch = sourceDateEpoch();
  return sha256(imageContextJson(fresh.context, config.config.image.root_map, epoch ? rfc3339(epoch) : DEFAULT_CREATED)) === stored;
}
