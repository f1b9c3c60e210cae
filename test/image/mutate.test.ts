import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import {
  MediaType,
  OciStore,
  applyConfigChanges,
  chainIds,
  importImage,
  rfc3339,
  sha256,
  sourceDateEpoch,
  writeImage,
  writeLayer,
  type ImageConfig,
  type ImageManifest,
} from "../../src/image/index.js";
import { makeBusyboxRootfs, makeTree, run, tempDir } from "./helpers.js";

async function buildWorkflowImage(storeDir: string, tree: string, baseTar: string) {
  const store = await OciStore.open(storeDir);
  const base = await importImage(store, `rootfs:${baseTar}`);
  const pkg = await writeLayer(store, {
    entries: [{ type: "tree", source: tree, path: "/studio/packages/usd/24.08/python-3.11" }],
  });
  const top = await writeLayer(store, {
    entries: [{ type: "file", path: "/etc/tantalus/env.sh", content: "export USD_ROOT=/studio/packages/usd/24.08\n" }],
  });
  const img = await writeImage(
    store,
    {
      base,
      baseName: "busybox:rootfs",
      layers: [
        { layer: pkg.descriptor, comment: "usd-24.08[python-3.11]" },
        { layer: top.descriptor, createdBy: "tantalus env", comment: "context" },
      ],
      config: {
        Env: ["PATH=/studio/bin:/bin", "USD_ROOT=/studio/packages/usd/24.08"],
        Entrypoint: ["/bin/sh", "/etc/tantalus/env.sh"],
        Labels: { "io.tantalus.workflow": "comp" },
        WorkingDir: "/work",
        User: "1000:1000",
      },
      annotations: { "org.opencontainers.image.title": "comp" },
    },
    { tag: "studio/comp:1" },
  );
  return { store, base, pkg, top, img };
}

test("the same inputs give the same manifest digest, bit for bit, from different host dirs and stores", async (t) => {
  const dir = await tempDir(t);
  await makeTree(join(dir, "one", "usd"));
  await mkdir(join(dir, "two", "x", "y"), { recursive: true });
  run("cp", ["-a", join(dir, "one", "usd"), join(dir, "two", "x", "y", "usd-copy")]);
  const baseTar = await makeBusyboxRootfs(dir);
  const a = await buildWorkflowImage(join(dir, "store-a"), join(dir, "one", "usd"), baseTar);
  const b = await buildWorkflowImage(join(dir, "store-b"), join(dir, "two", "x", "y", "usd-copy"), baseTar);
  assert.equal(a.img.descriptor.digest, b.img.descriptor.digest);
  assert.deepEqual(await a.store.readBlob(a.img.descriptor.digest), await b.store.readBlob(b.img.descriptor.digest));
  assert.deepEqual(
    await a.store.readBlob(a.img.configDescriptor.digest),
    await b.store.readBlob(b.img.configDescriptor.digest),
  );
});

test("assembly appends diff_ids and history to the base, reuses base layers verbatim and merges the config", async (t) => {
  const dir = await tempDir(t);
  await makeTree(join(dir, "usd"));
  const { store, base, pkg, top, img } = await buildWorkflowImage(
    join(dir, "s"),
    join(dir, "usd"),
    await makeBusyboxRootfs(dir),
  );
  const manifest = await store.readJsonBlob<ImageManifest>(img.descriptor.digest);
  const config = await store.readJsonBlob<ImageConfig>(manifest.config.digest);
  assert.equal(manifest.mediaType, MediaType.ImageManifest);
  assert.equal(manifest.config.mediaType, MediaType.ImageConfig);
  assert.deepEqual(manifest.layers[0], base.manifest.layers[0], "base layer descriptor reused as is");
  assert.deepEqual(
    manifest.layers.slice(1).map((l) => l.digest),
    [pkg.descriptor.digest, top.descriptor.digest],
  );
  assert.ok(
    manifest.layers.every((l) => !("diffId" in l)),
    "no internal fields leak into the manifest",
  );
  assert.deepEqual(config.rootfs.diff_ids, [
    ...base.config.rootfs.diff_ids,
    pkg.descriptor.diffId,
    top.descriptor.diffId,
  ]);
  assert.deepEqual(
    config.history?.map((h) => [h.created, h.created_by, h.comment]),
    [
      ["1970-01-01T00:00:01Z", "tantalus: root filesystem tarball", undefined],
      ["1970-01-01T00:00:01Z", "tantalus", "usd-24.08[python-3.11]"],
      ["1970-01-01T00:00:01Z", "tantalus env", "context"],
    ],
  );
  assert.equal(config.created, "1970-01-01T00:00:01Z");
  assert.deepEqual(config.config, {
    Entrypoint: ["/bin/sh", "/etc/tantalus/env.sh"],
    Env: ["PATH=/studio/bin:/bin", "USD_ROOT=/studio/packages/usd/24.08"],
    Labels: { "io.tantalus.workflow": "comp" },
    User: "1000:1000",
    WorkingDir: "/work",
  });
  assert.equal(manifest.annotations?.["org.opencontainers.image.base.digest"], base.manifestDescriptor.digest);
  assert.equal(manifest.annotations?.["org.opencontainers.image.base.name"], "busybox:rootfs");
  assert.equal(manifest.annotations?.["org.opencontainers.image.title"], "comp");
  assert.equal(chainIds(config.rootfs.diff_ids).length, 3);
  assert.equal(
    chainIds(config.rootfs.diff_ids)[1],
    sha256(`${config.rootfs.diff_ids[0]} ${config.rootfs.diff_ids[1]}`),
  );
});

test("config changes: Env replaces by key in place, Entrypoint clears an inherited Cmd, Labels merge", () => {
  const base = { Env: ["PATH=/bin", "LANG=C"], Cmd: ["/bin/sh"], Labels: { a: "1" } };
  assert.deepEqual(applyConfigChanges(base, { Env: ["LANG=en_US.UTF-8", "X=1"], Labels: { b: "2" } }), {
    Env: ["PATH=/bin", "LANG=en_US.UTF-8", "X=1"],
    Cmd: ["/bin/sh"],
    Labels: { a: "1", b: "2" },
  });
  assert.deepEqual(applyConfigChanges(base, { Entrypoint: ["/run.sh"] }), {
    Env: ["PATH=/bin", "LANG=C"],
    Entrypoint: ["/run.sh"],
    Labels: { a: "1" },
  });
  assert.deepEqual(applyConfigChanges(base, { Entrypoint: ["/run.sh"], Cmd: ["--gui"] }).Cmd, ["--gui"]);
  assert.throws(() => applyConfigChanges(base, { Env: ["NOEQUALS"] }), /expected KEY=value/);
});

test("SOURCE_DATE_EPOCH sets layer mtimes and image created when passed through", async (t) => {
  const dir = await tempDir(t);
  const epoch = sourceDateEpoch({ SOURCE_DATE_EPOCH: "1700000000" })!;
  assert.equal(rfc3339(epoch), "2023-11-14T22:13:20Z");
  assert.equal(sourceDateEpoch({}), undefined);
  assert.throws(() => sourceDateEpoch({ SOURCE_DATE_EPOCH: "yesterday" }), /expected whole seconds/);
  const store = await OciStore.open(join(dir, "s"));
  const layer = await writeLayer(
    store,
    { entries: [{ type: "file", path: "/f", content: "x" }] },
    { mtime: epoch, compression: "none" },
  );
  const img = await writeImage(store, { layers: [{ layer: layer.descriptor }], created: rfc3339(epoch) });
  assert.equal(img.config.created, "2023-11-14T22:13:20Z");
  assert.equal(img.config.history?.[0]?.created, "2023-11-14T22:13:20Z");
  const listing = run("tar", ["--utc", "--full-time", "-tvf", store.blobPath(layer.descriptor.digest)]);
  assert.match(listing, /2023-11-14 22:13:20 f/);
});
