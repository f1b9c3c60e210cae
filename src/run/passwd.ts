/**
 * /etc/passwd and /etc/group for runtimes that do not create the user
 * themselves (docker; rootful podman for a non-root user): the image's own
 * files with the user's entries added, bind-mounted read-only over the
 * image's. Keeping the image's entries matters: services and tools look up
 * root, nobody and their own system users by name.
 *
 * The image's files are found by reading layers top-down; what each layer
 * says about etc/passwd and etc/group (content, deleted, nothing) is cached
 * by layer digest, so a rebuilt workflow image (new top layers, same OS
 * layer) costs only the reading of its new layers.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { BlobReader } from "../image/layout/interfaces.js";
import { digestHex } from "../image/digest.js";
import type { ResolvedImage } from "../image/types.js";
import { writeFileAtomic } from "../util/atomic.js";
import { cacheSubdir } from "./cache.js";
import type { Identity } from "../util/identity.js";
import { forEachLayerMember, readAll } from "../image/layer/reader.js";

const FILES = ["etc/passwd", "etc/group"] as const;
type EtcFile = (typeof FILES)[number];

/** What one layer does to a file: sets its content, deletes it, or (absent) leaves it. */
type LayerFacts = Partial<Record<EtcFile, { content: string } | { deleted: true }>>;

async function layerFacts(
  store: BlobReader,
  image: ResolvedImage,
  index: number,
  cacheDir: string,
): Promise<LayerFacts> {
  const layer = image.manifest.layers[index]!;
  const file = join(cacheSubdir(cacheDir, "layer-etc"), `${digestHex(layer.digest)}.json`);
  if (existsSync(file)) return JSON.parse(readFileSync(file, "utf8")) as LayerFacts;
  const facts: LayerFacts = {};
  let opaqueEtc = false;
  await forEachLayerMember(store, layer, async (m) => {
    if (m.name === ".wh.etc") {
      for (const f of FILES) facts[f] ??= { deleted: true };
      return;
    }
    if (m.name === "etc/.wh..wh..opq") opaqueEtc = true;
    for (const f of FILES) {
      if (m.name === f && m.header.type === "file") facts[f] = { content: (await readAll(m.stream)).toString("utf8") };
      else if (m.name === `etc/.wh.${f.slice(4)}`) facts[f] = { deleted: true };
    }
  });
  // An opaque etc/ hides the lower layers' files unless this layer brings its own.
  if (opaqueEtc) for (const f of FILES) facts[f] ??= { deleted: true };
  writeFileAtomic(file, JSON.stringify(facts));
  return facts;
}

/** The image's /etc/passwd and /etc/group (undefined when it has none). */
export async function imageAccountFiles(
  store: BlobReader,
  image: ResolvedImage,
  cacheDir: string,
): Promise<{ passwd?: string; group?: string }> {
  const found: Partial<Record<EtcFile, string | null>> = {};
  for (let i = image.manifest.layers.length - 1; i >= 0 && FILES.some((f) => found[f] === undefined); i--) {
    const facts = await layerFacts(store, image, i, cacheDir);
    for (const f of FILES) {
      const fact = facts[f];
      if (found[f] !== undefined || fact === undefined) continue;
      found[f] = "content" in fact ? fact.content : null;
    }
  }
  const out: { passwd?: string; group?: string } = {};
  if (typeof found["etc/passwd"] === "string") out.passwd = found["etc/passwd"];
  if (typeof found["etc/group"] === "string") out.group = found["etc/group"];
  return out;
}

function lines(text: string | undefined): string[] {
  return (text ?? "").split("\n").filter((l) => l.trim() !== "");
}

/** The image's passwd with the user's entry replacing any entry of the same name or UID. */
export function mergePasswd(image: string | undefined, id: Identity, shell = "/bin/sh"): string {
  const keep = lines(image).filter((l) => {
    const f = l.split(":");
    return f[0] !== id.user && f[2] !== String(id.uid);
  });
  keep.push(`${id.user}:x:${id.uid}:${id.gid}:${id.user}:${id.home}:${shell}`);
  return keep.join("\n") + "\n";
}

/**
 * The image's group file with the user's primary group (replacing one of the
 * same name or GID) and membership in each supplementary group: added to the
 * image's group of that GID, or as a new group with the host's name.
 */
export function mergeGroup(image: string | undefined, id: Identity): string {
  const primaryName = id.group ?? id.user;
  const out: string[] = [];
  const seen = new Set<number>();
  const supplementary = new Map(id.groups.map((g) => [g.gid, g]));
  const taken = new Set<string>();
  for (const l of lines(image)) {
    const f = l.split(":");
    const gid = Number(f[2]);
    if (f[0] === primaryName || gid === id.gid) continue;
    if (supplementary.has(gid)) {
      const members = (f[3] ?? "").split(",").filter((m) => m !== "" && m !== id.user);
      members.push(id.user);
      out.push(`${f[0]}:${f[1] ?? "x"}:${f[2]}:${members.join(",")}`);
      seen.add(gid);
    } else out.push(l);
    taken.add(f[0]!);
  }
  out.push(`${primaryName}:x:${id.gid}:`);
  taken.add(primaryName);
  for (const g of id.groups) {
    if (seen.has(g.gid) || g.gid === id.gid) continue;
    // A host group whose name the image uses for another GID keeps its GID, under a prefixed name.
    let name = g.name ?? `group${g.gid}`;
    if (taken.has(name)) name = `host-${name}`;
    taken.add(name);
    out.push(`${name}:x:${g.gid}:${id.user}`);
  }
  return out.join("\n") + "\n";
}

export interface AccountFiles {
  passwd: string;
  group: string;
}

/** Generated files for this image and user, written once into the cache and reused. */
export async function accountFilesFor(
  store: BlobReader,
  image: ResolvedImage,
  id: Identity,
  cacheDir: string,
): Promise<AccountFiles> {
  const key = createHash("sha256")
    .update(JSON.stringify([image.manifestDescriptor.digest, id.uid, id.gid, id.user, id.group, id.home, id.groups]))
    .digest("hex")
    .slice(0, 32);
  const dir = join(cacheDir, "accounts", key);
  const passwd = join(dir, "passwd");
  const group = join(dir, "group");
  if (existsSync(passwd) && existsSync(group)) return { passwd, group };
  const base = await imageAccountFiles(store, image, cacheDir);
  cacheSubdir(cacheDir, "accounts", key);
  writeFileAtomic(group, mergeGroup(base.group, id));
  writeFileAtomic(passwd, mergePasswd(base.passwd, id));
  return { passwd, group };
}
