/**
 * Tags of images built for a resolve that is not the workflow's configured
 * one (a developer's `--dev` packages, `--paths`, `--time`, an ad-hoc
 * `--request`). Such an image must never become what artists run: it is
 * tagged `WORKFLOW:dev-<user>-<hash>` (or `request:<hash>` for an unnamed
 * request), never `WORKFLOW` or `WORKFLOW:<digest>`, carries the
 * `io.tantalus.dev` annotation (who built it), so `run` never picks it as the
 * workflow's newest image, and `tantalus gc` untags it after the retention
 * (`dev.retention`, default 7 days).
 *
 * Node built-ins only: `run` loads it on every launch.
 */
import { createHash } from "node:crypto";

/** Index annotation of a dev tag: the user it was built for. */
export const DEV_ANNOTATION = "io.tantalus.dev";

/** The repository of ad-hoc request images (`run --request`). */
export const REQUEST_REPOSITORY = "request";

/**
 * An ad-hoc request's names: its unnamed workflow `request-<hash>` (what the build resolves and stamps)
 * and its tag `request:<hash>`.
 */
export function requestNames(hash: string): { workflow: string; tag: string } {
  return { workflow: `${REQUEST_REPOSITORY}-${hash}`, tag: `${REQUEST_REPOSITORY}:${hash}` };
}

/** The unnamed workflow of a `request:<hash>` tag, else undefined. */
export function requestWorkflowOfTag(tag: string): string | undefined {
  const m = new RegExp(`^${REQUEST_REPOSITORY}:([0-9a-f]+)$`).exec(tag);
  return m ? requestNames(m[1]!).workflow : undefined;
}

/** Default time a dev tag survives `tantalus gc` (dev.retention in the configuration, 7d). */
export const DEFAULT_DEV_RETENTION_MS = 7 * 86_400_000;

/** A user name as a tag component: [A-Za-z0-9_.-], at most 32 characters. */
export function tagSafeUser(user: string): string {
  const safe = user.replace(/[^A-Za-z0-9_.-]/g, "_").slice(0, 32);
  return safe === "" ? "user" : safe;
}

/** 12 hex characters of sha256 over `parts` (JSON), the hash of a dev or request tag. */
export function shortHash(parts: unknown): string {
  return createHash("sha256").update(JSON.stringify(parts)).digest("hex").slice(0, 12);
}

/** `WORKFLOW:dev-<user>-<hash>`. */
export function devTag(workflow: string, user: string, hash: string): string {
  return `${workflow}:dev-${tagSafeUser(user)}-${hash}`;
}

/** Is this index entry a dev (or ad-hoc request) tag? */
export function isDevEntry(annotations: Record<string, string> | undefined): boolean {
  return annotations?.[DEV_ANNOTATION] !== undefined;
}
