/** Shared fixtures for the image tests: temp dirs, a tree with every entry kind, tree snapshots. */
import { createHash } from "node:crypto";
import { execFileSync, spawnSync } from "node:child_process";
import {
  chmod,
  link,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  symlink,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export async function tempDir(
  t: { after: (fn: () => Promise<void>) => void },
  prefix = "tantalus-image-",
): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export const LONG_COMPONENT = "c".repeat(120); // > 100 bytes in one name: needs PAX
export const LONG_DIRS = ["d".repeat(60), "e".repeat(60), "f".repeat(60)]; // > 155 bytes of prefix: needs PAX
export const NON_ASCII = "scène_été_日本.txt";

/**
 * A tree with a regular file, an executable, a 0600 file, an empty file, an
 * empty dir, a symlink (relative) and one to a directory, a hardlink pair, a
 * long single name, a long path, a non-ASCII name and a >1 MiB file (streamed).
 */
export async function makeTree(root: string): Promise<void> {
  await mkdir(join(root, "bin"), { recursive: true });
  await mkdir(join(root, "lib", "python3.11", "site-packages"), { recursive: true });
  await mkdir(join(root, "empty"), { recursive: true });
  await mkdir(join(root, ...LONG_DIRS), { recursive: true });
  await writeFile(join(root, "bin", "tool"), "#!/bin/sh\necho tool\n");
  await chmod(join(root, "bin", "tool"), 0o755);
  await writeFile(join(root, "lib", "libfoo.so.1.2"), Buffer.alloc(5000, 7));
  await symlink("libfoo.so.1.2", join(root, "lib", "libfoo.so.1"));
  await symlink("lib/python3.11", join(root, "pylink"));
  await writeFile(join(root, "lib", "python3.11", "site-packages", "mod.py"), "print('hi')\n");
  await link(join(root, "lib", "python3.11", "site-packages", "mod.py"), join(root, "bin", "mod-hardlink.py"));
  await writeFile(join(root, "secret.key"), "k");
  await chmod(join(root, "secret.key"), 0o600);
  await writeFile(join(root, "zero"), "");
  await writeFile(join(root, LONG_COMPONENT), "long name\n");
  await writeFile(join(root, ...LONG_DIRS, "deep.txt"), "deep\n");
  await writeFile(join(root, NON_ASCII), "unicode\n");
  const big = Buffer.alloc(3 * 1024 * 1024 + 17);
  for (let i = 0; i < big.length; i++) big[i] = (i * 2654435761) >>> 24;
  await writeFile(join(root, "lib", "big.bin"), big);
  // Directories get modes on purpose different from the default.
  await chmod(join(root, "empty"), 0o700);
}

export interface TreeItem {
  type: "dir" | "file" | "symlink";
  mode: number;
  sha?: string;
  link?: string;
  /** Index of the hardlink group (files sharing an inode), for files with nlink > 1. */
  inode?: number;
}

/** path → item, plus hardlink groups expressed as the sorted list of paths per inode. */
export async function snapshotTree(root: string): Promise<{ items: Record<string, TreeItem>; hardlinks: string[][] }> {
  const items: Record<string, TreeItem> = {};
  const byIno = new Map<string, string[]>();
  const walk = async (dir: string, rel: string) => {
    for (const name of (await readdir(dir)).sort()) {
      const p = join(dir, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = await lstat(p);
      if (st.isDirectory()) {
        items[r] = { type: "dir", mode: st.mode & 0o7777 };
        await walk(p, r);
      } else if (st.isSymbolicLink()) {
        items[r] = { type: "symlink", mode: 0o777, link: await readlink(p) };
      } else {
        items[r] = {
          type: "file",
          mode: st.mode & 0o7777,
          sha: createHash("sha256")
            .update(await readFile(p))
            .digest("hex"),
        };
        if (st.nlink > 1) byIno.set(`${st.dev}:${st.ino}`, [...(byIno.get(`${st.dev}:${st.ino}`) ?? []), r]);
      }
    }
  };
  await walk(root, "");
  const hardlinks = [...byIno.values()].map((g) => g.sort()).sort();
  return { items, hardlinks };
}

export function hasTool(name: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore" }).status === 0;
}

export function run(cmd: string, args: string[], opts: { cwd?: string; input?: string } = {}): string {
  return execFileSync(cmd, args, { encoding: "utf8", stdio: ["pipe", "pipe", "pipe"], maxBuffer: 64 << 20, ...opts });
}

/** A tar of busybox + applet symlinks, made with GNU tar: the smallest base image with a shell. */
export async function makeBusyboxRootfs(dir: string): Promise<string> {
  const root = join(dir, "busybox-root");
  await mkdir(join(root, "bin"), { recursive: true });
  await writeFile(join(root, "bin", "busybox"), await readFile("/bin/busybox"));
  await chmod(join(root, "bin", "busybox"), 0o755);
  for (const applet of ["sh", "cat", "ls", "stat", "id", "env", "true", "readlink"])
    await symlink("busybox", join(root, "bin", applet));
  const tarball = join(dir, "busybox-rootfs.tar.gz");
  run("tar", [
    "--sort=name",
    "--owner=0",
    "--group=0",
    "--numeric-owner",
    "--mtime=@1",
    "-C",
    root,
    "-czf",
    tarball,
    ".",
  ]);
  return tarball;
}
