import assert from "node:assert/strict";
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { gzipSync } from "node:zlib";
import tar from "tar-stream";
import { MediaType, OciStore, sha256, unpackImage, writeImage, type LayerDescriptor } from "../../src/image/index.js";
import { CHARLIECLOUD_MOUNT_POINTS } from "../../src/run/runtimes/charliecloud.js";

type E = {
  name: string;
  type?: "file" | "directory" | "symlink" | "link" | "fifo";
  body?: string;
  mode?: number;
  linkname?: string;
  mtime?: Date;
};

async function tarOf(entries: E[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of pack) chunks.push(c as Buffer);
  })();
  for (const e of entries) {
    const type = e.type ?? "file";
    await new Promise<void>((resolve, reject) =>
      pack.entry(
        {
          name: e.name,
          type,
          mode: e.mode ?? (type === "directory" ? 0o755 : 0o644),
          linkname: e.linkname,
          mtime: e.mtime ?? new Date(1000),
        },
        type === "file" ? (e.body ?? "") : "",
        (err) => (err ? reject(err) : resolve()),
      ),
    );
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

async function layer(store: OciStore, entries: E[], gzip = false): Promise<LayerDescriptor> {
  const raw = await tarOf(entries);
  const blob = gzip ? gzipSync(raw) : raw;
  const { digest, size } = await store.putBlob(blob);
  return { mediaType: gzip ? MediaType.LayerGzip : MediaType.Layer, digest, size, diffId: sha256(raw) };
}

test("unpacking applies layers in order with OCI whiteouts, keeps links and mtimes, and never writes outside the tree", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "tantalus-run-unpack-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const store = await OciStore.open(join(dir, "store"));
  const l1 = await layer(store, [
    { name: "etc/", type: "directory" },
    { name: "etc/passwd", body: "root:x:0:0::/root:/bin/sh\n" },
    { name: "etc/motd", body: "old\n" },
    { name: "usr/bin/tool", body: "#!/bin/sh\n", mode: 0o755, mtime: new Date("2020-01-02T03:04:05Z") },
    { name: "usr/bin/tool2", type: "link", linkname: "usr/bin/tool" },
    { name: "usr/lib/libx.so", body: "x" },
    { name: "lib", type: "symlink", linkname: "usr/lib" },
    { name: "opt/data/a", body: "a" },
    { name: "opt/data/b", body: "b" },
    { name: "ro/", type: "directory", mode: 0o555 },
    { name: "ro/file", body: "r", mode: 0o444 },
    { name: "pipe", type: "fifo" },
    { name: "escape", type: "symlink", linkname: "/" },
    { name: "evil", type: "symlink", linkname: "../../../../../../tmp" },
  ]);
  const l2 = await layer(store, [
    { name: "opt/data/.wh.a" },
    { name: "etc/hosts", body: "127.0.0.1 localhost\n" },
    { name: "etc/.wh..wh..opq" },
    { name: "lib/libnew.so", body: "new" },
    { name: "evil/pwned", body: "inside" },
    { name: "escape/etc/owned", body: "inside too" },
    { name: "ro/new", body: "n" },
    { name: "usr/lib/libx.so", body: "replaced" },
  ]);
  const l3 = await layer(store, [{ name: "./opt/data/c", body: "c" }], true);
  const built = await writeImage(store, { layers: [{ layer: l1 }, { layer: l2 }, { layer: l3 }] });
  const image = await store.loadImage(built.descriptor);
  const root = join(dir, "rootfs");
  const stats = await unpackImage(store, image, root, CHARLIECLOUD_MOUNT_POINTS);
  const read = (p: string) => readFileSync(join(root, p), "utf8");

  assert.equal(stats.layers, 3);
  assert.deepEqual(stats.skipped, ["pipe (fifo)"]);
  assert.equal(existsSync(join(root, "opt/data/a")), false, ".wh.a deleted the lower file");
  assert.equal(read("opt/data/b"), "b");
  assert.equal(read("opt/data/c"), "c", "gzip layer");
  assert.equal(existsSync(join(root, "etc/motd")), false, "the opaque etc/ hid the lower files");
  assert.equal(read("etc/hosts"), "127.0.0.1 localhost\n", "the same layer's files survive its opaque marker");
  assert.equal(read("usr/lib/libnew.so"), "new", "a path through a symlinked directory lands where the link points");
  assert.equal(read("usr/lib/libx.so"), "replaced");
  assert.equal(readlinkSync(join(root, "lib")), "usr/lib");
  assert.equal(read("tmp/pwned"), "inside", "a link climbing out of the root stops at the root");
  assert.equal(read("etc/owned"), "inside too", "an absolute link restarts at the root");
  assert.equal(existsSync("/tmp/pwned"), false);
  assert.equal(statSync(join(root, "usr/bin/tool")).ino, statSync(join(root, "usr/bin/tool2")).ino, "hard link");
  assert.equal(statSync(join(root, "usr/bin/tool")).mode & 0o777, 0o755);
  assert.equal(
    statSync(join(root, "usr/bin/tool")).mtime.toISOString(),
    "2020-01-02T03:04:05.000Z",
    "mtimes kept (Python .pyc checks)",
  );
  assert.equal(statSync(join(root, "ro")).mode & 0o777, 0o755, "directories stay writable by their owner");
  assert.equal(read("ro/new"), "n");
  for (const d of ["dev", "proc", "sys", "home", "tmp"])
    assert.ok(lstatSync(join(root, d)).isDirectory(), `${d} exists for ch-run to bind over`);
  for (const f of ["etc/group", "etc/resolv.conf"])
    assert.ok(lstatSync(join(root, f)).isFile(), `${f} exists for ch-run to bind over`);
  assert.equal(
    read("etc/passwd"),
    "",
    "the lower passwd was hidden by the opaque etc/; an empty one is created for ch-run",
  );
});

test("an unpacked tree holds the image's content and only that, unless mount points are asked for", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "tantalus-run-unpack-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const store = await OciStore.open(join(dir, "store"));
  const l1 = await layer(store, [{ name: "usr/lib/libx.so", body: "x" }]);
  const image = await store.loadImage((await writeImage(store, { layers: [{ layer: l1 }] })).descriptor);
  const root = join(dir, "rootfs");
  await unpackImage(store, image, root);
  assert.deepEqual(readdirSync(root).sort(), ["usr"], "no ch-run mount points in a tree the audit reads");
  const withPoints = join(dir, "with-points");
  await unpackImage(store, image, withPoints, { directories: ["proc"], files: ["etc/hosts"] });
  assert.deepEqual(readdirSync(withPoints).sort(), ["etc", "proc", "usr"]);
  assert.equal(readFileSync(join(withPoints, "etc/hosts"), "utf8"), "");
});
