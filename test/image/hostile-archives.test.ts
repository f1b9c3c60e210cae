/**
 * Hostile archives against the importers (rootfs:, oci-archive:,
 * docker-archive:): a member name that climbs out, a whiteout of "..", a
 * hard link out of the tree or a name past 255 bytes refuses the archive with
 * one sentence naming the archive and the member, before any of it is used.
 */
import assert from "node:assert/strict";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { TantalusError } from "../../src/errors.js";
import { OciStore, importImage, writeImage, writeLayer } from "../../src/image/index.js";
import { tarOf, type Member } from "../hostile-tar.js";
import { tempDir } from "./helpers.js";

const refused = (archive: string, pattern: RegExp) => (e: unknown) =>
  e instanceof TantalusError &&
  e.message.startsWith(`${archive}: `) &&
  pattern.test(e.message) &&
  /; refusing the archive$/.test(e.message);

test("a root-file-system tarball with a hostile member name is refused at import, naming the tarball and the member", async (t) => {
  const dir = await tempDir(t);
  const store = await OciStore.open(join(dir, "s"));
  const cases: [Member[], RegExp][] = [
    [[{ name: "etc/.wh..." }], /member "etc\/\.wh\.\.\." is a whiteout of "\.\."/],
    [[{ name: ".wh.." }], /member "\.wh\.\." is a whiteout of "\."/],
    [
      [{ name: "usr/../../etc/shadow", body: "x" }],
      /member "usr\/\.\.\/\.\.\/etc\/shadow" climbs out of the root with "\.\."/,
    ],
    [
      [
        { name: "a", body: "a" },
        { name: "h", type: "link", linkname: "../../etc/shadow" },
      ],
      /hard link "h" → "\.\.\/\.\.\/etc\/shadow" climbs out of the root/,
    ],
    [
      [{ name: `lib/${"x".repeat(300)}.so`, body: "x" }],
      /member "lib\/x{300}\.so" has a 303-byte name component \(file systems store at most 255 bytes\)/,
    ],
  ];
  for (const [i, [members, pattern]] of cases.entries()) {
    const file = join(dir, `hostile-${i}.tar`);
    await writeFile(file, await tarOf([{ name: "bin/sh", body: "#!" }, ...members]));
    await assert.rejects(importImage(store, `rootfs:${file}`), refused(`rootfs:${file}`, pattern));
  }
  assert.deepEqual(await store.tags(), []);
});

/** The members of a one-image OCI layout archive made from a real store. */
async function layoutMembers(dir: string): Promise<Member[]> {
  const store = await OciStore.open(join(dir, "src"));
  const l = await writeLayer(store, { entries: [{ type: "file", path: "/etc/motd", content: "hi\n" }] });
  await writeImage(store, { layers: [{ layer: l.descriptor }] }, { tag: "img:1" });
  const members: Member[] = [
    { name: "oci-layout", body: await readFile(join(store.dir, "oci-layout")) },
    { name: "index.json", body: await readFile(join(store.dir, "index.json")) },
  ];
  for (const hex of await readdir(join(store.dir, "blobs", "sha256")))
    members.push({ name: `blobs/sha256/${hex}`, body: await readFile(join(store.dir, "blobs", "sha256", hex)) });
  return members;
}

test('an oci-archive whose member climbs out with ".." is refused, not read as the file it normalises to', async (t) => {
  const dir = await tempDir(t);
  const members = await layoutMembers(dir);
  const store = await OciStore.open(join(dir, "dst"));
  const good = join(dir, "good.tar");
  await writeFile(good, await tarOf(members));
  await importImage(store, `oci-archive:${good}`);

  const forged = JSON.stringify({
    schemaVersion: 2,
    manifests: [
      { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: `sha256:${"0".repeat(64)}`, size: 2 },
    ],
  });
  const file = join(dir, "hostile.tar");
  await writeFile(file, await tarOf([...members, { name: "blobs/sha256/../../index.json", body: forged }]));
  await assert.rejects(
    importImage(store, `oci-archive:${file}`),
    refused(
      `oci-archive:${file}`,
      /member "blobs\/sha256\/\.\.\/\.\.\/index\.json" climbs out of the root with "\.\."/,
    ),
  );

  await writeFile(file, await tarOf([...members, { name: `blobs/sha256/${"a".repeat(256)}`, body: "x" }]));
  await assert.rejects(
    importImage(store, `oci-archive:${file}`),
    refused(`oci-archive:${file}`, /has a 256-byte name component/),
  );
});

test("a docker-archive with a member or hard link that climbs out is refused", async (t) => {
  const dir = await tempDir(t);
  const store = await OciStore.open(join(dir, "s"));
  const layer = await tarOf([{ name: "etc/motd", body: "hi\n" }]);
  const { sha256 } = await import("../../src/image/index.js");
  const config = JSON.stringify({
    architecture: "amd64",
    os: "linux",
    rootfs: { type: "layers", diff_ids: [sha256(layer)] },
  });
  const manifest = JSON.stringify([{ Config: "config.json", RepoTags: ["x:1"], Layers: ["aaa/layer.tar"] }]);
  const honest: Member[] = [
    { name: "manifest.json", body: manifest },
    { name: "config.json", body: config },
    { name: "aaa/layer.tar", body: layer },
  ];
  const good = join(dir, "good.tar");
  await writeFile(good, await tarOf(honest));
  await importImage(store, `docker-archive:${good}`);

  const file = join(dir, "hostile.tar");
  await writeFile(file, await tarOf([...honest, { name: "../../manifest.json", body: manifest }]));
  await assert.rejects(
    importImage(store, `docker-archive:${file}`),
    refused(`docker-archive:${file}`, /member "\.\.\/\.\.\/manifest\.json" climbs out of the root/),
  );
  await writeFile(
    file,
    await tarOf([...honest, { name: "bbb/layer.tar", type: "link", linkname: "../../../etc/shadow" }]),
  );
  await assert.rejects(
    importImage(store, `docker-archive:${file}`),
    refused(
      `docker-archive:${file}`,
      /hard link "bbb\/layer\.tar" → "\.\.\/\.\.\/\.\.\/etc\/shadow" climbs out of the root/,
    ),
  );
});

test("an OCI layout whose index.json is null or whose manifest has no layers list is one sentence, not a TypeError (found by the fuzz pass)", async (t) => {
  const dir = await tempDir(t);
  const store = await OciStore.open(join(dir, "dst"));
  const layout = await OciStore.open(join(dir, "layout"));
  const config = await layout.putBlob(Buffer.from("{}"));
  const manifest = await layout.putBlob(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: config.digest, size: config.size },
      }),
    ),
  );
  await writeFile(join(layout.dir, "index.json"), "null");
  await assert.rejects(
    importImage(store, `oci:${layout.dir}`),
    (e: unknown) => e instanceof TantalusError && /index\.json: not an OCI image index/.test(e.message),
  );
  await writeFile(
    join(layout.dir, "index.json"),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: manifest.digest, size: manifest.size },
      ],
    }),
  );
  await assert.rejects(
    importImage(store, `oci:${layout.dir}`),
    (e: unknown) => e instanceof TantalusError && e.message === `manifest ${manifest.digest}: layers is not a list`,
  );
  await writeFile(
    join(layout.dir, "index.json"),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json", digest: manifest.digest, size: "big" }],
    }),
  );
  await assert.rejects(
    importImage(store, `oci:${layout.dir}`),
    (e: unknown) =>
      e instanceof TantalusError && /index\.json: manifests\[0\]\.size "big" is not a byte count/.test(e.message),
  );
});

test("an OCI layout whose blob is a FIFO is refused at once, not read forever", async (t) => {
  const dir = await tempDir(t);
  const src = await OciStore.open(join(dir, "layout"));
  const l = await writeLayer(src, { entries: [{ type: "file", path: "/etc/motd", content: "hi\n" }] });
  const img = await writeImage(src, { layers: [{ layer: l.descriptor }] }, { tag: "img:1" });
  const { execFileSync } = await import("node:child_process");
  const { rmSync } = await import("node:fs");
  const fifo = (digest: string) => {
    const p = src.blobPath(digest as `sha256:${string}`);
    rmSync(p);
    execFileSync("mkfifo", [p]);
  };
  fifo(img.descriptor.digest);
  const store = await OciStore.open(join(dir, "dst"));
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise(
    (_, reject) => (timer = setTimeout(() => reject(new Error("the import never settled")), 10_000)),
  );
  try {
    await assert.rejects(
      Promise.race([importImage(store, `oci:${src.dir}`), hang]),
      (e: unknown) =>
        e instanceof TantalusError &&
        /blob .*\/blobs\/sha256\/[0-9a-f]{64} is not a regular file; refusing to read it/.test(e.message),
    );
  } finally {
    clearTimeout(timer);
  }
});
