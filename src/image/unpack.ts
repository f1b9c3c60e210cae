/**
 * Unpack an image from the store into a directory tree, unprivileged, for
 * runtimes that run a plain directory (charliecloud's ch-run). Layers are
 * applied in order with the OCI rules (image-spec layer.md): `.wh.NAME`
 * deletes NAME from lower layers, `.wh..wh..opq` hides a directory's lower
 * contents, a later entry replaces an earlier one.
 *
 * Safety: every member's parent is resolved inside the root, following
 * symlinks the way a chroot would (an absolute link restarts at the root,
 * `..` stops at it), so a layer cannot write outside the tree however its
 * links point (the `securejoin` rule container runtimes apply).
 *
 * Unprivileged limits, by design: files belong to the user who unpacks;
 * directories keep u+rwx so the tree can be filled and removed again;
 * device nodes and FIFOs are skipped (ch-run binds the host's /dev).
 * File mtimes are kept: Python compares them to decide whether a .pyc is stale.
 *
 * Modes (SAFE_MODE_BITS): setuid, setgid, sticky and group/world write bits
 * are dropped. The trees exist to be read (the audit's bases) or to be run by
 * ch-run, which runs as the invoking user in an unprivileged user namespace
 * where that user is the only one: a setuid bit there changes the effective
 * user to the file's owner, the same user, and group/world write grants
 * nothing to anyone inside. On the host, the same bits would let any local
 * user who reaches the tree run the unpacker's `su` as the unpacker (root,
 * for a root build's audit) or rewrite what an artist later runs. The trees
 * live under owner-only folders (makeOwnerOnly; the run cache is 0700 too).
 */
import { createWriteStream, lstatSync, readlinkSync } from "node:fs";
import { chmod, link, lstat, mkdir, readdir, rename, rm, symlink, utimes, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { pipeline } from "node:stream/promises";
import { randomBytes } from "node:crypto";
import { TantalusError } from "../errors.js";
import { makeDirs } from "../util/dirs.js";
import type { BlobReader } from "./layout/interfaces.js";
import type { ResolvedImage } from "./types.js";
import { forEachLayerMember } from "./layer/reader.js";
import { checkLinkTarget, whiteoutOf } from "./member-name.js";

/** Permission bits an unpacked tree keeps: rwx for the owner, r-x for others; never s, t or g/o w. */
export const SAFE_MODE_BITS = 0o755;

/**
 * Create `dir` if missing and make it traversable by its owner only, so the
 * trees unpacked in it are out of other users' reach whatever their modes.
 */
export async function makeOwnerOnly(dir: string): Promise<void> {
  await makeDirs(dir, 0o700);
  await chmod(dir, 0o700);
}

/**
 * Paths a runtime binds over, created (empty) in the tree when the image
 * lacks them, before the tree appears at its destination: a runtime that
 * runs the directory (ch-run) refuses a bind whose destination is missing.
 */
export interface MountPoints {
  directories: readonly string[];
  files: readonly string[];
}

export interface UnpackStats {
  layers: number;
  entries: number;
  skipped: string[];
}

class Tree {
  private readonly parents = new Map<string, string>();
  constructor(readonly root: string) {}

  /** Host path of `rel` with every component but (unless followLast) the last resolved inside the root. */
  resolve(rel: string, followLast: boolean): string {
    const queue = rel.split("/").filter((p) => p !== "" && p !== ".");
    const cur: string[] = [];
    let links = 0;
    while (queue.length > 0) {
      const part = queue.shift()!;
      if (part === "..") {
        cur.pop();
        continue;
      }
      if (queue.length === 0 && !followLast) {
        cur.push(part);
        break;
      }
      const abs = join(this.root, ...cur, part);
      let isLink: boolean;
      try {
        isLink = lstatSync(abs).isSymbolicLink();
      } catch {
        isLink = false;
      }
      if (!isLink) {
        cur.push(part);
        continue;
      }
      if (++links > 255) throw new TantalusError(`${rel}: too many levels of symbolic links in the image`);
      const target = readlinkSync(abs);
      if (target.startsWith("/")) cur.length = 0;
      queue.unshift(...target.split("/").filter((p) => p !== "" && p !== "."));
    }
    return join(this.root, ...cur);
  }

  /** Host path for member `name`: its parent resolved (cached), its last component literal. */
  place(name: string): string {
    const parent = dirname(name) === "." ? "" : dirname(name);
    let dir = this.parents.get(parent);
    if (dir === undefined) {
      dir = this.resolve(parent, true);
      this.parents.set(parent, dir);
    }
    return join(dir, basename(name));
  }

  /** Symlinks or removals change what paths resolve to. */
  invalidate(): void {
    this.parents.clear();
  }
}

async function existing(path: string) {
  try {
    return await lstat(path);
  } catch {
    return undefined;
  }
}

async function ensureDir(path: string, root: string): Promise<void> {
  const st = await existing(path);
  if (st?.isDirectory()) return;
  if (st) await rm(path, { recursive: true, force: true });
  if (path !== root) await ensureDir(dirname(path), root);
  await mkdir(path, { mode: 0o755 });
}

/**
 * Apply the image's layers into `dest`, which must not exist yet; the tree
 * appears there complete (with `mountPoints`) or not at all.
 */
export async function unpackImage(
  store: BlobReader,
  image: ResolvedImage,
  dest: string,
  mountPoints: MountPoints = { directories: [], files: [] },
): Promise<UnpackStats> {
  const tmp = join(dirname(dest), `.${basename(dest)}.unpack-${process.pid}-${randomBytes(4).toString("hex")}`);
  // Owner-only while it fills; opened up (still under an owner-only parent) once complete.
  await makeDirs(tmp, 0o700);
  const stats: UnpackStats = { layers: 0, entries: 0, skipped: [] };
  try {
    const tree = new Tree(tmp);
    for (const layer of image.manifest.layers) {
      await applyLayer(store, layer, tree, stats);
      stats.layers++;
    }
    await addMountPoints(tree, mountPoints);
    await chmod(tmp, 0o755);
    await rename(tmp, dest).catch(async (e: NodeJS.ErrnoException) => {
      // Another run unpacked the same image first: keep theirs.
      if (e.code !== "ENOTEMPTY" && e.code !== "EEXIST") throw e;
      await rm(tmp, { recursive: true, force: true });
    });
    return stats;
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}

async function applyLayer(
  store: BlobReader,
  layer: ResolvedImage["manifest"]["layers"][number],
  tree: Tree,
  stats: UnpackStats,
): Promise<void> {
  const added = new Set<string>();
  const archive = `layer ${layer.digest}`;
  await forEachLayerMember(store, layer, async ({ name, header, stream }) => {
    if (name === "") return;
    const whiteout = whiteoutOf(name, archive, header.name);
    if (whiteout) {
      if (whiteout.kind === "aufs-metadata") return;
      const dir = tree.resolve(whiteout.dir, true);
      if (dir !== tree.root && !dir.startsWith(tree.root + "/"))
        throw new TantalusError(`${archive}: member ${JSON.stringify(header.name)} resolves outside the image`);
      if (whiteout.kind === "opaque") {
        for (const child of await readdir(dir).catch(() => [] as string[])) {
          const p = join(dir, child);
          if (!added.has(p)) await rm(p, { recursive: true, force: true });
        }
      } else {
        await rm(join(dir, whiteout.target), { recursive: true, force: true });
      }
      tree.invalidate();
      return;
    }
    const path = tree.place(name);
    if (!path.startsWith(tree.root + "/"))
      throw new TantalusError(`${archive}: member ${JSON.stringify(header.name)} resolves outside the image`);
    const mode = (header.mode ?? 0o644) & SAFE_MODE_BITS;
    const st = await existing(path);
    const replace = async () => {
      if (st) {
        await rm(path, { recursive: true, force: true });
        tree.invalidate();
      }
    };
    await ensureDir(dirname(path), tree.root);
    stats.entries++;
    switch (header.type) {
      case "directory":
        if (st && !st.isDirectory()) await replace();
        if (!st || !st.isDirectory()) await mkdir(path);
        await chmod(path, mode | 0o700);
        break;
      case "file":
      case "contiguous-file": {
        await replace();
        // "wx": never through whatever might sit at the path (replace() removed it).
        // Iterated, not piped: when the layer breaks off inside this member, the
        // entry is destroyed (perhaps before this line runs), and Node's pipeline
        // never settles on a destroyed tar-stream entry while its iterator rejects.
        await pipeline(chunksOf(stream), createWriteStream(path, { mode: 0o600, flags: "wx" }));
        await chmod(path, mode);
        if (header.mtime) await utimes(path, header.mtime, header.mtime);
        break;
      }
      case "symlink":
        await replace();
        await symlink(header.linkname ?? "", path);
        tree.invalidate();
        break;
      case "link": {
        // The target is resolved inside the tree like any member, and must be a
        // file (or link) an earlier member made: link(2) does not follow a
        // final symlink, so a link to a planted symlink stays a link.
        const target = tree.place(checkLinkTarget(header.linkname ?? "", header.name, archive));
        const tst = target.startsWith(tree.root + "/") ? await existing(target) : undefined;
        if (!tst || tst.isDirectory()) {
          throw new TantalusError(
            `${archive}: hard link ${JSON.stringify(header.name)} points to ${JSON.stringify(header.linkname)}, which is not a file earlier in the image`,
          );
        }
        if (target === path) break; // a link to itself: already there
        await replace();
        await link(target, path);
        break;
      }
      default:
        stats.entries--;
        stats.skipped.push(`${name} (${header.type})`);
        return;
    }
    added.add(path);
  });
}

async function* chunksOf(stream: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  for await (const chunk of stream) yield chunk;
}

async function addMountPoints(tree: Tree, mountPoints: MountPoints): Promise<void> {
  for (const d of mountPoints.directories) {
    const p = tree.resolve(d, true);
    if (!(await existing(p))) await mkdir(p, { recursive: true, mode: 0o755 });
  }
  for (const f of mountPoints.files) {
    const p = tree.resolve(f, true);
    if (await existing(p)) continue;
    await mkdir(dirname(p), { recursive: true });
    await writeFile(p, "");
  }
}

/**
 * Make `target` (a directory, or a file when `file`) exist inside an
 * unpacked tree so a bind can land on it; created inside the root only.
 */
export async function ensureMountPoint(root: string, target: string, file: boolean): Promise<void> {
  const tree = new Tree(root);
  const p = tree.resolve(target, true);
  if (!p.startsWith(root)) return;
  if (await existing(p)) return;
  if (file) {
    await mkdir(dirname(p), { recursive: true });
    await writeFile(p, "");
  } else await mkdir(p, { recursive: true });
}
