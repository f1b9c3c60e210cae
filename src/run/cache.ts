/**
 * The per-user cache of `tantalus run`: images unpacked for ch-run, SIFs for
 * apptainer, generated passwd/group files, X11 cookies, what each runtime
 * already holds. Per user because the runtimes' stores are per user (rootless
 * podman, ch-run) and because X11 cookies are secrets.
 *
 *   <cache>/run (src/locations.ts: $TANTALUS_CACHE_DIR, else $XDG_CACHE_HOME/tantalus, else ~/.cache/tantalus)
 */
import { join } from "node:path";
import { cachePath } from "../locations.js";
import { makeDirsSync } from "../util/dirs.js";

export function runCacheDir(env: NodeJS.ProcessEnv, home: string): string {
  return cachePath("run", env, home);
}

/** `dir/part...`, created (mode 0700: the cache holds cookies) if missing. */
export function cacheSubdir(cacheDir: string, ...parts: string[]): string {
  const dir = join(cacheDir, ...parts);
  makeDirsSync(dir, 0o700);
  return dir;
}
