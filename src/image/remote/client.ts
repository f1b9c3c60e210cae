/**
 * One registry endpoint: picks the scheme, authenticates, retries, follows
 * redirects. Everything above it (push, pull) speaks in distribution-spec
 * requests and never sees a 401 or a 503.
 *
 * Plain HTTP is used only when the caller says `insecure` for this registry,
 * as skopeo's `--tls-verify=false` does: HTTPS is tried first and HTTP only if
 * that fails. Unlike docker we do not treat localhost/127.0.0.0/8 as insecure
 * implicitly (skopeo and podman don't either). TLS certificates are always
 * verified (a studio CA goes in NODE_EXTRA_CA_CERTS).
 */
import { VERSION } from "../../version.js";
import { Authenticator, type AuthenticatorOptions } from "./auth.js";
import {
  RegistryError,
  errorFromResponse,
  isRetryableStatus,
  networkErrorMessage,
  describeRequest,
  unreachableReason,
} from "./errors.js";
import { endpointHost, type ImageReference } from "./reference.js";
import { parseRetryAfter, retryDelay, retryPolicy, sleep, type RetryPolicy } from "./retry.js";

export type FetchFunction = (input: string | URL, init?: RequestInit) => Promise<Response>;

export interface RetryEvent {
  registry: string;
  /** What was being done: "upload blob sha256:…", "GET /v2/". */
  what: string;
  /** 1 for the first retry. */
  attempt: number;
  delayMs: number;
  reason: string;
}

export interface RegistryOptions extends AuthenticatorOptions {
  /** Allow plain HTTP for this registry (HTTPS is still tried first). */
  insecure?: boolean;
  retry?: Partial<RetryPolicy>;
  /** Replaces global fetch (tests count requests with it). */
  fetch?: FetchFunction;
  userAgent?: string;
  signal?: AbortSignal;
  onRetry?: (event: RetryEvent) => void;
  /**
   * Longest wait for the registry to make progress: to take the next piece
   * of a body we send, to answer once it is sent (or at once, without a
   * body), and between two chunks of any response body. A registry that
   * stalls longer is treated as a dropped connection (retried within the
   * retry policy). Default 60 s.
   */
  readTimeoutMs?: number;
}

export const DEFAULT_READ_TIMEOUT_MS = 60_000;

/** The registry sent nothing for readTimeoutMs: retryable like a dropped connection. */
export class RegistryStallError extends RegistryError {}

/** A request body: bytes (can be re-sent) or a one-shot stream (cannot). */
export type RequestBody = Buffer | { stream: () => AsyncIterable<Uint8Array>; length?: number };

export interface RegistryRequest {
  method: "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** "/v2/…" under the endpoint, or an absolute URL (an upload `Location`). */
  url: string | URL;
  /** Token scopes this request needs, e.g. ["repository:vfx/base:pull,push"]. */
  scopes: readonly string[];
  headers?: Record<string, string>;
  body?: RequestBody;
  /** Statuses that are an answer rather than an error (404 for an existence check…). */
  expect: readonly number[];
  /** For messages: "upload blob sha256:…". */
  what: string;
  /** Follow 3xx (to blob storage, without our Authorization). Default: for GET and HEAD. */
  followRedirects?: boolean;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 10;

export class RegistryClient {
  readonly host: string;
  readonly auth: Authenticator;
  private readonly policy: RetryPolicy;
  private readonly fetchFn: FetchFunction;
  private base: URL | undefined;
  private pinging: Promise<URL> | undefined;

  constructor(
    /** The registry as references name it ("docker.io", "127.0.0.1:5000"). */
    readonly registry: string,
    private readonly opts: RegistryOptions = {},
  ) {
    this.host = endpointHost(registry);
    this.policy = retryPolicy(opts.retry);
    this.fetchFn = opts.fetch ?? ((input, init) => fetch(input, init));
    this.auth = new Authenticator(registry, (url, init, what) => this.fetchWithRetry(url, init, what), opts);
  }

  get retryPolicy(): RetryPolicy {
    return this.policy;
  }

  /** Base URL ("https://host/") after the version check; pings once per client. */
  endpoint(): Promise<URL> {
    if (this.base) return Promise.resolve(this.base);
    if (!this.pinging) {
      this.pinging = this.ping().then(
        (u) => (this.base = u),
        (err: unknown) => {
          this.pinging = undefined;
          throw err;
        },
      );
    }
    return this.pinging;
  }

  /** `GET /v2/`: proves the endpoint speaks the API and tells us how to authenticate. */
  private async ping(): Promise<URL> {
    const schemes = this.opts.insecure ? ["https", "http"] : ["https"];
    const failures: string[] = [];
    for (const [i, scheme] of schemes.entries()) {
      const base = new URL(`${scheme}://${this.host}/`);
      const url = new URL("/v2/", base);
      const last = i === schemes.length - 1;
      let res: Response;
      try {
        // A TLS failure with HTTP still to try is not worth waiting for.
        res = last
          ? await this.fetchWithRetry(url, { method: "GET" }, "API version check")
          : await this.fetchOnce(url, { method: "GET" });
      } catch (err) {
        const cause = err instanceof RegistryError ? (err as { cause?: unknown }).cause : err;
        const why = unreachableReason(cause);
        failures.push(
          `${scheme}: ${why !== undefined ? `${why}, ` : ""}${cause !== undefined ? networkErrorMessage(cause) : (err as Error).message}`,
        );
        continue;
      }
      if (res.status === 200 || res.status === 401) {
        const challenge = res.headers.get("www-authenticate");
        await res.body?.cancel().catch(() => undefined);
        this.auth.setFromPing(res.status, challenge);
        return base;
      }
      const err = await errorFromResponse(this.registry, "API version check", "GET", url, res);
      if (err.retryable) {
        throw new RegistryError(
          `${err.message}; gave up after ${this.policy.retries + 1} attempts`,
          this.registry,
          res.status,
          err.codes,
          false,
        );
      }
      throw new RegistryError(
        `${err.message}; ${url.origin} does not look like an OCI distribution (registry API v2) endpoint`,
        this.registry,
        res.status,
        err.codes,
        err.retryable,
      );
    }
    // Only a TLS-level failure suggests the server speaks plain HTTP; a refused connection does not.
    const tlsTrouble = failures.some((f) => /TLS|EPROTO|ECONNRESET|socket hang up/.test(f));
    const hint = !this.opts.insecure && tlsTrouble ? "; if it serves plain HTTP, allow that explicitly (insecure)" : "";
    throw new RegistryError(`cannot reach registry ${this.registry} (${failures.join("; ")})${hint}`, this.registry);
  }

  /** Resolve a path or an upload Location against the endpoint. */
  async resolve(url: string | URL): Promise<URL> {
    const base = await this.endpoint();
    return new URL(url, base);
  }

  /**
   * Send a request, authenticating, retrying (replayable bodies only) and
   * mapping unexpected statuses to RegistryError. The caller owns the body of
   * the returned response.
   */
  async send(req: RegistryRequest): Promise<Response> {
    const base = await this.endpoint();
    const url = new URL(req.url, base);
    let scopes = [...req.scopes];
    let authRetried = false;
    const replayable = req.body === undefined || Buffer.isBuffer(req.body);
    const follow = req.followRedirects ?? (req.method === "GET" || req.method === "HEAD");
    for (let attempt = 0; ; attempt++) {
      const authorization = await this.auth.authorization(scopes);
      const headers: Record<string, string> = { "user-agent": this.userAgent(), ...req.headers };
      if (authorization && url.origin === base.origin) headers.authorization = authorization;
      const init: RequestInit & { duplex?: "half" } = { method: req.method, headers };
      if (req.body !== undefined) {
        if (Buffer.isBuffer(req.body)) {
          init.body = req.body;
          headers["content-length"] = String(req.body.length);
        } else {
          init.body = req.body.stream();
          init.duplex = "half";
          if (req.body.length !== undefined) headers["content-length"] = String(req.body.length);
        }
      }
      let res: Response;
      try {
        res = await this.fetchOnce(url, init, follow ? base : undefined);
      } catch (err) {
        if (this.opts.signal?.aborted) throw err;
        const reason = networkErrorMessage(err);
        if (replayable && attempt < this.policy.retries) {
          await this.backoff(`${describeRequest(req.method, url)} (${req.what})`, attempt, reason);
          continue;
        }
        // Already retried here: only a one-shot stream is worth retrying higher up (by resuming).
        throw new RegistryError(
          `registry ${this.registry}: ${req.what} failed (${describeRequest(req.method, url)}): ${reason}${replayable ? `; gave up after ${attempt + 1} attempts` : ""}`,
          this.registry,
          undefined,
          [],
          !replayable,
          { cause: err },
        );
      }
      if (res.status === 401 && !authRetried && !req.expect.includes(401)) {
        authRetried = true;
        scopes = await this.auth.onUnauthorized(res, scopes, authorization !== undefined);
        if (!replayable) {
          // The stream is spent; the caller restarts this step with fresh credentials.
          throw new RegistryError(
            `registry ${this.registry}: ${req.what}: credentials expired during the request`,
            this.registry,
            401,
            [],
            true,
          );
        }
        attempt--; // re-authenticating is not a failure of the registry
        continue;
      }
      if (req.expect.includes(res.status)) return res;
      if ((res.status === 401 || res.status === 403) && !req.expect.includes(res.status)) {
        throw await this.auth.deniedError(req.what, res.status, res, scopes);
      }
      if (isRetryableStatus(res.status) && replayable && attempt < this.policy.retries) {
        const after = parseRetryAfter(res.headers.get("retry-after"));
        await res.body?.cancel().catch(() => undefined);
        await this.backoff(`${describeRequest(req.method, url)} (${req.what})`, attempt, `HTTP ${res.status}`, after);
        continue;
      }
      const err = await errorFromResponse(this.registry, req.what, req.method, url, res);
      if (isRetryableStatus(res.status) && replayable) {
        throw new RegistryError(
          `${err.message}; gave up after ${attempt + 1} attempts`,
          this.registry,
          res.status,
          err.codes,
          false,
        );
      }
      throw err;
    }
  }

  /** Unauthenticated fetch with the retry policy (token server requests). */
  async fetchWithRetry(url: URL, init: RequestInit, what: string): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await this.fetchOnce(url, {
          ...init,
          headers: { "user-agent": this.userAgent(), ...(init.headers as Record<string, string>) },
        });
      } catch (err) {
        if (this.opts.signal?.aborted) throw err;
        const unreachable = unreachableReason(err);
        if (unreachable !== undefined) {
          throw new RegistryError(
            `registry ${this.registry}: ${what} failed: ${unreachable}: ${networkErrorMessage(err)}`,
            this.registry,
            undefined,
            [],
            false,
            { cause: err },
          );
        }
        if (attempt < this.policy.retries) {
          await this.backoff(what, attempt, networkErrorMessage(err));
          continue;
        }
        throw new RegistryError(
          `registry ${this.registry}: ${what} failed: ${networkErrorMessage(err)}; gave up after ${attempt + 1} attempts`,
          this.registry,
          undefined,
          [],
          false,
          { cause: err },
        );
      }
      if (isRetryableStatus(res.status) && attempt < this.policy.retries) {
        const after = parseRetryAfter(res.headers.get("retry-after"));
        await res.body?.cancel().catch(() => undefined);
        await this.backoff(what, attempt, `HTTP ${res.status}`, after);
        continue;
      }
      return res;
    }
  }

  /** Wait before a retry, telling the caller why. */
  async backoff(what: string, attempt: number, reason: string, retryAfterMs?: number): Promise<void> {
    const delayMs = retryDelay(this.policy, attempt, retryAfterMs);
    this.opts.onRetry?.({ registry: this.registry, what, attempt: attempt + 1, delayMs, reason });
    await sleep(delayMs, this.opts.signal);
  }

  /**
   * One HTTP exchange. With `redirectBase`, 3xx answers are followed by hand so
   * that Authorization goes only to the registry's own origin (blob storage
   * behind a redirect gets a pre-signed URL and must not see our token).
   */
  private async fetchOnce(url: URL, init: RequestInit, redirectBase?: URL): Promise<Response> {
    const timeoutMs = this.opts.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS;
    // One controller per exchange: the caller's signal, or our own stall
    // watchdog, aborts the request and (once answered) its body.
    const controller = new AbortController();
    const outer = this.opts.signal;
    const onOuter = (): void => controller.abort(outer!.reason);
    if (outer?.aborted) controller.abort(outer.reason);
    else outer?.addEventListener("abort", onOuter, { once: true });
    const release = (): void => outer?.removeEventListener("abort", onOuter);
    const stalled = (phase: string): RegistryStallError =>
      new RegistryStallError(
        `registry ${this.registry}: no data for ${Math.round(timeoutMs / 100) / 10} s ${phase} (${describeRequest(String(init.method ?? "GET"), url)})`,
        this.registry,
        undefined,
        [],
        true,
      );
    // Until the answer's headers: the body we send must keep moving (the
    // registry keeps reading it), and once it is all sent the answer must
    // come, each within the timeout.
    let headerTimer: NodeJS.Timeout | undefined;
    const arm = (phase: string): void => {
      clearTimeout(headerTimer);
      headerTimer = setTimeout(() => controller.abort(stalled(phase)), timeoutMs);
      headerTimer.unref();
    };
    const hasBody = init.body !== undefined && init.body !== null;
    arm(hasBody ? "while sending" : "waiting for the answer");
    let current = url;
    let currentInit: RequestInit & { duplex?: "half" } = { ...init, redirect: "manual", signal: controller.signal };
    if (hasBody) {
      currentInit.body = watchUpload(
        init.body as Uint8Array | AsyncIterable<Uint8Array>,
        () => arm("while sending"),
        () => arm("waiting for the answer"),
      );
      currentInit.duplex = "half";
    }
    try {
      for (let hop = 0; ; hop++) {
        const res = await this.fetchFn(current, currentInit);
        if (!redirectBase || !REDIRECT_STATUSES.has(res.status))
          return watchBody(res, timeoutMs, () => controller.abort(stalled("in the middle of the answer")), release);
        const location = res.headers.get("location");
        if (!location || hop >= MAX_REDIRECTS)
          return watchBody(res, timeoutMs, () => controller.abort(stalled("in the middle of the answer")), release);
        await res.body?.cancel().catch(() => undefined);
        const next = new URL(location, current);
        const headers = { ...(currentInit.headers as Record<string, string>) };
        if (next.origin !== redirectBase.origin) delete headers.authorization;
        currentInit = { ...currentInit, headers };
        current = next;
      }
    } catch (err) {
      release();
      throw err;
    } finally {
      clearTimeout(headerTimer);
    }
  }

  private userAgent(): string {
    return this.opts.userAgent ?? `tantalus/${VERSION}`;
  }
}

/** The caller's client if it is for this registry, else a new one for the target's repository. */
export function clientFor(target: ImageReference, opts: RegistryOptions & { client?: RegistryClient }): RegistryClient {
  if (opts.client) {
    if (opts.client.registry !== target.registry) {
      throw new RegistryError(
        `the client given is for registry ${opts.client.registry}, not ${target.registry}`,
        target.registry,
      );
    }
    return opts.client;
  }
  return new RegistryClient(target.registry, { ...opts, repository: target.repository });
}

/**
 * The response with its body passed through an idle watchdog: when no chunk
 * arrives for `timeoutMs`, `onStall` aborts the exchange, and the reader gets
 * the stall error instead of waiting forever. `done` runs once the body has
 * ended, failed or been cancelled.
 */
function watchBody(res: Response, timeoutMs: number, onStall: () => void, done: () => void): Response {
  if (!res.body) {
    done();
    return res;
  }
  let idle: NodeJS.Timeout | undefined;
  const arm = (): void => {
    clearTimeout(idle);
    idle = setTimeout(onStall, timeoutMs);
    // A body nobody reads any more must not keep the process alive.
    idle.unref();
  };
  const finish = (): void => {
    clearTimeout(idle);
    done();
  };
  const watched = res.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      start: arm,
      transform(chunk, ctl) {
        arm();
        ctl.enqueue(chunk);
      },
      flush: finish,
    }),
  );
  return new Response(watched, { status: res.status, statusText: res.statusText, headers: res.headers });
}

/**
 * The request body as a stream that reports its progress: `onChunk` as each
 * piece is taken by the connection, `onEnd` once all is sent. Bytes in hand
 * are cut into pieces so a registry that stops reading is noticed.
 */
async function* watchUpload(
  body: Uint8Array | AsyncIterable<Uint8Array>,
  onChunk: () => void,
  onEnd: () => void,
): AsyncGenerator<Uint8Array> {
  const PIECE = 256 * 1024;
  if (body instanceof Uint8Array) {
    for (let off = 0; off < body.length; off += PIECE) {
      onChunk();
      yield body.subarray(off, off + PIECE);
    }
  } else {
    for await (const chunk of body) {
      onChunk();
      yield chunk;
    }
  }
  onEnd();
}
