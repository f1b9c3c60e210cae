/**
 * Audit outcomes remembered per image content. An audit reads every ELF file
 * of the image; its outcome is a function of the base image, the files under
 * the variant roots (the layer cache keys fingerprint them), the package
 * definitions (the context digest covers them), the audit and package
 * settings of tantalus.yaml and the Tantalus version. When none of these
 * changed, the outcome is read back instead of auditing again, so a rebuild
 * of unchanged workflows costs no audit. Entries live next to the layer
 * cache, one small JSON file each, written atomically.
 */
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { canonicalJson } from "../image/canonical-json.js";
import { digestHex, sha256, type Digest } from "../image/digest.js";
import { writeFileAtomic } from "../image/layout/fsutil.js";
import type { OciStore } from "../image/layout/store.js";
import { VERSION } from "../version.js";
import type { AuditOutcome } from "./audit-gate.js";

export interface AuditKeyParts {
  workflow: string;
  baseDigest: string;
  /** Cache keys of the image's package layers, in image order. */
  layerKeys: readonly string[];
  contextDigest: string;
  /** The parts of the configuration the audit reads. */
  settings: unknown;
}

export function auditCacheKey(parts: AuditKeyParts): Digest {
  return sha256(canonicalJson({ v: 1, tool: VERSION, ...parts }));
}

export class AuditCache {
  private readonly dir: string;

  constructor(private readonly store: OciStore) {
    this.dir = join(store.metaDir, "audit-cache");
  }

  async get(key: Digest): Promise<AuditOutcome | undefined> {
    try {
      const entry = JSON.parse(await readFile(this.file(key), "utf8")) as { key?: string; outcome?: AuditOutcome };
      return entry.key === key && entry.outcome && Array.isArray(entry.outcome.errors) ? entry.outcome : undefined;
    } catch {
      return undefined;
    }
  }

  /** Only what the build uses is kept (a gate may return more, such as the full audit). */
  async put(key: Digest, outcome: AuditOutcome): Promise<void> {
    const kept: AuditOutcome = { errors: outcome.errors, warnings: outcome.warnings };
    if (outcome.repair) kept.repair = outcome.repair;
    if (outcome.environment) kept.environment = outcome.environment;
    await mkdir(this.dir, { recursive: true });
    await writeFileAtomic(this.file(key), canonicalJson({ key, outcome: kept }), this.store.tmpDir);
  }

  private file(key: Digest): string {
    return join(this.dir, `${digestHex(key)}.json`);
  }
}
