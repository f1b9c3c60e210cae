import { createHash } from "node:crypto";

/**
 * A layer's key: a digest of its sorted variant ids. The layer tar is a pure function
 * of those variants' files, so equal keys mean byte-identical layers in every image.
 */
export function layerKey(sortedVariantIds: readonly string[]): string {
  const h = createHash("sha256");
  for (const id of sortedVariantIds) h.update(id).update("\n");
  return h.digest("hex").slice(0, 16);
}
