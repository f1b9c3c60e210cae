/**
 * Base images in the spellings users bring from podman and skopeo, with
 * real tools: docker://REF from a real registry (Debian's docker-registry),
 * containers-storage:NAME from podman's own store (a private vfs store, so
 * nothing else on the machine sees the name), read out with skopeo. The
 * audit fetches a registry base the store lacks instead of asking the user
 * to pull it; a spelling Tantalus does not read is refused with the list.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { MemoryStore, makeImage, startRegistry, type RunningRegistry, type TestImage } from "./image-remote/harness.js";
import { pushImage } from "../src/image/remote/index.js";
import {
  buildArgs,
  buildJson,
  copyStudio,
  missingTools,
  removeDir,
  run,
  sampleStudio,
  scratchDir,
  setBaseImage,
  tantalus,
  type Studio,
} from "./builder/fixture.js";

const skip = missingTools("docker-registry", "skopeo");
let scratch: string;
let studio: Studio;
let reg: RunningRegistry;
let base: TestImage;
let ref: string;

before(async () => {
  if (skip) return;
  scratch = scratchDir("base-spellings");
  studio = await sampleStudio(scratch);
  reg = await startRegistry();
  base = await makeImage(
    [{ "etc/os-release": "ID=studio-base\nVERSION_ID=2024\n" }, { "opt/site/README": "site tools\n" }],
    "studio-base",
  );
  ref = `${reg.host}/vfx/base:2024`;
  await pushImage(
    ref,
    { manifest: base.manifest, mediaType: base.mediaType, blobs: new MemoryStore(base.blobs) },
    { insecure: true, retry: { baseDelayMs: 10 } },
  );
});

after(async () => {
  await reg?.stop();
  if (scratch) removeDir(scratch);
});

const diffIdsOf = (config: Buffer) =>
  (JSON.parse(config.toString("utf8")) as { rootfs: { diff_ids: string[] } }).rootfs.diff_ids;

describe("base image spellings", { skip }, () => {
  it("docker://REF is the registry reference REF: pulled, its layers reused as they are", () => {
    const copy = copyStudio(studio, join(scratch, "studio-docker"));
    setBaseImage(copy, `docker://${ref}`);
    const out = buildJson(copy.config, join(scratch, "store-docker"), ["comp"], "--insecure");
    assert.equal(out.base.name, `docker://${ref}`);
    assert.equal(out.base.digest, base.manifestDigest);
    assert.deepEqual(
      out.images[0]!.layers.filter((l) => l.kind === "base").map((l) => l.digest),
      base.layerDigests,
    );
  });

  it("containers-storage:NAME is read out of podman's store with skopeo: the image's file system layers are the base's", () => {
    const graph = join(scratch, "podman");
    const name = `[vfs@${graph}/graph+${graph}/run]localhost/vfx/base:2024`;
    run("skopeo", ["copy", "--quiet", "--src-tls-verify=false", `docker://${ref}`, `containers-storage:${name}`]);
    const copy = copyStudio(studio, join(scratch, "studio-podman"));
    setBaseImage(copy, `containers-storage:${name}`);
    const store = join(scratch, "store-podman");
    const out = buildJson(copy.config, store, ["comp"]);
    assert.equal(out.base.name, `containers-storage:${name}`);
    const config = run("skopeo", ["inspect", "--config", "--raw", `oci:${store}:comp`]);
    const baseDiffIds = diffIdsOf(base.blobs.get(base.configDigest)!);
    assert.deepEqual(
      diffIdsOf(Buffer.from(config)).slice(0, baseDiffIds.length),
      baseDiffIds,
      "the base's layers, whatever compression podman's store gave them",
    );

    const gone = copyStudio(studio, join(scratch, "studio-gone"));
    setBaseImage(gone, `containers-storage:[vfs@${graph}/graph+${graph}/run]localhost/vfx/nothing:1`);
    const r = tantalus(buildArgs(gone.config, store, ["comp"]));
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /tantalus: error: base image containers-storage:\[vfs@.*\]localhost\/vfx\/nothing:1: skopeo copy failed: .*\(podman images lists the names this user's podman has\)/,
    );
    assert.doesNotMatch(r.stderr, /pull it/);
  });

  it("the audit fetches a registry base its store lacks, as the build does; a spelling it cannot read is refused with the list", () => {
    const store = join(scratch, "store-audit");
    const r = tantalus(["audit", "comp", "--base", `docker://${ref}`, "--insecure", "--config", studio.config], {
      env: { TANTALUS_STORE: store },
    });
    assert.ok(r.code === 0 || r.code === 1, r.stderr);
    assert.doesNotMatch(r.stderr, /pull it first|not in the image store/);
    const index = JSON.parse(readFileSync(join(store, "index.json"), "utf8")) as {
      manifests: { digest: string; annotations: Record<string, string> }[];
    };
    assert.ok(
      index.manifests.some(
        (m) => m.digest === base.manifestDigest && m.annotations["org.opencontainers.image.ref.name"] === ref,
      ),
      "the base is in the store, under its reference",
    );

    const refused = tantalus(["audit", "comp", "--base", "docker-daemon:rockylinux:9", "--config", studio.config], {
      env: { TANTALUS_STORE: store },
    });
    assert.equal(refused.code, 2);
    assert.match(
      refused.stderr,
      /^tantalus: error: base image "docker-daemon:rockylinux:9": docker-daemon: is not a transport Tantalus reads \(docker save NAME -o FILE\.tar, then docker-archive:FILE\.tar\); a base is one of: demo; .*containers-storage:NAME/,
    );
  });
});
