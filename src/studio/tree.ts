import { chmod, copyFile, lstat, lutimes, readdir, symlink, utimes, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { makeDirs } from "../util/dirs.js";

/** Every file, directory and symlink of the studio gets this mtime (2024-01-01T00:00:00Z). */
export const STUDIO_MTIME = 1704067200;

/**
 * Writes the studio tree and counts what it wrote. Modes and times are set
 * explicitly at the end (see finalizeTree) so the result does not depend on
 * the umask or the clock.
 */
export class TreeWriter {
  files = 0;
  bytes = 0;
  private readonly dirs = new Set<string>();

  constructor(readonly root: string) {}

  private async parent(rel: string): Promise<string> {
    const abs = join(this.root, rel);
    const dir = dirname(abs);
    if (!this.dirs.has(dir)) {
      await makeDirs(dir);
      this.dirs.add(dir);
    }
    return abs;
  }

  async write(rel: string, data: string | Buffer, mode = 0o644): Promise<void> {
    const abs = await this.parent(rel);
    await writeFile(abs, data, { flag: "wx" });
    await chmod(abs, mode);
    this.files++;
    this.bytes += typeof data === "string" ? Buffer.byteLength(data) : data.length;
  }

  async copy(rel: string, source: string, size: number, mode = 0o755): Promise<void> {
    const abs = await this.parent(rel);
    await copyFile(source, abs);
    await chmod(abs, mode);
    this.files++;
    this.bytes += size;
  }

  async symlink(rel: string, target: string): Promise<void> {
    const abs = await this.parent(rel);
    await symlink(target, abs);
    this.files++;
  }

  async mkdir(rel: string): Promise<void> {
    const abs = join(this.root, rel);
    await makeDirs(abs);
    this.dirs.add(abs);
  }
}

/** Directories 0755, and one fixed mtime on everything (symlinks included), children first. */
export async function finalizeTree(dir: string): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await finalizeTree(p);
    else if (e.isSymbolicLink()) await lutimes(p, STUDIO_MTIME, STUDIO_MTIME);
    else await utimes(p, STUDIO_MTIME, STUDIO_MTIME);
  }
  const st = await lstat(dir);
  if ((st.mode & 0o7777) !== 0o755) await chmod(dir, 0o755);
  await utimes(dir, STUDIO_MTIME, STUDIO_MTIME);
}
