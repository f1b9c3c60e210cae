/**
 * Image references ("rockylinux:9", "registry.studio:5000/vfx/base:2024",
 * "ghcr.io/org/img:tag@sha256:…") parsed with the grammar and normalisation
 * rules of docker/distribution's `reference` package (ParseNormalizedNamed),
 * so that a name means the same image to us as to docker, podman and skopeo.
 */
import { TantalusError } from "../../errors.js";

/** A normalised reference. `registry` is how the user names it; `endpointHost` is where to connect. */
export interface ImageReference {
  /** "docker.io", "ghcr.io", "registry.studio:5000", "localhost:5000". */
  readonly registry: string;
  /** Repository path inside the registry: "library/rockylinux", "vfx/base". */
  readonly repository: string;
  readonly tag?: string;
  /** "<algorithm>:<hex>", validated as go-digest does (sha256, sha384, sha512). */
  readonly digest?: string;
}

export class InvalidReferenceError extends TantalusError {
  constructor(
    readonly reference: string,
    reason: string,
  ) {
    super(`invalid image reference ${JSON.stringify(reference)}: ${reason}`);
  }
}

export const DOCKER_HUB = "docker.io";
const DOCKER_HUB_LEGACY = "index.docker.io";
/** The host Docker Hub's registry API is actually served from. */
const DOCKER_HUB_ENDPOINT = "registry-1.docker.io";
const NAME_TOTAL_LENGTH_MAX = 255;

// The grammar of distribution's reference/regexp.go (v2.8), spelled out piece by piece.
const alphaNumeric = "[a-z0-9]+";
const separator = "(?:[._]|__|[-]*)";
const pathComponent = `${alphaNumeric}(?:${separator}${alphaNumeric})*`;
const domainComponent = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const domain = `${domainComponent}(?:\\.${domainComponent})*(?::[0-9]+)?`;
const tag = "[\\w][\\w.-]{0,127}";
const digest = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";
const name = `(?:${domain}/)?${pathComponent}(?:/${pathComponent})*`;

const REFERENCE_RE = new RegExp(`^(${name})(?::(${tag}))?(?:@(${digest}))?$`);
const ANCHORED_NAME_RE = new RegExp(`^(?:(${domain})/)?(${pathComponent}(?:/${pathComponent})*)$`);
const PATH_COMPONENT_RE = new RegExp(`^${pathComponent}$`);
const DOMAIN_RE = new RegExp(`^${domain}$`);
const TAG_RE = new RegExp(`^${tag}$`);
const IDENTIFIER_RE = /^[a-f0-9]{64}$/;

/** Hex lengths of the algorithms go-digest knows; any other algorithm is "unsupported". */
const DIGEST_HEX_LENGTH: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

/**
 * Parse a reference the way `docker pull NAME` does: a first path component
 * is a registry only if it contains "." or ":" or is "localhost"; otherwise the
 * registry is docker.io, where one-component names live under "library/".
 */
export function parseReference(input: string): ImageReference {
  if (input === "")
    throw new InvalidReferenceError(input, "it is empty; expected [registry/]repository[:tag][@digest]");
  if (IDENTIFIER_RE.test(input)) {
    throw new InvalidReferenceError(
      input,
      "a bare 64-hex-digit string is an image ID, not a repository name; write sha256:… after an '@'",
    );
  }
  const slash = input.indexOf("/");
  let registry: string;
  let remainder: string;
  const first = slash === -1 ? "" : input.slice(0, slash);
  if (slash === -1 || (!/[.:]/.test(first) && first !== "localhost")) {
    registry = DOCKER_HUB;
    remainder = input;
  } else {
    registry = first;
    remainder = input.slice(slash + 1);
  }
  if (registry === DOCKER_HUB_LEGACY) registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && !remainder.includes("/")) remainder = `library/${remainder}`;

  const colon = remainder.indexOf(":");
  const remoteName = colon === -1 ? remainder : remainder.slice(0, colon);
  if (remoteName.toLowerCase() !== remoteName) {
    throw new InvalidReferenceError(input, "repository names must be lowercase");
  }

  const full = `${registry}/${remainder}`;
  const m = REFERENCE_RE.exec(full);
  if (!m) throw new InvalidReferenceError(input, explainMismatch(registry, remainder));
  const [, fullName, tagPart, digestPart] = m as unknown as [string, string, string | undefined, string | undefined];
  if (fullName.length > NAME_TOTAL_LENGTH_MAX) {
    throw new InvalidReferenceError(
      input,
      `the repository name is ${fullName.length} characters long; at most ${NAME_TOTAL_LENGTH_MAX} are allowed`,
    );
  }
  // The grammar could also read an invalid host ("re_g.io") as a path component: insist on the split we made.
  const nm = ANCHORED_NAME_RE.exec(fullName);
  if (!nm || nm[1] !== registry)
    throw new InvalidReferenceError(input, `"${registry}" is not a valid registry host[:port]`);
  const repository = nm[2]!;
  if (digestPart !== undefined) validateDigest(input, digestPart);
  return {
    registry,
    repository,
    ...(tagPart !== undefined ? { tag: tagPart } : {}),
    ...(digestPart !== undefined ? { digest: digestPart } : {}),
  };
}

/** go-digest's Validate: known algorithm, right length, lowercase hex. */
function validateDigest(input: string, d: string): void {
  const [alg, hex] = d.split(":", 2) as [string, string];
  const want = DIGEST_HEX_LENGTH[alg];
  if (want === undefined) {
    throw new InvalidReferenceError(input, `unsupported digest algorithm "${alg}" (expected sha256, sha384 or sha512)`);
  }
  if (hex.length !== want)
    throw new InvalidReferenceError(input, `a ${alg} digest has ${want} hex digits, this one has ${hex.length}`);
  if (!/^[a-f0-9]+$/.test(hex)) throw new InvalidReferenceError(input, "digest hex digits must be lowercase");
}

/** Say which part of a reference the grammar rejected, instead of distribution's bare "invalid reference format". */
function explainMismatch(registry: string, remainder: string): string {
  if (!DOMAIN_RE.test(registry)) return `"${registry}" is not a valid registry host[:port]`;
  const at = remainder.indexOf("@");
  const beforeDigest = at === -1 ? remainder : remainder.slice(0, at);
  const digestPart = at === -1 ? undefined : remainder.slice(at + 1);
  const colon = beforeDigest.lastIndexOf(":");
  const hasTag = colon !== -1 && !beforeDigest.slice(colon + 1).includes("/");
  const path = hasTag ? beforeDigest.slice(0, colon) : beforeDigest;
  const tagPart = hasTag ? beforeDigest.slice(colon + 1) : undefined;
  for (const component of path.split("/")) {
    if (!PATH_COMPONENT_RE.test(component)) {
      return component === ""
        ? "the repository path has an empty component"
        : `repository path component "${component}" must be lowercase letters and digits, separated by ".", "_", "__" or "-"`;
    }
  }
  if (tagPart !== undefined && !TAG_RE.test(tagPart)) {
    return `tag "${tagPart}" must start with a letter, digit or "_" and contain only [A-Za-z0-9_.-], at most 128 characters`;
  }
  if (digestPart !== undefined && !new RegExp(`^${digest}$`).test(digestPart)) {
    return `"${digestPart}" is not a digest (expected algorithm:hex, e.g. sha256:<64 hex digits>)`;
  }
  return "expected [registry[:port]/]repository[:tag][@digest]";
}

/** The host[:port] to open connections to; Docker Hub's API lives on registry-1.docker.io. */
export function endpointHost(registry: string): string {
  return registry === DOCKER_HUB ? DOCKER_HUB_ENDPOINT : registry;
}

/** Fully qualified form: "docker.io/library/rockylinux:9". */
export function formatReference(ref: ImageReference): string {
  let s = `${ref.registry}/${ref.repository}`;
  if (ref.tag !== undefined) s += `:${ref.tag}`;
  if (ref.digest !== undefined) s += `@${ref.digest}`;
  return s;
}

/** The short form docker prints: "rockylinux:9", "myorg/tool:1", "ghcr.io/org/img:tag". */
export function familiarReference(ref: ImageReference): string {
  let namePart = `${ref.registry}/${ref.repository}`;
  if (ref.registry === DOCKER_HUB) {
    namePart =
      ref.repository.startsWith("library/") && ref.repository.split("/").length === 2
        ? ref.repository.slice("library/".length)
        : ref.repository;
  }
  let s = namePart;
  if (ref.tag !== undefined) s += `:${ref.tag}`;
  if (ref.digest !== undefined) s += `@${ref.digest}`;
  return s;
}

/**
 * What to put after /manifests/ when reading: the digest wins over the tag,
 * as in docker (a digest pins the content); no tag and no digest means "latest".
 */
export function manifestReference(ref: ImageReference): string {
  return ref.digest ?? ref.tag ?? "latest";
}

/** Another repository on the same registry (e.g. a cross-repository mount source), validated. */
export function parseRepositoryName(registry: string, repository: string): string {
  const parsed = parseReference(`${registry}/${repository}`);
  if (parsed.registry !== registry || parsed.tag !== undefined || parsed.digest !== undefined) {
    throw new InvalidReferenceError(repository, `expected a repository path on ${registry}, without tag or digest`);
  }
  return parsed.repository;
}
