/**
 * Registry credentials from the files docker, podman and skopeo already use,
 * so an artist who ran `docker login` or `podman login` needs nothing else.
 *
 * Search order is containers/image's (what skopeo and podman do):
 *   1. $REGISTRY_AUTH_FILE — if set, the only file consulted;
 *   2. ${XDG_RUNTIME_DIR}/containers/auth.json (root without XDG_RUNTIME_DIR: /run/containers/0/auth.json);
 *   3. ${XDG_CONFIG_HOME:-~/.config}/containers/auth.json;
 *   4. $DOCKER_CONFIG/config.json, else ~/.docker/config.json.
 * The first file with an entry for the registry wins. Inside a file:
 * `credHelpers[host]`, then `auths` (most specific "host/namespace/repo" key
 * first, then legacy keys like "https://index.docker.io/v1/"), then `credsStore`.
 *
 * Secrets stay inside `Credential`: it prints and serialises without them.
 */
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { TantalusError } from "../../errors.js";
import { DOCKER_HUB } from "./reference.js";

export type CredentialKind =
  /** username + password, sent as HTTP Basic or to a token server. */
  | "basic"
  /** OAuth2 refresh token (`identitytoken`), exchanged at the token server. */
  | "identity-token"
  /** A bearer token used as is (`registrytoken`). */
  | "registry-token";

export class Credential {
  readonly #secret: string;

  constructor(
    readonly kind: CredentialKind,
    readonly username: string | undefined,
    secret: string,
    /** Where it came from, for error messages: a file path or "docker-credential-<helper>". */
    readonly source: string,
  ) {
    this.#secret = secret;
  }

  /** The password, identity token or registry token. */
  get secret(): string {
    return this.#secret;
  }

  static basic(username: string, password: string, source = "explicit credentials"): Credential {
    return new Credential("basic", username, password, source);
  }

  describe(): string {
    const who = this.username ? ` for user "${this.username}"` : "";
    return `${this.kind} credentials${who} from ${this.source}`;
  }

  toJSON(): object {
    return { kind: this.kind, username: this.username, source: this.source };
  }

  [inspect.custom](): string {
    return `Credential { ${this.describe()} }`;
  }
}

export interface CredentialLookupOptions {
  /** Environment to read DOCKER_CONFIG, REGISTRY_AUTH_FILE, XDG_* and PATH from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Home directory (default os.homedir()). */
  homeDir?: string;
}

/** Files consulted, in order, for the given environment. */
export function credentialFiles(opts: CredentialLookupOptions = {}): string[] {
  const env = opts.env ?? process.env;
  const home = opts.homeDir ?? homedir();
  if (env.REGISTRY_AUTH_FILE) return [env.REGISTRY_AUTH_FILE];
  const files: string[] = [];
  const uid = typeof process.getuid === "function" ? process.getuid() : undefined;
  if (env.XDG_RUNTIME_DIR) files.push(join(env.XDG_RUNTIME_DIR, "containers", "auth.json"));
  else if (uid === 0) files.push("/run/containers/0/auth.json");
  files.push(join(env.XDG_CONFIG_HOME || join(home, ".config"), "containers", "auth.json"));
  files.push(env.DOCKER_CONFIG ? join(env.DOCKER_CONFIG, "config.json") : join(home, ".docker", "config.json"));
  return files;
}

interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
  registrytoken?: string;
}

interface AuthFile {
  auths?: Record<string, AuthEntry>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

/**
 * Credentials for `registry` (as in an ImageReference: "docker.io",
 * "registry.studio:5000"), optionally narrowed by repository for podman's
 * per-namespace entries. Undefined when no file has any.
 */
export async function findCredential(
  registry: string,
  repository?: string,
  opts: CredentialLookupOptions = {},
): Promise<Credential | undefined> {
  for (const file of credentialFiles(opts)) {
    const parsed = await readAuthFile(file);
    if (parsed === undefined) continue;
    const found = await credentialFromFile(parsed, file, registry, repository, opts);
    if (found) return found;
  }
  return undefined;
}

async function readAuthFile(file: string): Promise<AuthFile | undefined> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT" || (err as NodeJS.ErrnoException).code === "ENOTDIR")
      return undefined;
    throw new TantalusError(`cannot read registry credentials file ${file}: ${(err as Error).message}`);
  }
  if (text.trim() === "") return undefined;
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    // JSON.parse's message quotes file content, which may be a secret: report only the position.
    const pos = /position (\d+)/.exec((err as Error).message)?.[1];
    throw new TantalusError(`${file}: not valid JSON${pos ? ` (at character ${pos})` : ""}; expected {"auths": {...}}`);
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new TantalusError(`${file}: expected a JSON object with "auths", "credHelpers" or "credsStore"`);
  }
  return data;
}

/** Registry host as a config key names it: scheme and path dropped, Docker Hub's aliases folded. */
export function normalizeRegistryKey(key: string): string {
  let host = key.replace(/^https?:\/\//, "");
  const hadScheme = host !== key;
  if (hadScheme) host = host.split("/")[0]!;
  if (host === "index.docker.io" || host === "registry-1.docker.io") host = DOCKER_HUB;
  if (hadScheme) return host;
  const slash = host.indexOf("/");
  const h = slash === -1 ? host : host.slice(0, slash);
  if (h === "index.docker.io" || h === "registry-1.docker.io")
    return DOCKER_HUB + (slash === -1 ? "" : host.slice(slash));
  return host;
}

async function credentialFromFile(
  file: AuthFile,
  path: string,
  registry: string,
  repository: string | undefined,
  opts: CredentialLookupOptions,
): Promise<Credential | undefined> {
  const helpers = file.credHelpers ?? {};
  for (const [key, helper] of Object.entries(helpers)) {
    if (normalizeRegistryKey(key) === registry && typeof helper === "string") {
      return runCredentialHelper(helper, registry, opts);
    }
  }

  const auths = file.auths ?? {};
  // podman allows "host/namespace/repo" keys; the longest matching prefix wins.
  const wanted = repository ? `${registry}/${repository}` : registry;
  let best: { key: string; entry: AuthEntry; length: number } | undefined;
  for (const [key, entry] of Object.entries(auths)) {
    const norm = normalizeRegistryKey(key);
    if (norm !== wanted && !wanted.startsWith(`${norm}/`)) continue;
    if (norm !== registry && !norm.startsWith(`${registry}/`)) continue;
    if (!best || norm.length > best.length) best = { key, entry, length: norm.length };
  }
  if (best) {
    const cred = decodeAuthEntry(best.entry, path, best.key);
    if (cred) return cred;
  }

  if (typeof file.credsStore === "string" && file.credsStore !== "") {
    return runCredentialHelper(file.credsStore, registry, opts);
  }
  return undefined;
}

function decodeAuthEntry(entry: AuthEntry, path: string, key: string): Credential | undefined {
  if (typeof entry !== "object" || entry === null) {
    throw new TantalusError(`${path}: auths["${key}"] must be an object`);
  }
  let username = entry.username;
  let password = entry.password;
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon === -1) throw new TantalusError(`${path}: auths["${key}"].auth must be base64 of "username:password"`);
    username = decoded.slice(0, colon);
    password = decoded.slice(colon + 1);
  }
  if (entry.identitytoken) return new Credential("identity-token", username, entry.identitytoken, path);
  if (entry.registrytoken) return new Credential("registry-token", username, entry.registrytoken, path);
  if (username !== undefined && password !== undefined && (username !== "" || password !== "")) {
    return new Credential("basic", username, password, path);
  }
  // docker writes empty entries ({}) next to a credsStore: not credentials by themselves
  return undefined;
}

/** The server URL docker stores Hub credentials under in helpers and config files. */
function helperServerUrl(registry: string): string {
  return registry === DOCKER_HUB ? "https://index.docker.io/v1/" : registry;
}

/**
 * `docker-credential-<helper> get` reads the server URL on stdin and prints
 * {"ServerURL","Username","Secret"}; a Username of "<token>" marks an identity token.
 */
export async function runCredentialHelper(
  helper: string,
  registry: string,
  opts: CredentialLookupOptions = {},
): Promise<Credential | undefined> {
  const program = `docker-credential-${helper}`;
  const { code, stdout, stderr } = await runWithInput(
    program,
    ["get"],
    helperServerUrl(registry),
    opts.env ?? process.env,
  );
  if (code !== 0) {
    if (/credentials not found/i.test(stdout + stderr)) return undefined;
    const why = code === undefined ? stderr : ((stderr.trim() || stdout.trim()).split("\n")[0]?.slice(0, 200) ?? "");
    throw new TantalusError(
      `credential helper ${program} failed for ${registry}${code === undefined ? "" : ` (exit ${code})`}: ${why}`,
    );
  }
  let data: { Username?: unknown; Secret?: unknown };
  try {
    data = JSON.parse(stdout) as typeof data;
  } catch {
    throw new TantalusError(`credential helper ${program} printed something that is not JSON for ${registry}`);
  }
  if (typeof data.Secret !== "string" || data.Secret === "") return undefined;
  const username = typeof data.Username === "string" ? data.Username : undefined;
  if (username === "<token>") return new Credential("identity-token", undefined, data.Secret, program);
  return new Credential("basic", username ?? "", data.Secret, program);
}

function runWithInput(
  program: string,
  args: string[],
  input: string,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | undefined; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(program, args, { env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", (err) => {
      const missing = (err as NodeJS.ErrnoException).code === "ENOENT";
      resolve({ code: undefined, stdout: "", stderr: missing ? `${program} is not on PATH` : err.message });
    });
    child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.on("error", () => undefined); // helper exited before reading: its exit status tells why
    child.stdin.end(input);
  });
}
