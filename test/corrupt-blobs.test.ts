/**
 * A blob corrupted on disk (a flipped byte, same size) breaks one image, not
 * the commands around it: `images` lists the healthy ones and names the
 * broken one with the command that repairs it, `build` without --verify
 * writes a corrupted manifest or config again instead of keeping it, and
 * `run` explains a corrupted layer instead of passing on skopeo's
 * "gzip: invalid checksum".
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { openSync, readSync, writeSync, closeSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { OciStore, writeImage, writeLayer } from "../src/image/index.js";
import { entrypointConfig } from "../src/image/entrypoint.js";
import { which } from "../src/run/which.js";
import {
  blobIntegrity,
  removeDir,
  sampleStudio,
  scratchDir,
  tantalus,
  tantalusOk,
  type Studio,
} from "./builder/fixture.js";

let scratch: string;
let studio: Studio;
let storeDir: string;

before(async () => {
  scratch = scratchDir("corrupt-blobs");
  studio = await sampleStudio(scratch);
  storeDir = join(scratch, "store");
  tantalusOk([
    "build",
    "--allow-audit-errors",
    "rough_layout",
    "animation",
    "comp",
    "--config",
    studio.config,
    "--store",
    storeDir,
    "--no-progress",
  ]);
});

after(() => {
  if (scratch) removeDir(scratch);
});

/** Flip one byte in the middle of a blob: same size, other content. */
function corrupt(store: OciStore, digest: string): void {
  const fd = openSync(store.blobPath(digest as `sha256:${string}`), "r+");
  try {
    const b = Buffer.alloc(1);
    const at = 40;
    readSync(fd, b, 0, 1, at);
    b[0] = b[0]! ^ 0xff;
    writeSync(fd, b, 0, 1, at);
  } finally {
    closeSync(fd);
  }
}

interface Listed {
  tag: string;
  workflow?: string;
  problem?: string;
}

describe("corrupted blobs in the store", () => {
  it("images lists the healthy images and names the broken one; build without --verify writes its manifest and config again", async () => {
    const store = await OciStore.open(storeDir, { readOnly: true });
    const anim = await store.resolveImage("animation");
    const rough = await store.resolveImage("rough_layout");
    corrupt(store, anim.manifestDescriptor.digest);
    corrupt(store, rough.manifest.config.digest);

    const r = tantalus(["images", "--store", storeDir]);
    assert.equal(r.code, 1, "a broken image makes the listing fail");
    assert.match(
      r.stderr,
      new RegExp(
        `^tantalus: error: image animation: its manifest ${anim.manifestDescriptor.digest} is corrupted \\(the content does not match the digest\\); rebuild it with \`tantalus build --verify animation\``,
        "m",
      ),
    );
    assert.match(
      r.stderr,
      new RegExp(
        `^tantalus: error: image rough_layout: its config ${rough.manifest.config.digest} is corrupted .*; rebuild it with \`tantalus build --verify rough_layout\``,
        "m",
      ),
    );
    assert.match(r.stdout, /^comp +comp +\S+ +[\d.]+ [kM]B/m, "the healthy images are listed");
    assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
    const json = JSON.parse(tantalus(["images", "--json", "--store", storeDir]).stdout) as Listed[];
    const healthy = json.filter((i) => !i.problem).map((i) => i.tag);
    assert.ok(
      healthy.length === 2 && healthy.every((t) => t === "comp" || t.startsWith("comp:")),
      `only comp's two tags are healthy: ${healthy.join(", ")}`,
    );
    assert.equal(json.length, 6, "all six tags are listed (workflow and workflow:digest of each)");

    tantalusOk([
      "build",
      "--allow-audit-errors",
      "rough_layout",
      "animation",
      "comp",
      "--config",
      studio.config,
      "--store",
      storeDir,
      "--no-progress",
    ]);
    const bad = blobIntegrity(storeDir).filter((b) => !b.ok);
    assert.deepEqual(bad, [], "the rebuild wrote the manifest and config again");
    const again = tantalus(["images", "--json", "--store", storeDir]);
    assert.equal(again.code, 0, again.stderr);
    assert.ok((JSON.parse(again.stdout) as Listed[]).every((i) => !i.problem));
  });

  it("one broken image among healthy ones: the healthy ones are still listed", async () => {
    const other = join(scratch, "mixed");
    const store = await OciStore.open(other);
    const tags: string[] = [];
    for (const n of ["a", "b", "c"]) {
      const layer = await writeLayer(store, { entries: [{ type: "file", path: "/id", content: n }] });
      const img = await writeImage(store, { layers: [{ layer: layer.descriptor }] }, { tag: `wf_${n}` });
      tags.push(`wf_${n}`);
      if (n === "b") corrupt(store, img.descriptor.digest);
    }
    const r = tantalus(["images", "--json", "--store", other]);
    assert.equal(r.code, 1);
    const listed = JSON.parse(r.stdout) as Listed[];
    assert.deepEqual(listed.map((i) => [i.tag, i.problem === undefined]).sort(), [
      ["wf_a", true],
      ["wf_b", false],
      ["wf_c", true],
    ]);
    assert.match(r.stderr, /image wf_b: .*`tantalus build --verify`/);
  });

  it(
    "run names a corrupted layer and the command that repairs it, instead of the runtime's bare error",
    { skip: which("podman") && which("skopeo") ? false : "needs podman and skopeo" },
    async () => {
      const dir = join(scratch, "run-store");
      const store = await OciStore.open(dir);
      // Content of its own, so podman cannot already hold this image from another run.
      const layer = await writeLayer(store, {
        entries: [{ type: "file", path: "/payload", content: randomBytes(64 << 10) }],
      });
      const img = await writeImage(
        store,
        { layers: [{ layer: layer.descriptor }], config: entrypointConfig("corrupt_probe") },
        { tag: "corrupt_probe:test" },
      );
      corrupt(store, layer.descriptor.digest);
      const r = tantalus(
        ["run", "corrupt_probe", "--store", dir, "--tag", "corrupt_probe:test", "--runtime", "podman", "-c", "true"],
        { cwd: scratch },
      );
      assert.equal(r.code, 1, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(
          `image corrupt_probe:test in .* cannot be used: its layer 1 of 1 \\(${layer.descriptor.digest}\\) does not match its digest; rebuild it with \`tantalus build --verify corrupt_probe\``,
        ),
      );
      assert.doesNotMatch(r.stderr, /internal error/);
      assert.ok(img.descriptor.digest);
    },
  );
});
