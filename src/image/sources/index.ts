/**
 * Import a base image named by a local reference into the store.
 * Registry pulls live in ../remote.
 */
import { statSync } from "node:fs";
import type { ImageStore } from "../layout/interfaces.js";
import { parseLocalReference } from "../reference.js";
import { hostPlatform, type Platform, type ResolvedImage } from "../types.js";
import { importDockerArchive } from "./docker-archive.js";
import { importOciArchive, importOciLayout } from "./oci-layout.js";
import { importRootfsDirectory, importRootfsTarball, type RootfsOptions } from "./rootfs.js";

export interface ImportOptions {
  platform?: Platform;
  /** Also tag the imported image in the store. */
  tag?: string;
  /** For rootfs: only. */
  rootfs?: RootfsOptions;
}

/** `oci:DIR[:REF]`, `oci-archive:FILE[:REF]`, `docker-archive:FILE[:NAME:TAG]` or `rootfs:FILE`. */
export async function importImage(
  store: ImageStore,
  reference: string,
  opts: ImportOptions = {},
): Promise<ResolvedImage> {
  const ref = parseLocalReference(reference);
  const platform = opts.platform ?? hostPlatform();
  let img: ResolvedImage;
  switch (ref.transport) {
    case "oci":
      img = await importOciLayout(store, ref.path, ref.ref, platform);
      break;
    case "oci-archive":
      img = await importOciArchive(store, ref.path, ref.ref, platform);
      break;
    case "docker-archive":
      img = await importDockerArchive(store, ref.path, ref.ref);
      break;
    case "rootfs":
      img = isDirectory(ref.path)
        ? await importRootfsDirectory(store, ref.path, { platform, ...opts.rootfs })
        : await importRootfsTarball(store, ref.path, { platform, ...opts.rootfs });
      break;
  }
  if (opts.tag !== undefined) await store.tag(opts.tag, img.manifestDescriptor);
  return img;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false; // the tarball reader says what is wrong with the path
  }
}

export { importContainersStorage } from "./containers-storage.js";
export { importDockerArchive } from "./docker-archive.js";
export { importOciArchive, importOciLayout, pickManifest } from "./oci-layout.js";
export {
  DEFAULT_PATH_ENV,
  importRootfsDirectory,
  importRootfsLayer,
  importRootfsTarball,
  type RootfsOptions,
} from "./rootfs.js";
