/**
 * Where a build's time went, kept beside the images it made: the stats of
 * `buildWorkflows` (resolve, base, plan, audit, layers, images) written to
 * the store's private area under the manifest digest, so that `tantalus
 * report` can show them on the image's page. Not in the image itself: a
 * timing in a label would change the digest of an otherwise identical build.
 * A missing or unreadable record is simply no record (an image built by an
 * older Tantalus, or pulled).
 */
import fs from "node:fs";
import path from "node:path";
import type { Digest } from "../image/digest.js";
import type { PrivateArea } from "../image/layout/interfaces.js";
import { writeFileAtomic } from "../util/atomic.js";

export interface BuildRecord {
  /** When the build finished (ISO 8601). */
  at: string;
  /** The workflows built together (their times are shared: one pipeline built them all). */
  workflows: string[];
  seconds: {
    total: number;
    resolve: number;
    base: number;
    plan: number;
    audit: number;
    layers: number;
    images: number;
  };
  layersWritten: number;
  layersReused: number;
  bytesArchived: number;
}

function recordFile(metaDir: string, digest: Digest): string {
  return path.join(metaDir, "builds", `${digest.replace(/^sha256:/, "")}.json`);
}

export function writeBuildRecord(store: PrivateArea, digest: Digest, record: BuildRecord): void {
  if (store.readOnly) return;
  writeFileAtomic(recordFile(store.metaDir, digest), JSON.stringify(record, null, 2) + "\n");
}

export function readBuildRecord(store: PrivateArea, digest: Digest): BuildRecord | undefined {
  try {
    const r = JSON.parse(fs.readFileSync(recordFile(store.metaDir, digest), "utf8")) as Partial<BuildRecord>;
    if (typeof r.at !== "string" || !Array.isArray(r.workflows) || typeof r.seconds?.total !== "number")
      return undefined;
    return r as BuildRecord;
  } catch {
    return undefined;
  }
}
