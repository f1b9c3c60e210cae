/**
 * Registry authentication: anonymous, HTTP Basic, or bearer tokens from the
 * token server a `WWW-Authenticate: Bearer realm=…,service=…,scope=…`
 * challenge names (distribution `docs/spec/auth/token.md`, the OAuth2 variant
 * for identity tokens in `oauth.md`). Tokens are cached per set of scopes and
 * dropped when the registry answers 401, so an expired token is refreshed once.
 */
import type { AuthChallenge } from "./challenge.js";
import { parseWwwAuthenticate } from "./challenge.js";
import { Credential, credentialFiles, findCredential, type CredentialLookupOptions } from "./credentials.js";
import { RegistryAuthError, readErrorEntries, describeEntries } from "./errors.js";

/** Fetch used for token requests; the client supplies one with its retry policy. */
export type TokenFetch = (url: URL, init: RequestInit, what: string) => Promise<Response>;

export interface AuthenticatorOptions {
  /** Explicit credentials; null = anonymous even if files have some; undefined = look them up. */
  credential?: Credential | null;
  credentialLookup?: CredentialLookupOptions;
  /** Repository the credentials are for (podman allows per-namespace entries). */
  repository?: string;
}

interface CachedToken {
  token: string;
  /** ms since epoch after which we ask for a new one. */
  refreshAt: number;
}

/** OAuth2 client id sent with identity-token exchanges (distribution's oauth.md requires one). */
const CLIENT_ID = "tantalus";
/** Token lifetime the spec says to assume when the server gives none, and its minimum. */
const DEFAULT_TOKEN_SECONDS = 60;

export function repositoryScope(repository: string, actions: readonly string[]): string {
  return `repository:${repository}:${actions.join(",")}`;
}

export class Authenticator {
  /** undefined until the registry has been pinged; null = it asked for no authentication. */
  private challenge: AuthChallenge | null | undefined;
  private credentialPromise: Promise<Credential | undefined> | undefined;
  private readonly tokens = new Map<string, CachedToken>();
  private readonly inflight = new Map<string, Promise<CachedToken>>();
  /** Token requests made, for diagnostics and tests. */
  tokenRequests = 0;

  constructor(
    readonly registry: string,
    private readonly tokenFetch: TokenFetch,
    private readonly opts: AuthenticatorOptions = {},
  ) {}

  get known(): boolean {
    return this.challenge !== undefined;
  }

  get scheme(): string | undefined {
    return this.challenge === undefined ? undefined : (this.challenge?.scheme ?? "none");
  }

  /** Record what the registry's `GET /v2/` answered. */
  setFromPing(status: number, wwwAuthenticate: string | null): void {
    if (status === 401) this.challenge = pickChallenge(wwwAuthenticate) ?? null;
    else this.challenge = null;
  }

  credential(): Promise<Credential | undefined> {
    if (this.credentialPromise === undefined) {
      this.credentialPromise =
        this.opts.credential === null
          ? Promise.resolve(undefined)
          : this.opts.credential !== undefined
            ? Promise.resolve(this.opts.credential)
            : findCredential(this.registry, this.opts.repository, this.opts.credentialLookup);
    }
    return this.credentialPromise;
  }

  /** The Authorization header for a request needing `scopes`, or undefined when anonymous. */
  async authorization(scopes: readonly string[]): Promise<string | undefined> {
    const ch = this.challenge;
    if (!ch) return undefined;
    const cred = await this.credential();
    if (ch.scheme === "basic") {
      if (!cred || cred.kind !== "basic") return undefined;
      return `Basic ${Buffer.from(`${cred.username ?? ""}:${cred.secret}`).toString("base64")}`;
    }
    if (ch.scheme === "bearer") {
      if (cred?.kind === "registry-token") return `Bearer ${cred.secret}`;
      return `Bearer ${(await this.token(scopes)).token}`;
    }
    return undefined;
  }

  /**
   * A request came back 401. Learn from its challenge and return the scopes to
   * retry with, or throw when retrying cannot help (no or wrong credentials).
   */
  async onUnauthorized(res: Response, scopes: readonly string[], sentAuthorization: boolean): Promise<string[]> {
    const ch = pickChallenge(res.headers.get("www-authenticate"));
    if (!ch) {
      const entries = await readErrorEntries(res);
      throw new RegistryAuthError(
        `registry ${this.registry}: HTTP 401 without a WWW-Authenticate challenge${entries.length ? `: ${describeEntries(entries)}` : ""}`,
        this.registry,
        401,
        entries,
      );
    }
    await res.body?.cancel().catch(() => undefined);
    const previous = this.challenge;
    this.challenge = ch;
    if (ch.scheme === "basic") {
      const cred = await this.credential();
      if (!cred) throw this.noCredentialsError();
      if (cred.kind !== "basic") {
        throw new RegistryAuthError(
          `registry ${this.registry} wants a username and password, but the ${cred.describe()} is a token`,
          this.registry,
          401,
        );
      }
      if (sentAuthorization && previous?.scheme === "basic") {
        throw new RegistryAuthError(
          `registry ${this.registry}: authentication failed with ${cred.describe()}: wrong username or password`,
          this.registry,
          401,
        );
      }
      return [...scopes];
    }
    if (ch.scheme === "bearer") {
      const extra = (ch.params.scope ?? "").split(" ").filter((s) => s !== "");
      const merged = mergeScopes([...scopes, ...extra]);
      this.tokens.delete(scopeKey(scopes));
      this.tokens.delete(scopeKey(merged));
      return merged;
    }
    throw new RegistryAuthError(
      `registry ${this.registry} asks for unsupported authentication scheme "${ch.scheme}"`,
      this.registry,
      401,
    );
  }

  /** The error for a request that is still 401/403 after authenticating as well as we could. */
  async deniedError(
    what: string,
    status: number,
    res: Response,
    scopes: readonly string[],
  ): Promise<RegistryAuthError> {
    const entries = await readErrorEntries(res);
    const cred = await this.credential();
    const who = cred ? `with ${cred.describe()}` : "anonymously (no credentials found)";
    const ch = pickChallenge(res.headers.get("www-authenticate"));
    const hint =
      ch?.params.error === "insufficient_scope" || status === 403
        ? `; the account is not allowed ${scopes.join(" ")}`
        : "";
    return new RegistryAuthError(
      `registry ${this.registry}: ${what} denied ${who} (HTTP ${status}${entries.length ? `: ${describeEntries(entries)}` : ""})${hint}`,
      this.registry,
      status,
      entries,
    );
  }

  private noCredentialsError(): RegistryAuthError {
    const files = credentialFiles(this.opts.credentialLookup);
    return new RegistryAuthError(
      `registry ${this.registry} requires authentication and no credentials were found (looked in ${files.join(", ")}); ` +
        "log in with `podman login`/`docker login` or give credentials explicitly",
      this.registry,
      401,
    );
  }

  private async token(scopes: readonly string[]): Promise<CachedToken> {
    const key = scopeKey(scopes);
    const cached = this.tokens.get(key);
    if (cached && cached.refreshAt > Date.now()) return cached;
    // Parallel blob uploads share one token request.
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = this.requestToken(mergeScopes(scopes)).finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    const tok = await pending;
    this.tokens.set(key, tok);
    return tok;
  }

  private async requestToken(scopes: string[]): Promise<CachedToken> {
    const ch = this.challenge;
    const realm = ch?.params.realm;
    if (!ch || !realm)
      throw new RegistryAuthError(`registry ${this.registry}: bearer challenge without a realm`, this.registry, 401);
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new RegistryAuthError(
        `registry ${this.registry}: token realm ${JSON.stringify(realm)} is not a URL`,
        this.registry,
        401,
      );
    }
    const service = ch.params.service;
    const cred = await this.credential();
    this.tokenRequests++;
    let res: Response;
    const what = `token request to ${url.origin}${url.pathname}`;
    if (cred?.kind === "identity-token") {
      const form = new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: cred.secret,
        client_id: CLIENT_ID,
      });
      if (service) form.set("service", service);
      if (scopes.length) form.set("scope", scopes.join(" "));
      res = await this.tokenFetch(
        url,
        { method: "POST", body: form.toString(), headers: { "content-type": "application/x-www-form-urlencoded" } },
        what,
      );
    } else {
      if (service) url.searchParams.set("service", service);
      for (const s of scopes) url.searchParams.append("scope", s);
      const headers: Record<string, string> = {};
      if (cred?.kind === "basic")
        headers.authorization = `Basic ${Buffer.from(`${cred.username ?? ""}:${cred.secret}`).toString("base64")}`;
      res = await this.tokenFetch(url, { method: "GET", headers }, what);
    }
    if (res.status !== 200) {
      const entries = await readErrorEntries(res);
      const who = cred ? cred.describe() : "an anonymous request (no credentials found)";
      throw new RegistryAuthError(
        `registry ${this.registry}: the token server ${url.origin}${url.pathname} rejected ${who} (HTTP ${res.status}${entries.length ? `: ${describeEntries(entries)}` : ""})`,
        this.registry,
        res.status,
        entries,
      );
    }
    let body: { token?: unknown; access_token?: unknown; expires_in?: unknown; issued_at?: unknown };
    try {
      body = (await res.json()) as typeof body;
    } catch {
      throw new RegistryAuthError(
        `registry ${this.registry}: the token server ${url.origin}${url.pathname} did not answer with JSON`,
        this.registry,
        200,
      );
    }
    const token = typeof body.token === "string" && body.token !== "" ? body.token : body.access_token;
    if (typeof token !== "string" || token === "") {
      throw new RegistryAuthError(
        `registry ${this.registry}: the token server ${url.origin}${url.pathname} returned no token`,
        this.registry,
        200,
      );
    }
    const seconds =
      typeof body.expires_in === "number" && body.expires_in >= DEFAULT_TOKEN_SECONDS
        ? body.expires_in
        : DEFAULT_TOKEN_SECONDS;
    const issued =
      typeof body.issued_at === "string" && !Number.isNaN(Date.parse(body.issued_at))
        ? Math.min(Date.parse(body.issued_at), Date.now())
        : Date.now();
    // Ask again a little before expiry so a long upload does not start with a token about to lapse.
    return { token, refreshAt: issued + seconds * 1000 - Math.min(30_000, seconds * 100) };
  }
}

function pickChallenge(header: string | null): AuthChallenge | undefined {
  if (!header) return undefined;
  const all = parseWwwAuthenticate(header);
  return all.find((c) => c.scheme === "bearer") ?? all.find((c) => c.scheme === "basic") ?? all[0];
}

function scopeKey(scopes: readonly string[]): string {
  return mergeScopes(scopes).join(" ");
}

/** Union of scopes, actions of the same resource combined: repository:x:pull + repository:x:push → repository:x:pull,push. */
export function mergeScopes(scopes: readonly string[]): string[] {
  const byResource = new Map<string, Set<string>>();
  for (const s of scopes) {
    const last = s.lastIndexOf(":");
    if (last === -1) {
      byResource.set(s, byResource.get(s) ?? new Set());
      continue;
    }
    const resource = s.slice(0, last);
    const set = byResource.get(resource) ?? new Set<string>();
    for (const a of s.slice(last + 1).split(",")) if (a) set.add(a);
    byResource.set(resource, set);
  }
  return [...byResource.entries()]
    .map(([resource, actions]) => (actions.size ? `${resource}:${[...actions].sort().join(",")}` : resource))
    .sort();
}
