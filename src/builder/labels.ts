/**
 * The labels a workflow image carries (their keys are part of the image
 * contract, src/image/contract.ts): OCI labels in the config, the same
 * keys as manifest annotations. Every value is a function of the build's
 * inputs, never of the machine or the time of the build.
 */
import { Label } from "../image/contract.js";
import { Annotation } from "../image/types.js";

export interface ImageLabelInput {
  workflow: string;
  description?: string;
  request: readonly string[];
  implicitPackages: readonly string[];
  resolve: readonly string[];
  contextDigest: string;
  created: string;
  source?: { url?: string; revision?: string };
}

/** Labels (config) and annotations (manifest) of a workflow image: the same set. */
export function imageLabels(input: ImageLabelInput): Record<string, string> {
  const labels: Record<string, string> = {
    [Annotation.Title]: input.workflow,
    [Annotation.Created]: input.created,
    [Label.Workflow]: input.workflow,
    [Label.Request]: input.request.join(" "),
    [Label.ImplicitPackages]: input.implicitPackages.join(" "),
    [Label.Resolve]: input.resolve.join(" "),
    [Label.Context]: input.contextDigest,
  };
  if (input.description) labels[Annotation.Description] = input.description;
  if (input.source?.url) labels[Annotation.Source] = input.source.url;
  if (input.source?.revision) labels[Annotation.Revision] = input.source.revision;
  return labels;
}

/** A qualified variant name split into its parts: `maya-2025.1[0]` → maya, 2025.1, 0. */
export interface QualifiedVariant {
  name: string;
  version: string;
  index: number | null;
  qualified: string;
}

/** Rez package names have no "-", so the first "-" ends the name. */
export function parseQualifiedVariant(q: string): QualifiedVariant | undefined {
  const m = /^([A-Za-z0-9_.]+?)(?:-([^[\]]*))?\[(\d*)\]$/.exec(q);
  if (!m) return undefined;
  return { name: m[1]!, version: m[2] ?? "", index: m[3] === "" ? null : Number(m[3]), qualified: q };
}

export function splitList(value: string | undefined): string[] {
  return value ? value.split(" ").filter((s) => s.length > 0) : [];
}
