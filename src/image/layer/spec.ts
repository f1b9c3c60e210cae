/**
 * What goes into a layer: host directory trees placed at image paths, single
 * host files, and generated entries (files, directories, symlinks). Image
 * paths are absolute POSIX paths inside the container.
 */
import { posix } from "node:path";
import { TantalusError } from "../../errors.js";

export type LayerSource =
  /** Copy the contents of host directory `source` to image directory `path` (which takes `source`'s mode). */
  | { type: "tree"; source: string; path: string }
  /** Copy one host file (or symlink, kept as a symlink) to `path`; `mode` overrides the permission bits. */
  | { type: "hostFile"; source: string; path: string; mode?: number }
  /** A generated regular file. Default mode 0644. */
  | { type: "file"; path: string; content: Buffer | string; mode?: number }
  /** An explicit (possibly empty) directory. Default mode 0755. */
  | { type: "directory"; path: string; mode?: number }
  | { type: "symlink"; path: string; linkTarget: string };

export interface LayerSpec {
  entries: LayerSource[];
}

/**
 * `/a/./b/` → `a/b` (tar member names are relative). The root is "".
 * Rejects `..` escapes and whiteout names (`.wh.*`), which a runtime would
 * interpret as deletions of lower-layer files.
 */
export function normalizeImagePath(p: string, what: string): string {
  if (p.length === 0) throw new TantalusError(`${what}: empty image path`);
  if (p.includes("\0")) throw new TantalusError(`${what}: image path contains a NUL byte`);
  if (p.split("/").includes(".."))
    throw new TantalusError(`${what}: image path ${JSON.stringify(p)} contains "..", which could escape the root`);
  const norm = posix.normalize("/" + p);
  const rel = norm === "/" ? "" : norm.replace(/^\/+/, "").replace(/\/+$/, "");
  for (const part of rel.split("/")) {
    if (part.startsWith(".wh."))
      throw new TantalusError(
        `${what}: ${JSON.stringify(p)} has a component starting with ".wh.", which OCI runtimes treat as a whiteout`,
      );
  }
  return rel;
}

export function describeSource(s: LayerSource): string {
  switch (s.type) {
    case "tree":
      return `tree ${s.source} -> /${normalizeImagePath(s.path, "tree")}`;
    case "hostFile":
      return `file ${s.source} -> ${s.path}`;
    case "file":
      return `generated file ${s.path}`;
    case "directory":
      return `directory ${s.path}`;
    case "symlink":
      return `symlink ${s.path} -> ${s.linkTarget}`;
  }
}
