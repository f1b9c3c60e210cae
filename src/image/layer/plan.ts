/**
 * Turn a LayerSpec into the exact, ordered list of tar members. The order is
 * depth-first with siblings sorted by the bytes of their UTF-8 names (what
 * `tar --sort=name` does), so the tar depends only on names and content —
 * never on readdir order, source order or host paths.
 *
 * Merging rules across sources: a directory may come from several sources
 * (the first one that provides it explicitly sets its mode; directories only
 * implied by a deeper path are 0755); any other path provided twice is an
 * error naming both sources.
 *
 * The walk is synchronous: it runs on a layer worker thread (or for the
 * small generated layers on the main one), where a promise per lstat costs
 * several times the system call itself.
 */
import { lstatSync, readdirSync, readlinkSync, statSync, type Stats } from "node:fs";
import { join } from "node:path";
import { TantalusError } from "../../errors.js";
import { checkUtf8Names } from "../../util/file-names.js";
import { describeSource, normalizeImagePath, type LayerSource, type LayerSpec } from "./spec.js";

export type PlannedKind = "directory" | "file" | "symlink" | "link";

export interface PlannedEntry {
  /** Member name without leading slash; directories without trailing slash. */
  name: string;
  kind: PlannedKind;
  /** Permission bits (07777). */
  mode: number;
  /** Regular files: byte length. */
  size: number;
  /** Regular files read from the host. */
  hostPath?: string;
  /** Host files: mtime when listed, to detect a file rewritten while it is archived. */
  mtimeMs?: number;
  /** Generated regular files. */
  content?: Buffer;
  /** Symlink target, or for `link` the member name of the first occurrence. */
  linkTarget?: string;
}

export interface LayerPlan {
  entries: PlannedEntry[];
  /** Sum of regular-file sizes. */
  contentBytes: number;
  warnings: string[];
}

interface Node {
  name: string;
  kind: "directory" | "file" | "symlink";
  mode: number;
  size: number;
  hostPath?: string;
  mtimeMs?: number;
  content?: Buffer;
  linkTarget?: string;
  /** dev:ino of a host file with more than one link. */
  inode?: string;
  origin: string;
  /** Directories only: false while the directory is only implied by a child. */
  explicit: boolean;
  children?: Map<string, Node>;
}

const DEFAULT_DIR_MODE = 0o755;
const DEFAULT_FILE_MODE = 0o644;

export function planLayer(spec: LayerSpec, onWarning?: (msg: string) => void): LayerPlan {
  const warnings: string[] = [];
  const warn = (msg: string) => {
    warnings.push(msg);
    onWarning?.(msg);
  };
  const root: Node = {
    name: "",
    kind: "directory",
    mode: DEFAULT_DIR_MODE,
    size: 0,
    origin: "root",
    explicit: true,
    children: new Map(),
  };
  for (const source of spec.entries) addSource(root, source, warn);

  const entries: PlannedEntry[] = [];
  const firstByInode = new Map<string, string>();
  let contentBytes = 0;
  const emit = (node: Node) => {
    if (node !== root) {
      if (node.kind === "file" && node.inode !== undefined) {
        const first = firstByInode.get(node.inode);
        if (first !== undefined) {
          entries.push({ name: node.name, kind: "link", mode: node.mode, size: 0, linkTarget: first });
          return;
        }
        firstByInode.set(node.inode, node.name);
      }
      const e: PlannedEntry = { name: node.name, kind: node.kind, mode: node.mode, size: node.size };
      if (node.kind === "file" && node.hostPath !== undefined) {
        e.hostPath = node.hostPath;
        e.mtimeMs = node.mtimeMs!;
      }
      if (node.content !== undefined) e.content = node.content;
      if (node.linkTarget !== undefined) e.linkTarget = node.linkTarget;
      if (node.kind === "file") contentBytes += node.size;
      entries.push(e);
    }
    if (node.children) for (const child of sortedChildren(node.children)) emit(child);
  };
  emit(root);
  return { entries, contentBytes, warnings };
}

function sortedChildren(children: Map<string, Node>): Node[] {
  const keyed = [...children.entries()].map(([k, n]) => ({ k: Buffer.from(k, "utf8"), n }));
  keyed.sort((a, b) => Buffer.compare(a.k, b.k));
  return keyed.map((x) => x.n);
}

function addSource(root: Node, source: LayerSource, warn: (m: string) => void): void {
  const origin = describeSource(source);
  switch (source.type) {
    case "file": {
      const content = typeof source.content === "string" ? Buffer.from(source.content, "utf8") : source.content;
      insert(root, normalizeImagePath(source.path, origin), {
        kind: "file",
        mode: (source.mode ?? DEFAULT_FILE_MODE) & 0o7777,
        size: content.length,
        content,
        origin,
        explicit: true,
      });
      return;
    }
    case "directory":
      insert(root, normalizeImagePath(source.path, origin), {
        kind: "directory",
        mode: (source.mode ?? DEFAULT_DIR_MODE) & 0o7777,
        size: 0,
        origin,
        explicit: true,
      });
      return;
    case "symlink":
      if (source.linkTarget.length === 0) throw new TantalusError(`${origin}: empty symlink target`);
      insert(root, normalizeImagePath(source.path, origin), {
        kind: "symlink",
        mode: 0o777,
        size: 0,
        linkTarget: source.linkTarget,
        origin,
        explicit: true,
      });
      return;
    case "hostFile": {
      const st = lstatOrThrow(source.source, origin);
      const name = normalizeImagePath(source.path, origin);
      const node = hostNode(source.source, st, origin, warn);
      if (!node) return;
      if (node.kind === "directory")
        throw new TantalusError(`${origin}: ${source.source} is a directory; use a "tree" source`);
      if (source.mode !== undefined && node.kind === "file") node.mode = source.mode & 0o7777;
      insert(root, name, node);
      return;
    }
    case "tree": {
      const name = normalizeImagePath(source.path, origin);
      let st: Stats;
      try {
        st = statSync(source.source);
      } catch (e) {
        throw new TantalusError(`${origin}: cannot read ${source.source}: ${(e as Error).message}`);
      }
      if (!st.isDirectory()) throw new TantalusError(`${origin}: ${source.source} is not a directory`);
      const dirNode = insert(root, name, {
        kind: "directory",
        mode: st.mode & 0o7777,
        size: 0,
        origin,
        explicit: true,
      });
      walkInto(dirNode, source.source, origin, warn);
      return;
    }
  }
}

function walkInto(dir: Node, hostDir: string, origin: string, warn: (m: string) => void): void {
  let names: string[];
  try {
    names = readdirSync(hostDir);
  } catch (e) {
    throw new TantalusError(`${origin}: cannot list ${hostDir}: ${(e as Error).message}`);
  }
  checkUtf8Names(hostDir, names, origin);
  for (const n of names) {
    const hostPath = join(hostDir, n);
    const st = lstatOrThrow(hostPath, origin);
    if (n.startsWith(".wh."))
      throw new TantalusError(
        `${origin}: ${hostPath}: names starting with ".wh." are OCI whiteouts and cannot be stored in a layer`,
      );
    const node = hostNode(hostPath, st, origin, warn);
    if (!node) continue;
    const child = insert(dir, n, node, dir.name);
    if (child.kind === "directory") walkInto(child, hostPath, origin, warn);
  }
}

function hostNode(
  hostPath: string,
  st: Stats,
  origin: string,
  warn: (m: string) => void,
): Omit<Node, "name"> | undefined {
  const mode = st.mode & 0o7777;
  if (st.isDirectory()) return { kind: "directory", mode, size: 0, origin, explicit: true, hostPath };
  if (st.isFile()) {
    const node: Omit<Node, "name"> = {
      kind: "file",
      mode,
      size: st.size,
      hostPath,
      mtimeMs: st.mtimeMs,
      origin,
      explicit: true,
    };
    if (st.nlink > 1) node.inode = `${st.dev}:${st.ino}`;
    return node;
  }
  if (st.isSymbolicLink()) {
    let target: string;
    try {
      target = readlinkSync(hostPath);
    } catch (e) {
      throw new TantalusError(`${origin}: cannot read symlink ${hostPath}: ${(e as Error).message}`);
    }
    return { kind: "symlink", mode: 0o777, size: 0, linkTarget: target, origin, explicit: true };
  }
  const what = st.isSocket()
    ? "socket"
    : st.isFIFO()
      ? "fifo"
      : st.isCharacterDevice()
        ? "character device"
        : st.isBlockDevice()
          ? "block device"
          : "special file";
  warn(`${origin}: skipped ${what} ${hostPath}`);
  return undefined;
}

function lstatOrThrow(path: string, origin: string): Stats {
  try {
    return lstatSync(path);
  } catch (e) {
    throw new TantalusError(`${origin}: cannot read ${path}: ${(e as Error).message}`);
  }
}

/**
 * Place `node` at `relPath` below `parent` (whose member name is `base`),
 * creating implied directories. Returns the node now at that path.
 */
function insert(parent: Node, relPath: string, node: Omit<Node, "name">, base = parent.name): Node {
  if (relPath === "") {
    if (node.kind !== "directory")
      throw new TantalusError(`${node.origin}: cannot place a ${node.kind} at the image root`);
    return parent;
  }
  const parts = relPath.split("/");
  let cur = parent;
  let curName = base;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const name = curName === "" ? part : `${curName}/${part}`;
    if (cur.kind !== "directory" || !cur.children) {
      throw new TantalusError(
        `${node.origin}: /${curName} is a ${cur.kind} (from ${cur.origin}), cannot place /${name} below it`,
      );
    }
    const last = i === parts.length - 1;
    const existing = cur.children.get(part);
    if (!last) {
      if (existing) {
        cur = existing;
      } else {
        const implied: Node = {
          name,
          kind: "directory",
          mode: DEFAULT_DIR_MODE,
          size: 0,
          origin: node.origin,
          explicit: false,
          children: new Map(),
        };
        cur.children.set(part, implied);
        cur = implied;
      }
      curName = name;
      continue;
    }
    if (existing) {
      if (existing.kind === "directory" && node.kind === "directory") {
        if (!existing.explicit && node.explicit) {
          existing.mode = node.mode;
          existing.explicit = true;
          existing.origin = node.origin;
        }
        return existing;
      }
      throw new TantalusError(`/${name} is provided twice: by ${existing.origin} and by ${node.origin}`);
    }
    const placed: Node = { ...node, name };
    if (placed.kind === "directory") placed.children = new Map();
    cur.children.set(part, placed);
    return placed;
  }
  throw new Error("unreachable");
}
