import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { OciStore, StoreAnnotation } from "../../src/image/index.js";
import { findWorkflowImage, type ImageBuilder } from "../../src/image/index.js";
import { ensureImage } from "../../src/run/index.js";
import { which } from "../../src/run/which.js";
import { startRegistry } from "../image-remote/harness.js";
import { buildFixtureImage } from "./fixture.js";

function temp(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), "tantalus-run-img-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test("the workflow's newest tag in the store is the image that runs; another workflow's or a missing one is not", async (t) => {
  const dir = temp(t);
  const storeDir = join(dir, "store");
  const first = await buildFixtureImage(storeDir);
  const store = await OciStore.open(storeDir);
  const desc = (await store.resolve(first.tag))!;
  await store.tag(
    "rough_layout:older",
    desc,
    { [StoreAnnotation.Tagged]: "2000-01-01T00:00:00.000Z" },
    { recordTime: false },
  );
  await store.tag("studio/rough_layout:newest", desc);
  await buildFixtureImage(storeDir, { workflow: "comp" });
  assert.equal(await findWorkflowImage(store, "rough_layout"), "studio/rough_layout:newest");
  assert.equal(await findWorkflowImage(store, "comp"), "comp:test");
  const img = await ensureImage({ storeDir }, "rough_layout");
  assert.equal(img.ref, "studio/rough_layout:newest");
  assert.equal(img.image.manifestDescriptor.digest, first.manifestDigest);
  await assert.rejects(
    ensureImage({ storeDir }, "lighting"),
    /no image of workflow lighting in the store .*tantalus build lighting/,
  );
  await assert.rejects(
    ensureImage({ storeDir: join(dir, "nowhere") }, "rough_layout", { readOnly: true }),
    /no store there yet/,
  );
  assert.equal(existsSync(join(dir, "nowhere")), false, "a dry run creates no store");
});

test("the build seam is asked first: it may build the image, and --no-build makes a missing image an error", async (t) => {
  const dir = temp(t);
  const storeDir = join(dir, "store");
  const calls: Array<{ workflow: string; noBuild: boolean }> = [];
  const builder: ImageBuilder = {
    async ensureBuilt(workflow, store, opts) {
      calls.push({ workflow, noBuild: opts.noBuild });
      if (opts.noBuild) return undefined;
      const built = await buildFixtureImage(store.dir, { workflow });
      return { tag: built.tag, built: true };
    },
  };
  const img = await ensureImage({ storeDir, builder }, "layout");
  assert.equal(img.ref, "layout:test");
  await assert.rejects(
    ensureImage({ storeDir: join(dir, "other"), builder }, "layout", { noBuild: true }),
    /--no-build forbids building it/,
  );
  assert.deepEqual(calls, [
    { workflow: "layout", noBuild: false },
    { workflow: "layout", noBuild: true },
  ]);
});

test(
  "a workflow with no local image is pulled from the configured registry into the store",
  {
    skip: existsSync("/usr/bin/docker-registry") && which("skopeo") ? false : "needs docker-registry and skopeo",
    timeout: 60_000,
  },
  async (t) => {
    const dir = temp(t);
    const built = await buildFixtureImage(join(dir, "build-store"));
    const registry = await startRegistry();
    let stopped = false;
    t.after(async () => {
      if (!stopped) await registry.stop();
    });
    const push = spawnSync(
      "skopeo",
      [
        "copy",
        "--quiet",
        "--dest-tls-verify=false",
        `oci:${built.storeDir}:${built.tag}`,
        `docker://${registry.host}/tantalus/rough_layout:latest`,
      ],
      { encoding: "utf8" },
    );
    assert.equal(push.status, 0, push.stderr);
    const storeDir = join(dir, "artist-store");
    const img = await ensureImage(
      { storeDir, registry: `${registry.host}/tantalus`, insecureRegistry: true },
      "rough_layout",
    );
    assert.equal(img.ref, "rough_layout:latest");
    assert.equal(img.image.manifestDescriptor.digest, built.manifestDigest, "the same image, byte for byte");
    const entry = await img.store.resolve("rough_layout:latest");
    assert.equal(
      entry?.annotations?.[StoreAnnotation.Pulled],
      `${registry.host}/tantalus/rough_layout:latest`,
      "marked as pulled, so gc --keep leaves it alone",
    );
    await registry.stop();
    stopped = true;
    const again = await ensureImage(
      { storeDir, registry: `${registry.host}/tantalus`, insecureRegistry: true },
      "rough_layout",
    );
    assert.equal(again.ref, "rough_layout:latest", "the second run finds it locally (the registry is gone)");
  },
);
