/**
 * Bind mounts: the user's home, the studio's asset and show volumes, display
 * sockets, and `-v` flags. Paths inside are the host paths unless a target is
 * given, so absolute paths in scene files resolve the same inside and out.
 */
import { existsSync, statSync } from "node:fs";
import { isAbsolute, posix, resolve } from "node:path";
import { UsageError } from "../errors.js";

export interface Mount {
  source: string;
  target: string;
  readOnly: boolean;
  /** Skip (with a note) rather than fail when the source does not exist on this machine. */
  optional?: boolean;
}

/** `SRC[:DST][:ro|rw]` as docker and podman spell it; SRC relative to `cwd`. */
export function parseVolume(spec: string, cwd: string = process.cwd()): Mount {
  const parts = spec.split(":");
  let readOnly = false;
  const last = parts[parts.length - 1];
  if (parts.length >= 2 && (last === "ro" || last === "rw")) {
    readOnly = last === "ro";
    parts.pop();
  }
  if (parts.length > 2 || parts[0] === "" || parts.some((p) => p === "")) {
    throw new UsageError(`-v ${JSON.stringify(spec)}: expected SRC[:DST][:ro|rw] (paths cannot contain ":")`);
  }
  const source = resolve(cwd, parts[0]!);
  const target = parts[1] ?? source;
  if (!isAbsolute(target))
    throw new UsageError(`-v ${JSON.stringify(spec)}: the container path ${JSON.stringify(target)} must be absolute`);
  return { source, target: posix.normalize(target), readOnly };
}

/**
 * Mounts in order, one per target: a later mount of the same target replaces
 * the earlier one (flags override the configuration), and missing optional
 * sources are dropped with a note.
 */
export function finalizeMounts(mounts: readonly Mount[], notes: string[]): Mount[] {
  const byTarget = new Map<string, Mount>();
  for (const m of mounts) {
    if (!existsSync(m.source)) {
      if (m.optional) {
        notes.push(`not mounting ${m.target}: ${m.source} does not exist on this machine`);
        continue;
      }
      throw new UsageError(`cannot mount ${m.source} at ${m.target}: ${m.source} does not exist`);
    }
    byTarget.delete(m.target);
    byTarget.set(m.target, m);
  }
  return [...byTarget.values()];
}

/**
 * The working directory inside: the host's, translated through the mount
 * that contains it (the longest source prefix), else undefined.
 */
export function containerPathOf(hostPath: string, mounts: readonly Mount[]): string | undefined {
  let best: Mount | undefined;
  for (const m of mounts) {
    if (hostPath === m.source || hostPath.startsWith(m.source.endsWith("/") ? m.source : m.source + "/")) {
      if (!best || m.source.length > best.source.length) best = m;
    }
  }
  if (!best) return undefined;
  const rest = hostPath.slice(best.source.length).replace(/^\/+/, "");
  return rest === "" ? best.target : posix.join(best.target, rest);
}

export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
