/**
 * Errors a registry conversation can end in. Messages name the registry, the
 * operation and the registry's own error codes (distribution-spec "Error
 * Codes"), never a URL query (upload state) or a credential.
 */
import { TantalusError } from "../../errors.js";

/** One entry of the distribution-spec error body `{"errors":[{code,message,detail}]}`. */
export interface RegistryErrorEntry {
  code: string;
  message?: string;
  detail?: unknown;
}

export class RegistryError extends TantalusError {
  constructor(
    message: string,
    readonly registry: string,
    readonly status?: number,
    readonly codes: readonly RegistryErrorEntry[] = [],
    /**
     * Worth trying again at a higher level (re-opening the blob, resuming the
     * upload): a 5xx/408/429 or dropped connection that was not already retried.
     */
    readonly retryable = false,
    options?: { cause?: unknown },
  ) {
    super(message);
    if (options?.cause !== undefined) (this as { cause?: unknown }).cause = options.cause;
  }

  hasCode(code: string): boolean {
    return this.codes.some((c) => c.code === code);
  }
}

/** Credentials missing, wrong, or not allowed to do this. */
export class RegistryAuthError extends RegistryError {}

/** HTTP statuses after which the same request may succeed. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status === 500 || status === 502 || status === 503 || status === 504;
}

/** Read the error body of a failed response (bounded: registries and proxies sometimes answer with HTML). */
export async function readErrorEntries(res: Response): Promise<RegistryErrorEntry[]> {
  let text: string;
  try {
    text = await res.text();
  } catch {
    return [];
  }
  if (text.length > 64 * 1024) text = text.slice(0, 64 * 1024);
  try {
    const body = JSON.parse(text) as { errors?: unknown };
    if (Array.isArray(body.errors)) {
      return body.errors
        .filter(
          (e): e is Record<string, unknown> =>
            typeof e === "object" && e !== null && typeof (e as { code?: unknown }).code === "string",
        )
        .map((e) => ({
          code: e.code as string,
          message: typeof e.message === "string" ? e.message : undefined,
          detail: e.detail,
        }));
    }
  } catch {
    // not JSON: fall through to a one-line summary
  }
  const line = text.trim().split("\n")[0]?.slice(0, 200);
  return line ? [{ code: "HTTP", message: line }] : [];
}

export function describeEntries(entries: readonly RegistryErrorEntry[]): string {
  return entries
    .map((e) => (e.code === "HTTP" ? (e.message ?? "") : e.message ? `${e.code}: ${e.message}` : e.code))
    .join("; ");
}

/** "PUT /v2/vfx/base/manifests/2024" without query strings (upload URLs carry opaque state). */
export function describeRequest(method: string, url: URL): string {
  return `${method} ${url.pathname}`;
}

/** Build the error for an unexpected response, consuming its body. */
export async function errorFromResponse(
  registry: string,
  what: string,
  method: string,
  url: URL,
  res: Response,
): Promise<RegistryError> {
  const entries = await readErrorEntries(res);
  const detail = entries.length > 0 ? `: ${describeEntries(entries)}` : "";
  const msg = `registry ${registry}: ${what} failed (${describeRequest(method, url)} → HTTP ${res.status}${detail})`;
  if (res.status === 401 || res.status === 403) return new RegistryAuthError(msg, registry, res.status, entries, false);
  return new RegistryError(msg, registry, res.status, entries, isRetryableStatus(res.status));
}

/** fetch() rejects with TypeError("fetch failed") and the socket error as `cause`; surface the cause. */
export function networkErrorMessage(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: unknown }).cause;
  const inner = cause instanceof Error ? cause : err;
  const code = (inner as { code?: string }).code;
  let text = inner.message.split("\n")[0] ?? "";
  // OpenSSL's "805C…:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../deps/…" → the reason
  const ssl = /SSL routines:[^:]*:([^:]+)/.exec(text);
  if (ssl)
    text =
      ssl[1] === "wrong version number"
        ? "TLS handshake failed (the server does not speak HTTPS)"
        : `TLS error: ${ssl[1]}`;
  return code && !text.includes(code) ? `${text} (${code})` : text;
}

/**
 * Why nobody can answer at that address, when no retry can change it: the
 * port refuses connections, or the name does not resolve. Retrying these for
 * seconds only hides the one fact the user needs (a typo, a stopped registry).
 */
export function unreachableReason(err: unknown): string | undefined {
  if (!(err instanceof Error)) return undefined;
  const cause = (err as { cause?: unknown }).cause;
  const code = ((cause instanceof Error ? cause : err) as { code?: string }).code;
  switch (code) {
    case "ECONNREFUSED":
      return "nothing listens there (connection refused)";
    case "ENOTFOUND":
    case "EAI_NONAME":
      return "the host name does not resolve";
    default:
      return undefined;
  }
}
