/**
 * Fuzz pass over the readers of image content: the tar reader under every
 * importer, oci-archive / docker-archive / rootfs: imports, an OCI layout's
 * index.json, manifests and configs in the store, registry manifest bytes,
 * and the unpacker for ch-run and the audit. Inputs are random bytes and
 * byte-level mutations of valid archives. Only TantalusError may come out,
 * and nothing may hang (every property is bounded by fast-check's budget and
 * the test runner's timeout).
 */
import fc from "fast-check";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, test } from "node:test";
import { gzipSync } from "node:zlib";
import { forEachMember } from "../../src/image/archive.js";
import { MediaType, OciStore, exportImage, importImage, writeImage, writeLayer } from "../../src/image/index.js";
import { parseManifestBytes } from "../../src/image/remote/manifest.js";
import { unpackImage } from "../../src/image/index.js";
import { tarOf } from "../hostile-tar.js";
import { mutated, onlyExpected, params } from "./fuzz-kit.js";

let dir: string;
let store: OciStore;
let validTar: Buffer;
let ociArchive: Buffer;
let dockerArchive: Buffer;
let counter = 0;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "tantalus-fuzz-archives-"));
  store = await OciStore.open(join(dir, "store"));
  validTar = await tarOf([
    { name: "etc/", type: "directory" },
    { name: "etc/os-release", body: "ID=debian\n" },
    { name: "usr/bin/tool", body: "#!/bin/sh\n", mode: 0o755 },
    { name: "usr/lib/libx.so.1", body: "x".repeat(700) },
    { name: "usr/lib/libx.so", type: "symlink", linkname: "libx.so.1" },
    { name: "usr/bin/tool2", type: "link", linkname: "usr/bin/tool" },
    { name: `opt/${"long/".repeat(30)}file`, body: "deep" },
    { name: "etc/.wh.motd" },
  ]);
  const layer = await writeLayer(store, {
    entries: [
      { type: "file", path: "/etc/motd", content: "hi\n" },
      { type: "symlink", path: "/bin/sh", linkTarget: "busybox" },
    ],
  });
  await writeImage(store, { layers: [{ layer: layer.descriptor }] }, { tag: "fuzz:1" });
  await exportImage(store, "fuzz:1", `oci-archive:${join(dir, "image.oci.tar")}`);
  await exportImage(store, "fuzz:1", `docker-archive:${join(dir, "image.docker.tar")}`);
  const { readFileSync } = await import("node:fs");
  ociArchive = readFileSync(join(dir, "image.oci.tar"));
  dockerArchive = readFileSync(join(dir, "image.docker.tar"));
});

after(() => rmSync(dir, { recursive: true, force: true }));

function file(bytes: Buffer, ext: string): string {
  const p = join(dir, `in-${counter++}.${ext}`);
  writeFileSync(p, bytes);
  return p;
}

async function expectOnlyTantalusErrors(fn: () => unknown): Promise<void> {
  try {
    await fn();
  } catch (e) {
    onlyExpected(e);
  }
}

const anyBytes = fc.oneof(
  fc.uint8Array({ maxLength: 2048 }).map((u) => Buffer.from(u)),
  fc.constant(Buffer.alloc(1024)),
);

test("fuzz: the tar reader takes random and damaged archives, plain and gzip'd", async () => {
  await fc.assert(
    fc.asyncProperty(fc.oneof(anyBytes, mutated(validTar, 6)), fc.boolean(), async (bytes, gzip) => {
      const input = gzip ? gzipSync(bytes) : bytes;
      await expectOnlyTantalusErrors(() =>
        forEachMember(Readable.from([input]), "fuzz.tar", async (_n, _h, body) => void (await body.toArray())),
      );
    }),
    params(600),
  );
});

test("fuzz: oci-archive, docker-archive and rootfs imports of damaged archives", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(mutated(ociArchive, 6), mutated(dockerArchive, 6), mutated(validTar, 6), anyBytes),
      fc.constantFrom("oci-archive", "docker-archive", "rootfs"),
      async (bytes, transport) => {
        const p = file(bytes, "tar");
        await expectOnlyTantalusErrors(() => importImage(store, `${transport}:${p}`));
        rmSync(p, { force: true });
      },
    ),
    params(400),
  );
});

/** JSON-ish values with the keys the OCI readers look for, so the fuzz gets past the first check. */
const ociKeys = [
  "schemaVersion",
  "mediaType",
  "manifests",
  "layers",
  "config",
  "digest",
  "size",
  "annotations",
  "platform",
  "architecture",
  "os",
  "rootfs",
  "diff_ids",
  "org.opencontainers.image.ref.name",
  "urls",
];
const ociJson = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.constantFrom<unknown>(
      null,
      true,
      0,
      -1,
      2,
      1e308,
      "",
      "sha256:" + "0".repeat(64),
      "sha256:../../etc",
      MediaType.ImageManifest,
      MediaType.ImageIndex,
      MediaType.Layer,
      MediaType.ImageConfig,
      "amd64",
      "linux",
    ),
    fc.string({ maxLength: 10 }),
    fc.array(tie("value"), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom(...ociKeys), tie("value"), { maxKeys: 5 }),
  ),
})).value;

test("fuzz: an OCI layout whose index.json, manifest and config are arbitrary JSON", async () => {
  await fc.assert(
    fc.asyncProperty(ociJson, ociJson, ociJson, async (index, manifest, config) => {
      const layout = join(dir, `layout-${counter++}`);
      const lstore = await OciStore.open(layout);
      const cfg = await lstore.putBlob(Buffer.from(JSON.stringify(config)));
      const m =
        typeof manifest === "object" && manifest !== null && !Array.isArray(manifest)
          ? { ...manifest, config: { mediaType: MediaType.ImageConfig, digest: cfg.digest, size: cfg.size } }
          : manifest;
      const man = await lstore.putBlob(Buffer.from(JSON.stringify(m)));
      const entries = [
        JSON.stringify(index),
        JSON.stringify({
          schemaVersion: 2,
          manifests: [{ mediaType: MediaType.ImageManifest, digest: man.digest, size: man.size }],
        }),
      ];
      for (const text of entries) {
        writeFileSync(join(layout, "index.json"), text);
        await expectOnlyTantalusErrors(() => importImage(store, `oci:${layout}`));
      }
      await expectOnlyTantalusErrors(() =>
        parseManifestBytes(Buffer.from(JSON.stringify(manifest)), MediaType.ImageManifest, "registry.example", "fuzz"),
      );
      await expectOnlyTantalusErrors(() =>
        parseManifestBytes(Buffer.from(JSON.stringify(index)), undefined, "registry.example", "fuzz"),
      );
      rmSync(layout, { recursive: true, force: true });
    }),
    params(50),
  );
});

test("fuzz: the unpacker for ch-run and the audit takes damaged layers", async () => {
  await fc.assert(
    fc.asyncProperty(mutated(validTar, 6), fc.boolean(), async (bytes, gzip) => {
      const blob = gzip ? gzipSync(bytes) : bytes;
      const { digest, size } = await store.putBlob(blob);
      const { sha256 } = await import("../../src/image/index.js");
      await expectOnlyTantalusErrors(async () => {
        const built = await writeImage(store, {
          layers: [
            { layer: { mediaType: gzip ? MediaType.LayerGzip : MediaType.Layer, digest, size, diffId: sha256(bytes) } },
          ],
        });
        const root = join(dir, "unpacked", String(counter++));
        mkdirSync(join(dir, "unpacked"), { recursive: true });
        await unpackImage(store, await store.loadImage(built.descriptor), root);
        rmSync(root, { recursive: true, force: true });
      });
    }),
    params(80),
  );
});
