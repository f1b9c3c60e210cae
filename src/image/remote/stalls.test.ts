/**
 * Registries that misbehave in the middle of a download, played by a tiny
 * HTTP server on 127.0.0.1: one that stalls half-way through a layer (once,
 * or for good), one that stalls before answering, and one that lies about a
 * layer's size (announcing a terabyte, or sending without end). Every pull
 * either completes after bounded retries or fails with a sentence, and never
 * reads past the manifest's size.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { MemoryStore, makeImage, type TestImage } from "../../../test/image-remote/harness.js";
import { pullImage, pushImage, type PullProgress, type RetryEvent } from "./index.js";

type LayerMode = "stall-once" | "stall-always" | "headers-stall-once" | "claims-terabyte" | "endless";

let img: TestImage;
let server: http.Server;
let host: string;
const requests = new Map<string, number>();
const open = new Set<http.ServerResponse>();

before(async () => {
  img = await makeImage([{ "big.bin": randomBytes(256 * 1024) }], "stalls");
  server = http.createServer((req, res) => {
    const url = req.url ?? "";
    if (url === "/v2/") return void res.writeHead(200).end("{}");
    if (url.startsWith("/v2/push-stall/")) return pushStall(req, res);
    const m = /^\/v2\/([^/]+)\/(manifests|blobs)\/(.+)$/.exec(url);
    if (!m) return void res.writeHead(404).end();
    const [, mode, kind, ref] = m as unknown as [string, LayerMode, string, string];
    if (kind === "manifests") {
      return void res
        .writeHead(200, {
          "content-type": img.mediaType,
          "docker-content-digest": img.manifestDigest,
          "content-length": img.manifest.length,
        })
        .end(img.manifest);
    }
    const blob = img.blobs.get(ref);
    if (!blob) return void res.writeHead(404).end();
    if (ref === img.configDigest) return void res.writeHead(200, { "content-length": blob.length }).end(blob);
    const n = (requests.get(mode) ?? 0) + 1;
    requests.set(mode, n);
    open.add(res);
    res.on("close", () => open.delete(res));
    switch (mode) {
      case "stall-once":
      case "stall-always":
        res.writeHead(200, { "content-length": blob.length });
        if (mode === "stall-once" && n > 1) return void res.end(blob);
        res.write(blob.subarray(0, blob.length / 2)); // …and nothing more
        return;
      case "headers-stall-once":
        if (n > 1) return void res.writeHead(200, { "content-length": blob.length }).end(blob);
        return; // never answers
      case "claims-terabyte":
        res.writeHead(200, { "content-length": String(2 ** 40) });
        return void pump(res);
      case "endless":
        res.writeHead(200); // chunked, no length
        return void pump(res);
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  for (const res of open) res.destroy();
  await new Promise((r) => server.close(r));
});

/**
 * A registry that opens uploads and then never answers their PUT: it reads
 * the bytes (or, for the big blob, stops reading half-way) and says nothing.
 */
function pushStall(req: http.IncomingMessage, res: http.ServerResponse): void {
  open.add(res);
  res.on("close", () => open.delete(res));
  const url = req.url ?? "";
  if (req.method === "HEAD") return void res.writeHead(404).end();
  if (req.method === "POST")
    return void res
      .writeHead(202, {
        location: `/v2/push-stall/img/blobs/uploads/${requests.size}-${Date.now()}`,
        "content-length": 0,
      })
      .end();
  if (req.method === "PUT" && url.includes("/blobs/uploads/")) {
    requests.set("push-put", (requests.get("push-put") ?? 0) + 1);
    req.resume(); // read it all, answer nothing
    return;
  }
  res.writeHead(404).end();
}

/** Write zeros as fast as the client takes them, for as long as it listens. */
function pump(res: http.ServerResponse): void {
  const chunk = Buffer.alloc(64 * 1024);
  const go = (): void => {
    while (!res.destroyed && res.write(chunk)) {
      /* until the socket buffer is full */
    }
    if (!res.destroyed) res.once("drain", go);
  };
  go();
}

function pull(mode: LayerMode, retries = 2) {
  const retried: RetryEvent[] = [];
  const progress: PullProgress[] = [];
  const started = Date.now();
  const result = pullImage(`${host}/${mode}:1`, new MemoryStore(), {
    insecure: true,
    readTimeoutMs: 300,
    retry: { retries, baseDelayMs: 10 },
    onRetry: (e) => retried.push(e),
    onProgress: (p) => progress.push(p),
  });
  return { result, retried, progress, elapsed: () => Date.now() - started };
}

const layerSize = () => img.blobs.get(img.layerDigests[0]!)!.length;

describe("pulling from a registry that stalls or lies", () => {
  it("a layer that stalls half-way is fetched again after the read timeout", async () => {
    const p = pull("stall-once");
    const pulled = await p.result;
    assert.equal(pulled.manifestDigest, img.manifestDigest);
    assert.deepEqual(pulled.fetched.sort(), [img.configDigest, img.layerDigests[0]].sort());
    assert.equal(requests.get("stall-once"), 2);
    assert.match(p.retried.map((r) => r.reason).join("\n"), /no data for 0\.3 s in the middle of the answer/);
  });

  it("a registry that never answers the layer request is asked again", async () => {
    const p = pull("headers-stall-once");
    assert.equal((await p.result).manifestDigest, img.manifestDigest);
    assert.match(p.retried.map((r) => r.reason).join("\n"), /no data for 0\.3 s waiting for the answer/);
  });

  it("a layer that stalls every time fails after the bounded retries, with a sentence", async () => {
    const p = pull("stall-always", 2);
    await assert.rejects(
      p.result,
      /^RegistryError: registry 127\.0\.0\.1:\d+: download of blob sha256:[0-9a-f]{64} failed: .*no data for 0\.3 s in the middle of the answer/,
    );
    assert.equal(requests.get("stall-always"), 3, "the first try and two retries");
    assert.ok(p.elapsed() < 10_000, `bounded in time (${p.elapsed()} ms)`);
  });

  it("an answer announcing a terabyte for the layer is refused before reading it", async () => {
    const p = pull("claims-terabyte");
    await assert.rejects(
      p.result,
      new RegExp(
        `blob ${img.layerDigests[0]} is sent as 1099511627776 bytes, but the manifest says ${layerSize()}; refused`,
      ),
    );
    assert.equal(requests.get("claims-terabyte"), 1, "not retried: the registry sends another blob");
  });

  it("an endless answer without a length is cut off at the manifest's size", async () => {
    const p = pull("endless");
    await assert.rejects(p.result, /more than the \d+ bytes its descriptor says/);
    const most = Math.max(0, ...p.progress.filter((e) => e.type === "blob").map((e) => (e as { bytes: number }).bytes));
    assert.ok(most <= layerSize(), `read ${most} bytes of a ${layerSize()}-byte layer`);
  });
});

describe("pushing to a registry that stops answering", () => {
  it("an upload whose answer never comes fails after the bounded retries, with a sentence", async () => {
    const retried: RetryEvent[] = [];
    const started = Date.now();
    await assert.rejects(
      pushImage(
        `${host}/push-stall/img:1`,
        { manifest: img.manifest, mediaType: img.mediaType, blobs: new MemoryStore(img.blobs) },
        {
          insecure: true,
          jobs: 1,
          readTimeoutMs: 300,
          retry: { retries: 2, baseDelayMs: 10 },
          onRetry: (e) => retried.push(e),
        },
      ),
      /finish upload of blob sha256:[0-9a-f]{64} failed \(PUT \/v2\/push-stall\/img\/blobs\/uploads\/[^)]*\): registry 127\.0\.0\.1:\d+: no data for 0\.3 s waiting for the answer/,
    );
    assert.ok(Date.now() - started < 10_000, "bounded in time");
    assert.equal(requests.get("push-put"), 3, "the first PUT and two retries");
  });
});
