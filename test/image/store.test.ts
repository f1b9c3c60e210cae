import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import {
  BlobNotFoundError,
  exportImage,
  DigestMismatchError,
  OciStore,
  StoreAnnotation,
  sha256,
  sha256Stream,
  writeImage,
  writeLayer,
  type Digest,
} from "../../src/image/index.js";
import { makeTree, tempDir } from "./helpers.js";

const CHILD = fileURLToPath(new URL("./store-child.ts", import.meta.url));

function child(args: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ["--import", "tsx", CHILD, ...args], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    p.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    p.on("close", (code, signal) => resolve({ code, signal, stderr }));
  });
}

async function tinyImage(store: OciStore, content: string, tag?: string) {
  const layer = await writeLayer(store, { entries: [{ type: "file", path: "/content", content }] });
  return writeImage(store, { layers: [{ layer: layer.descriptor }] }, tag ? { tag } : {});
}

test("a new store is a valid OCI layout and blobs round-trip with verification", async (t) => {
  const dir = await tempDir(t);
  const store = await OciStore.open(join(dir, "s"));
  assert.deepEqual(JSON.parse(await readFile(join(dir, "s", "oci-layout"), "utf8")), { imageLayoutVersion: "1.0.0" });
  assert.deepEqual(
    (JSON.parse(await readFile(join(dir, "s", "index.json"), "utf8")) as { manifests: unknown[] }).manifests,
    [],
  );

  const data = Buffer.from("hello blob");
  const put = await store.putBlob(data);
  assert.deepEqual(put, { digest: sha256(data), size: data.length });
  const streamed = await store.putBlob(Readable.from([Buffer.from("hello "), Buffer.from("blob")]));
  assert.deepEqual(streamed, put);
  assert.equal(await store.hasBlob(put.digest), true);
  assert.equal(await store.hasBlob(put.digest, 3), false);
  assert.equal((await store.statBlob(put.digest))?.size, data.length);
  assert.deepEqual(await sha256Stream(await store.openBlob(put.digest)), put);

  await assert.rejects(store.putBlob(Buffer.from("other"), { digest: put.digest }), DigestMismatchError);
  const wrong = sha256("not this");
  await assert.rejects(
    store.putBlob(Readable.from([Buffer.from("x")]), { digest: wrong }),
    (e: unknown) => e instanceof DigestMismatchError && e.message.includes(wrong),
  );
  assert.equal(await store.hasBlob(wrong), false);
  assert.deepEqual(await readdir(store.tmpDir), [], "a rejected blob leaves no temp file");
  await assert.rejects(store.openBlob(wrong), BlobNotFoundError);
});

test("a corrupted blob is detected on read, named, and never reused", async (t) => {
  const dir = await tempDir(t);
  const src = join(dir, "src");
  await makeTree(src);
  const store = await OciStore.open(join(dir, "s"));
  const spec = { entries: [{ type: "tree" as const, source: src, path: "/pkg" }] };
  const layer = await writeLayer(store, spec, { cacheKey: "k1" });
  const path = store.blobPath(layer.descriptor.digest);
  const bytes = await readFile(path);
  bytes[Math.floor(bytes.length / 2)]! ^= 0xff; // same size, different content
  await writeFile(path, bytes);

  const stream = await store.openBlob(layer.descriptor.digest);
  await assert.rejects(sha256Stream(stream), (e: unknown) => {
    assert.ok(e instanceof DigestMismatchError);
    assert.ok(e.message.includes(layer.descriptor.digest) && e.message.includes(path), e.message);
    return true;
  });
  assert.equal(await store.hasBlob(layer.descriptor.digest), false, "moved out of blobs/");
  assert.equal((await readdir(join(store.metaDir, "corrupt"))).length, 1);

  // The cache entry no longer has a blob: the layer is rebuilt, identical.
  const again = await writeLayer(store, spec, { cacheKey: "k1" });
  assert.equal(again.cached, false);
  assert.deepEqual(again.descriptor, layer.descriptor);
  assert.deepEqual((await sha256Stream(await store.openBlob(again.descriptor.digest))).digest, again.descriptor.digest);

  // readBlob checks too, and a truncated blob is caught by its size before reading.
  const cfg = await store.putBlob(Buffer.from('{"a":1}'));
  await writeFile(store.blobPath(cfg.digest), '{"a":2}');
  await assert.rejects(store.readBlob(cfg.digest), DigestMismatchError);
  const cfg2 = await store.putBlob(Buffer.from("0123456789"));
  await writeFile(store.blobPath(cfg2.digest), "01234");
  await assert.rejects(store.openBlob(cfg2.digest, { size: 10 }), /expected 10 bytes, got 5/);
});

test("tags: tag, resolve, list, retag, delete; bad names and missing blobs are refused", async (t) => {
  const dir = await tempDir(t);
  const store = await OciStore.open(join(dir, "s"));
  const a = await tinyImage(store, "a");
  const b = await tinyImage(store, "b");
  await store.tag("studio/comp:1", a.descriptor);
  await store.tag("studio/comp:2", b.descriptor, { [StoreAnnotation.Workflow]: "comp" });
  assert.deepEqual((await store.resolve("studio/comp:1"))?.digest, a.descriptor.digest);
  assert.deepEqual((await store.resolve(b.descriptor.digest))?.digest, b.descriptor.digest);
  assert.equal(await store.resolve("nope"), undefined);
  const list = await store.listImages();
  assert.deepEqual(
    list.map((e) => [e.tag, e.digest, e.layers, e.created]),
    [
      ["studio/comp:1", a.descriptor.digest, 1, "1970-01-01T00:00:01Z"],
      ["studio/comp:2", b.descriptor.digest, 1, "1970-01-01T00:00:01Z"],
    ],
  );
  assert.equal(list[0]!.size, a.descriptor.size + a.configDescriptor.size + a.manifest.layers[0]!.size);
  assert.equal(list[1]!.annotations[StoreAnnotation.Workflow], "comp");
  assert.ok(list[0]!.tagged && !Number.isNaN(Date.parse(list[0]!.tagged)));

  await store.tag("studio/comp:1", b.descriptor);
  assert.equal((await store.resolve("studio/comp:1"))?.digest, b.descriptor.digest, "retag moves the name");
  assert.equal((await store.readIndex()).manifests.length, 2);
  assert.equal(await store.deleteTag("studio/comp:1"), true);
  assert.equal(await store.deleteTag("studio/comp:1"), false);
  assert.deepEqual(await store.tags(), ["studio/comp:2"]);

  await assert.rejects(store.tag("Bad Name", a.descriptor), /invalid tag/);
  await assert.rejects(store.tag("ok", { ...a.descriptor, digest: sha256("missing") }), BlobNotFoundError);
  await assert.rejects(store.resolveImage("nope"), /no image "nope" \(known tags: studio\/comp:2\)/);
});

test("gc removes only unreferenced blobs and keeps the newest images per workflow plus pinned ones", async (t) => {
  const dir = await tempDir(t);
  const store = await OciStore.open(join(dir, "s"));
  const shared = await writeLayer(store, { entries: [{ type: "file", path: "/shared", content: "base" }] });
  const images: Array<Awaited<ReturnType<typeof writeImage>>> = [];
  for (const n of [1, 2, 3]) {
    const own = await writeLayer(store, { entries: [{ type: "file", path: "/own", content: `v${n}` }] });
    const img = await writeImage(store, { layers: [{ layer: shared.descriptor }, { layer: own.descriptor }] });
    await store.tag(`studio/comp:${n}`, img.descriptor);
    images.push(img);
    await new Promise((r) => setTimeout(r, 5)); // distinct tag times
  }
  const other = await tinyImage(store, "lighting", "studio/lighting:1");
  const stray = await store.putBlob(Buffer.from("unreferenced"));

  const young = await store.gc();
  assert.deepEqual(young.removedBlobs, [], "default grace keeps fresh blobs a build may still tag");

  const report = await store.gc({ keepPerWorkflow: 1, pinned: ["studio/comp:1"], minAgeMs: 0 });
  assert.deepEqual(report.removedTags, ["studio/comp:2"]);
  assert.deepEqual(await store.tags(), ["studio/comp:1", "studio/comp:3", "studio/lighting:1"]);
  const dropped = images[1]!;
  const expectRemoved = [
    dropped.descriptor.digest,
    dropped.configDescriptor.digest,
    dropped.manifest.layers[1]!.digest,
    stray.digest,
  ].sort();
  assert.deepEqual(report.removedBlobs, expectRemoved);
  for (const keep of [images[0]!, images[2]!, other]) {
    for (const d of [keep.descriptor, keep.configDescriptor, ...keep.manifest.layers]) {
      assert.equal(await store.hasBlob(d.digest, d.size), true, `kept ${d.digest}`);
      assert.equal(sha256(await store.readBlob(d.digest)), d.digest);
    }
  }
  assert.ok(await store.hasBlob(shared.descriptor.digest), "a layer shared with a kept image stays");
  const nothing = await store.gc({ minAgeMs: 0 });
  assert.deepEqual(nothing.removedBlobs, []);
});

test("a build killed half-way through a layer leaves the store consistent; the next open cleans up and a rebuild succeeds", async (t) => {
  const dir = await tempDir(t);
  const src = join(dir, "src");
  await makeTree(src);
  const storeDir = join(dir, "s");
  const store = await OciStore.open(storeDir);
  await tinyImage(store, "before", "studio/before:1");
  const indexBefore = await readFile(join(storeDir, "index.json"), "utf8");
  const blobsBefore = (await readdir(store.blobsDir)).sort();

  const r = await child(["die-mid-layer", storeDir, src]);
  assert.equal(r.signal, "SIGKILL", r.stderr);
  assert.equal(await readFile(join(storeDir, "index.json"), "utf8"), indexBefore);
  assert.deepEqual((await readdir(store.blobsDir)).sort(), blobsBefore, "no partial blob under blobs/");
  const leftovers = await readdir(store.tmpDir);
  assert.equal(leftovers.length, 1, "the killed writer's temp file is left behind");

  const reopened = await OciStore.open(storeDir);
  assert.deepEqual(await readdir(reopened.tmpDir), [], "open removes temp files of dead writers");
  const layer = await writeLayer(reopened, { entries: [{ type: "tree", source: src, path: "/pkg" }] });
  const img = await writeImage(reopened, { layers: [{ layer: layer.descriptor }] }, { tag: "studio/after:1" });
  assert.equal((await reopened.resolveImage("studio/after:1")).manifestDescriptor.digest, img.descriptor.digest);
  assert.equal(sha256(await reopened.readBlob(layer.descriptor.digest)), layer.descriptor.digest);
});

test("a layer that fails in-process removes its temp file and adds no blob", async (t) => {
  const dir = await tempDir(t);
  const src = join(dir, "src");
  await makeTree(src);
  const store = await OciStore.open(join(dir, "s"));
  let n = 0;
  await assert.rejects(
    writeLayer(
      store,
      { entries: [{ type: "tree", source: src, path: "/pkg" }] },
      {
        onEntry: () => {
          if (++n === 6) throw new Error("interrupted");
        },
      },
    ),
    /interrupted/,
  );
  assert.deepEqual(await readdir(store.tmpDir), []);
  assert.deepEqual(await readdir(store.blobsDir), []);
});

test("two processes tagging into one store at once lose no tag and keep index.json valid", async (t) => {
  const dir = await tempDir(t);
  const storeDir = join(dir, "s");
  await OciStore.open(storeDir);
  const N = 15;
  const [r1, r2] = await Promise.all([
    child(["tag-many", storeDir, "alpha", String(N)]),
    child(["tag-many", storeDir, "beta", String(N)]),
  ]);
  assert.equal(r1.code, 0, r1.stderr);
  assert.equal(r2.code, 0, r2.stderr);
  const index = JSON.parse(await readFile(join(storeDir, "index.json"), "utf8")) as {
    manifests: Array<{ digest: Digest; annotations: Record<string, string> }>;
  };
  const tags = index.manifests.map((m) => m.annotations["org.opencontainers.image.ref.name"]).sort();
  const expected = [...Array(N).keys()].flatMap((i) => [`alpha:${i}`, `beta:${i}`]).sort();
  assert.deepEqual(tags, expected);
  const store = await OciStore.open(storeDir);
  for (const m of index.manifests) assert.ok(await store.hasBlob(m.digest));
  assert.deepEqual(await readdir(store.tmpDir), []);
});

test("a lock left by a dead process is broken; a live holder makes others wait, then time out with its pid", async (t) => {
  const dir = await tempDir(t);
  const store = await OciStore.open(join(dir, "s"), { lock: { timeoutMs: 300 } });
  const img = await tinyImage(store, "x");
  const lockFile = join(store.metaDir, "lock");
  const { hostname } = await import("node:os");
  const host = hostname().replace(/[^A-Za-z0-9_.-]/g, "_");
  // A pid that is certainly not running: a finished child's.
  const dead = await new Promise<number>((resolve) => {
    const p = spawn(process.execPath, ["-e", ""]);
    p.on("close", () => resolve(p.pid!));
  });
  await writeFile(lockFile, JSON.stringify({ host, pid: dead, acquired: "2020-01-01T00:00:00Z", token: "t" }));
  await store.tag("after-stale-lock", img.descriptor);
  assert.deepEqual(await store.tags(), ["after-stale-lock"]);

  await writeFile(
    lockFile,
    JSON.stringify({ host, pid: process.pid, acquired: "2020-01-01T00:00:00Z", token: "someone-else" }),
  );
  await assert.rejects(store.tag("blocked", img.descriptor), new RegExp(`locked by pid ${process.pid} on ${host}`));
});

test("a directory that is not a layout is never adopted, and a malformed digest cannot name a path outside blobs/", async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, "notes.txt"), "mine");
  await assert.rejects(OciStore.open(dir), /exists and is not an OCI image layout/);
  await assert.rejects(OciStore.open(join(dir, "missing"), { readOnly: true }), /not an OCI image layout/);
  const store = await OciStore.open(join(dir, "s"));
  const evil = await store.putJson(
    {
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: {
        mediaType: "application/vnd.oci.image.config.v1+json",
        digest: "sha256:../../../../etc/passwd",
        size: 1,
      },
      layers: [],
    },
    "application/vnd.oci.image.manifest.v1+json",
  );
  await assert.rejects(
    store.loadImage(evil),
    /config\.digest "sha256:\.\.\/\.\.\/\.\.\/\.\.\/etc\/passwd" is not a sha256 digest/,
  );
});

test("exporting to oci: of the store itself only adds the tag; to another layout it copies every blob, tag without a time", async (t) => {
  const dir = await tempDir(t);
  const store = await OciStore.open(join(dir, "s"));
  const img = await tinyImage(store, "exported", "studio/comp:1");
  const blobsBefore = (await readdir(store.blobsDir)).sort();

  await exportImage(store, "studio/comp:1", `oci:${store.dir}:studio/comp:copy`);
  assert.deepEqual((await readdir(store.blobsDir)).sort(), blobsBefore, "no blob written into the store itself");
  const self = (await store.readIndex()).manifests.find(
    (d) => d.annotations?.["org.opencontainers.image.ref.name"] === "studio/comp:copy",
  );
  assert.equal(self?.digest, img.descriptor.digest);
  assert.ok(self?.annotations?.[StoreAnnotation.Tagged], "a tag in the store records when it was set");

  const other = join(dir, "other");
  await exportImage(store, "studio/comp:1", `oci:${other}:comp`);
  const target = await OciStore.open(other, { readOnly: true });
  assert.deepEqual((await readdir(target.blobsDir)).sort(), blobsBefore, "manifest, config and layer copied");
  const [entry] = (await target.readIndex()).manifests;
  assert.equal(entry?.digest, img.descriptor.digest);
  assert.deepEqual(entry?.annotations, { "org.opencontainers.image.ref.name": "comp" }, "no store-private annotation");
  assert.deepEqual((await readdir(other)).sort(), ["blobs", "index.json", "oci-layout"], "no .tantalus left behind");
});
