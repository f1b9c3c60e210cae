/**
 * Pull one image: resolve the reference to an image manifest (choosing a
 * platform from an index), verify every byte against its digest, and hand the
 * config and the layers the store lacks to a BlobSink as verified streams.
 */
import { createHash, type Hash } from "node:crypto";
import { Readable, Transform, pipeline, type TransformCallback } from "node:stream";
import { TantalusError } from "../../errors.js";
import { DigestMismatchError, parseDigest, sha256, type Digest } from "../digest.js";
import {
  hostPlatform,
  type Descriptor,
  type ImageConfig,
  type ImageIndex,
  type ImageManifest,
  type Platform,
} from "../types.js";
import { repositoryScope } from "./auth.js";
import { clientFor, type RegistryClient, type RegistryOptions } from "./client.js";
import { RegistryError, networkErrorMessage } from "./errors.js";
import { MANIFEST_ACCEPT, algorithmOf, digestWith, manifestBlobs, parseManifestBytes } from "./manifest.js";
import { mapLimit } from "./pool.js";
import { blobPath } from "./upload.js";
import { formatReference, manifestReference, parseReference, type ImageReference } from "./reference.js";

/** Where pull writes blobs: the caller's store. */
export interface BlobSink {
  has(digest: Digest): Promise<boolean>;
  /**
   * Store `stream` under `digest`; must verify the digest itself, must leave
   * nothing behind if the stream errors (pull calls put again on a retry).
   */
  put(digest: Digest, size: number, stream: Readable): Promise<void>;
}

export type PullProgress =
  | { type: "manifest"; digest: string; mediaType: string }
  | { type: "blob"; digest: Digest; size: number; state: "exists" | "fetching" | "fetched"; bytes: number };

export interface PullOptions extends RegistryOptions {
  /** Platform to pick from an index: "linux/amd64", "linux/arm64/v8" (default: linux/<host arch>). */
  platform?: Platform | string;
  /** Parallel blob downloads. Default 3. */
  jobs?: number;
  client?: RegistryClient;
  onProgress?: (p: PullProgress) => void;
}

export interface PulledImage {
  reference: ImageReference;
  /** Digest of the image manifest (not of the index it was chosen from). */
  manifestDigest: Digest;
  mediaType: string;
  manifest: ImageManifest;
  /** Exact bytes, for storing: re-serialising would change the digest. */
  manifestBytes: Buffer;
  config: ImageConfig;
  configBytes: Buffer;
  /** Set when the reference named an index or manifest list. */
  index?: { digest: Digest; mediaType: string; bytes: Buffer };
  /** Blobs transferred, and blobs the sink already had. */
  fetched: Digest[];
  present: Digest[];
}

/** Registries cap manifests at 4 MiB (distribution's default); refuse to buffer more. */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
/** An image config is read into memory: one claiming more than this is refused, not buffered. */
const MAX_CONFIG_BYTES = 64 * 1024 * 1024;
export const DEFAULT_PULL_JOBS = 3;

export async function pullImage(
  ref: ImageReference | string,
  sink: BlobSink,
  opts: PullOptions = {},
): Promise<PulledImage> {
  const source = typeof ref === "string" ? parseReference(ref) : ref;
  const client = clientFor(source, opts);
  const scopes = [repositoryScope(source.repository, ["pull"])];
  const name = formatReference(source);

  const top = await fetchManifest(client, source.repository, manifestReference(source), scopes, name, source.digest);
  opts.onProgress?.({ type: "manifest", digest: top.digest, mediaType: top.parsed.mediaType });
  let chosen = top;
  let index: PulledImage["index"];
  if (top.parsed.kind === "index") {
    const want = typeof opts.platform === "string" ? parsePlatform(opts.platform) : (opts.platform ?? hostPlatform());
    const desc = selectManifest(top.parsed.index, want, name);
    index = { digest: top.digest, mediaType: top.parsed.mediaType, bytes: top.bytes };
    chosen = await fetchManifest(
      client,
      source.repository,
      desc.digest,
      scopes,
      `${name} (${formatPlatform(want)})`,
      desc.digest,
      desc.size,
    );
    if (chosen.parsed.kind !== "manifest")
      throw new RegistryError(
        `registry ${source.registry}: ${name}: the ${formatPlatform(want)} entry is itself an index`,
        source.registry,
      );
    opts.onProgress?.({ type: "manifest", digest: chosen.digest, mediaType: chosen.parsed.mediaType });
  }
  if (chosen.parsed.kind !== "manifest")
    throw new RegistryError(`registry ${source.registry}: ${name} is not an image manifest`, source.registry);
  const manifest = chosen.parsed.manifest;
  const blobs = manifestBlobs(manifest, name);
  const configDesc = blobs[0]!;

  const fetched: Digest[] = [];
  const present: Digest[] = [];
  // The config is small and its content is returned: always read it, store it if missing.
  const configBytes = await fetchBlobBytes(client, source.repository, configDesc, scopes);
  if (await sink.has(configDesc.digest)) present.push(configDesc.digest);
  else {
    await sink.put(configDesc.digest, configDesc.size, Readable.from([configBytes]));
    fetched.push(configDesc.digest);
  }
  let config: ImageConfig;
  try {
    config = JSON.parse(configBytes.toString("utf8")) as ImageConfig;
  } catch {
    throw new RegistryError(
      `registry ${source.registry}: config ${configDesc.digest} of ${name} is not JSON`,
      source.registry,
    );
  }

  const layers = blobs.slice(1);
  const results = await mapLimit(layers, opts.jobs ?? DEFAULT_PULL_JOBS, async (b) => {
    if (await sink.has(b.digest)) {
      opts.onProgress?.({ type: "blob", digest: b.digest, size: b.size, state: "exists", bytes: b.size });
      return { digest: b.digest, fetched: false };
    }
    await fetchBlobInto(client, source.repository, b, scopes, sink, (bytes) =>
      opts.onProgress?.({ type: "blob", digest: b.digest, size: b.size, state: "fetching", bytes }),
    );
    opts.onProgress?.({ type: "blob", digest: b.digest, size: b.size, state: "fetched", bytes: b.size });
    return { digest: b.digest, fetched: true };
  });
  for (const r of results) (r.fetched ? fetched : present).push(r.digest);

  return {
    reference: source,
    manifestDigest: chosen.digest,
    mediaType: chosen.parsed.mediaType,
    manifest,
    manifestBytes: chosen.bytes,
    config,
    configBytes,
    ...(index ? { index } : {}),
    fetched,
    present,
  };
}

interface FetchedManifest {
  digest: Digest;
  bytes: Buffer;
  parsed: ReturnType<typeof parseManifestBytes>;
}

async function fetchManifest(
  client: RegistryClient,
  repository: string,
  reference: string,
  scopes: readonly string[],
  name: string,
  expectedDigest?: string,
  expectedSize?: number,
): Promise<FetchedManifest> {
  const { res, bytes } = await withBodyRetries(client, `get manifest of ${name}`, async () => {
    const res = await client.send({
      method: "GET",
      url: `/v2/${repository}/manifests/${reference}`,
      scopes,
      headers: { accept: MANIFEST_ACCEPT.join(", ") },
      expect: [200],
      what: `get manifest of ${name}`,
    });
    return { res, bytes: await readLimited(res, MAX_MANIFEST_BYTES, client.registry, `manifest of ${name}`) };
  });
  if (expectedSize !== undefined && bytes.length !== expectedSize) {
    throw new RegistryError(
      `registry ${client.registry}: manifest of ${name} is ${bytes.length} bytes, its descriptor says ${expectedSize}`,
      client.registry,
    );
  }
  // By digest: the bytes must hash to it. By tag: they must hash to what the registry says they do.
  const claimed = expectedDigest ?? res.headers.get("docker-content-digest") ?? undefined;
  if (claimed) {
    let actual: string;
    try {
      actual = digestWith(algorithmOf(claimed), bytes);
    } catch {
      throw new RegistryError(
        `registry ${client.registry}: manifest of ${name} has digest ${claimed} with an unsupported algorithm`,
        client.registry,
      );
    }
    if (actual !== claimed) {
      throw new RegistryError(
        `registry ${client.registry}: manifest of ${name} does not match its digest ${claimed} (got ${actual})`,
        client.registry,
      );
    }
  }
  const parsed = parseManifestBytes(
    bytes,
    res.headers.get("content-type") ?? undefined,
    client.registry,
    `manifest of ${name}`,
  );
  return { digest: sha256(bytes), bytes, parsed };
}

async function readLimited(res: Response, limit: number, registry: string, what: string): Promise<Buffer> {
  const declared = Number(res.headers.get("content-length") ?? NaN);
  if (declared > limit) {
    await res.body?.cancel().catch(() => undefined);
    throw new RegistryError(
      `registry ${registry}: ${what} is ${declared} bytes, more than the ${limit} allowed`,
      registry,
    );
  }
  const parts: Buffer[] = [];
  let total = 0;
  if (res.body) {
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        total += chunk.length;
        if (total > limit)
          throw new RegistryError(`registry ${registry}: ${what} is more than the ${limit} bytes allowed`, registry);
        parts.push(Buffer.from(chunk));
      }
    } catch (err) {
      if (err instanceof RegistryError) throw err;
      // The connection dropped mid-body: worth another request.
      throw new RegistryError(
        `registry ${registry}: reading ${what} failed: ${networkErrorMessage(err)}`,
        registry,
        undefined,
        [],
        true,
        { cause: err },
      );
    }
  }
  return Buffer.concat(parts, total);
}

/**
 * Run `fn` (a request and the reading of its whole answer) again when the
 * answer broke off or stalled: the client retries a request that got no
 * answer, but a body that stops half-way is only seen by its reader.
 * Bounded by the client's retry policy.
 */
async function withBodyRetries<T>(client: RegistryClient, what: string, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof RegistryError) || !err.retryable || attempt >= client.retryPolicy.retries) throw err;
      await client.backoff(what, attempt, err.message);
    }
  }
}

/** Choose the index entry for a platform; the error lists what the index offers. */
export function selectManifest(index: ImageIndex, want: Platform, name = "image"): Descriptor {
  const wantVariant = want.variant === undefined ? undefined : normalizeVariant(want.architecture, want.variant);
  const candidates = index.manifests.filter((d) => {
    const p = d.platform;
    if (!p || p.os !== want.os || p.architecture !== want.architecture) return false;
    if (want["os.version"] !== undefined && p["os.version"] !== want["os.version"]) return false;
    return wantVariant === undefined || normalizeVariant(p.architecture, p.variant) === wantVariant;
  });
  // Without a variant asked for, prefer the architecture's baseline (arm64 → v8, arm → v7).
  const preferred = candidates.find(
    (d) =>
      normalizeVariant(d.platform!.architecture, d.platform!.variant) ===
      normalizeVariant(want.architecture, undefined),
  );
  const pick = preferred ?? candidates[0];
  if (!pick) {
    const offered = index.manifests.map((d) => (d.platform ? formatPlatform(d.platform) : "(no platform)")).join(", ");
    throw new TantalusError(`${name} has no image for ${formatPlatform(want)}; it offers ${offered || "nothing"}`);
  }
  return pick;
}

/** "linux/amd64", "linux/arm64/v8" → Platform. */
export function parsePlatform(s: string): Platform {
  const parts = s.split("/");
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p === "")) {
    throw new TantalusError(
      `invalid platform ${JSON.stringify(s)}: expected os/architecture[/variant], e.g. linux/amd64`,
    );
  }
  const [os, architecture, variant] = parts as [string, string, string | undefined];
  return variant === undefined ? { os, architecture } : { os, architecture, variant };
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter((x) => x !== undefined && x !== "").join("/");
}

/** containerd's platform normalisation: an absent variant means the architecture's baseline. */
function normalizeVariant(arch: string, variant: string | undefined): string {
  const v = variant ?? "";
  if (arch === "arm64") return v === "" || v === "8" || v === "v8.0" ? "v8" : v;
  if (arch === "arm") return v === "" || v === "7" ? "v7" : /^\d$/.test(v) ? `v${v}` : v;
  if (arch === "amd64") return v === "" ? "v1" : v;
  return v;
}

async function fetchBlobResponse(
  client: RegistryClient,
  repository: string,
  digest: Digest,
  scopes: readonly string[],
): Promise<Response> {
  return client.send({
    method: "GET",
    url: blobPath(repository, digest),
    scopes,
    expect: [200],
    what: `get blob ${digest}`,
    followRedirects: true,
  });
}

async function fetchBlobBytes(
  client: RegistryClient,
  repository: string,
  blob: { digest: Digest; size: number },
  scopes: readonly string[],
): Promise<Buffer> {
  if (blob.size > MAX_CONFIG_BYTES) {
    throw new RegistryError(
      `registry ${client.registry}: config ${blob.digest} is ${blob.size} bytes by its descriptor, more than the ${MAX_CONFIG_BYTES} an image config may have`,
      client.registry,
    );
  }
  const bytes = await withBodyRetries(client, `get blob ${blob.digest}`, async () => {
    const res = await fetchBlobResponse(client, repository, blob.digest, scopes);
    refuseOversize(res, client.registry, blob);
    return readLimited(res, Math.max(blob.size, 0) + 1, client.registry, `blob ${blob.digest}`);
  });
  const actual = sha256(bytes);
  if (actual !== blob.digest || bytes.length !== blob.size) {
    throw new DigestMismatchError(
      `blob ${blob.digest} from ${client.registry}`,
      blob.digest,
      actual,
      blob.size,
      bytes.length,
    );
  }
  return bytes;
}

/**
 * Stream a blob into the sink through a verifier; a dropped connection is
 * retried (the sink discards the partial blob), a wrong digest is not.
 */
async function fetchBlobInto(
  client: RegistryClient,
  repository: string,
  blob: { digest: Digest; size: number },
  scopes: readonly string[],
  sink: BlobSink,
  onBytes: (bytes: number) => void,
): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const res = await fetchBlobResponse(client, repository, blob.digest, scopes);
    refuseOversize(res, client.registry, blob);
    if (!res.body)
      throw new RegistryError(
        `registry ${client.registry}: blob ${blob.digest} came without a body`,
        client.registry,
        res.status,
      );
    const body = Readable.fromWeb(res.body);
    let transportError: Error | undefined;
    body.once("error", (e) => (transportError = e));
    const verifier = new VerifyingStream(
      `blob ${blob.digest} from ${client.registry}`,
      blob.digest,
      blob.size,
      onBytes,
    );
    const verified = pipeline(body, verifier, () => undefined);
    try {
      await sink.put(blob.digest, blob.size, verified);
      if (!verifier.verified) {
        throw new TantalusError(`blob ${blob.digest}: the store accepted it without reading it to the end`);
      }
      return;
    } catch (err) {
      body.destroy();
      if (!transportError || verifier.mismatch || attempt >= client.retryPolicy.retries) {
        if (transportError && !verifier.mismatch) {
          throw new RegistryError(
            `registry ${client.registry}: download of blob ${blob.digest} failed: ${transportError.message}`,
            client.registry,
            undefined,
            [],
            true,
            { cause: err },
          );
        }
        throw err;
      }
      await client.backoff(`download blob ${blob.digest}`, attempt, transportError.message);
    }
  }
}

/**
 * The manifest's descriptor bounds what we read: an answer that announces
 * more bytes than the descriptor (a registry claiming a 1 TB layer for a
 * 1 MB descriptor) is refused before a byte is read, and a body without a
 * length is cut off by the verifier as soon as it goes past the size.
 */
function refuseOversize(res: Response, registry: string, blob: { digest: Digest; size: number }): void {
  const declared = Number(res.headers.get("content-length") ?? NaN);
  if (declared > blob.size) {
    void res.body?.cancel().catch(() => undefined);
    throw new RegistryError(
      `registry ${registry}: blob ${blob.digest} is sent as ${declared} bytes, but the manifest says ${blob.size}; refused`,
      registry,
      res.status,
    );
  }
}

/** Pass-through that fails the stream when the bytes do not hash to `digest` or exceed `size`. */
class VerifyingStream extends Transform {
  private readonly hash: Hash = createHash("sha256");
  private bytes = 0;
  verified = false;
  mismatch = false;

  constructor(
    private readonly what: string,
    private readonly digest: Digest,
    private readonly size: number,
    private readonly onBytes: (bytes: number) => void,
  ) {
    super();
    parseDigest(digest, what);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.size) {
      this.mismatch = true;
      cb(
        new TantalusError(
          `${this.what}: more than the ${this.size} bytes its descriptor says; the registry sent a different blob`,
        ),
      );
      return;
    }
    this.hash.update(chunk);
    this.onBytes(this.bytes);
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    const actual: Digest = `sha256:${this.hash.digest("hex")}`;
    if (actual !== this.digest || this.bytes !== this.size) {
      this.mismatch = true;
      cb(new DigestMismatchError(this.what, this.digest, actual, this.size, this.bytes));
      return;
    }
    this.verified = true;
    cb();
  }
}
