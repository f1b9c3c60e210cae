/**
 * What a workflow image knows about its resolve besides its environment
 * (src/workflow/environment.ts): the context (the lock, paths mapped through
 * root_map) and the workflow definition. Both depend only on the resolve,
 * the package definitions, root_map and the build epoch, never on the
 * directory the repositories happen to be in on the build machine or on the time.
 */
import { stringify } from "yaml";
import type { WorkflowConfig } from "../config/index.js";
import type { ResolvedContext } from "../context/context.js";
import { rootMapper } from "../context/root-map.js";

/** The context as the image holds it: paths mapped through root_map, the image's epoch as its creation time. */
export function imageContext(
  ctx: ResolvedContext,
  rootMap: Readonly<Record<string, string>>,
  created: string,
): ResolvedContext {
  const map = rootMapper(rootMap);
  return {
    ...ctx,
    packagePaths: ctx.packagePaths.map(map),
    resolved: ctx.resolved.map((v) => ({ ...v, repository: map(v.repository), root: map(v.root), file: map(v.file) })),
    created,
  };
}

/** /etc/tantalus/context.json, exactly as written into the image (its sha256 is the image's context label). */
export function imageContextJson(
  ctx: ResolvedContext,
  rootMap: Readonly<Record<string, string>>,
  created: string,
): string {
  return JSON.stringify(imageContext(ctx, rootMap, created), null, 2) + "\n";
}

/** /etc/tantalus/workflow.yaml: the workflow's definition as tantalus.yaml has it. */
export function workflowDefinitionYaml(name: string, def: WorkflowConfig): string {
  const doc: Record<string, unknown> = { name };
  if (def.description) doc.description = def.description;
  doc.request = def.request;
  if (Object.keys(def.env).length > 0) doc.env = def.env;
  if (def.mounts.length > 0) doc.mounts = def.mounts;
  return `# Workflow definition this image was built from (tantalus.yaml).\n${stringify(doc, { lineWidth: 0 })}`;
}
