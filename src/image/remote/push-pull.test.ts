/**
 * Push and pull against a real registry (Debian docker-registry, distribution
 * 2.8) on loopback, cross-checked with skopeo.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  MemoryStore,
  countingFetch,
  makeImage,
  startRegistry,
  tempDir,
  type RunningRegistry,
} from "../../../test/image-remote/harness.js";
import { DigestMismatchError, sha256 } from "../digest.js";
import { MediaType } from "../types.js";
import { RegistryClient, RegistryError, pullImage, pushImage, pushManifest, type PushProgress } from "./index.js";

let reg: RunningRegistry;
const scratch = tempDir("push-pull");
const fast = { retry: { baseDelayMs: 10 } };

before(async () => {
  reg = await startRegistry();
});
after(async () => {
  await reg?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe("pushing to and pulling from a real registry", () => {
  it("pushes a hand-made image that skopeo and pullImage read back with the same digests", async () => {
    const img = await makeImage([
      { "etc/os-release": "ID=tantalus\n" },
      { "opt/rez/bin/tool": "#!/bin/sh\necho hi\n" },
    ]);
    const events: PushProgress[] = [];
    const pushed = await pushImage(
      `${reg.host}/vfx/base:2024`,
      {
        manifest: img.manifest,
        mediaType: img.mediaType,
        blobs: new MemoryStore(img.blobs),
        onProgress: (p) => events.push(p),
      },
      { insecure: true, ...fast },
    );
    assert.equal(pushed.digest, img.manifestDigest);
    assert.equal(pushed.reference, `${reg.host}/vfx/base@${img.manifestDigest}`);
    assert.deepEqual(
      pushed.blobs.map((b) => b.outcome),
      ["uploaded", "uploaded", "uploaded"],
    );
    assert.ok(events.some((e) => e.type === "manifest" && e.digest === img.manifestDigest));
    assert.equal(events.filter((e) => e.type === "blob" && e.state === "uploaded").length, 3);

    // skopeo, an independent client, sees exactly our bytes.
    const layout = join(scratch, "skopeo-oci");
    execFileSync("skopeo", [
      "copy",
      "--quiet",
      "--src-tls-verify=false",
      `docker://${reg.host}/vfx/base:2024`,
      `oci:${layout}:2024`,
    ]);
    const index = JSON.parse(readFileSync(join(layout, "index.json"), "utf8")) as { manifests: { digest: string }[] };
    assert.equal(index.manifests[0]?.digest, img.manifestDigest);
    for (const [digest, bytes] of img.blobs) {
      assert.deepEqual(readFileSync(join(layout, "blobs/sha256", digest.slice(7))), bytes);
    }

    const sink = new MemoryStore();
    const pulled = await pullImage(`${reg.host}/vfx/base:2024`, sink, { insecure: true, ...fast });
    assert.equal(pulled.manifestDigest, img.manifestDigest);
    assert.equal(pulled.mediaType, MediaType.ImageManifest);
    assert.deepEqual(pulled.manifestBytes, img.manifest);
    assert.equal(sha256(pulled.configBytes), img.configDigest);
    assert.equal(pulled.config.architecture, "amd64");
    assert.deepEqual([...sink.blobs.keys()].sort(), [...img.blobs.keys()].sort());
    for (const [digest, bytes] of img.blobs) assert.deepEqual(sink.blobs.get(digest), bytes);

    // By digest, into a store that has everything but the config: only the config is stored.
    const partial = new MemoryStore(new Map([...sink.blobs].filter(([d]) => d !== img.configDigest)));
    const byDigest = await pullImage(pushed.reference, partial, { insecure: true, ...fast });
    assert.deepEqual(byDigest.fetched, [img.configDigest]);
    assert.deepEqual(byDigest.present.sort(), [...img.layerDigests].sort());
    assert.equal(partial.puts, 1);
  });

  it("re-pushes an image without uploading any blob", async () => {
    const img = await makeImage([{ "a.txt": "again" }]);
    const store = new MemoryStore(img.blobs);
    const input = { manifest: img.manifest, mediaType: img.mediaType, blobs: store };
    await pushImage(`${reg.host}/repush:1`, input, { insecure: true, ...fast });
    const counter = countingFetch();
    const second = await pushImage(`${reg.host}/repush:2`, input, { insecure: true, fetch: counter.fetch, ...fast });
    assert.deepEqual(
      second.blobs.map((b) => b.outcome),
      ["exists", "exists"],
    );
    assert.equal(counter.count("HEAD", /\/blobs\//), 2);
    assert.equal(counter.count("POST", /./), 0);
    assert.equal(counter.count("PATCH", /./), 0);
    assert.equal(counter.count("PUT", /\/blobs\//), 0);
    assert.equal(counter.count("PUT", /\/manifests\/2$/), 1);
  });

  it("mounts blobs from a sibling repository instead of uploading them", async () => {
    const img = await makeImage([{ "shared.txt": "base layer" }, { "app.txt": "app" }]);
    const input = { manifest: img.manifest, mediaType: img.mediaType, blobs: new MemoryStore(img.blobs) };
    await pushImage(`${reg.host}/studio/base:1`, input, { insecure: true, ...fast });
    const counter = countingFetch();
    const pushed = await pushImage(`${reg.host}/studio/shot010:1`, input, {
      insecure: true,
      fetch: counter.fetch,
      mountFrom: ["studio/base"],
      ...fast,
    });
    assert.deepEqual(
      pushed.blobs.map((b) => b.outcome),
      ["mounted", "mounted", "mounted"],
    );
    assert.equal(counter.count("POST", /\?mount$/), 3);
    assert.equal(counter.count("PATCH", /./) + counter.count("PUT", /\/blobs\//), 0);
    const pulled = await pullImage(`${reg.host}/studio/shot010:1`, new MemoryStore(), { insecure: true, ...fast });
    assert.equal(pulled.manifestDigest, img.manifestDigest);
  });

  it("uploads a blob that was not in the mount source the ordinary way", async () => {
    const img = await makeImage([{ "only-here.txt": randomBytes(64).toString("hex") }]);
    const pushed = await pushImage(
      `${reg.host}/studio/fresh:1`,
      { manifest: img.manifest, mediaType: img.mediaType, blobs: new MemoryStore(img.blobs) },
      { insecure: true, mountFrom: ["studio/base"], ...fast },
    );
    assert.deepEqual(
      pushed.blobs.map((b) => b.outcome),
      ["uploaded", "uploaded"],
    );
    await pullImage(`${reg.host}/studio/fresh:1`, new MemoryStore(), { insecure: true, ...fast });
  });

  it("uploads a blob above the threshold in Content-Range chunks", async () => {
    const big = randomBytes(300 * 1024); // incompressible: the gzip'd layer stays > 300 KiB
    const img = await makeImage([{ "big.bin": big }]);
    const layerSize = img.blobs.get(img.layerDigests[0]!)!.length;
    const chunkSize = 100 * 1024;
    const counter = countingFetch();
    const progress: number[] = [];
    await pushImage(
      `${reg.host}/chunked:1`,
      {
        manifest: img.manifest,
        mediaType: img.mediaType,
        blobs: new MemoryStore(img.blobs, 7000), // reads that straddle chunk boundaries
        onProgress: (p) => {
          if (p.type === "blob" && p.state === "uploading" && p.digest === img.layerDigests[0]) progress.push(p.bytes);
        },
      },
      { insecure: true, fetch: counter.fetch, monolithicMaxBytes: 64 * 1024, chunkSize, ...fast },
    );
    assert.equal(counter.count("PATCH", /\/blobs\/uploads\//), Math.ceil(layerSize / chunkSize));
    assert.equal(progress.at(-1), layerSize);
    // The small config still went up in one PUT.
    assert.equal(counter.count("PUT", /\/blobs\/uploads\//), 2);
    const sink = new MemoryStore();
    await pullImage(`${reg.host}/chunked:1`, sink, { insecure: true, ...fast });
    assert.deepEqual(sink.blobs.get(img.layerDigests[0]!), img.blobs.get(img.layerDigests[0]!));
  });

  it("picks the requested platform from an index, verifying each manifest", async () => {
    const amd = await makeImage([{ "arch.txt": "amd64" }], "amd64");
    const arm = await makeImage([{ "arch.txt": "arm64" }], "arm64");
    for (const [img, tag] of [
      [amd, "amd"],
      [arm, "arm"],
    ] as const) {
      await pushImage(
        `${reg.host}/multi:${tag}`,
        { manifest: img.manifest, mediaType: img.mediaType, blobs: new MemoryStore(img.blobs) },
        { insecure: true, ...fast },
      );
    }
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.ImageIndex,
        manifests: [
          {
            mediaType: MediaType.ImageManifest,
            digest: arm.manifestDigest,
            size: arm.manifest.length,
            platform: { os: "linux", architecture: "arm64", variant: "v8" },
          },
          {
            mediaType: MediaType.ImageManifest,
            digest: amd.manifestDigest,
            size: amd.manifest.length,
            platform: { os: "linux", architecture: "amd64" },
          },
        ],
      }),
    );
    const indexDigest = await pushManifest(`${reg.host}/multi:all`, index, MediaType.ImageIndex, {
      insecure: true,
      ...fast,
    });
    assert.equal(indexDigest, sha256(index));

    const a = await pullImage(`${reg.host}/multi:all`, new MemoryStore(), {
      insecure: true,
      platform: "linux/amd64",
      ...fast,
    });
    assert.equal(a.manifestDigest, amd.manifestDigest);
    assert.equal(a.index?.digest, indexDigest);
    const b = await pullImage(`${reg.host}/multi:all`, new MemoryStore(), {
      insecure: true,
      platform: "linux/arm64",
      ...fast,
    });
    assert.equal(b.manifestDigest, arm.manifestDigest);
    assert.equal(b.config.config?.Labels?.["org.tantalus.test"], "arm64");
    await assert.rejects(
      pullImage(`${reg.host}/multi:all`, new MemoryStore(), { insecure: true, platform: "linux/ppc64le", ...fast }),
      /no image for linux\/ppc64le; it offers linux\/arm64\/v8, linux\/amd64/,
    );
  });

  it("refuses a blob whose bytes the registry corrupted", async () => {
    const img = await makeImage([{ "victim.txt": "original content" }]);
    await pushImage(
      `${reg.host}/corrupt:1`,
      { manifest: img.manifest, mediaType: img.mediaType, blobs: new MemoryStore(img.blobs) },
      { insecure: true, ...fast },
    );
    const layer = img.layerDigests[0]!;
    const file = join(reg.dir, "data/docker/registry/v2/blobs/sha256", layer.slice(7, 9), layer.slice(7), "data");
    const bytes = readFileSync(file);
    bytes[bytes.length - 1] = bytes.at(-1)! ^ 0xff; // same size, different content
    writeFileSync(file, bytes);
    const sink = new MemoryStore();
    await assert.rejects(pullImage(`${reg.host}/corrupt:1`, sink, { insecure: true, ...fast }), (err: unknown) => {
      assert.ok(err instanceof DigestMismatchError, String(err));
      assert.match(err.message, new RegExp(`does not match its digest ${layer}`));
      return true;
    });
    assert.equal(sink.blobs.has(layer), false);
  });

  it("requires an explicit insecure flag to speak plain HTTP", async () => {
    const img = await makeImage([{ x: "y" }]);
    await assert.rejects(
      pushImage(
        `${reg.host}/plain:1`,
        { manifest: img.manifest, mediaType: img.mediaType, blobs: new MemoryStore(img.blobs) },
        { retry: { retries: 0 } },
      ),
      (err: unknown) => {
        assert.ok(err instanceof RegistryError);
        assert.match(
          err.message,
          new RegExp(
            `cannot reach registry ${reg.host.replace(/\./g, "\\.")} \\(https: .*\\); if it serves plain HTTP, allow that explicitly \\(insecure\\)`,
          ),
        );
        return true;
      },
    );
  });

  it("reports a missing tag with the registry's error code", async () => {
    await assert.rejects(
      pullImage(`${reg.host}/vfx/base:nope`, new MemoryStore(), { insecure: true, ...fast }),
      (err: unknown) => {
        assert.ok(err instanceof RegistryError);
        assert.equal(err.status, 404);
        assert.ok(err.hasCode("MANIFEST_UNKNOWN"), err.message);
        assert.match(
          err.message,
          /get manifest of 127\.0\.0\.1:\d+\/vfx\/base:nope failed \(GET \/v2\/vfx\/base\/manifests\/nope → HTTP 404: MANIFEST_UNKNOWN/,
        );
        return true;
      },
    );
  });

  it("refuses to push a manifest whose blobs the store does not match", async () => {
    const img = await makeImage([{ x: "1" }]);
    const store = new MemoryStore(img.blobs);
    store.blobs.set(img.layerDigests[0]!, Buffer.from("short"));
    await assert.rejects(
      pushImage(
        `${reg.host}/bad:1`,
        { manifest: img.manifest, mediaType: img.mediaType, blobs: store },
        { insecure: true, ...fast },
      ),
      /is 5 bytes in the local store, but the manifest says \d+/,
    );
  });

  it("pushes and pulls a Docker schema2 manifest as such", async () => {
    const img = await makeImage([{ "docker.txt": "schema2" }], "docker", "docker");
    const pushed = await pushImage(
      `${reg.host}/dockerv2:1`,
      { manifest: img.manifest, mediaType: img.mediaType, blobs: new MemoryStore(img.blobs) },
      { insecure: true, ...fast },
    );
    assert.equal(pushed.digest, img.manifestDigest);
    const res = await fetch(`http://${reg.host}/v2/dockerv2/manifests/1`, {
      headers: { accept: MediaType.DockerManifest },
    });
    assert.equal(res.headers.get("content-type"), MediaType.DockerManifest);
    await res.body?.cancel();
    const pulled = await pullImage(`${reg.host}/dockerv2:1`, new MemoryStore(), { insecure: true, ...fast });
    assert.equal(pulled.mediaType, MediaType.DockerManifest);
    assert.equal(pulled.manifestDigest, img.manifestDigest);
  });

  it("follows relative upload Locations", async () => {
    const relative = await startRegistry(undefined, { relativeUrls: true });
    try {
      const start = await fetch(`http://${relative.host}/v2/rel/blobs/uploads/`, { method: "POST" });
      await start.body?.cancel();
      assert.match(start.headers.get("location") ?? "", /^\/v2\/rel\/blobs\/uploads\//);
      const img = await makeImage([{ "big.bin": randomBytes(100 * 1024) }]);
      const pushed = await pushImage(
        `${relative.host}/rel:1`,
        { manifest: img.manifest, mediaType: img.mediaType, blobs: new MemoryStore(img.blobs) },
        { insecure: true, monolithicMaxBytes: 1024, chunkSize: 40 * 1024, ...fast },
      );
      assert.equal(pushed.digest, img.manifestDigest);
      const pulled = await pullImage(`${relative.host}/rel:1`, new MemoryStore(), { insecure: true, ...fast });
      assert.equal(pulled.manifestDigest, img.manifestDigest);
    } finally {
      await relative.stop();
    }
  });

  it("keeps one token-less client across pushes and reports its endpoint", async () => {
    const client = new RegistryClient(reg.host, { insecure: true, ...fast });
    const base = await client.endpoint();
    assert.equal(base.protocol, "http:");
    assert.equal(client.auth.scheme, "none");
    const img = await makeImage([{ reuse: "client" }]);
    for (const tag of ["a", "b"]) {
      await pushImage(
        `${reg.host}/reuse:${tag}`,
        { manifest: img.manifest, mediaType: img.mediaType, blobs: new MemoryStore(img.blobs) },
        { client },
      );
    }
    const tags = (await (await fetch(`http://${reg.host}/v2/reuse/tags/list`)).json()) as { tags: string[] };
    assert.deepEqual(tags.tags.sort(), ["a", "b"]);
    assert.ok(readdirSync(join(reg.dir, "data/docker/registry/v2/repositories")).includes("reuse"));
  });
});
