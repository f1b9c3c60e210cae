/**
 * The one check every tar member name goes through before Tantalus acts on
 * it: layers unpacked for ch-run and the audit, root-file-system tarballs,
 * oci-archive and docker-archive files. Image content is untrusted (a base
 * from a registry, a tarball from a vendor), so a name that could reach
 * outside the tree it belongs to is refused with one sentence naming the
 * archive and the member, never cleaned up into something else: a layer
 * that climbs with `..` was not made by an honest tool.
 *
 * Accepted forms, as Docker and containerd accept them: a leading `./` or `/`
 * (the name is relative to the image root, never the host's), a trailing `/`
 * (directories), empty and `.` components (`a//b`, `a/./b`).
 */
import { TantalusError } from "../errors.js";

/** Longest file-name component Linux file systems store (NAME_MAX). */
export const NAME_MAX = 255;
/** Longest path the kernel takes in one call (PATH_MAX, with its terminating NUL). */
export const PATH_MAX = 4096;

/** `archive` names where the member came from: "layer sha256:…", "rootfs:/x.tar", "oci-archive:/x.tar". */
function refuse(archive: string, subject: string, why: string): never {
  throw new TantalusError(`${archive}: ${subject} ${why}; refusing the archive`);
}

/**
 * The member's path relative to the root, components joined by "/", "" for
 * the root itself; or a TantalusError when the name could leave the root,
 * carries a NUL, or is longer than a file system stores.
 */
export function checkMemberName(raw: string, archive: string): string {
  return checkPath(raw, archive, `member ${JSON.stringify(raw)}`);
}

/** The target of hard link `member`, checked as a member name is: a hard link reaches only what the archive holds. */
export function checkLinkTarget(linkname: string, member: string, archive: string): string {
  const target = checkPath(linkname, archive, `hard link ${JSON.stringify(member)} → ${JSON.stringify(linkname)}`);
  if (target === "") refuse(archive, `hard link ${JSON.stringify(member)}`, "points to the root folder");
  return target;
}

function checkPath(raw: string, archive: string, subject: string): string {
  if (raw.includes("\0")) refuse(archive, subject, "contains a NUL byte");
  const parts: string[] = [];
  for (const part of raw.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") refuse(archive, subject, 'climbs out of the root with ".."');
    const bytes = Buffer.byteLength(part, "utf8");
    if (bytes > NAME_MAX)
      refuse(archive, subject, `has a ${bytes}-byte name component (file systems store at most ${NAME_MAX} bytes)`);
    parts.push(part);
  }
  const name = parts.join("/");
  if (Buffer.byteLength(name, "utf8") >= PATH_MAX)
    refuse(
      archive,
      subject,
      `is ${Buffer.byteLength(name, "utf8")} bytes long (paths are at most ${PATH_MAX - 1} bytes)`,
    );
  return name;
}

/** What an OCI whiteout member (image-spec layer.md) asks for, in the directory `dir` ("" for the root). */
export type Whiteout =
  { kind: "opaque"; dir: string } | { kind: "remove"; dir: string; target: string } | { kind: "aufs-metadata" };

const WH = ".wh.";
const OPAQUE = ".wh..wh..opq";

/**
 * The whiteout `name` (already checked by checkMemberName) stands for, or
 * undefined for an ordinary member. `.wh.` followed by nothing, `.` or `..`
 * would remove the directory itself or its parent: refused. Other
 * `.wh..wh.` names are aufs's own bookkeeping (`.wh..wh.plnk`), which Docker
 * and containerd skip.
 */
export function whiteoutOf(name: string, archive: string, raw = name): Whiteout | undefined {
  const slash = name.lastIndexOf("/");
  const base = name.slice(slash + 1);
  if (!base.startsWith(WH)) return undefined;
  const dir = slash < 0 ? "" : name.slice(0, slash);
  if (base === OPAQUE) return { kind: "opaque", dir };
  if (base.startsWith(WH + WH)) return { kind: "aufs-metadata" };
  const target = base.slice(WH.length);
  if (target === "" || target === "." || target === "..")
    refuse(
      archive,
      `member ${JSON.stringify(raw)}`,
      `is a whiteout of ${JSON.stringify(target)}, which names no file in its directory`,
    );
  return { kind: "remove", dir, target };
}
