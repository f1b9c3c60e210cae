/**
 * Cheap identity of layer sources for the layer cache: metadata only, no
 * file content is read. A tree's fingerprint covers, for every entry in
 * sorted order: relative path, type, mode, size, mtime and ctime (ns), inode
 * and symlink target. Rewriting a file changes its mtime/ctime (or inode when
 * replaced by rename), so an installed Rez variant that is re-released gets a
 * new fingerprint while an untouched one keeps it, even across processes.
 * ctime also catches edits that restore the mtime (cp -p onto a file).
 */
import { createHash, type Hash } from "node:crypto";
import type { BigIntStats } from "node:fs";
import { lstat, readdir, readlink, stat } from "node:fs/promises";
import { join } from "node:path";
import { TantalusError } from "../../errors.js";
import { checkUtf8Names } from "../../util/file-names.js";
import { canonicalJson } from "../canonical-json.js";
import { sha256, type Digest } from "../digest.js";
import type { LayerSpec } from "./spec.js";

export async function fingerprintTree(dir: string, opts: { followRoot?: boolean } = {}): Promise<Digest> {
  const h = createHash("sha256");
  let st: BigIntStats;
  try {
    // A tree source follows a symlinked root (as planLayer does); a hostFile source does not.
    st = opts.followRoot === false ? await lstat(dir, { bigint: true }) : await stat(dir, { bigint: true });
  } catch (e) {
    throw new TantalusError(`cannot fingerprint ${dir}: ${(e as Error).message}`);
  }
  await hashEntry(h, dir, ".", st);
  return `sha256:${h.digest("hex")}`;
}

async function hashEntry(h: Hash, path: string, rel: string, st: BigIntStats): Promise<void> {
  const type = st.isDirectory() ? "d" : st.isFile() ? "f" : st.isSymbolicLink() ? "l" : "o";
  const link = type === "l" ? await readlink(path) : "";
  h.update(
    `${rel}\0${type}\0${(st.mode & 0o7777n).toString(8)}\0${st.size}\0${st.mtimeNs}\0${st.ctimeNs}\0${st.ino}\0${link}\n`,
  );
  if (type !== "d") return;
  const names = (await readdir(path)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  checkUtf8Names(path, names);
  const stats = await Promise.all(names.map((n) => lstat(join(path, n), { bigint: true })));
  for (let i = 0; i < names.length; i++)
    await hashEntry(h, join(path, names[i]!), rel === "." ? names[i]! : `${rel}/${names[i]}`, stats[i]!);
}

/** A cache key for a whole LayerSpec: tree fingerprints, generated content hashes, modes and image paths, in spec order. */
export async function fingerprintLayerSpec(spec: LayerSpec): Promise<string> {
  const parts: unknown[] = [];
  for (const s of spec.entries) {
    switch (s.type) {
      case "tree":
        parts.push({ t: "tree", path: s.path, fp: await fingerprintTree(s.source) });
        break;
      case "hostFile":
        parts.push({
          t: "hostFile",
          path: s.path,
          mode: s.mode,
          fp: await fingerprintTree(s.source, { followRoot: false }),
        });
        break;
      case "file":
        parts.push({
          t: "file",
          path: s.path,
          mode: s.mode ?? null,
          content: sha256(typeof s.content === "string" ? Buffer.from(s.content) : s.content),
        });
        break;
      case "directory":
        parts.push({ t: "dir", path: s.path, mode: s.mode ?? null });
        break;
      case "symlink":
        parts.push({ t: "symlink", path: s.path, target: s.linkTarget });
        break;
    }
  }
  return sha256(canonicalJson(parts));
}
