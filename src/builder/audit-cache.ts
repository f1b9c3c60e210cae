/**
 * Audit outcomes remembered per image content. An audit reads every ELF file
 * of the image; its outcome is a function of the base image, the files under
 * the variant roots (the layer cache keys fingerprint them), the package
 * definitions (the context digest covers them), the audit and package
 * settings of tantalus.yaml and the Tantalus version. When none of these
 * changed, the outcome is read back instead of auditing again, so a rebuild
 * of unchanged workflows costs no audit.
 */
import type { Digest } from "../image/digest.js";
import type { PrivateArea } from "../image/layout/interfaces.js";
import type { AuditOutcome } from "../audit/build-gate.js";
import { StoreMemo, memoKey } from "./memo.js";

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
  // v2: the audited environment's capture answers commands' os.path questions for the image (outcomes kept
  // before then checked an environment built from the build host's answers).
  return memoKey("audit/v2", parts);
}

export class AuditCache {
  private readonly memo: StoreMemo<AuditOutcome>;

  constructor(store: PrivateArea) {
    this.memo = new StoreMemo(store, "audit-cache");
  }

  async get(key: Digest): Promise<AuditOutcome | undefined> {
    const outcome = await this.memo.get(key);
    return outcome && Array.isArray(outcome.errors) && Array.isArray(outcome.warnings) ? outcome : undefined;
  }

  /** Only what the build uses is kept (a gate may return more, such as the full audit). */
  async put(key: Digest, outcome: AuditOutcome): Promise<void> {
    const kept: AuditOutcome = { errors: outcome.errors, warnings: outcome.warnings };
    if (outcome.repair) kept.repair = outcome.repair;
    if (outcome.environment) kept.environment = outcome.environment;
    await this.memo.put(key, kept);
  }
}
