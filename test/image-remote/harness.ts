/**
 * Test fixtures for the distribution client: a real Debian `docker-registry`
 * (distribution 2.8) on a free loopback port, a JWT token server, a flaky
 * proxy, a request-counting fetch, hand-built images and an in-memory store.
 * All traffic stays on 127.0.0.1.
 */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { createHash, createPrivateKey, createPublicKey, createSign, randomBytes, type KeyObject } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, openSync, closeSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import tar from "tar-stream";
import type { BlobSink, BlobSource, FetchFunction } from "../../src/image/remote/index.js";
import { DigestMismatchError, sha256, type Digest } from "../../src/image/digest.js";
import { MediaType } from "../../src/image/types.js";

export const REGISTRY_BIN = "/usr/bin/docker-registry";

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `tantalus-${prefix}-`));
}

/** A port nobody is listening on right now (the registry cannot bind port 0 itself). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export type RegistryAuthConfig =
  { htpasswd: string } | { token: { realm: string; service: string; issuer: string; rootCertBundle: string } };

export interface RunningRegistry {
  /** "127.0.0.1:PORT", as a reference's registry part. */
  host: string;
  port: number;
  dir: string;
  logFile: string;
  stop(): Promise<void>;
  /**
   * Stop the registry and start it again on the same port and storage with a
   * new HTTP secret, as a redeployed registry without a fixed secret does:
   * upload sessions opened before are unknown afterwards.
   */
  restart(): Promise<void>;
}

export async function startRegistry(
  auth?: RegistryAuthConfig,
  opts: { relativeUrls?: boolean } = {},
): Promise<RunningRegistry> {
  const dir = tempDir("registry");
  // Another process may grab the port between our probe and the registry's bind: try a few.
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const config = registryConfig(dir, port, auth, opts.relativeUrls ?? false);
    const configFile = join(dir, "config.yml");
    writeFileSync(configFile, config);
    const logFile = join(dir, `registry-${attempt}.log`);
    const logFd = openSync(logFile, "w");
    const child = spawn(REGISTRY_BIN, ["serve", configFile], { stdio: ["ignore", logFd, logFd] });
    closeSync(logFd);
    const ready = await waitReady(child, port);
    if (ready) {
      let current = child;
      let restarts = 0;
      return {
        host: `127.0.0.1:${port}`,
        port,
        dir,
        logFile,
        stop: async () => {
          await stopChild(current);
          rmSync(dir, { recursive: true, force: true });
        },
        restart: async () => {
          await stopChild(current);
          writeFileSync(configFile, registryConfig(dir, port, auth, opts.relativeUrls ?? false));
          const fd = openSync(join(dir, `registry-restart-${++restarts}.log`), "w");
          current = spawn(REGISTRY_BIN, ["serve", configFile], { stdio: ["ignore", fd, fd] });
          closeSync(fd);
          if (!(await waitReady(current, port))) throw new Error(`docker-registry did not come back on port ${port}`);
        },
      };
    }
    await stopChild(child);
    const log = readFileSync(logFile, "utf8");
    if (!/address already in use/.test(log)) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`docker-registry did not start:\n${log}`);
    }
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error("docker-registry: no free port after 5 attempts");
}

function registryConfig(
  dir: string,
  port: number,
  auth: RegistryAuthConfig | undefined,
  relativeUrls: boolean,
): string {
  const lines = [
    "version: 0.1",
    "log:",
    "  level: info",
    "  accesslog:",
    "    disabled: false",
    "storage:",
    "  filesystem:",
    `    rootdirectory: ${join(dir, "data")}`,
    "  delete:",
    "    enabled: true",
    "http:",
    `  addr: 127.0.0.1:${port}`,
    `  secret: ${randomBytes(16).toString("hex")}`,
    // Upload Locations as paths instead of absolute URLs (both are allowed by the spec).
    `  relativeurls: ${relativeUrls}`,
  ];
  if (auth && "htpasswd" in auth) {
    lines.push("auth:", "  htpasswd:", "    realm: tantalus-test", `    path: ${auth.htpasswd}`);
  } else if (auth && "token" in auth) {
    const t = auth.token;
    lines.push(
      "auth:",
      "  token:",
      `    realm: ${t.realm}`,
      `    service: ${t.service}`,
      `    issuer: ${t.issuer}`,
      `    rootcertbundle: ${t.rootCertBundle}`,
    );
  }
  return lines.join("\n") + "\n";
}

async function waitReady(child: ChildProcess, port: number): Promise<boolean> {
  let exited = false;
  child.once("exit", () => (exited = true));
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline && !exited) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/v2/`);
      await res.body?.cancel();
      if (res.status === 200 || res.status === 401) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/** `htpasswd -Bbn user pass` into a file. */
export function writeHtpasswd(dir: string, user: string, password: string): string {
  const file = join(dir, "htpasswd");
  writeFileSync(file, execFileSync("htpasswd", ["-Bbn", user, password]));
  return file;
}

// ---------------------------------------------------------------- images

export interface TestImage {
  manifest: Buffer;
  mediaType: string;
  manifestDigest: Digest;
  configDigest: Digest;
  layerDigests: Digest[];
  blobs: Map<string, Buffer>;
}

/** A gzip'd tar with the given files, built by hand (no dependency on the layer writer). */
export async function makeLayer(files: Record<string, Buffer | string>): Promise<{ gz: Buffer; diffId: Digest }> {
  const pack = tar.pack();
  for (const [name, content] of Object.entries(files)) {
    const body = Buffer.isBuffer(content) ? content : Buffer.from(content);
    pack.entry({ name, size: body.length, mode: 0o644, mtime: new Date(1000), uid: 0, gid: 0, type: "file" }, body);
  }
  pack.finalize();
  const parts: Buffer[] = [];
  for await (const c of pack) parts.push(c as Buffer);
  const tarBytes = Buffer.concat(parts);
  return { gz: gzipSync(tarBytes), diffId: sha256(tarBytes) };
}

export async function makeImage(
  layers: Record<string, Buffer | string>[],
  label = "test",
  flavour: "oci" | "docker" = "oci",
  labels: Record<string, string> = {},
): Promise<TestImage> {
  const types =
    flavour === "oci"
      ? { manifest: MediaType.ImageManifest, config: MediaType.ImageConfig, layer: MediaType.LayerGzip }
      : { manifest: MediaType.DockerManifest, config: MediaType.DockerConfig, layer: MediaType.DockerLayerGzip };
  const blobs = new Map<string, Buffer>();
  const built = [];
  for (const files of layers) built.push(await makeLayer(files));
  const config = Buffer.from(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      config: { Env: ["PATH=/usr/bin:/bin"], Labels: { "org.tantalus.test": label, ...labels } },
      rootfs: { type: "layers", diff_ids: built.map((b) => b.diffId) },
      history: built.map(() => ({ created_by: "tantalus test" })),
    }),
  );
  const configDigest = sha256(config);
  blobs.set(configDigest, config);
  const layerDigests = built.map((b) => {
    const d = sha256(b.gz);
    blobs.set(d, b.gz);
    return d;
  });
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: types.manifest,
      config: { mediaType: types.config, digest: configDigest, size: config.length },
      layers: built.map((b, i) => ({ mediaType: types.layer, digest: layerDigests[i], size: b.gz.length })),
    }),
  );
  return { manifest, mediaType: types.manifest, manifestDigest: sha256(manifest), configDigest, layerDigests, blobs };
}

/** In-memory store playing both roles; put verifies like a real store must. */
export class MemoryStore implements BlobSource, BlobSink {
  readonly blobs = new Map<string, Buffer>();
  puts = 0;
  /** Chunk size of streams handed out, to exercise multi-chunk reads. */
  constructor(
    initial?: Map<string, Buffer>,
    private readonly readChunk = 16 * 1024,
  ) {
    if (initial) for (const [k, v] of initial) this.blobs.set(k, v);
  }

  stat(digest: string): Promise<{ size: number }> {
    const b = this.blobs.get(digest);
    return b ? Promise.resolve({ size: b.length }) : Promise.reject(new Error(`no blob ${digest}`));
  }

  open(digest: string): Promise<Readable> {
    const b = this.blobs.get(digest);
    if (!b) return Promise.reject(new Error(`no blob ${digest}`));
    const chunks: Buffer[] = [];
    for (let i = 0; i < b.length; i += this.readChunk) chunks.push(b.subarray(i, i + this.readChunk));
    return Promise.resolve(Readable.from(chunks));
  }

  has(digest: Digest): Promise<boolean> {
    return Promise.resolve(this.blobs.has(digest));
  }

  async put(digest: Digest, size: number, stream: Readable): Promise<void> {
    this.puts++;
    const parts: Buffer[] = [];
    for await (const c of stream) parts.push(c as Buffer);
    const bytes = Buffer.concat(parts);
    const actual = sha256(bytes);
    if (actual !== digest || bytes.length !== size)
      throw new DigestMismatchError(`test store put`, digest, actual, size, bytes.length);
    this.blobs.set(digest, bytes);
  }
}

// ---------------------------------------------------------------- traffic

export interface CountingFetch {
  fetch: FetchFunction;
  /** "METHOD /path" of every request, in order (query strings dropped). */
  requests: string[];
  count(method: string, pathPattern: RegExp): number;
  reset(): void;
}

export function countingFetch(): CountingFetch {
  const requests: string[] = [];
  return {
    requests,
    fetch: (input, init) => {
      const url = new URL(input.toString());
      requests.push(`${init?.method ?? "GET"} ${url.pathname}${url.searchParams.has("mount") ? "?mount" : ""}`);
      return fetch(input, init);
    },
    count: (method, pattern) =>
      requests.filter((r) => r.startsWith(`${method} `) && pattern.test(r.slice(method.length + 1))).length,
    reset: () => {
      requests.length = 0;
    },
  };
}

export interface FlakyProxy {
  host: string;
  /** Requests answered by the proxy itself (failures). */
  failed: number;
  forwarded: string[];
  /** Content-Range of every forwarded PATCH. */
  patchRanges: string[];
  /** Authorization header (or "none") of each request the blob storage server received. */
  storageAuthorizations: string[];
  close(): Promise<void>;
}

/**
 * A reverse proxy in front of the registry that answers the first
 * `failFirst` requests with `status` (503 by default), and can cut the
 * connection of one PATCH part-way through its body.
 */
export async function startFlakyProxy(
  upstreamPort: number,
  opts: {
    failFirst?: number;
    /** Fail the first N requests of each HTTP method (reaches every step of a push). */
    failFirstPerMethod?: number;
    status?: number;
    retryAfter?: string;
    /** Cut the connection of PATCH number `index` (0-based) after `after` body bytes. */
    cutPatch?: { index: number; after: number };
    /** Cut the response of blob GET number `index` (0-based) after `after` body bytes. */
    cutBlobGet?: { index: number; after: number };
    /**
     * Answer blob GETs with 307 to a separate "blob storage" server (another
     * origin), as registries backed by S3 do; it fetches from the registry
     * with `storageAuthorization` and records what Authorization it was sent.
     */
    redirectBlobs?: { storageAuthorization?: string };
    failAlways?: boolean;
  },
): Promise<FlakyProxy> {
  const state: FlakyProxy = {
    host: "",
    failed: 0,
    forwarded: [],
    patchRanges: [],
    storageAuthorizations: [],
    close: () => Promise.resolve(),
  };
  let patches = 0;
  let blobGets = 0;
  const storage = opts.redirectBlobs
    ? await startBlobStorage(upstreamPort, opts.redirectBlobs.storageAuthorization, state)
    : undefined;
  const perMethod = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const seen = perMethod.get(req.method ?? "") ?? 0;
    perMethod.set(req.method ?? "", seen + 1);
    if (opts.failAlways || state.failed < (opts.failFirst ?? 0) || seen < (opts.failFirstPerMethod ?? 0)) {
      state.failed++;
      req.resume();
      const headers: Record<string, string> = { "content-type": "text/plain" };
      if (opts.retryAfter !== undefined) headers["retry-after"] = opts.retryAfter;
      res.writeHead(opts.status ?? 503, headers);
      res.end("temporarily unavailable\n");
      return;
    }
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const isBlobGet = req.method === "GET" && /\/blobs\/sha256:/.test(path);
    if (isBlobGet && storage) {
      req.resume();
      res.writeHead(307, { location: `http://${storage.host}/storage${path}?signature=opaque` });
      res.end();
      return;
    }
    state.forwarded.push(`${req.method} ${path}`);
    const cut =
      isBlobGet && opts.cutBlobGet !== undefined && blobGets++ === opts.cutBlobGet.index
        ? opts.cutBlobGet.after
        : undefined;
    if (req.method === "PATCH") state.patchRanges.push(String(req.headers["content-range"]));
    const upstream = http.request(
      { host: "127.0.0.1", port: upstreamPort, method: req.method, path: req.url, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        if (cut === undefined) {
          up.pipe(res);
          return;
        }
        // Headers and the first `cut` bytes reach the client before the connection dies.
        res.flushHeaders();
        let sent = 0;
        up.on("data", (c: Buffer) => {
          if (sent >= cut) return;
          const part = c.subarray(0, cut - sent);
          sent += part.length;
          if (sent < cut) {
            res.write(part);
            return;
          }
          up.destroy();
          res.write(part, () => setTimeout(() => res.socket?.destroy(), 20));
        });
      },
    );
    upstream.on("error", () => res.destroy());
    if (req.method === "PATCH" && opts.cutPatch !== undefined && patches++ === opts.cutPatch.index) {
      const limit = opts.cutPatch.after;
      let seen = 0;
      req.on("data", (c: Buffer) => {
        const room = limit - seen;
        seen += c.length;
        if (room > 0) upstream.write(c.subarray(0, Math.min(room, c.length)));
        if (seen >= limit) {
          // Simulate a dropped connection mid-chunk, on both sides.
          upstream.destroy();
          req.socket.destroy();
        }
      });
      return;
    }
    req.pipe(upstream);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  state.host = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  state.close = async () => {
    await storage?.close();
    await new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  };
  return state;
}

/** Serves /storage/v2/<name>/blobs/<digest> from the registry, like pre-signed blob storage URLs. */
async function startBlobStorage(
  upstreamPort: number,
  authorization: string | undefined,
  state: FlakyProxy,
): Promise<{ host: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    state.storageAuthorizations.push(req.headers.authorization ?? "none");
    const path = new URL(req.url ?? "/", "http://x").pathname.replace(/^\/storage/, "");
    const headers: Record<string, string> = authorization ? { authorization } : {};
    http
      .get({ host: "127.0.0.1", port: upstreamPort, path, headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, { "content-type": "application/octet-stream" });
        up.pipe(res);
      })
      .on("error", () => res.destroy());
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    host: `127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

// ---------------------------------------------------------------- token auth

export interface SigningKey {
  keyFile: string;
  certFile: string;
  privateKey: KeyObject;
  /** libtrust key ID of the public key: what distribution looks `kid` up by. */
  kid: string;
}

/** A self-signed RSA certificate for the registry's `rootcertbundle`, made with openssl. */
export function makeSigningKey(dir: string): SigningKey {
  const keyFile = join(dir, "token.key");
  const certFile = join(dir, "token.crt");
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      keyFile,
      "-out",
      certFile,
      "-days",
      "2",
      "-subj",
      "/CN=tantalus-test-token-issuer",
    ],
    { stdio: "ignore" },
  );
  const privateKey = createPrivateKey(readFileSync(keyFile));
  const spki = createPublicKey(privateKey).export({ type: "spki", format: "der" });
  return { keyFile, certFile, privateKey, kid: libtrustKeyId(spki) };
}

/** libtrust: base32 of the first 240 bits of sha256(DER SubjectPublicKeyInfo), in groups of four. */
function libtrustKeyId(spkiDer: Buffer): string {
  const hash = createHash("sha256").update(spkiDer).digest().subarray(0, 30);
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of hash) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out.match(/.{4}/g)!.join(":");
}

export interface TokenServer {
  realm: string;
  service: string;
  issuer: string;
  /** Every token request: who asked (username or "anonymous") and for what scopes. */
  requests: { user: string; scopes: string[] }[];
  /** Issue the next `n` tokens already expired (to exercise refresh on 401). */
  expireNext(n: number): void;
  close(): Promise<void>;
}

/**
 * `users` maps names to passwords (GET with Basic auth); `refreshTokens` maps
 * OAuth2 refresh tokens to names (POST grant_type=refresh_token, what docker's
 * `identitytoken` is exchanged with).
 */
export async function startTokenServer(
  key: SigningKey,
  users: Record<string, string>,
  refreshTokens: Record<string, string> = {},
): Promise<TokenServer> {
  const service = "tantalus-test-registry";
  const issuer = "tantalus-test-issuer";
  let expired = 0;
  const requests: TokenServer["requests"] = [];
  const answer = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    let url = new URL(req.url ?? "/", "http://x");
    const auth = req.headers.authorization;
    let user = "anonymous";
    if (req.method === "POST") {
      let body = "";
      for await (const c of req) body += String(c);
      const form = new URLSearchParams(body);
      const who = refreshTokens[form.get("refresh_token") ?? ""];
      if (form.get("grant_type") !== "refresh_token" || !form.get("client_id") || who === undefined) {
        res.writeHead(401, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: "invalid_grant" }));
        return;
      }
      user = who;
      // Same parameters as a GET, carried in the form; scopes are space-separated there.
      url = new URL(`http://x/?service=${encodeURIComponent(form.get("service") ?? "")}`);
      for (const s of (form.get("scope") ?? "").split(" ").filter(Boolean)) url.searchParams.append("scope", s);
    } else if (auth?.startsWith("Basic ")) {
      const decoded = Buffer.from(auth.slice(6), "base64").toString();
      const [u, ...rest] = decoded.split(":");
      if (users[u!] !== rest.join(":")) {
        res.writeHead(401, { "content-type": "application/json" });
        res.end(JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "invalid username or password" }] }));
        return;
      }
      user = u!;
    }
    const scopes = url.searchParams.getAll("scope");
    requests.push({ user, scopes });
    // Anonymous users may pull; known users get what they ask for.
    const access = scopes.map((s) => {
      const [type, name, actions] = s.split(":") as [string, string, string];
      const granted = actions.split(",").filter((a) => user !== "anonymous" || a === "pull");
      return { type, name, actions: granted };
    });
    const now = Math.floor(Date.now() / 1000);
    const exp = expired > 0 ? now - 3600 : now + 300;
    if (expired > 0) expired--;
    const token = signJwt(key, {
      iss: issuer,
      sub: user,
      aud: url.searchParams.get("service") ?? service,
      exp,
      nbf: now - 7200,
      iat: now - 7200,
      jti: randomBytes(8).toString("hex"),
      access,
    });
    res.writeHead(200, { "content-type": "application/json" });
    // The OAuth2 endpoint answers with access_token, the classic one with token.
    const tokenField = req.method === "POST" ? "access_token" : "token";
    res.end(JSON.stringify({ [tokenField]: token, expires_in: 300, issued_at: new Date().toISOString() }));
  };
  const server = http.createServer((req, res) => void answer(req, res));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as net.AddressInfo).port;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    requests,
    expireNext: (n) => (expired = n),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

function signJwt(key: SigningKey, claims: object): string {
  const b64 = (v: Buffer | string): string => Buffer.from(v).toString("base64url");
  const header = b64(JSON.stringify({ typ: "JWT", alg: "RS256", kid: key.kid }));
  const payload = b64(JSON.stringify(claims));
  const signature = createSign("RSA-SHA256").update(`${header}.${payload}`).sign(key.privateKey);
  return `${header}.${payload}.${b64(signature)}`;
}
