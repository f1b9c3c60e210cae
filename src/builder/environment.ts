/**
 * What a workflow image knows about its resolve: the environment script the
 * entrypoint sources (Rez's shell code for `sh`, with every path as the image
 * sees it), the context (the lock, paths mapped the same way) and the
 * workflow definition. All three depend only on the resolve, the package
 * definitions, root_map and the build epoch, never on the directory the
 * repositories happen to be in on the build machine or on the time.
 */
import { stringify } from "yaml";
import type { WorkflowConfig } from "../config/index.js";
import type { ResolvedContext } from "../context/context.js";
import { optionsFromContext } from "../rex/from-context.js";
import { rootMapper } from "../context/root-map.js";
import { interpretContext } from "../rex/interpret.js";
import { renderShell } from "../rex/shells.js";
import type { HomeResolver } from "../rex/expand.js";
import type { Variant } from "../rez/package.js";

/**
 * `~` in the packages' values means the home of whoever runs the image, so it
 * is written as $HOME, which the sourcing shell expands (values Rez marks
 * expandable are double-quoted). `~user` stays as written.
 */
const IMAGE_HOME: HomeResolver = { home: "${HOME}", userHome: () => undefined };

export interface EnvironmentInput {
  context: ResolvedContext;
  variants: readonly Variant[];
  /** Host repository root -> image path (image.root_map). */
  rootMap: Readonly<Record<string, string>>;
  /** REZ_USED_TIMESTAMP: the image's epoch, not the time of the build. */
  epochSeconds: number;
  /**
   * Workflow variables that must come after the Rez environment because a
   * package sets them too (the others go in the image config's Env).
   */
  overrides?: ReadonlyArray<[string, string]>;
}

export interface CapturedEnvironment {
  /** The sh script (`#!/bin/sh` …) for /etc/tantalus/environment.sh. */
  script: string;
  /** The variables it sets, expanded, as `rez context -f json` shows them. */
  environ: Record<string, string>;
}

export function captureEnvironment(input: EnvironmentInput): CapturedEnvironment {
  const base = optionsFromContext(input.context);
  const result = interpretContext(input.variants, {
    ...base,
    timestamp: input.epochSeconds,
    shell: "sh",
    parentEnv: {},
    rootMap: input.rootMap,
    home: IMAGE_HOME,
  });
  let script = renderShell(result.actions, "sh", { home: IMAGE_HOME });
  if (input.overrides && input.overrides.length > 0) {
    const lines = ["", "# workflow variables (tantalus.yaml), after the packages' own"];
    for (const [k, v] of input.overrides) lines.push(`export ${k}=${shQuote(v)}`);
    script += lines.join("\n") + "\n";
  }
  return { script, environ: result.environ };
}

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

function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'"'"'`)}'`;
}
