/**
 * `base.image: rootfs:DIR` (a debootstrap target, an unpacked distro tree):
 * `audit` read it in place, but `build` failed with EISDIR reading it as a
 * tarball. Both work now; the build packs the tree as a reproducible layer.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { importImage, OciStore } from "../src/image/index.js";
import {
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
import { makeBusyboxRootfs } from "./image/helpers.js";

let scratch: string;
let studio: Studio;
let rootfsDir: string;

before(async () => {
  scratch = scratchDir("build-rootfs-dir");
  studio = await sampleStudio(scratch);
  await makeBusyboxRootfs(scratch);
  rootfsDir = join(scratch, "busybox-root");
});

after(() => removeDir(scratch));

test("a rootfs: directory imports as a one-layer image, the same digest each time", async () => {
  const store = await OciStore.open(join(scratch, "import-store"));
  const a = await importImage(store, `rootfs:${rootfsDir}`);
  const b = await importImage(await OciStore.open(join(scratch, "import-store-2")), `rootfs:${rootfsDir}`);
  assert.equal(a.manifest.layers.length, 1);
  assert.equal(a.manifestDescriptor.digest, b.manifestDescriptor.digest, "reproducible");
  const listing = run("sh", [
    "-c",
    `gzip -dc ${JSON.stringify(store.blobPath(a.manifest.layers[0]!.digest))} | tar -tvf -`,
  ]);
  assert.match(listing, /^-rwxr-xr-x 0\/0 .* bin\/busybox$/m);
  assert.match(listing, /^lrwxrwxrwx 0\/0 .* bin\/sh -> busybox$/m);
});

test("audit and build both take base.image rootfs:DIR", { skip: missingTools("busybox") }, () => {
  const copy = copyStudio(studio, join(scratch, "studio-rootfs-dir"));
  setBaseImage(copy, `rootfs:${rootfsDir}`);
  const store = join(scratch, "store");
  const audit = tantalus(["audit", "comp", "--config", copy.config, "--store", store]);
  assert.doesNotMatch(audit.stderr, /internal error|EISDIR/);
  const built = buildJson(copy.config, store, ["comp"]);
  assert.equal(built.base.name, `rootfs:${rootfsDir}`);
  assert.equal(built.images[0]!.layers.filter((l) => l.kind === "base").length, 1);
});
