/**
 * A base image is untrusted content, and `tantalus build` often runs as root:
 * the trees unpacked for the audit must not hand other local users a
 * setuid-root `su`, a device node or a world-writable file.
 */
import assert from "node:assert/strict";
import { lstatSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { loadBaseImage } from "../src/audit/workflow/base.js";
import { tempDir } from "./image/helpers.js";
import { tarOf } from "./hostile-tar.js";

function walk(root: string, rel = ""): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(root, rel))) {
    const r = rel ? `${rel}/${name}` : name;
    out.push(r);
    if (lstatSync(join(root, r)).isDirectory()) out.push(...walk(root, r));
  }
  return out;
}

/** The audit unpacks bases into the per-user cache (src/locations.ts): a cache of the test's own. */
function useCache(t: { after: (fn: () => void) => void }, dir: string): string {
  const before = process.env.TANTALUS_CACHE_DIR;
  process.env.TANTALUS_CACHE_DIR = join(dir, "cache");
  t.after(() => {
    if (before === undefined) delete process.env.TANTALUS_CACHE_DIR;
    else process.env.TANTALUS_CACHE_DIR = before;
  });
  return join(dir, "cache", "audit", "rootfs");
}

test("a base's setuid, setgid, device and world-writable members never reach the audit's unpacked tree, which only its owner can reach", async (t) => {
  const dir = await tempDir(t, "tantalus-audit-hostile-");
  const parent = useCache(t, dir);
  const tarball = join(dir, "base.tar");
  writeFileSync(
    tarball,
    await tarOf([
      { name: "etc/", type: "directory" },
      { name: "etc/os-release", body: "ID=debian\n" },
      { name: "usr/bin/su", body: "#!/bin/sh\n", mode: 0o4755, uid: 0, gid: 0 },
      { name: "usr/bin/wall", body: "#!/bin/sh\n", mode: 0o2755, uid: 0, gid: 5 },
      { name: "usr/bin/both", body: "#!/bin/sh\n", mode: 0o6777 },
      { name: "var/world", body: "w", mode: 0o666 },
      { name: "tmp/", type: "directory", mode: 0o1777 },
      { name: "srv/", type: "directory", mode: 0o2777 },
      { name: "dev/null", type: "character-device", mode: 0o666, devmajor: 1, devminor: 3 },
      { name: "dev/sda", type: "block-device", mode: 0o660, devmajor: 8, devminor: 0 },
      { name: "run/initctl", type: "fifo", mode: 0o600 },
    ]),
  );
  const store = join(dir, "store");
  const base = await loadBaseImage("rootfs:base.tar", { store, configDir: dir });
  assert.equal(statSync(parent).mode & 0o777, 0o700, "the folder of unpacked bases is owner-only");
  const [tree, ...others] = readdirSync(parent).filter((n) => !n.endsWith(".stores"));
  assert.equal(others.length, 0);
  const root = join(parent, tree!);
  assert.match(base.description, /unpacked in/);
  const members = walk(root);
  for (const m of ["usr/bin/su", "usr/bin/wall", "usr/bin/both", "var/world", "tmp", "srv"])
    assert.ok(members.includes(m), `${m} is unpacked`);
  for (const m of ["dev/null", "dev/sda", "run/initctl"]) assert.ok(!members.includes(m), `${m} is not unpacked`);
  for (const m of members) {
    const st = lstatSync(join(root, m));
    if (st.isSymbolicLink()) continue;
    assert.ok(st.isFile() || st.isDirectory(), `${m} is a file or a folder`);
    assert.equal(
      st.mode & 0o7022,
      0,
      `${m} (mode ${(st.mode & 0o7777).toString(8)}) has no setuid, setgid, sticky, group- or world-write bit`,
    );
  }
  assert.equal(statSync(join(root, "usr/bin/su")).mode & 0o777, 0o755, "the permission bits themselves are kept");
});

test("a tree an older unpacker left traversable is shut to other users the next time the audit uses it", async (t) => {
  const dir = await tempDir(t, "tantalus-audit-hostile-");
  const parent = useCache(t, dir);
  const tarball = join(dir, "base.tar");
  writeFileSync(tarball, await tarOf([{ name: "etc/os-release", body: "ID=debian\n" }]));
  const store = join(dir, "store");
  await loadBaseImage("rootfs:base.tar", { store, configDir: dir });
  const { chmodSync } = await import("node:fs");
  chmodSync(parent, 0o755);
  await loadBaseImage("rootfs:base.tar", { store, configDir: dir });
  assert.equal(statSync(parent).mode & 0o777, 0o700);
});
