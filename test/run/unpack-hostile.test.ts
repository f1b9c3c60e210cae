/**
 * Hostile layers against the unpacker that serves ch-run and the audit
 * (src/run/unpack.ts): whatever a layer holds, nothing outside the unpack
 * root changes, and a name that tries gets one sentence naming the layer
 * and the member.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { OciStore, writeImage } from "../../src/image/index.js";
import { TantalusError } from "../../src/errors.js";
import { unpackImage } from "../../src/run/index.js";
import { layerOf, type Member } from "../hostile-tar.js";

interface Scene {
  dir: string;
  store: OciStore;
  /** Where images are unpacked: the parent of every unpack root. */
  cache: string;
  /** A sibling tree under `cache` that must survive any unpack. */
  sibling: string;
  /** A folder outside `cache` that must survive any unpack. */
  outside: string;
}

async function scene(t: { after: (fn: () => Promise<void>) => void }): Promise<Scene> {
  const dir = await mkdtemp(join(tmpdir(), "tantalus-unpack-hostile-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const store = await OciStore.open(join(dir, "store"));
  const cache = join(dir, "cache");
  const sibling = join(cache, "other-image");
  const outside = join(dir, "outside");
  await mkdir(join(sibling, "etc"), { recursive: true });
  await writeFile(join(sibling, "etc", "keep"), "sibling\n");
  await mkdir(outside, { recursive: true });
  await writeFile(join(outside, "victim"), "outside\n");
  return { dir, store, cache, sibling, outside };
}

function assertUntouched(s: Scene): void {
  assert.equal(readFileSync(join(s.sibling, "etc", "keep"), "utf8"), "sibling\n", "the sibling unpacked image is intact");
  assert.equal(readFileSync(join(s.outside, "victim"), "utf8"), "outside\n", "the folder outside the cache is intact");
  assert.deepEqual(readdirSync(s.outside).sort(), ["victim"], "nothing was added outside the root");
}

async function unpackLayers(s: Scene, layers: Member[][], name = "image"): Promise<string> {
  const descs = [];
  for (const members of layers) descs.push({ layer: await layerOf(s.store, members) });
  const built = await writeImage(s.store, { layers: descs });
  const root = join(s.cache, name);
  await unpackImage(s.store, await s.store.loadImage(built.descriptor), root);
  return root;
}

for (const member of [".wh...", "etc/.wh...", ".wh..", "etc/.wh..", ".wh.", "etc/.wh."]) {
  test(`a whiteout named ${JSON.stringify(member)} is refused and removes nothing, in the tree or above it`, async (t) => {
    const s = await scene(t);
    await assert.rejects(
      unpackLayers(s, [[{ name: "etc/", type: "directory" }, { name: "etc/passwd", body: "root\n" }], [{ name: member }]]),
      (e: unknown) => e instanceof TantalusError && /layer sha256:[0-9a-f]{64}: member ".*\.wh\..*" is a whiteout of .*; refusing the archive/.test(e.message),
    );
    assertUntouched(s);
    assert.deepEqual(await readdir(s.cache), ["other-image"], "no half-unpacked tree is left behind");
  });
}

test("the tree unpacked for ch-run keeps no setuid, setgid, sticky or group/world-write bit and no device node", async (t) => {
  const s = await scene(t);
  const root = await unpackLayers(s, [
    [
      { name: "usr/bin/passwd", body: "#!/bin/sh\n", mode: 0o4755 },
      { name: "usr/bin/crontab", body: "#!/bin/sh\n", mode: 0o2755 },
      { name: "var/tmp/", type: "directory", mode: 0o1777 },
      { name: "dev/zero", type: "character-device", mode: 0o666, devmajor: 1, devminor: 5 },
    ],
  ]);
  assert.equal(statSync(join(root, "usr/bin/passwd")).mode & 0o7777, 0o755);
  assert.equal(statSync(join(root, "usr/bin/crontab")).mode & 0o7777, 0o755);
  assert.equal(statSync(join(root, "var/tmp")).mode & 0o7777, 0o755);
  assert.equal(existsSync(join(root, "dev/zero")), false);
  assertUntouched(s);
});
