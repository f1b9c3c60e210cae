/**
 * Push and pull through a misbehaving proxy in front of a real registry:
 * 503s, 429s with Retry-After, and a connection cut in the middle of a chunk.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import {
  MemoryStore,
  makeImage,
  startFlakyProxy,
  startRegistry,
  type FlakyProxy,
  type RunningRegistry,
} from "../../../test/image-remote/harness.js";
import { RegistryError, pullImage, pushImage, type RetryEvent } from "./index.js";

let reg: RunningRegistry;
const proxies: FlakyProxy[] = [];

before(async () => {
  reg = await startRegistry();
});
after(async () => {
  for (const p of proxies) await p.close();
  await reg?.stop();
});

async function proxy(opts: Parameters<typeof startFlakyProxy>[1]): Promise<FlakyProxy> {
  const p = await startFlakyProxy(reg.port, opts);
  proxies.push(p);
  return p;
}

describe("retries against a flaky registry", () => {
  it("pushes and pulls when every kind of request first fails twice with 503", async () => {
    const p = await proxy({ failFirstPerMethod: 2 });
    const img = await makeImage([{ "small.txt": "s" }, { "big.bin": randomBytes(150 * 1024) }]);
    const retries: RetryEvent[] = [];
    const pushed = await pushImage(
      `${p.host}/flaky/push:1`,
      { manifest: img.manifest, mediaType: img.mediaType, blobs: new MemoryStore(img.blobs) },
      {
        insecure: true,
        retry: { retries: 4, baseDelayMs: 5 },
        monolithicMaxBytes: 32 * 1024,
        chunkSize: 64 * 1024,
        onRetry: (e) => retries.push(e),
      },
    );
    assert.equal(pushed.digest, img.manifestDigest);
    // GET, HEAD, POST, PUT and PATCH each failed twice and were each retried.
    assert.equal(p.failed, 10);
    assert.ok(retries.length >= 10, `only ${retries.length} retries reported`);
    assert.ok(
      retries.every((r) => /HTTP 503/.test(r.reason)),
      retries.map((r) => r.reason).join("\n"),
    );
    assert.ok(
      retries.some((r) => /upload blob/.test(r.what)),
      "a streamed chunk was retried at the upload level",
    );

    const sink = new MemoryStore();
    const pulled = await pullImage(`${p.host}/flaky/push:1`, sink, {
      insecure: true,
      retry: { retries: 4, baseDelayMs: 5 },
    });
    assert.equal(pulled.manifestDigest, img.manifestDigest);
    for (const [d, bytes] of img.blobs) assert.deepEqual(sink.blobs.get(d), bytes);
  });

  it("honours Retry-After on 429", async () => {
    const p = await proxy({ failFirst: 3, status: 429, retryAfter: "0" });
    const img = await makeImage([{ "x.txt": "429" }]);
    const retries: RetryEvent[] = [];
    await pushImage(
      `${p.host}/flaky/ratelimited:1`,
      { manifest: img.manifest, mediaType: img.mediaType, blobs: new MemoryStore(img.blobs) },
      // A base delay of 10 s would time the test out: only Retry-After: 0 keeps it fast.
      { insecure: true, retry: { retries: 3, baseDelayMs: 10_000 }, onRetry: (e) => retries.push(e) },
    );
    assert.equal(retries.length, 3);
    assert.deepEqual(
      retries.map((r) => [r.reason, r.delayMs]),
      [
        ["HTTP 429", 0],
        ["HTTP 429", 0],
        ["HTTP 429", 0],
      ],
    );
  });

  it("gives up after the configured number of retries with the registry's status", async () => {
    const p = await proxy({ failAlways: true });
    const img = await makeImage([{ "x.txt": "never" }]);
    await assert.rejects(
      pushImage(
        `${p.host}/flaky/down:1`,
        { manifest: img.manifest, mediaType: img.mediaType, blobs: new MemoryStore(img.blobs) },
        {
          insecure: true,
          retry: { retries: 2, baseDelayMs: 1 },
        },
      ),
      (err: unknown) => {
        assert.ok(err instanceof RegistryError);
        assert.match(err.message, /HTTP 503/);
        assert.match(err.message, /gave up after 3 attempts/);
        return true;
      },
    );
    assert.equal(p.failed, 3);
  });

  it("downloads a blob again when the connection drops mid-stream, storing nothing partial", async () => {
    const img = await makeImage([{ "one.bin": randomBytes(90 * 1024) }, { "two.bin": randomBytes(90 * 1024) }]);
    await pushImage(
      `${reg.host}/flaky/download:1`,
      { manifest: img.manifest, mediaType: img.mediaType, blobs: new MemoryStore(img.blobs) },
      { insecure: true },
    );
    // Blob GET 0 is the config; cut the first layer's download part-way.
    const p = await proxy({ cutBlobGet: { index: 1, after: 30 * 1024 } });
    const retries: RetryEvent[] = [];
    const sink = new MemoryStore();
    const pulled = await pullImage(`${p.host}/flaky/download:1`, sink, {
      insecure: true,
      jobs: 1,
      retry: { retries: 2, baseDelayMs: 5 },
      onRetry: (e) => retries.push(e),
    });
    assert.equal(pulled.manifestDigest, img.manifestDigest);
    assert.equal(retries.length, 1);
    assert.match(retries[0]!.what, new RegExp(`download blob ${img.layerDigests[0]}`));
    assert.equal(sink.puts, 4, "config, the cut layer twice, the other layer");
    for (const [d, bytes] of img.blobs) assert.deepEqual(sink.blobs.get(d), bytes);
  });

  it("resumes a chunked upload after the connection drops mid-chunk", async () => {
    const p = await proxy({ cutPatch: { index: 1, after: 20 * 1024 } });
    const img = await makeImage([{ "big.bin": randomBytes(200 * 1024) }]);
    const retries: RetryEvent[] = [];
    const pushed = await pushImage(
      `${p.host}/flaky/resume:1`,
      { manifest: img.manifest, mediaType: img.mediaType, blobs: new MemoryStore(img.blobs) },
      {
        insecure: true,
        retry: { retries: 3, baseDelayMs: 5 },
        monolithicMaxBytes: 16 * 1024,
        chunkSize: 64 * 1024,
        onRetry: (e) => retries.push(e),
      },
    );
    assert.equal(pushed.digest, img.manifestDigest);
    assert.equal(retries.length, 1);
    assert.match(retries[0]!.what, /upload blob/);
    // The registry was asked where the upload stood instead of starting over.
    assert.ok(
      p.forwarded.some((r) => /^GET \/v2\/flaky\/resume\/blobs\/uploads\/[0-9a-f-]+$/.test(r)),
      p.forwarded.join("\n"),
    );
    assert.equal(
      p.forwarded.filter((r) => r.startsWith("POST ")).length,
      2,
      "one session for the config, one for the layer",
    );
    // The second chunk was cut; the upload went on from what the registry held, not from byte 0.
    assert.deepEqual(p.patchRanges.slice(0, 2), ["0-65535", "65536-131071"]);
    const resumedAt = Number(p.patchRanges[2]?.split("-")[0]);
    assert.ok(resumedAt >= 65536 && resumedAt <= 65536 + 20 * 1024, p.patchRanges.join(" "));
    assert.ok(
      p.patchRanges.slice(2).every((r) => !r.startsWith("0-")),
      p.patchRanges.join(" "),
    );
    const sink = new MemoryStore();
    await pullImage(`${p.host}/flaky/resume:1`, sink, { insecure: true });
    assert.deepEqual(sink.blobs.get(img.layerDigests[0]!), img.blobs.get(img.layerDigests[0]!));
  });
});
