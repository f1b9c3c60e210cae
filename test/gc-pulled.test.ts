/**
 * `gc --keep N` thins out a workflow's local builds; an image fetched with
 * `tantalus pull` (someone else's build, e.g. the farm's) is not one of them
 * and stays unless `--include-pulled` asks for it. Pulled from a real
 * docker-registry on 127.0.0.1.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { MemoryStore, makeImage, startRegistry, type RunningRegistry } from "./image-remote/harness.js";
import { pushImage } from "../src/image/remote/index.js";
import { OciStore, StoreAnnotation, writeImage, writeLayer } from "../src/image/index.js";
import { missingTools, removeDir, scratchDir, tantalusOk } from "./builder/fixture.js";

const skip = missingTools("docker-registry");
let scratch: string;
let reg: RunningRegistry;

before(async () => {
  if (skip) return;
  scratch = scratchDir("gc-pulled");
  reg = await startRegistry();
});

after(async () => {
  await reg?.stop();
  if (scratch) removeDir(scratch);
});

interface GcJson {
  removedTags: string[];
}

test(
  "gc --keep 1 keeps a pulled image of a workflow that has newer local builds; --include-pulled untags it",
  { skip },
  async () => {
    const farm = await makeImage([{ "opt/farm/README": "built on the farm\n" }], "farm", "oci", {
      "io.tantalus.workflow": "rough_layout",
    });
    const ref = `${reg.host}/studio/rough_layout:farm`;
    await pushImage(
      ref,
      { manifest: farm.manifest, mediaType: farm.mediaType, blobs: new MemoryStore(farm.blobs) },
      { insecure: true, retry: { baseDelayMs: 10 } },
    );
    const storeDir = join(scratch, "store");
    tantalusOk(["pull", ref, "--insecure", "--store", storeDir]);

    // Two local builds of the same workflow, both tagged after the pull.
    const store = await OciStore.open(storeDir);
    for (const n of ["1", "2"]) {
      await new Promise((r) => setTimeout(r, 5));
      const layer = await writeLayer(store, { entries: [{ type: "file", path: "/build", content: n }] });
      const img = await writeImage(store, { layers: [{ layer: layer.descriptor }] });
      await store.tag(`rough_layout:build${n}`, img.descriptor, { [StoreAnnotation.Workflow]: "rough_layout" });
    }

    const kept = JSON.parse(
      tantalusOk(["gc", "--keep", "1", "--min-age", "0", "--store", storeDir, "--json"]).stdout,
    ) as GcJson;
    assert.deepEqual(kept.removedTags, ["rough_layout:build1"], "only the older local build goes");
    assert.deepEqual(await store.tags(), [ref, "rough_layout:build2"]);
    await store.resolveImage(ref); // its blobs are all still there, verified

    const all = JSON.parse(
      tantalusOk(["gc", "--keep", "1", "--include-pulled", "--min-age", "0", "--store", storeDir, "--json"]).stdout,
    ) as GcJson;
    assert.deepEqual(all.removedTags, [ref], "asked for, the older pulled image is untagged too");
    assert.deepEqual(await store.tags(), ["rough_layout:build2"]);
    assert.equal(await store.hasBlob(farm.configDigest), false, "and its blobs collected");
  },
);
