/**
 * What the build asks of the library audit: src/builder calls it, the
 * audit's workflow/gate.ts answers, and the audit imports nothing of the
 * build. Before any layer is written, each workflow image is audited on the
 * planned content (base image + variant roots at their image paths). Errors
 * refuse the image unless the build allows them; a repair layer the audit
 * plans (system libraries copied in, see packages.<name>.repair in
 * tantalus.yaml) goes under the top layer.
 */
import type { LayerSpec } from "../image/layer/spec.js";
import type { BlobReader } from "../image/layout/interfaces.js";
import type { ResolvedImage } from "../image/types.js";
import type { WorkflowResolve } from "../workflow/resolve.js";

export interface AuditInput {
  workflow: string;
  /** The build's resolve of the workflow: the gate audits exactly what the image is built from. */
  resolve: WorkflowResolve;
  base: ResolvedImage;
  /** The image's epoch (REZ_USED_TIMESTAMP of the environment it ships). */
  epochSeconds: number;
  /** Where the base is read from (to unpack it for the audit): read only. */
  store: BlobReader;
  /** Host path -> path inside the image (image.root_map). */
  imagePath(hostPath: string): string;
}

export interface AuditOutcome {
  /** Findings that make the image unusable (a library no layer provides …), one line each. */
  errors: string[];
  warnings: string[];
  /** Files to add in a layer of their own, under the top layer. */
  repair?: { spec: LayerSpec; comment: string };
  /** Directories the repair layer needs on a search path: appended to the variables after the Rez environment and the workflow's own. */
  environment?: { name: string; append: string[]; separator: string }[];
}

export type AuditGate = ((input: AuditInput) => Promise<AuditOutcome>) & {
  /** What the outcome depends on besides the image's content and tantalus.yaml (donor directories...): part of the audit cache key. */
  settings?: unknown;
};
