/**
 * Hostile layers against the unpacker that serves ch-run and the audit
 * (src/image/unpack.ts): whatever a layer holds, nothing outside the unpack
 * root changes, and a name that tries gets one sentence naming the layer
 * and the member.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { OciStore, unpackImage, writeImage } from "../../src/image/index.js";
import { TantalusError } from "../../src/errors.js";
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
  assert.equal(
    readFileSync(join(s.sibling, "etc", "keep"), "utf8"),
    "sibling\n",
    "the sibling unpacked image is intact",
  );
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
      unpackLayers(s, [
        [
          { name: "etc/", type: "directory" },
          { name: "etc/passwd", body: "root\n" },
        ],
        [{ name: member }],
      ]),
      (e: unknown) =>
        e instanceof TantalusError &&
        /layer sha256:[0-9a-f]{64}: member ".*\.wh\..*" is a whiteout of .*; refusing the archive/.test(e.message),
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

const refusal = (pattern: RegExp) => (e: unknown) =>
  e instanceof TantalusError && /^layer sha256:[0-9a-f]{64}: /.test(e.message) && pattern.test(e.message);

for (const member of [
  "../outside/victim",
  "etc/../../outside/victim",
  "./../outside/victim",
  "/../outside/victim",
  "etc/../../../outside/",
]) {
  test(`a member named ${JSON.stringify(member)} is refused, naming the layer and the member`, async (t) => {
    const s = await scene(t);
    await assert.rejects(
      unpackLayers(s, [
        [
          { name: "etc/", type: "directory" },
          { name: member, body: "pwned\n" },
        ],
      ]),
      refusal(/member ".*" climbs out of the root with "\.\."; refusing the archive/),
    );
    assertUntouched(s);
  });
}

test("an absolute member name lands inside the root, never at that host path", async (t) => {
  const s = await scene(t);
  const root = await unpackLayers(s, [
    [
      { name: join(s.outside, "victim"), body: "pwned\n" },
      { name: join(s.outside, "added"), body: "pwned\n" },
    ],
  ]);
  assert.equal(readFileSync(join(root, s.outside, "victim"), "utf8"), "pwned\n");
  assertUntouched(s);
});

test("nothing is written through a symlink an earlier member or layer planted, whether absolute or climbing", async (t) => {
  const s = await scene(t);
  const climb = "../".repeat(20) + s.outside.slice(1);
  const root = await unpackLayers(s, [
    [
      { name: "abs", type: "symlink", linkname: s.outside },
      { name: "rel", type: "symlink", linkname: climb },
      { name: "abs/victim", body: "pwned through abs\n" },
      { name: "victimlink", type: "symlink", linkname: join(s.outside, "victim") },
      { name: "dirlink", type: "symlink", linkname: s.outside },
    ],
    [
      { name: "rel/victim", body: "pwned through rel\n" },
      { name: "rel/new/deep", body: "pwned\n" },
      { name: "victimlink", body: "replaces the link\n" },
      { name: "dirlink/", type: "directory", mode: 0o777 },
      { name: "abs/.wh.victim" },
      { name: "rel/.wh..wh..opq" },
    ],
  ]);
  assertUntouched(s);
  assert.equal(statSync(s.outside).mode & 0o777, 0o755, "the folder a link pointed at kept its mode");
  assert.equal(readFileSync(join(root, "victimlink"), "utf8"), "replaces the link\n");
  assert.ok(statSync(join(root, "dirlink")).isDirectory());
});

test("a hard link reaches only files earlier in the image", async (t) => {
  const s = await scene(t);
  const outsideVictim = join(s.outside, "victim");
  const cases: [Member[], RegExp][] = [
    [
      [{ name: "h", type: "link", linkname: "../outside/victim" }],
      /hard link "h" → "\.\.\/outside\/victim" climbs out of the root with "\.\."/,
    ],
    [
      [{ name: "h", type: "link", linkname: outsideVictim }],
      /hard link "h" points to ".*victim", which is not a file earlier in the image/,
    ],
    [
      [
        { name: "x", type: "symlink", linkname: s.outside },
        { name: "h", type: "link", linkname: "x/victim" },
      ],
      /hard link "h" points to "x\/victim", which is not a file earlier in the image/,
    ],
    [
      [
        { name: "d/", type: "directory" },
        { name: "h", type: "link", linkname: "d" },
      ],
      /hard link "h" points to "d", which is not a file earlier in the image/,
    ],
  ];
  for (const [members, pattern] of cases) {
    await assert.rejects(
      unpackLayers(s, [members], `img-${members.length}-${String(members.at(-1)!.linkname).length}`),
      refusal(pattern),
    );
    assertUntouched(s);
  }
  // A hard link to a planted symlink links the symlink, never its target.
  const root = await unpackLayers(s, [
    [
      { name: "s", type: "symlink", linkname: outsideVictim },
      { name: "h", type: "link", linkname: "s" },
    ],
    [{ name: "h", body: "pwned\n" }],
  ]);
  assertUntouched(s);
  assert.equal(readFileSync(join(root, "h"), "utf8"), "pwned\n");
});

test("a name component over 255 bytes is refused with the layer and member named", async (t) => {
  const s = await scene(t);
  const long = "n".repeat(256);
  await assert.rejects(
    unpackLayers(s, [[{ name: `usr/${long}`, body: "x" }]]),
    refusal(/member "usr\/n{256}" has a 256-byte name component \(file systems store at most 255 bytes\)/),
  );
  const multibyte = "é".repeat(128); // 256 bytes in 128 characters
  await assert.rejects(
    unpackLayers(s, [[{ name: `usr/${multibyte}`, body: "x" }]]),
    refusal(/has a 256-byte name component/),
  );
  const root = await unpackLayers(s, [[{ name: `usr/${"n".repeat(255)}`, body: "x" }]], "ok");
  assert.equal(readFileSync(join(root, "usr", "n".repeat(255)), "utf8"), "x", "255 bytes is allowed");
  assertUntouched(s);
});

test("a layer that breaks off inside a file is an error naming the layer, not an unpack that never ends (found by the fuzz pass)", async (t) => {
  const s = await scene(t);
  const { tarOf } = await import("../hostile-tar.js");
  const { MediaType, sha256 } = await import("../../src/image/index.js");
  const whole = await tarOf([
    { name: "etc/", type: "directory" },
    { name: "etc/os-release", body: "ID=debian\n" },
    { name: "usr/lib/libx.so.1", body: "x".repeat(700) },
  ]);
  const cut = whole.subarray(0, 512 * 5 + 300); // etc/, os-release (header + body), libx's header, 300 of its 700 bytes
  const { digest, size } = await s.store.putBlob(cut);
  const built = await writeImage(s.store, {
    layers: [{ layer: { mediaType: MediaType.Layer, digest, size, diffId: sha256(cut) } }],
  });
  const image = await s.store.loadImage(built.descriptor);
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise(
    (_, reject) => (timer = setTimeout(() => reject(new Error("the unpack never settled")), 10_000)),
  );
  try {
    await assert.rejects(
      Promise.race([unpackImage(s.store, image, join(s.cache, "cut")), hang]),
      (e: unknown) =>
        e instanceof TantalusError &&
        e.message === `layer ${digest}: not a readable tar archive: Unexpected end of data`,
    );
  } finally {
    clearTimeout(timer);
  }
  assert.deepEqual(await readdir(s.cache), ["other-image"], "no half-unpacked tree is left behind");
});
