/**
 * Where a resolved context's install roots are inside an image
 * (`image.root_map` of tantalus.yaml): a repository root on the build host
 * mounted elsewhere in the image. The layers (src/builder), the plan's sizes
 * (src/plan), the audit's planned image (src/audit) and the environment the
 * rex interpreter writes (src/rex) must all move a root the same way, so the
 * rule lives here, below all of them.
 */
import path from "node:path";

/** Maps host repository paths to image paths: the longest matching prefix (on a path boundary) wins. */
export function rootMapper(map: Readonly<Record<string, string>>): (p: string) => string {
  const entries = Object.entries(map)
    .map(([from, to]) => [path.resolve(from), to.replace(/\/+$/, "") || "/"] as const)
    .sort((a, b) => b[0].length - a[0].length);
  if (entries.length === 0) return (p) => p;
  return (p: string) => {
    for (const [from, to] of entries) {
      if (p === from) return to;
      if (p.startsWith(from.endsWith("/") ? from : from + "/")) return (to === "/" ? "" : to) + p.slice(from.length);
    }
    return p;
  };
}
