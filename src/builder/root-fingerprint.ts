/**
 * The fingerprint of an install root as the layer cache keys it (see
 * fingerprint.ts): per entry, in sorted order, path, type, mode, size, mtime
 * and ctime in ns, inode and link target; no content is read. Its own module
 * with node built-ins only, because `tantalus run` checks the roots of a
 * workflow's image with it on every launch (stamp.ts) and must not load the
 * planner or the image code for that.
 */
import { createHash, type Hash } from "node:crypto";
import { lstatSync, readdirSync, readlinkSync, statSync, type BigIntStats } from "node:fs";
import { join } from "node:path";
import { TantalusError } from "../errors.js";
import type { Digest } from "../image/digest.js";
import { checkUtf8Names } from "../util/file-names.js";

export function fingerprintPath(path: string, opts: { followRoot?: boolean } = {}): Digest {
  const h = createHash("sha256");
  let st: BigIntStats;
  try {
    st = opts.followRoot === false ? lstatSync(path, { bigint: true }) : statSync(path, { bigint: true });
  } catch (e) {
    throw new TantalusError(`cannot fingerprint ${path}: ${(e as Error).message}`);
  }
  hashEntry(h, path, ".", st);
  return `sha256:${h.digest("hex")}`;
}

/** Sizes as the planner measures them (RootMeasurer): regular files, a hard-linked file once. */
export interface Tally {
  bytes: number;
  files: number;
  inodes: Set<string>;
}

export function hashEntry(h: Hash, path: string, rel: string, st: BigIntStats, tally?: Tally): void {
  const type = st.isDirectory() ? "d" : st.isFile() ? "f" : st.isSymbolicLink() ? "l" : "o";
  const link = type === "l" ? readlinkSync(path) : "";
  h.update(
    `${rel}\0${type}\0${(st.mode & 0o7777n).toString(8)}\0${st.size}\0${st.mtimeNs}\0${st.ctimeNs}\0${st.ino}\0${link}\n`,
  );
  if (tally && type === "f" && rel !== ".") {
    const id = `${st.dev}:${st.ino}`;
    if (st.nlink <= 1n || !tally.inodes.has(id)) {
      if (st.nlink > 1n) tally.inodes.add(id);
      tally.bytes += Number(st.size);
      tally.files++;
    }
  }
  if (type !== "d") return;
  const names = readdirSync(path).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  checkUtf8Names(path, names);
  for (const name of names) {
    const p = join(path, name);
    hashEntry(h, p, rel === "." ? name : `${rel}/${name}`, lstatSync(p, { bigint: true }), tally);
  }
}
