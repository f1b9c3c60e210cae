/**
 * A base image from podman's own store (`containers-storage:NAME`): the
 * image a user built or pulled with podman, copied out with skopeo (which
 * reads containers/storage with the caller's storage configuration: root's
 * store for root, the user's rootless store otherwise) into a temporary OCI
 * layout, then imported like any layout, blobs verified.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TantalusError } from "../../errors.js";
import type { BlobIngester, BlobReader, ImageReader } from "../layout/interfaces.js";
import { hostPlatform, type Platform, type ResolvedImage } from "../types.js";
import { importOciLayout } from "./oci-layout.js";

export async function importContainersStorage(
  store: BlobReader & BlobIngester & ImageReader,
  name: string,
  platform: Platform = hostPlatform(),
  env: NodeJS.ProcessEnv = process.env,
): Promise<ResolvedImage> {
  const dir = await mkdtemp(join(tmpdir(), "tantalus-containers-storage-"));
  try {
    const layout = join(dir, "layout");
    await skopeo(["copy", "--quiet", `containers-storage:${name}`, `oci:${layout}:base`], env, name);
    return await importOciLayout(store, layout, "base", platform);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function skopeo(args: string[], env: NodeJS.ProcessEnv, name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn("skopeo", args, { env, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    p.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    p.on("error", (err: NodeJS.ErrnoException) =>
      reject(
        new TantalusError(
          err.code === "ENOENT"
            ? `base image containers-storage:${name}: skopeo is not installed (it copies images out of podman's store; apt-get install skopeo), or save the image with podman save --format oci-archive -o FILE ${name} and use oci-archive:FILE`
            : `base image containers-storage:${name}: cannot run skopeo: ${err.message}`,
        ),
      ),
    );
    p.on("close", (code) => {
      if (code === 0) return resolve();
      const why =
        stderr
          .trim()
          .split("\n")
          .pop()
          ?.replace(/^time=".*?" level=\w+ msg="?/, "")
          .replace(/"$/, "") ?? "";
      const hint = /does not resolve to an image ID|identifier is not an image|image not known/i.test(stderr)
        ? ` (podman images lists the names this user's podman has)`
        : "";
      reject(
        new TantalusError(`base image containers-storage:${name}: skopeo copy failed: ${why || `exit ${code}`}${hint}`),
      );
    });
  });
}
