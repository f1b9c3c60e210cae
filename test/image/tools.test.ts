/**
 * The images we write, checked by the real tools: skopeo, umoci, podman,
 * GNU tar and gzip. Podman runs rootful with a private vfs storage in a temp
 * dir (flags as in shared research container-tools.md §2).
 */
import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { OciStore, exportImage, importImage, writeImage, writeLayer, type ImageConfig } from "../../src/image/index.js";
import { hasTool, makeBusyboxRootfs, makeTree, run, snapshotTree, tempDir } from "./helpers.js";

const missing = ["skopeo", "umoci", "podman", "runc"].filter((t) => !hasTool(t));
const skip = missing.length > 0 ? `needs ${missing.join(", ")} (scripts/setup-host.sh installs them)` : false;

async function buildImage(dir: string) {
  const src = join(dir, "src");
  await makeTree(src);
  const store = await OciStore.open(join(dir, "store"));
  const base = await importImage(store, `rootfs:${await makeBusyboxRootfs(dir)}`, { tag: "busybox:base" });
  const pkg = await writeLayer(store, { entries: [{ type: "tree", source: src, path: "/opt/pkg" }] });
  const top = await writeLayer(store, { entries: [{ type: "file", path: "/file", content: "hello from tantalus\n" }] });
  const img = await writeImage(
    store,
    {
      base,
      layers: [{ layer: pkg.descriptor }, { layer: top.descriptor }],
      config: { Env: ["GREETING=hi"], Cmd: ["/bin/sh"] },
    },
    { tag: "studio/comp:1" },
  );
  return { src, store, img };
}

function podman(root: string, args: string[]): string {
  return run("podman", [
    "--root",
    join(root, "graph"),
    "--runroot",
    join(root, "run"),
    "--storage-driver",
    "vfs",
    "--runtime",
    "runc",
    "--cgroup-manager",
    "cgroupfs",
    "--events-backend",
    "file",
    ...args,
  ]);
}

const RUN_FLAGS = ["--rm", "--network", "none", "--ulimit", "nofile=20000:20000", "--ulimit", "nproc=32768:32768"];

test(
  "skopeo inspects the store and an exported layout; umoci unpacks the same tree (modes, links, hardlinks)",
  { skip },
  async (t) => {
    const dir = await tempDir(t);
    const { src, store, img } = await buildImage(dir);
    const inspect = JSON.parse(run("skopeo", ["inspect", `oci:${store.dir}:studio/comp:1`])) as {
      Digest: string;
      Env: string[];
      Layers: string[];
    };
    assert.equal(inspect.Digest, img.descriptor.digest);
    assert.deepEqual(
      inspect.Layers,
      img.manifest.layers.map((l) => l.digest),
    );
    assert.ok(inspect.Env.includes("GREETING=hi"));
    const config = JSON.parse(run("skopeo", ["inspect", "--config", `oci:${store.dir}:studio/comp:1`])) as ImageConfig;
    assert.deepEqual(config.rootfs.diff_ids, img.config.rootfs.diff_ids);

    await exportImage(store, "studio/comp:1", `oci:${join(dir, "exported")}:comp`);
    const exported = JSON.parse(run("skopeo", ["inspect", `oci:${join(dir, "exported")}:comp`])) as { Digest: string };
    assert.equal(exported.Digest, img.descriptor.digest);

    const bundle = join(dir, "bundle");
    run("umoci", ["unpack", "--rootless", "--image", `${join(dir, "exported")}:comp`, bundle]);
    const unpacked = await snapshotTree(join(bundle, "rootfs", "opt", "pkg"));
    const original = await snapshotTree(src);
    assert.deepEqual(unpacked.items, original.items);
    assert.deepEqual(unpacked.hardlinks, original.hardlinks);
    assert.equal(unpacked.hardlinks.length, 1, "the hardlink pair is one inode after unpacking");
  },
);

test(
  "podman runs the oci-archive export and loads the docker-archive export; skopeo reads both",
  { skip },
  async (t) => {
    const dir = await tempDir(t);
    const { store, img } = await buildImage(dir);
    const ociArchive = join(dir, "comp-oci.tar");
    const dockerArchive = join(dir, "comp-docker.tar");
    await exportImage(store, "studio/comp:1", `oci-archive:${ociArchive}`);
    await exportImage(store, "studio/comp:1", `docker-archive:${dockerArchive}`);

    assert.equal(
      (JSON.parse(run("skopeo", ["inspect", `oci-archive:${ociArchive}`])) as { Digest: string }).Digest,
      img.descriptor.digest,
    );
    const dockerInspect = JSON.parse(run("skopeo", ["inspect", `docker-archive:${dockerArchive}`])) as {
      RepoTags: string[];
      Env: string[];
    };
    assert.ok(dockerInspect.Env.includes("GREETING=hi"));
    const dockerConfig = JSON.parse(
      run("skopeo", ["inspect", "--config", `docker-archive:${dockerArchive}`]),
    ) as ImageConfig;
    assert.deepEqual(dockerConfig.rootfs.diff_ids, img.config.rootfs.diff_ids);

    const pod = join(dir, "podman");
    const out = podman(pod, [
      "run",
      ...RUN_FLAGS,
      `oci-archive:${ociArchive}`,
      "/bin/sh",
      "-c",
      "cat /file; echo $GREETING; stat -c %a /opt/pkg/bin/tool",
    ]);
    assert.deepEqual(out.trim().split("\n").slice(-3), ["hello from tantalus", "hi", "755"]);

    const loaded = podman(pod, ["load", "-i", dockerArchive]);
    assert.match(loaded, /Loaded image: localhost\/studio\/comp:1/);
    assert.equal(
      podman(pod, ["run", ...RUN_FLAGS, "localhost/studio/comp:1", "cat", "/file"]).trim(),
      "hello from tantalus",
    );
    // The oci-archive also carries a docker manifest.json; podman load takes it.
    assert.match(podman(pod, ["load", "-i", ociArchive]), /Loaded image/);
  },
);

test(
  "images written by skopeo and podman import back with the same diff_ids; our own archives round-trip",
  { skip },
  async (t) => {
    const dir = await tempDir(t);
    const { store, img } = await buildImage(dir);
    const other = await OciStore.open(join(dir, "other"));

    // skopeo docker-archive (uncompressed layers), plain and gzipped.
    const skopeoArchive = join(dir, "skopeo-docker.tar");
    run("skopeo", ["copy", "-q", `oci:${store.dir}:studio/comp:1`, `docker-archive:${skopeoArchive}:studio/comp:1`]);
    const fromDocker = await importImage(other, `docker-archive:${skopeoArchive}:studio/comp:1`);
    assert.deepEqual(fromDocker.config.rootfs.diff_ids, img.config.rootfs.diff_ids);
    assert.ok(
      fromDocker.manifest.layers.every((l) => l.mediaType === "application/vnd.oci.image.layer.v1.tar"),
      "uncompressed layers imported as they are",
    );
    run("sh", ["-c", `gzip -1 -c '${skopeoArchive}' > '${skopeoArchive}.gz'`]);
    const fromGz = await importImage(other, `docker-archive:${skopeoArchive}.gz`);
    assert.equal(fromGz.manifestDescriptor.digest, fromDocker.manifestDescriptor.digest);

    // podman save (docker-archive) of an image podman loaded from our docker-archive export.
    const pod = join(dir, "podman");
    const ourDocker = join(dir, "ours-docker.tar");
    await exportImage(store, "studio/comp:1", `docker-archive:${ourDocker}:studio/comp:1`);
    podman(pod, ["load", "-i", ourDocker]);
    const saved = join(dir, "podman-save.tar");
    podman(pod, ["save", "--format", "docker-archive", "-o", saved, "localhost/studio/comp:1"]);
    const fromPodman = await importImage(other, `docker-archive:${saved}`);
    assert.deepEqual(fromPodman.config.rootfs.diff_ids, img.config.rootfs.diff_ids);

    // A layout made by skopeo, and our own oci-archive: the manifest is unchanged.
    run("skopeo", ["copy", "-q", `oci:${store.dir}:studio/comp:1`, `oci:${join(dir, "skopeo-layout")}:copied`]);
    assert.equal(
      (await importImage(other, `oci:${join(dir, "skopeo-layout")}:copied`)).manifestDescriptor.digest,
      img.descriptor.digest,
    );
    const ours = join(dir, "ours.tar");
    await exportImage(store, "studio/comp:1", `oci-archive:${ours}`);
    assert.equal(
      (await importImage(other, `oci-archive:${ours}:studio/comp:1`, { tag: "again" })).manifestDescriptor.digest,
      img.descriptor.digest,
    );
    assert.equal((await other.resolve("again"))?.digest, img.descriptor.digest);

    // A base imported from a docker archive can be built on and run.
    const extra = await writeLayer(other, { entries: [{ type: "file", path: "/extra", content: "on top\n" }] });
    const built = await writeImage(
      other,
      { base: fromDocker, layers: [{ layer: extra.descriptor }] },
      { tag: "studio/extended:1" },
    );
    assert.equal(built.manifest.layers.length, img.manifest.layers.length + 1);
    await mkdir(join(dir, "x"), { recursive: true });
    await exportImage(other, "studio/extended:1", `oci-archive:${join(dir, "x", "ext.tar")}`);
    assert.equal(
      podman(pod, ["run", ...RUN_FLAGS, `oci-archive:${join(dir, "x", "ext.tar")}`, "cat", "/extra", "/file"])
        .trim()
        .split("\n")
        .slice(-2)
        .join("|"),
      "on top|hello from tantalus",
    );
  },
);
