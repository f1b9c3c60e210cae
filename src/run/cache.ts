/**
 * The per-user cache of `tantalus run`: images unpacked for ch-run, SIFs for
 * apptainer, generated passwd/group files, X11 cookies, what each runtime
 * already holds. Per user because the runtimes' stores are per user (rootless
 * podman, ch-run) and because X11 cookies are secrets.
 *
 *   $TANTALUS_CACHE_DIR, else $XDG_CACHE_HOME/tantalus, else ~/.cache/tantalus; + /run
 */
import { join } from "node:path";
import { makeDirsSync } from "../util/dirs.js";

export function runCacheDir(env: NodeJS.ProcessEnv, home: string): string {
  const base = env.TANTALUS_CACHE_DIR || (env.XDG_CACHE_HOME ? join(env.XDG_CACHE_HOME, "tantalus") : join(home, ".cache", "tantalus"));
  return join(base, "run");
}

/** `dir/part...`, created (mode 0700: the cache holds cookies) if missing. */
export function cacheSubdir(cacheDir: string, ...parts: string[]): string {
  const dir = join(cacheDir, ...parts);
  makeDirsSync(dir, 0o700);
  return dir;
}
