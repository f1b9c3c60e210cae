/**
 * What a build reports while it works. The library only emits events; the
 * CLI turns them into a live display (src/builder/progress.ts), tests count
 * them, and `--json` leaves them out of stdout.
 */
import type { Digest } from "../image/digest.js";

/** Which part of an image a layer is. */
export type LayerKind = "base" | "packages" | "repair" | "top";

export type BuildEvent =
  /** A step of the build starts ("resolving 10 workflows"). */
  | { type: "step"; message: string }
  | { type: "warning"; message: string }
  /** A layer is being archived and compressed; `bytes` is the payload expected (the planner's measure). */
  | { type: "layer-start"; id: string; label: string; kind: LayerKind; bytes: number }
  /** Payload bytes archived so far. */
  | { type: "layer-progress"; id: string; bytes: number }
  | {
      type: "layer-done";
      id: string;
      label: string;
      kind: LayerKind;
      /** True when the layer cache had it: nothing was read or compressed. */
      cached: boolean;
      digest: Digest;
      /** Bytes of the uncompressed tar. */
      uncompressedSize: number;
      /** Bytes of the stored (compressed) blob. */
      size: number;
      seconds: number;
    }
  | {
      type: "image";
      workflow: string;
      tag: string;
      digest: Digest;
      layers: number;
      size: number;
      emptyLayers?: string[][];
    }
  | {
      type: "push-blob";
      reference: string;
      digest: Digest;
      size: number;
      state: "exists" | "mounted" | "uploading" | "uploaded";
      bytes: number;
    }
  | {
      type: "pushed";
      workflow: string;
      reference: string;
      digest: Digest;
      uploaded: number;
      mounted: number;
      existing: number;
    }
  | { type: "exported"; workflow: string; destination: string };

export type BuildEventSink = (event: BuildEvent) => void;

export const ignoreEvents: BuildEventSink = () => undefined;
