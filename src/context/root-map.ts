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

/**
 * The other way, for what an image holds: the host path whose content is at an
 * image path under one of `roots` (host roots, each laid out at its mapped
 * path, as the builder lays out package layers), or undefined for a path
 * under none of them (the base image's). The innermost root wins.
 */
export function imageContentSource(
  map: Readonly<Record<string, string>>,
  roots: readonly string[],
): (imagePath: string) => string | undefined {
  const toImage = rootMapper(map);
  const entries = roots
    .map((r) => [toImage(path.resolve(r)), path.resolve(r)] as const)
    .sort((a, b) => b[0].length - a[0].length);
  return (p: string) => {
    const asked = path.posix.normalize(p);
    for (const [image, host] of entries) {
      if (asked === image) return host;
      if (asked.startsWith(image === "/" ? "/" : image + "/"))
        return host + asked.slice(image === "/" ? 0 : image.length);
    }
    return undefined;
  };
}
