/**
 * Local image references in the transport syntax skopeo and podman use:
 *   oci:DIR[:REF]  oci-archive:FILE[:REF]  docker-archive:FILE[:NAME:TAG]  rootfs:FILE
 * The path ends at the first ":" after the transport (as in
 * containers/image), so paths containing ":" cannot be named this way.
 */
import { UsageError } from "../errors.js";

export type LocalTransport = "oci" | "oci-archive" | "docker-archive" | "rootfs";

export interface LocalReference {
  transport: LocalTransport;
  path: string;
  /** Tag / ref name inside the layout or archive, when given. */
  ref?: string;
}

const TRANSPORTS: LocalTransport[] = ["oci", "oci-archive", "docker-archive", "rootfs"];

export function parseLocalReference(text: string): LocalReference {
  const colon = text.indexOf(":");
  const transport = colon > 0 ? text.slice(0, colon) : "";
  if (!TRANSPORTS.includes(transport as LocalTransport)) {
    throw new UsageError(
      `image reference ${JSON.stringify(text)}: expected one of ${TRANSPORTS.map((t) => `${t}:PATH`).join(", ")}`,
    );
  }
  const rest = text.slice(colon + 1);
  const sep = rest.indexOf(":");
  const path = sep >= 0 ? rest.slice(0, sep) : rest;
  const ref = sep >= 0 ? rest.slice(sep + 1) : undefined;
  if (path === "") throw new UsageError(`image reference ${JSON.stringify(text)}: missing path`);
  if (transport === "rootfs" && ref !== undefined)
    throw new UsageError(`image reference ${JSON.stringify(text)}: rootfs: takes a file only`);
  const out: LocalReference = { transport: transport as LocalTransport, path };
  if (ref !== undefined && ref !== "") out.ref = ref;
  return out;
}

export function formatLocalReference(r: LocalReference): string {
  return r.ref === undefined ? `${r.transport}:${r.path}` : `${r.transport}:${r.path}:${r.ref}`;
}
