/**
 * A workflow's image in the store: which tag is its newest, and the seam
 * through which whoever needs it current (`tantalus run`, src/run/image.ts)
 * asks whoever can build it (src/builder/builder.ts, or the CLI's own
 * lazy-loading adapter) without importing it. Both sides import this module;
 * neither imports the other.
 */
import type { OciStore } from "./layout/store.js";
import type { ImageReader } from "./layout/interfaces.js";
import { isDevEntry } from "./dev-tag.js";
import { StoreAnnotation, defaultWorkflowOf } from "./layout/store.js";
import { Annotation, type Descriptor } from "./types.js";

/**
 * The seam to the build pipeline (`tantalus build`): given a workflow, make
 * sure the store holds its current image, building it when it is missing or
 * stale, and say which tag it is under. With `noBuild` it must not build:
 * it returns the tag when the image is current, else undefined.
 */
export interface ImageBuilder {
  ensureBuilt(
    workflow: string,
    store: OciStore,
    opts: { noBuild: boolean; log: (line: string) => void },
  ): Promise<{ tag: string; built: boolean } | undefined>;
}

/** Is this store entry an image of `workflow`? By our annotation, else by the tag's repository (its last component too). */
function belongsTo(d: Descriptor, workflow: string): boolean {
  const tag = d.annotations?.[Annotation.RefName];
  // A developer's image (run --dev, build --paths) is never the workflow's image, however recent.
  if (tag === undefined || isDevEntry(d.annotations)) return false;
  const group = d.annotations?.[StoreAnnotation.Workflow] ?? defaultWorkflowOf(tag);
  return group === workflow || group.slice(group.lastIndexOf("/") + 1) === workflow;
}

/** The workflow's most recently tagged image in the store, by tag. */
export async function findWorkflowImage(store: ImageReader, workflow: string): Promise<string | undefined> {
  const index = await store.readIndex();
  let best: { tag: string; tagged: string } | undefined;
  for (const d of index.manifests) {
    if (!belongsTo(d, workflow)) continue;
    const tag = d.annotations![Annotation.RefName]!;
    const tagged = d.annotations?.[StoreAnnotation.Tagged] ?? "";
    if (!best || tagged >= best.tagged) best = { tag, tagged };
  }
  return best?.tag;
}
