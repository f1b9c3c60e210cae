/**
 * `tantalus run`'s way to the build (the ImageBuilder of src/image/workflow-image.ts): make sure
 * the store holds the workflow's current image. First the workflow's stamp
 * (stamp.ts: metadata only, no resolve); when it fails, building is cheap if nothing
 * changed (every layer comes from the cache, the manifest comes out
 * identical), so "ensure" is then simply "build", and the line it logs
 * says why (the stamp's reason); without building (--no-build) only the
 * stamp can vouch for the image.
 *
 * It builds what `tantalus build WORKFLOW` builds: the library audit gates
 * the image and adds its repair layer, so the digest is the same either way
 * and an image the audit refuses is not written behind the user's back.
 */
import { libraryAuditGate } from "../audit/workflow/gate.js";
import type { LoadedConfig } from "../config/index.js";
import type { OciStore } from "../image/layout/store.js";
import type { ImageBuilder } from "../image/workflow-image.js";
import { buildWorkflows, type BuildOptions } from "./build.js";
import { outOfDate, stampVerdict } from "./stamp.js";

export function workflowImageBuilder(
  config: LoadedConfig,
  opts: Omit<BuildOptions, "store" | "contextFile"> = {},
): ImageBuilder {
  return {
    async ensureBuilt(workflow: string, store: OciStore, { noBuild, log }) {
      const verdict = await stampVerdict(store, workflow, config.files);
      if (verdict.current) return { tag: workflow, built: false };
      if (noBuild) throw outOfDate(workflow, verdict.reason);
      log(`building ${workflow}: ${verdict.reason}`);
      return buildWorkflowImage(config, workflow, store, log, opts);
    },
  };
}

/** What `tantalus build WORKFLOW` does, for run: audited as build audits, so both give the same digest. */
export async function buildWorkflowImage(
  config: LoadedConfig,
  workflow: string,
  store: OciStore,
  log: (line: string) => void,
  opts: Omit<BuildOptions, "store" | "contextFile"> = {},
): Promise<{ tag: string; built: boolean }> {
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
}
