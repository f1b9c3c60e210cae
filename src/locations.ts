/**
 * Where Tantalus keeps things on disk. Two places only, besides the user's
 * own files:
 *
 *   the image store  an OCI image layout; may be shared and read-only
 *                    (a build host writes it, artists and farm nodes read it):
 *                    --store > $TANTALUS_STORE > `store:` of the configuration
 *                    > $XDG_CACHE_HOME/tantalus/store or ~/.cache/tantalus/store
 *                    ($TANTALUS_CACHE_DIR does not move it: a store is not a cache)
 *   the cache        per user, always writable: the repository index, the
 *                    audit's unpacked bases and soname index, run state,
 *                    the sample studio's compiled objects:
 *                    $TANTALUS_CACHE_DIR > $XDG_CACHE_HOME/tantalus > ~/.cache/tantalus
 *
 * Everything that is not part of an image (derived copies, indexes, state of
 * one user) belongs in the cache, never in the store: the store directory
 * must stay a valid OCI layout whatever command runs first, and must be
 * readable without being writable.
 */
import { createHash } from "node:crypto";
import { realpathSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";

/** The per-user cache root. `home` is for callers that know the user's home better than $HOME (tantalus run). */
export function cacheDir(env: NodeJS.ProcessEnv = process.env, home?: string): string {
  if (env.TANTALUS_CACHE_DIR) return resolve(env.TANTALUS_CACHE_DIR);
  if (env.XDG_CACHE_HOME) return join(resolve(env.XDG_CACHE_HOME), "tantalus");
  return join(home || env.HOME || homedir(), ".cache", "tantalus");
}

/** A named part of the cache (`audit`, `run`, `studio-elf`...); not created here. */
export function cachePath(part: string, env: NodeJS.ProcessEnv = process.env, home?: string): string {
  return join(cacheDir(env, home), part);
}

/**
 * The image store: the command's `--store` flag, else $TANTALUS_STORE, else
 * the configuration's `store:` (already absolute), else beside the cache's default place.
 */
export function storeDir(
  choice: { flag?: string; configured?: string } = {},
  env: NodeJS.ProcessEnv = process.env,
): string {
  if (choice.flag) return resolve(choice.flag);
  if (env.TANTALUS_STORE) return resolve(env.TANTALUS_STORE);
  if (choice.configured) return resolve(choice.configured);
  return defaultStoreDir(env);
}

/** The store when no flag, variable or configuration layer names one. */
export function defaultStoreDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(
    env.XDG_CACHE_HOME ? resolve(env.XDG_CACHE_HOME) : join(env.HOME || homedir(), ".cache"),
    "tantalus",
    "store",
  );
}

/**
 * A store's name in places shared by every store on the machine (podman's and
 * docker's image names): the first 12 hex digits of SHA-256 of its real path.
 * A path hash rather than an id written into the store: it needs no write, so
 * a read-only store has one too, and it is the same for every user of a shared
 * store on one machine. A store moved elsewhere gets a new id; its old runtime
 * copies are then unreferenced, which `tantalus gc` removes.
 */
export function storeId(dir: string): string {
  let real: string;
  try {
    real = realpathSync(dir);
  } catch {
    real = resolve(dir);
  }
  return createHash("sha256").update(real).digest("hex").slice(0, 12);
}
