/**
 * A registry restarted while a push is under way (redeployed, or its pod
 * moved): upload sessions opened before the restart are unknown afterwards
 * (BLOB_UPLOAD_INVALID / BLOB_UPLOAD_UNKNOWN), and the push must open a new
 * one rather than keep sending to the lost one. Against a real docker-registry
 * on 127.0.0.1, restarted with a new HTTP secret between the upload's POST and
 * its first byte.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import type { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { MemoryStore, makeImage, startRegistry, type RunningRegistry } from "../../../test/image-remote/harness.js";
import { pullImage, pushImage, type RetryEvent } from "./index.js";

let reg: RunningRegistry;

before(async () => {
  reg = await startRegistry();
});
after(async () => {
  await reg?.stop();
});

/** Blobs from memory; the first time `victim` is opened (its upload session is open by then), the registry restarts. */
class RestartingSource extends MemoryStore {
  restarted = 0;
  constructor(
    blobs: Map<string, Buffer>,
    private readonly victim: string,
  ) {
    super(blobs);
  }
  override async open(digest: string): Promise<Readable> {
    if (digest === this.victim && this.restarted === 0) {
      this.restarted++;
      await reg.restart();
    }
    return super.open(digest);
  }
}

describe("a registry restarted during a push", () => {
  for (const [mode, opts] of [
    ["one PUT", {}],
    ["PATCHed chunks", { monolithicMaxBytes: 1024, chunkSize: 64 * 1024 }],
  ] as const) {
    it(`opens a new upload when the registry lost the session (${mode})`, async () => {
      const img = await makeImage([{ "big.bin": randomBytes(150 * 1024) }], `restart-${mode}`);
      const layer = img.layerDigests[0]!;
      const source = new RestartingSource(img.blobs, layer);
      const retries: RetryEvent[] = [];
      const ref = `${reg.host}/restart/${mode === "one PUT" ? "put" : "patch"}:1`;
      const pushed = await pushImage(
        ref,
        { manifest: img.manifest, mediaType: img.mediaType, blobs: source },
        {
          insecure: true,
          jobs: 1,
          retry: { retries: 3, baseDelayMs: 20 },
          ...opts,
          onRetry: (e) => retries.push(e),
        },
      );
      assert.equal(source.restarted, 1, "the registry was restarted mid-push");
      assert.equal(pushed.digest, img.manifestDigest);
      assert.ok(
        retries.some(
          (r) => /upload blob/.test(r.what) && /BLOB_UPLOAD_(INVALID|UNKNOWN)|upload session/.test(r.reason),
        ),
        retries.map((r) => `${r.what}: ${r.reason}`).join("\n"),
      );
      const sink = new MemoryStore();
      const pulled = await pullImage(ref, sink, { insecure: true });
      assert.equal(pulled.manifestDigest, img.manifestDigest);
      assert.ok(sink.blobs.get(layer)?.equals(img.blobs.get(layer)!), "the layer reads back intact");
    });
  }
});
