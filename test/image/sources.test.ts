import assert from "node:assert/strict";
import { mkdir, readdir, readFile, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import {
  MediaType,
  OciStore,
  exportImage,
  importImage,
  parseLocalReference,
  sha256,
  writeImage,
  writeLayer,
} from "../../src/image/index.js";
import { makeBusyboxRootfs, run, tempDir } from "./helpers.js";

test("local references split transport, path and ref like skopeo", () => {
  assert.deepEqual(parseLocalReference("oci:/srv/layout:studio/comp:1"), {
    transport: "oci",
    path: "/srv/layout",
    ref: "studio/comp:1",
  });
  assert.deepEqual(parseLocalReference("oci-archive:img.tar"), { transport: "oci-archive", path: "img.tar" });
  assert.deepEqual(parseLocalReference("docker-archive:/x/save.tar:busybox:latest"), {
    transport: "docker-archive",
    path: "/x/save.tar",
    ref: "busybox:latest",
  });
  assert.throws(() => parseLocalReference("docker://busybox"), /expected one of oci:PATH/);
  assert.throws(() => parseLocalReference("rootfs:/a.tar:tag"), /rootfs: takes a file only/);
  assert.throws(() => parseLocalReference("oci:"), /missing path/);
});

test("a rootfs tarball becomes a one-layer image; an uncompressed one can be compressed on the way in", async (t) => {
  const dir = await tempDir(t);
  const gz = await makeBusyboxRootfs(dir);
  const plain = join(dir, "rootfs.tar");
  run("sh", ["-c", `gzip -dc '${gz}' > '${plain}'`]);
  const store = await OciStore.open(join(dir, "s"));
  const a = await importImage(store, `rootfs:${gz}`);
  assert.equal(a.manifest.layers.length, 1);
  assert.equal(a.manifest.layers[0]!.mediaType, MediaType.LayerGzip);
  assert.deepEqual(a.config.rootfs.diff_ids, [sha256(await readFile(plain))]);
  assert.equal(a.manifest.layers[0]!.digest, sha256(await readFile(gz)), "compressed input stored as is");
  const b = await importImage(store, `rootfs:${plain}`, { rootfs: { compression: "zstd" } });
  assert.equal(b.manifest.layers[0]!.mediaType, MediaType.LayerZstd);
  assert.deepEqual(b.config.rootfs.diff_ids, a.config.rootfs.diff_ids);
  const c = await importImage(store, `rootfs:${plain}`);
  assert.equal(c.manifest.layers[0]!.mediaType, MediaType.Layer);
  assert.equal(c.manifest.layers[0]!.digest, a.config.rootfs.diff_ids[0]);

  await writeFile(join(dir, "junk.tar"), "this is not a tar archive at all, just text that is long enough".repeat(20));
  await assert.rejects(importImage(store, `rootfs:${join(dir, "junk.tar")}`), /rootfs:.*junk\.tar: not a tar archive/);
  assert.deepEqual(await readdir(store.tmpDir), [], "a failed import leaves no temp file");
});

test("a rootfs tarball compressed with zstd on the way in gets the bytes the layer writer gives the same tar", async (t) => {
  const dir = await tempDir(t);
  const store = await OciStore.open(join(dir, "s"));
  const tree = join(dir, "tree");
  await mkdir(join(tree, "bin"), { recursive: true });
  await writeFile(join(tree, "bin", "tool"), Buffer.alloc(3 << 20, "layer bytes that compress "));
  await writeFile(join(tree, "README"), "one tree, two ways into the store\n");
  const spec = { entries: [{ type: "tree" as const, source: tree, path: "/opt/pkg" }] };
  const plain = await writeLayer(store, spec, { compression: "none" });
  const zstd = await writeLayer(store, spec, { compression: "zstd", level: 5 });
  const tarFile = join(dir, "layer.tar");
  await writeFile(tarFile, await readFile(store.blobPath(plain.descriptor.digest)));
  const imported = await importImage(store, `rootfs:${tarFile}`, { rootfs: { compression: "zstd", level: 5 } });
  assert.equal(imported.manifest.layers[0]!.digest, zstd.descriptor.digest);
  assert.deepEqual(imported.config.rootfs.diff_ids, [zstd.descriptor.diffId]);
});

test("docker archives: compressed or not, deduplicated via symlinks, and with several images", async (t) => {
  const dir = await tempDir(t);
  const store = await OciStore.open(join(dir, "s"));
  const base = await importImage(store, `rootfs:${await makeBusyboxRootfs(dir)}`);
  const l1 = await writeLayer(store, { entries: [{ type: "file", path: "/one", content: "1" }] });
  const img = await writeImage(store, { base, layers: [{ layer: l1.descriptor }] }, { tag: "studio/a:1" });

  // Our own exporter, uncompressed (default) and with compressed layers kept.
  await exportImage(store, "studio/a:1", `docker-archive:${join(dir, "plain.tar")}`);
  await exportImage(store, "studio/a:1", `docker-archive:${join(dir, "gz.tar")}`, { compressedLayers: true });
  const other = await OciStore.open(join(dir, "other"));
  const p = await importImage(other, `docker-archive:${join(dir, "plain.tar")}`);
  const g = await importImage(other, `docker-archive:${join(dir, "gz.tar")}:studio/a:1`);
  assert.deepEqual(p.config.rootfs.diff_ids, img.config.rootfs.diff_ids);
  assert.deepEqual(
    g.manifest.layers.map((l) => l.digest),
    img.manifest.layers.map((l) => l.digest),
    "compressed layers keep their digests",
  );
  assert.deepEqual(
    p.manifest.layers.map((l) => l.digest),
    img.config.rootfs.diff_ids,
    "uncompressed layers: digest = diff_id",
  );

  // A hand-made `docker save` with two images sharing a layer through a symlink.
  const save = join(dir, "save");
  const layerTar = join(dir, "l.tar");
  run("tar", ["-C", join(dir, "s", "blobs"), "-cf", layerTar, "sha256"]); // any valid tar will do as a layer
  const layerBytes = await readFile(layerTar);
  const id = sha256(layerBytes).slice(7);
  await mkdir(join(save, "aaa"), { recursive: true });
  await mkdir(join(save, "bbb"), { recursive: true });
  await writeFile(join(save, "aaa", "layer.tar"), layerBytes);
  await symlink("../aaa/layer.tar", join(save, "bbb", "layer.tar"));
  const cfg = (name: string, n: number) =>
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      config: { Env: [`NAME=${name}`] },
      rootfs: { type: "layers", diff_ids: Array(n).fill(`sha256:${id}`) },
    });
  await writeFile(join(save, "c1.json"), cfg("one", 1));
  await writeFile(join(save, "c2.json"), cfg("two", 2));
  await writeFile(
    join(save, "manifest.json"),
    JSON.stringify([
      { Config: "c1.json", RepoTags: ["busybox:latest"], Layers: ["aaa/layer.tar"] },
      { Config: "c2.json", RepoTags: ["registry.example.com/team/tool:2"], Layers: ["aaa/layer.tar", "bbb/layer.tar"] },
    ]),
  );
  const saveTar = join(dir, "save.tar");
  run("tar", ["-C", save, "-cf", saveTar, "."]);
  await assert.rejects(
    importImage(other, `docker-archive:${saveTar}`),
    /holds 2 images; name one with :NAME:TAG \(available: busybox:latest, registry\.example\.com\/team\/tool:2\)/,
  );
  const one = await importImage(other, `docker-archive:${saveTar}:busybox`);
  assert.deepEqual(one.config.config?.Env, ["NAME=one"]);
  const two = await importImage(other, `docker-archive:${saveTar}:registry.example.com/team/tool:2`);
  assert.deepEqual(
    two.manifest.layers.map((l) => l.digest),
    [`sha256:${id}`, `sha256:${id}`],
  );
  assert.equal(two.manifest.config.mediaType, MediaType.ImageConfig);

  // diff_id mismatch between config and layer is refused.
  await writeFile(
    join(save, "c1.json"),
    JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [sha256("other")] } }),
  );
  await writeFile(
    join(save, "manifest.json"),
    JSON.stringify([{ Config: "c1.json", RepoTags: null, Layers: ["aaa/layer.tar"] }]),
  );
  run("tar", ["-C", save, "-cf", saveTar, "."]);
  await assert.rejects(
    importImage(other, `docker-archive:${saveTar}`),
    /has diff_id sha256:[0-9a-f]+ but the config expects/,
  );
});

test("an OCI layout with several images needs a ref; an unknown ref lists what exists", async (t) => {
  const dir = await tempDir(t);
  const store = await OciStore.open(join(dir, "s"));
  for (const n of ["a", "b"]) {
    const l = await writeLayer(store, { entries: [{ type: "file", path: `/${n}`, content: n }] });
    await writeImage(store, { layers: [{ layer: l.descriptor }] }, { tag: `img:${n}` });
  }
  const other = await OciStore.open(join(dir, "o"));
  await assert.rejects(
    importImage(other, `oci:${store.dir}`),
    /holds 2 images; name one with :REF \(available: img:a, img:b\)/,
  );
  await assert.rejects(
    importImage(other, `oci:${store.dir}:img:c`),
    /no image named "img:c" \(available: img:a, img:b\)/,
  );
  const b = await importImage(other, `oci:${store.dir}:img:b`, { tag: "copied" });
  assert.equal((await other.resolveImage("copied")).manifestDescriptor.digest, b.manifestDescriptor.digest);
  assert.equal(sha256(await other.readBlob(b.manifest.layers[0]!.digest)), b.manifest.layers[0]!.digest);
});
