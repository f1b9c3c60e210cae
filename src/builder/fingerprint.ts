/**
 * Layer cache keys of a build: what the core's fingerprintLayerSpec computes
 * (per entry: path, type, mode, size, mtime and ctime in ns, inode, link
 * target, in sorted order; generated files by content), walked with
 * synchronous calls. An unchanged rebuild is mostly this walk, and with one
 * lstat per file the synchronous calls are ~20× faster than a promise per
 * entry on a busy machine (1,500 entries: 65 ms against 1.2 s). A variant
 * re-released in place changes mtime/ctime (or inodes), so its key changes.
 */
import { createHash } from "node:crypto";
import { lstatSync, type BigIntStats } from "node:fs";
import { canonicalJson } from "../image/canonical-json.js";
import { sha256, type Digest } from "../image/digest.js";
import type { LayerSpec } from "../image/layer/spec.js";
import { RootMeasurer, type RootSize } from "../plan/measure.js";
import { fingerprintPath, hashEntry, type Tally } from "./root-fingerprint.js";

export { fingerprintPath };

/**
 * The planner's measurer that fingerprints each variant root in the same
 * walk: planning needs every root's size and the layer cache every root's
 * fingerprint, and one walk of the repository is half the cost of two.
 */
export class FingerprintingMeasurer extends RootMeasurer {
  private readonly sizes = new Map<string, RootSize>();
  private readonly prints = new Map<string, Digest>();

  override measure(root: string): RootSize {
    this.walk(root);
    return this.sizes.get(root)!;
  }

  /** The fingerprintPath of a root, from the planning walk when there was one. */
  fingerprint(root: string): Digest {
    this.walk(root);
    return this.prints.get(root) ?? fingerprintPath(root);
  }

  private walk(root: string): void {
    if (this.sizes.has(root)) return;
    let st: BigIntStats;
    try {
      st = lstatSync(root, { bigint: true });
    } catch {
      this.sizes.set(root, { bytes: 0, files: 0, exists: false });
      return;
    }
    if (!st.isDirectory()) {
      // A file or a link as a root: rare enough for two separate looks.
      this.sizes.set(root, super.measure(root));
      return;
    }
    const h = createHash("sha256");
    const tally: Tally = { bytes: 0, files: 0, inodes: new Set() };
    hashEntry(h, root, ".", st, tally);
    this.sizes.set(root, { bytes: tally.bytes, files: tally.files, exists: true });
    this.prints.set(root, `sha256:${h.digest("hex")}`);
  }
}

/** A cache key for a LayerSpec, in spec order; tree roots the measurer walked are not walked again. */
export function fingerprintSpec(spec: LayerSpec, roots?: FingerprintingMeasurer): string {
  const parts: unknown[] = spec.entries.map((s) => {
    switch (s.type) {
      case "tree":
        return { t: "tree", path: s.path, fp: roots ? roots.fingerprint(s.source) : fingerprintPath(s.source) };
      case "hostFile":
        return {
          t: "hostFile",
          path: s.path,
          mode: s.mode ?? null,
          fp: fingerprintPath(s.source, { followRoot: false }),
        };
      case "file":
        return {
          t: "file",
          path: s.path,
          mode: s.mode ?? null,
          content: sha256(typeof s.content === "string" ? Buffer.from(s.content) : s.content),
        };
      case "directory":
        return { t: "dir", path: s.path, mode: s.mode ?? null };
      case "symlink":
        return { t: "symlink", path: s.path, target: s.linkTarget };
    }
  });
  return sha256(canonicalJson(parts));
}
