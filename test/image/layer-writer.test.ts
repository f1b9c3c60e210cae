import assert from "node:assert/strict";
import { appendFileSync, statSync } from "node:fs";
import { mkdir, readdir, rm, utimes, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { Readable } from "node:stream";
import { test } from "node:test";
import { gunzipSync } from "node:zlib";
import tar from "tar-stream";
import { decompress as zstdDecompress } from "zstd-napi";
import {
  OciStore,
  fingerprintLayerSpec,
  sha256,
  writeLayer,
  type LayerSpec,
  type PlannedEntry,
} from "../../src/image/index.js";
import { LONG_COMPONENT, LONG_DIRS, NON_ASCII, makeTree, run, snapshotTree, tempDir } from "./helpers.js";

interface Member {
  name: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  mtime: number;
  linkname: string | null;
  size: number;
}

async function members(tarBytes: Buffer): Promise<Member[]> {
  const out: Member[] = [];
  const extract = tar.extract();
  Readable.from([tarBytes]).pipe(extract);
  for await (const e of extract) {
    const h = e.header;
    out.push({
      name: h.name,
      type: h.type,
      mode: h.mode,
      uid: h.uid,
      gid: h.gid,
      uname: h.uname,
      gname: h.gname,
      mtime: h.mtime.getTime(),
      linkname: h.linkname ?? null,
      size: h.size,
    });
    e.resume();
  }
  return out;
}

function treeSpec(src: string, path = "/studio/packages/usd/24.08/python-3.11"): LayerSpec {
  return { entries: [{ type: "tree", source: src, path }] };
}

test("a layer keeps files, dirs, symlinks, hardlinks and modes with normalised headers, and GNU tar extracts the same tree", async (t) => {
  const dir = await tempDir(t);
  const src = join(dir, "src");
  await makeTree(src);
  const store = await OciStore.open(join(dir, "store"));
  const res = await writeLayer(store, treeSpec(src, "/opt/pkg"), { compression: "none" });
  assert.equal(res.descriptor.digest, res.descriptor.diffId, "uncompressed: digest is the diff_id");
  const bytes = await store.readBlob(res.descriptor.digest);
  assert.equal(sha256(bytes), res.descriptor.diffId);
  const ms = await members(bytes);
  assert.equal(res.entries, ms.length);
  for (const m of ms) {
    assert.equal(m.uid, 0, m.name);
    assert.equal(m.gid, 0, m.name);
    assert.equal(m.uname, "", m.name);
    assert.equal(m.gname, "", m.name);
    assert.equal(m.mtime, 1000, m.name);
  }
  const names = ms.map((m) => m.name);
  assert.deepEqual(names.slice(0, 3), ["opt/", "opt/pkg/", "opt/pkg/bin/"], "parents first, emitted once");
  assert.equal(new Set(names).size, names.length, "no duplicate members");
  const byName = new Map(ms.map((m) => [m.name, m]));
  assert.equal(byName.get("opt/pkg/bin/tool")!.mode, 0o755);
  assert.equal(byName.get("opt/pkg/secret.key")!.mode, 0o600);
  assert.equal(byName.get("opt/pkg/empty/")!.mode, 0o700);
  assert.equal(byName.get("opt/pkg/lib/libfoo.so.1")!.type, "symlink");
  assert.equal(byName.get("opt/pkg/lib/libfoo.so.1")!.linkname, "libfoo.so.1.2");
  // First occurrence in tar order is the file, the later path is a hardlink to it.
  assert.equal(byName.get("opt/pkg/bin/mod-hardlink.py")!.type, "file");
  const hl = byName.get("opt/pkg/lib/python3.11/site-packages/mod.py")!;
  assert.equal(hl.type, "link");
  assert.equal(hl.linkname, "opt/pkg/bin/mod-hardlink.py");
  assert.ok(byName.has(`opt/pkg/${LONG_COMPONENT}`), "long single name survives (PAX)");
  assert.ok(byName.has(`opt/pkg/${LONG_DIRS.join("/")}/deep.txt`), "long path survives");
  assert.ok(byName.has(`opt/pkg/${NON_ASCII}`), "non-ASCII name survives");
  // Sibling order is byte order at every level.
  const pkgChildren = names.filter((n) => /^opt\/pkg\/[^/]+\/?$/.test(n)).map((n) => n.replace(/\/$/, "").slice(8));
  assert.deepEqual(
    pkgChildren,
    [...pkgChildren].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))),
  );

  // A real tar implementation reads it back to the same tree.
  const out = join(dir, "out");
  await mkdir(out);
  run("tar", ["-xf", store.blobPath(res.descriptor.digest), "-C", out]);
  assert.deepEqual(await snapshotTree(join(out, "opt/pkg")), await snapshotTree(src));
});

test("copies of a tree in different host dirs, built into different stores, give identical layers", async (t) => {
  const dir = await tempDir(t);
  await makeTree(join(dir, "a", "tree"));
  await mkdir(join(dir, "elsewhere", "deeper"), { recursive: true });
  run("cp", ["-a", join(dir, "a", "tree"), join(dir, "elsewhere", "deeper", "copy")]); // -a keeps hardlinks, modes, symlinks
  // Host mtimes differ; they must not matter.
  await utimes(join(dir, "elsewhere", "deeper", "copy", "zero"), new Date(5e12), new Date(5e12));
  for (const compression of ["none", "gzip", "zstd"] as const) {
    const s1 = await OciStore.open(join(dir, `s1-${compression}`));
    const s2 = await OciStore.open(join(dir, `s2-${compression}`));
    const r1 = await writeLayer(s1, treeSpec(join(dir, "a", "tree")), { compression });
    const r2 = await writeLayer(s2, treeSpec(join(dir, "elsewhere", "deeper", "copy")), { compression });
    assert.deepEqual(r1.descriptor, r2.descriptor, compression);
    assert.equal(sha256(await s1.readBlob(r1.descriptor.digest)), sha256(await s2.readBlob(r2.descriptor.digest)));
  }
});

test("gzip and zstd layers decompress to the tar their diff_id names", async (t) => {
  const dir = await tempDir(t);
  await makeTree(join(dir, "src"));
  const store = await OciStore.open(join(dir, "store"));
  const gz = await writeLayer(store, treeSpec(join(dir, "src")), { compression: "gzip", level: 1 });
  const zs = await writeLayer(store, treeSpec(join(dir, "src")), { compression: "zstd" });
  assert.equal(gz.descriptor.mediaType, "application/vnd.oci.image.layer.v1.tar+gzip");
  assert.equal(zs.descriptor.mediaType, "application/vnd.oci.image.layer.v1.tar+zstd");
  assert.equal(gz.descriptor.diffId, zs.descriptor.diffId);
  assert.equal(sha256(gunzipSync(await store.readBlob(gz.descriptor.digest))), gz.descriptor.diffId);
  assert.equal(sha256(zstdDecompress(await store.readBlob(zs.descriptor.digest))), zs.descriptor.diffId);
  assert.notEqual(gz.descriptor.digest, zs.descriptor.digest);
});

test("several sources merge into one sorted tree; explicit directory modes beat implied ones", async (t) => {
  const dir = await tempDir(t);
  await mkdir(join(dir, "usd", "lib"), { recursive: true });
  await writeFile(join(dir, "usd", "lib", "libusd.so"), "usd");
  const store = await OciStore.open(join(dir, "store"));
  const res = await writeLayer(
    store,
    {
      entries: [
        { type: "file", path: "/studio/env/activate.sh", content: "export A=1\n", mode: 0o755 },
        { type: "tree", source: join(dir, "usd"), path: "/studio/packages/usd/24.08" },
        { type: "directory", path: "/studio", mode: 0o775 },
        { type: "symlink", path: "/studio/current", linkTarget: "packages/usd/24.08" },
        { type: "hostFile", source: join(dir, "usd", "lib", "libusd.so"), path: "/opt/copy.so", mode: 0o640 },
      ],
    },
    { compression: "none" },
  );
  const ms = await members(await store.readBlob(res.descriptor.digest));
  assert.deepEqual(
    ms.map((m) => `${m.name} ${m.type} ${m.mode.toString(8)}`),
    [
      "opt/ directory 755",
      "opt/copy.so file 640",
      "studio/ directory 775",
      "studio/current symlink 777",
      "studio/env/ directory 755",
      "studio/env/activate.sh file 755",
      "studio/packages/ directory 755",
      "studio/packages/usd/ directory 755",
      `studio/packages/usd/24.08/ directory ${(statSync(join(dir, "usd")).mode & 0o7777).toString(8)}`,
      "studio/packages/usd/24.08/lib/ directory 755",
      "studio/packages/usd/24.08/lib/libusd.so file 644",
    ],
  );
});

test("a path provided by two sources is an error naming both", async (t) => {
  const dir = await tempDir(t);
  const store = await OciStore.open(join(dir, "store"));
  await assert.rejects(
    writeLayer(store, {
      entries: [
        { type: "file", path: "/etc/a", content: "1" },
        { type: "symlink", path: "etc/a", linkTarget: "b" },
      ],
    }),
    /\/etc\/a is provided twice: by generated file \/etc\/a and by symlink etc\/a -> b/,
  );
  await assert.rejects(writeLayer(store, { entries: [{ type: "file", path: "/x/.wh.y", content: "" }] }), /whiteout/);
  await assert.rejects(
    writeLayer(store, { entries: [{ type: "file", path: "/../etc/passwd", content: "" }] }),
    /contains "\.\."/,
  );
  await assert.rejects(
    writeLayer(store, {
      entries: [
        { type: "file", path: "/a", content: "" },
        { type: "file", path: "/a/b", content: "" },
      ],
    }),
    /\/a is a file/,
  );
});

test("sockets are skipped with a warning instead of failing the layer", async (t) => {
  const dir = await tempDir(t);
  await mkdir(join(dir, "src"));
  await writeFile(join(dir, "src", "keep.txt"), "x");
  const server = createServer();
  await new Promise<void>((r) => server.listen(join(dir, "src", "daemon.sock"), r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const store = await OciStore.open(join(dir, "store"));
  const seen: string[] = [];
  const res = await writeLayer(store, treeSpec(join(dir, "src"), "/x"), {
    compression: "none",
    onWarning: (m) => seen.push(m),
  });
  assert.equal(res.warnings.length, 1);
  assert.match(res.warnings[0]!, /skipped socket .*daemon\.sock/);
  assert.deepEqual(seen, res.warnings);
  assert.deepEqual(
    (await members(await store.readBlob(res.descriptor.digest))).map((m) => m.name),
    ["x/", "x/keep.txt"],
  );
});

test("layer cache: a hit reads nothing, a changed file or a lost blob misses", async (t) => {
  const dir = await tempDir(t);
  const src = join(dir, "src");
  await makeTree(src);
  const store = await OciStore.open(join(dir, "store"));
  const spec = treeSpec(src);
  let reads = 0;
  const onEntry = (e: PlannedEntry) => {
    if (e.kind === "file") reads++;
  };
  const first = await writeLayer(store, spec, { cacheKey: await fingerprintLayerSpec(spec), onEntry });
  assert.equal(first.cached, false);
  const filesRead = reads;
  assert.ok(filesRead > 5);

  const second = await writeLayer(store, spec, { cacheKey: await fingerprintLayerSpec(spec), onEntry });
  assert.equal(second.cached, true);
  assert.equal(reads, filesRead, "cache hit archives nothing");
  assert.deepEqual(second.descriptor, first.descriptor);
  assert.equal(second.entries, first.entries);

  // Another compression is another cache entry.
  const zs = await writeLayer(store, spec, {
    cacheKey: await fingerprintLayerSpec(spec),
    compression: "zstd",
    onEntry,
  });
  assert.equal(zs.cached, false);
  assert.equal(zs.descriptor.diffId, first.descriptor.diffId);

  await writeFile(join(src, "bin", "tool"), "#!/bin/sh\necho changed\n");
  reads = 0;
  const third = await writeLayer(store, spec, { cacheKey: await fingerprintLayerSpec(spec), onEntry });
  assert.equal(third.cached, false);
  assert.equal(reads, filesRead);
  assert.notEqual(third.descriptor.diffId, first.descriptor.diffId);

  await rm(store.blobPath(third.descriptor.digest));
  const fourth = await writeLayer(store, spec, { cacheKey: await fingerprintLayerSpec(spec), onEntry });
  assert.equal(fourth.cached, false, "a cache entry whose blob is gone is a miss");
  assert.deepEqual(fourth.descriptor, third.descriptor);
  assert.ok(await store.hasBlob(fourth.descriptor.digest));
});

test("a file rewritten while the layer is being written fails the layer and leaves no blob", async (t) => {
  const dir = await tempDir(t);
  const src = join(dir, "src");
  await makeTree(src);
  const store = await OciStore.open(join(dir, "store"));
  const before = await snapshotBlobs(store);
  await assert.rejects(
    writeLayer(store, treeSpec(src), {
      onEntry: (e) => {
        if (e.name.endsWith("lib/big.bin")) appendFileSync(e.hostPath!, "more");
      },
    }),
    /big\.bin changed while it was being archived/,
  );
  assert.deepEqual(await snapshotBlobs(store), before);
  assert.deepEqual(await readDirNames(store.tmpDir), []);
});

async function readDirNames(d: string): Promise<string[]> {
  return (await readdir(d)).sort();
}

async function snapshotBlobs(store: OciStore): Promise<string[]> {
  return readDirNames(store.blobsDir);
}

test("an invalid compression level is refused before anything is written", async (t) => {
  const dir = await tempDir(t);
  const src = join(dir, "src");
  await makeTree(src);
  const store = await OciStore.open(join(dir, "store"));
  await assert.rejects(
    writeLayer(store, treeSpec(src), { compression: "zstd", level: 20 }),
    /zstd level must be 1\.\.19, got 20/,
  );
  await assert.rejects(
    writeLayer(store, treeSpec(src), { compression: "gzip", level: 0 }),
    /gzip level must be 1\.\.9, got 0/,
  );
  assert.deepEqual(await snapshotBlobs(store), []);
  assert.deepEqual(await readDirNames(store.tmpDir), []);
});

test("a zstd layer is the same bytes whether its context is fresh, reused, or reused after a failed layer", async (t) => {
  const dir = await tempDir(t);
  const a = join(dir, "a");
  const b = join(dir, "b");
  await makeTree(a);
  await makeTree(b);
  await writeFile(join(b, "bin", "tool"), "#!/bin/sh\necho other\n");
  const zstd = { compression: "zstd" as const, level: 3 };
  const first = await writeLayer(await OciStore.open(join(dir, "s1")), treeSpec(a), zstd);
  const store = await OciStore.open(join(dir, "s2"));
  await writeLayer(store, treeSpec(b), zstd); // leaves its context for the next layer
  let n = 0;
  await assert.rejects(
    // Small chunks, so the compressor is mid-frame when the layer fails.
    writeLayer(store, treeSpec(b), {
      ...zstd,
      chunkBytes: 4096,
      onEntry: () => {
        if (++n === 12) throw new Error("interrupted mid-frame");
      },
    }),
    /interrupted mid-frame/,
  );
  const again = await writeLayer(store, treeSpec(a), zstd);
  assert.deepEqual(again.descriptor, first.descriptor);
  assert.equal(sha256(await store.readBlob(again.descriptor.digest)), first.descriptor.digest);
});
