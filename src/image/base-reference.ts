/**
 * How a base image may be named (base.image, `audit --base`), in the
 * spellings users bring from podman, skopeo and docker. Each is one of four
 * kinds; a spelling Tantalus does not read is refused with the list of those
 * it does, and for the daemon spellings, the command that turns the image
 * into one it reads. Light: the configuration schema validates with it.
 */
import { isAbsolute, resolve } from "node:path";
import { UsageError } from "../errors.js";
import { parseReference } from "./remote/reference.js";

export type BaseReference =
  /** The host's own shell and libraries (the sample studio's base). */
  | { kind: "demo" }
  /** oci:DIR[:REF], oci-archive:FILE[:REF], docker-archive:FILE[:NAME:TAG], rootfs:FILE|DIR. */
  | { kind: "local"; reference: string }
  /** An image in podman's (containers/storage) own store, copied out with skopeo. */
  | { kind: "containers-storage"; name: string }
  /** A registry reference; docker://REF is skopeo's spelling of the same. */
  | { kind: "registry"; reference: string };

/** Every spelling a base may have, for messages and the documentation. */
export const BASE_SPELLINGS: readonly string[] = [
  "demo",
  "REGISTRY/REPO[:TAG][@DIGEST] (or docker://REGISTRY/REPO[:TAG])",
  "containers-storage:NAME (an image podman has, copied with skopeo)",
  "oci:DIR[:REF]",
  "oci-archive:FILE[:REF]",
  "docker-archive:FILE[:NAME:TAG]",
  "rootfs:FILE (a root file system tarball) or rootfs:DIR",
];

const LOCAL = /^(oci|oci-archive|docker-archive|rootfs):./;

/** Transports of containers/image Tantalus does not read, and what to do instead. */
const OTHER_TRANSPORTS: Record<string, string> = {
  "docker-daemon": "docker save NAME -o FILE.tar, then docker-archive:FILE.tar",
  podman: "use containers-storage:NAME",
  dir: "skopeo copy dir:DIR oci:LAYOUT, then oci:LAYOUT",
  ostree: "skopeo copy ostree:REF oci:LAYOUT, then oci:LAYOUT",
  sif: "export the SIF's root file system as a tarball, then rootfs:FILE",
  tarball: "rootfs:FILE",
};

/** The kind of base `spec` names; a UsageError listing the spellings that exist otherwise. */
export function parseBaseReference(spec: string): BaseReference {
  if (spec === "demo") return { kind: "demo" };
  if (LOCAL.test(spec)) return { kind: "local", reference: spec };
  if (spec.startsWith("containers-storage:")) {
    const name = spec.slice("containers-storage:".length);
    if (name === "") throw refusal(spec, "containers-storage: needs an image name, as podman lists it (podman images)");
    return { kind: "containers-storage", name };
  }
  if (spec.startsWith("docker://")) {
    const reference = spec.slice("docker://".length);
    checkRegistry(spec, reference);
    return { kind: "registry", reference };
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//.exec(spec);
  if (scheme) throw refusal(spec, `${scheme[1]}:// is not a transport Tantalus reads`);
  const transport = /^([a-z-]+):/.exec(spec)?.[1];
  const other = transport !== undefined ? OTHER_TRANSPORTS[transport] : undefined;
  try {
    parseReference(spec);
  } catch (err) {
    // "docker-daemon:x:1" is not a registry reference either: say what the transport needs.
    if (other !== undefined) throw refusal(spec, `${transport}: is not a transport Tantalus reads (${other})`);
    throw refusal(spec, (err as Error).message.replace(/^invalid image reference "[^"]*": /, ""));
  }
  return { kind: "registry", reference: spec };
}

function checkRegistry(spec: string, reference: string): void {
  try {
    parseReference(reference);
  } catch (err) {
    throw refusal(spec, (err as Error).message.replace(/^invalid image reference "[^"]*": /, ""));
  }
}

function refusal(spec: string, why: string): UsageError {
  return new UsageError(`base image ${JSON.stringify(spec)}: ${why}; a base is one of: ${BASE_SPELLINGS.join("; ")}`);
}

/** A local base reference with its relative path made absolute against `dir` (the directory of the file that names it). */
export function resolveLocalBase(reference: string, dir: string): string {
  const m = /^(oci|oci-archive|docker-archive|rootfs):(.+)$/.exec(reference);
  if (!m || isAbsolute(m[2]!)) return reference;
  return `${m[1]}:${resolve(dir, m[2]!)}`;
}
