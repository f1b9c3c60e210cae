/**
 * Getting one blob into a repository (distribution-spec "Pushing blobs"):
 *   HEAD → already there;  POST ?mount=&from= → 201 mounted from a sibling repository;
 *   POST → 202 Location → PUT ?digest= with the bytes (small blobs), or
 *   PATCH chunks with Content-Range → PUT ?digest= (big blobs).
 * A failed chunk is resumed where the registry says the upload stands
 * (GET Location → Range), so a dropped connection late in a 2 GB layer does
 * not start it over.
 */
import type { Readable } from "node:stream";
import type { Digest } from "../digest.js";
import { repositoryScope } from "./auth.js";
import { ByteReader, BlobSourceError } from "./byte-reader.js";
import type { RegistryClient } from "./client.js";
import { RegistryAuthError, RegistryError } from "./errors.js";

/** Where push reads blobs from: the caller's store. */
export interface BlobSource {
  stat(digest: Digest): Promise<{ size: number }>;
  /** A fresh stream of the whole blob each call (a resumed upload re-opens and skips). */
  open(digest: Digest): Promise<Readable>;
}

export type BlobPushState = "exists" | "mounted" | "uploading" | "uploaded";

export interface BlobProgress {
  digest: Digest;
  size: number;
  state: BlobPushState;
  /** Bytes the registry has (uploading: sent so far). */
  bytes: number;
  /** For "mounted": the repository it came from. */
  from?: string;
}

export interface UploadOptions {
  /** Sibling repositories on the same registry that may already hold the blob. */
  mountFrom?: readonly string[];
  /** Blobs up to this size go in one PUT; bigger ones are PATCHed in chunks. Default 16 MiB. */
  monolithicMaxBytes?: number;
  /** Bytes per PATCH. Default 64 MiB. */
  chunkSize?: number;
  onProgress?: (p: BlobProgress) => void;
}

export const DEFAULT_MONOLITHIC_MAX_BYTES = 16 * 1024 * 1024;
export const DEFAULT_CHUNK_SIZE = 64 * 1024 * 1024;

interface UploadSession {
  location: URL;
  /** Bytes the registry has accepted. */
  offset: number;
}

/** Token scopes for pushing to `repository` and mounting from `mountFrom`. */
export function pushScopes(repository: string, mountFrom: readonly string[]): string[] {
  return [
    repositoryScope(repository, ["pull", "push"]),
    ...mountFrom.filter((r) => r !== repository).map((r) => repositoryScope(r, ["pull"])),
  ];
}

export function blobPath(repository: string, digest: string): string {
  return `/v2/${repository}/blobs/${digest}`;
}

/** HEAD the blob: true if the repository already has it (with the right size). */
export async function blobExists(
  client: RegistryClient,
  repository: string,
  digest: string,
  scopes: readonly string[],
): Promise<boolean> {
  const res = await client.send({
    method: "HEAD",
    url: blobPath(repository, digest),
    scopes,
    expect: [200, 404],
    what: `check for blob ${digest}`,
  });
  await res.body?.cancel().catch(() => undefined);
  return res.status === 200;
}

/**
 * Make `digest` (of `size` bytes, read from `source`) present in `repository`.
 * Returns how: it was there, it was mounted, or it was uploaded.
 */
export async function pushBlob(
  client: RegistryClient,
  repository: string,
  blob: { digest: Digest; size: number },
  source: BlobSource,
  opts: UploadOptions = {},
): Promise<"exists" | "mounted" | "uploaded"> {
  const { digest, size } = blob;
  const mountFrom = (opts.mountFrom ?? []).filter((r) => r !== repository);
  const scopes = pushScopes(repository, mountFrom);
  const report = (state: BlobPushState, bytes: number, from?: string): void =>
    opts.onProgress?.({ digest, size, state, bytes, ...(from ? { from } : {}) });
  const monolithicMax = opts.monolithicMaxBytes ?? DEFAULT_MONOLITHIC_MAX_BYTES;
  const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (!(chunkSize > 0)) throw new RangeError(`chunkSize must be positive, got ${chunkSize}`);

  if (await blobExists(client, repository, digest, scopes)) {
    report("exists", size);
    return "exists";
  }

  let session: UploadSession | undefined;
  let mountTried = false;
  for (let attempt = 0; ; attempt++) {
    let reader: ByteReader | undefined;
    try {
      if (!session) {
        const started = await startUpload(client, repository, digest, mountTried ? [] : mountFrom, scopes);
        mountTried = true;
        if ("mountedFrom" in started) {
          report("mounted", size, started.mountedFrom);
          return "mounted";
        }
        session = { location: started.location, offset: 0 };
      }
      reader = new ByteReader(await source.open(digest), `blob ${digest}`);
      if (size <= monolithicMax && session.offset === 0) {
        const bytes = await reader.readAll(size);
        report("uploading", 0);
        await finishUpload(client, session.location, digest, scopes, bytes);
      } else {
        await reader.skip(session.offset);
        while (session.offset < size) {
          const n = Math.min(chunkSize, size - session.offset);
          session = await patchChunk(client, session, n, reader, digest, scopes, (sent) => report("uploading", sent));
        }
        await reader.expectEnd();
        await finishUpload(client, session.location, digest, scopes);
      }
      report("uploaded", size);
      return "uploaded";
    } catch (err) {
      reader?.close();
      if (reader?.failure) throw reader.failure;
      if (err instanceof BlobSourceError || !isRetryable(err) || attempt >= client.retryPolicy.retries) throw err;
      await client.backoff(`upload blob ${digest}`, attempt, (err as Error).message);
      // Find out what the registry kept: resume the session, or learn the blob made it after all.
      session =
        session && !(err instanceof UploadRestartError) ? await uploadStatus(client, session, scopes) : undefined;
      if (!session && (await blobExists(client, repository, digest, scopes).catch(() => false))) {
        // (A registry still unreachable here is met again by the next attempt's own retries.)
        report("uploaded", size);
        return "uploaded";
      }
    }
  }
}

/** The session is unusable (the registry lost it or disagrees about the offset): start a new one. */
class UploadRestartError extends RegistryError {}

/**
 * A request on an upload session answered "no such session": a registry
 * restarted (with another secret, or without the upload's scratch files) or
 * an upload purged as stale. distribution answers 404 BLOB_UPLOAD_INVALID or
 * BLOB_UPLOAD_UNKNOWN. Sending to that session again can never succeed; a new
 * upload can (pushBlob counts it as one of its bounded retries).
 */
function restartIfSessionLost(err: unknown): never {
  if (
    err instanceof RegistryError &&
    !(err instanceof RegistryAuthError) &&
    (err.status === 404 || err.hasCode("BLOB_UPLOAD_INVALID") || err.hasCode("BLOB_UPLOAD_UNKNOWN"))
  ) {
    throw new UploadRestartError(
      `${err.message}; the registry lost the upload session`,
      err.registry,
      err.status,
      err.codes,
      true,
    );
  }
  throw err;
}

function isRetryable(err: unknown): boolean {
  if (err instanceof RegistryError) return err.retryable;
  return false;
}

/** POST …/uploads/, trying cross-repository mounts first. */
async function startUpload(
  client: RegistryClient,
  repository: string,
  digest: string,
  mountFrom: readonly string[],
  scopes: readonly string[],
): Promise<{ location: URL } | { mountedFrom: string }> {
  for (const from of mountFrom) {
    let res: Response;
    try {
      res = await client.send({
        method: "POST",
        url: `/v2/${repository}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`,
        scopes,
        expect: [201, 202],
        what: `mount blob ${digest} from ${from}`,
      });
    } catch (err) {
      // No pull right on the source repository is "mount refused", not a failed push.
      if (err instanceof RegistryAuthError) continue;
      throw err;
    }
    if (res.status === 201) {
      await res.body?.cancel().catch(() => undefined);
      return { mountedFrom: from };
    }
    // 202: the registry opened an ordinary upload instead; use it.
    return { location: await locationOf(client, res, `/v2/${repository}/blobs/uploads/`) };
  }
  const res = await client.send({
    method: "POST",
    url: `/v2/${repository}/blobs/uploads/`,
    scopes,
    headers: { "content-length": "0" },
    expect: [202],
    what: `start upload of blob ${digest}`,
  });
  return { location: await locationOf(client, res, `/v2/${repository}/blobs/uploads/`) };
}

/** The `Location` of an upload response, made absolute (the spec allows relative ones). */
async function locationOf(client: RegistryClient, res: Response, requestPath: string | URL): Promise<URL> {
  const loc = res.headers.get("location");
  await res.body?.cancel().catch(() => undefined);
  if (!loc)
    throw new RegistryError(
      `registry ${client.registry}: upload response has no Location header`,
      client.registry,
      res.status,
    );
  return new URL(loc, await client.resolve(requestPath));
}

async function patchChunk(
  client: RegistryClient,
  session: UploadSession,
  n: number,
  reader: ByteReader,
  digest: string,
  scopes: readonly string[],
  onSent: (sent: number) => void,
): Promise<UploadSession> {
  const start = session.offset;
  const end = start + n - 1;
  let sent = start;
  const res = await client
    .send({
      method: "PATCH",
      url: session.location,
      scopes,
      headers: { "content-type": "application/octet-stream", "content-range": `${start}-${end}` },
      body: {
        stream: () => reader.take(n, (c) => onSent((sent += c))),
        length: n,
      },
      expect: [202, 416],
      what: `upload chunk ${start}-${end} of blob ${digest}`,
    })
    .catch(restartIfSessionLost);
  if (res.status === 416) {
    await res.body?.cancel().catch(() => undefined);
    throw new UploadRestartError(
      `registry ${client.registry}: refused chunk ${start}-${end} of ${digest} (HTTP 416)`,
      client.registry,
      416,
      [],
      true,
    );
  }
  const location = await locationOf(client, res, session.location);
  const range = parseRange(res.headers.get("range"));
  // "0-0" after a one-byte first chunk is the registry being ambiguous, not disagreeing.
  if (range !== undefined && range !== end + 1 && !(end === 0 && range === 0)) {
    throw new UploadRestartError(
      `registry ${client.registry}: after chunk ${start}-${end} of ${digest} the registry holds ${range} bytes`,
      client.registry,
      202,
      [],
      true,
    );
  }
  return { location, offset: end + 1 };
}

/** PUT <location>?digest=…, with the whole blob (monolithic) or nothing (after PATCHes). */
async function finishUpload(
  client: RegistryClient,
  location: URL,
  digest: string,
  scopes: readonly string[],
  bytes?: Buffer,
): Promise<void> {
  const url = new URL(location);
  // Append rather than rebuild the query: the opaque upload state must be sent back byte for byte.
  url.search = `${url.search ? `${url.search}&` : "?"}digest=${encodeURIComponent(digest)}`;
  const res = await client
    .send({
      method: "PUT",
      url,
      scopes,
      headers: { "content-type": "application/octet-stream" },
      body: bytes ?? Buffer.alloc(0),
      expect: [201, 204],
      what: `finish upload of blob ${digest}`,
    })
    .catch(restartIfSessionLost);
  await res.body?.cancel().catch(() => undefined);
  const stored = res.headers.get("docker-content-digest");
  if (stored && stored !== digest) {
    throw new RegistryError(
      `registry ${client.registry} stored blob ${digest} as ${stored}`,
      client.registry,
      res.status,
    );
  }
}

/** GET <location>: how many bytes the registry holds for an unfinished upload; undefined if it lost it. */
async function uploadStatus(
  client: RegistryClient,
  session: UploadSession,
  scopes: readonly string[],
): Promise<UploadSession | undefined> {
  let res: Response;
  try {
    res = await client.send({
      method: "GET",
      url: session.location,
      scopes,
      expect: [204, 404],
      what: "check upload status",
    });
  } catch {
    return undefined;
  }
  await res.body?.cancel().catch(() => undefined);
  if (res.status !== 204) return undefined;
  const held = parseRange(res.headers.get("range")) ?? 0;
  const loc = res.headers.get("location");
  return { location: loc ? new URL(loc, session.location) : session.location, offset: held };
}

/** "0-1023" → 1024 bytes held. "0-0" is ambiguous (0 or 1 byte); treat it as 0 and let a 416 restart. */
function parseRange(header: string | null): number | undefined {
  if (!header) return undefined;
  const m = /^(?:bytes=)?0-(\d+)$/.exec(header.trim());
  if (!m) return undefined;
  const last = Number(m[1]);
  return last === 0 ? 0 : last + 1;
}
