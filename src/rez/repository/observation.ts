/**
 * What a load read from the repositories, kept as file stamps so that "is
 * the repository still as that resolve saw it?" is answered with stat calls
 * alone, without listing or parsing anything. `tantalus run` asks this on
 * every launch; a resolve of a studio workflow touches a few hundred
 * families, so the answer costs a few thousand stats instead of a resolve.
 *
 * Stamps are taken before the read they vouch for, so a file changed during
 * the load shows up as a mismatch next time, never as a stale match. A
 * family directory's stamp covers versions added, removed or hidden
 * (`.ignore*`, `.building*` entries); a definition file's stamp covers
 * edits. A mismatch only means "look again": the caller then resolves.
 *
 * This module imports nothing but node:fs: the launch path loads it alone.
 */
import fs from "node:fs";

/** Identity of a file: a change to it changes at least one of these (the index cache keys definitions by it too). */
export type FileStamp = [mtimeMs: number, size: number, ino: number];

/** The stamp of a path (following symlinks), or null when it does not exist. */
export type PathStamp = FileStamp | null;

export function stampOf(st: fs.Stats): FileStamp {
  return [st.mtimeMs, st.size, st.ino];
}

/** One family in one repository: its directory and every definition file the load looked for. */
export interface FamilyObservation {
  dir: PathStamp;
  /** Definition file paths relative to the family directory ("1.2.0/package.py"). */
  files: Record<string, PathStamp>;
}

export interface RepositoryObservation {
  /** Repository roots in search order; `families[name][i]` is in `roots[i]`. */
  roots: string[];
  families: Record<string, FamilyObservation[]>;
}

export function pathStamp(path: string): PathStamp {
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(path, { throwIfNoEntry: false });
  } catch {
    // A loop or an unreadable parent: stamped as absent; the read reports what is wrong.
    st = undefined;
  }
  return st ? stampOf(st) : null;
}

export function sameStamp(a: PathStamp, b: PathStamp): boolean {
  if (a === null || b === null) return a === b;
  return a[0] === b[0] && a[1] === b[1] && a[2] === b[2];
}

/** True when every directory and file the observation names still has its stamp. */
export function observationHolds(obs: RepositoryObservation): boolean {
  return observationChange(obs) === undefined;
}

/**
 * The first thing that no longer matches, as a user reads it
 * ("layout_tools-2.3.1 changed", "versions of maya added or removed"), or
 * undefined when the observation holds.
 */
export function observationChange(obs: RepositoryObservation): string | undefined {
  for (const [family, perRoot] of Object.entries(obs.families)) {
    if (perRoot.length !== obs.roots.length) return "the package search path changed";
    for (let i = 0; i < perRoot.length; i++) {
      const famDir = `${obs.roots[i]}/${family}`;
      const o = perRoot[i]!;
      if (!sameStamp(o.dir, pathStamp(famDir)))
        return `versions of ${family} were added, removed or hidden in ${obs.roots[i]}`;
      for (const [rel, stamp] of Object.entries(o.files)) {
        if (sameStamp(stamp, pathStamp(`${famDir}/${rel}`))) continue;
        // "2.3.1/package.py" is version 2.3.1's definition; "package.py" the unversioned package's.
        const slash = rel.lastIndexOf("/");
        return slash > 0
          ? `${family}-${rel.slice(0, slash)} changed (${famDir}/${rel})`
          : `${family} changed (${famDir}/${rel})`;
      }
    }
  }
  return undefined;
}
