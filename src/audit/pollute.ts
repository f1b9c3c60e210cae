/**
 * Pollution check: would the programs still load the same libraries if the
 * base OS gained a library of the same name? Decoy libraries (minimal ELF
 * objects of the profile's architecture, one per needed name) are planted in
 * an OS library directory and, as an ldconfig run would do, added to
 * ld.so.cache; the load trees are resolved again and every load that now
 * lands on a decoy is reported. Loads pinned by RPATH/RUNPATH or
 * LD_LIBRARY_PATH to package directories do not move; loads that relied on
 * the default search do.
 */
import { buildElf } from "../linker/elfwrite.js";
import type { ImageFs } from "../linker/imagefs.js";
import { ImageLayer, LayeredImageFs, MemoryLayer, imageBasename, resolveImagePath } from "../linker/imagefs.js";
import { withExtraEntries, type LdCacheEntry } from "../linker/ldcache.js";
import { synthesizeLdCache } from "../linker/ldconfig.js";
import { Linker, type LinkerOptions, type LoadTree, type ResolveOptions, type SearchRule } from "../linker/linker.js";

export interface PollutionOptions {
  /** OS directory the decoys go to (default: the profile's first system directory). */
  decoyDir?: string;
  /** Names to plant (default: every DT_NEEDED name of the baseline trees, except ld.so's). */
  names?: readonly string[];
  /**
   * How the decoys reach ld.so.cache: "ldconfig" rebuilds the cache from the
   * image's ld.so.conf as the package manager's ldconfig run would (default),
   * "prepend" puts them before every existing entry (worst case), "none"
   * leaves the cache as it is.
   */
  cache?: "ldconfig" | "prepend" | "none";
}

export interface PollutionRoot {
  path: string;
  options?: ResolveOptions;
}

export interface LoadSwitch {
  root: string;
  /** The object whose dependency moved. */
  file: string;
  name: string;
  before: { path: string; via: SearchRule } | null;
  after: { path: string; via: SearchRule };
}

export interface PollutionReport {
  decoyDir: string;
  /** Image paths of the planted decoys. */
  decoys: string[];
  switches: LoadSwitch[];
  baseline: LoadTree[];
  polluted: LoadTree[];
}

export function pollutionCheck(
  image: ImageFs,
  roots: readonly (string | PollutionRoot)[],
  options: LinkerOptions,
  opts: PollutionOptions = {},
): PollutionReport {
  const profile = options.profile;
  const targets = roots.map((r) => (typeof r === "string" ? { path: r } : r));
  const baseLinker = new Linker(image, options);
  const baseline = targets.map((t) => baseLinker.resolve(t.path, t.options));

  const decoyDir = (opts.decoyDir ?? profile.systemDirs[0]!).replace(/\/+$/, "");
  const canonicalDir = resolveImagePath(image, decoyDir);
  // Plant at the canonical location so the layer does not hide a symlinked /lib.
  const plantDir = canonicalDir.ok && canonicalDir.type === "dir" ? canonicalDir.path : decoyDir;
  const existing = image.list(plantDir);

  const interpreterNames = new Set<string>();
  const wanted = new Set<string>();
  for (const t of baseline) {
    for (const o of t.objects)
      if (o.kind === "interpreter") for (const n of o.names) interpreterNames.add(imageBasename(n));
    for (const r of t.resolutions) if (!r.name.includes("/")) wanted.add(r.name);
  }
  // A name the OS directory already has is the OS's own library, not a decoy scenario.
  const names = (opts.names ?? [...wanted].sort()).filter((n) => !interpreterNames.has(n) && !existing?.has(n));

  const layer = new MemoryLayer("decoys");
  const decoys: string[] = [];
  const entries: LdCacheEntry[] = [];
  for (const n of names) {
    const rel = `${plantDir}/${n}`.slice(1);
    layer.set(rel, {
      type: "file",
      data: buildElf({ elfClass: profile.elfClass, data: profile.data, machine: profile.machine, soname: n }),
    });
    decoys.push(`${plantDir}/${n}`);
    entries.push({ soname: n, path: `${decoyDir}/${n}`, flags: profile.cacheDefaultFlags, osVersion: 0, hwcap: 0n });
  }
  const pollutedImage = new LayeredImageFs([new ImageLayer(image, "planned image"), layer]);
  const mode = opts.cache ?? "ldconfig";
  const cache =
    mode === "ldconfig"
      ? synthesizeLdCache(pollutedImage, profile).cache
      : mode === "prepend"
        ? withExtraEntries(options.cache ?? null, entries)
        : options.cache;
  const pollutedLinker = new Linker(pollutedImage, { ...options, cache });
  const polluted = targets.map((t) => pollutedLinker.resolve(t.path, t.options));

  const decoySet = new Set(decoys);
  const switches: LoadSwitch[] = [];
  baseline.forEach((before, i) => {
    const after = polluted[i]!;
    const afterByKey = new Map<string, { path: string; realPath: string; via: SearchRule }>();
    for (const r of after.resolutions) {
      if (r.status !== "found" || !r.realPath) continue;
      const from = after.objects[r.from]!.realPath;
      afterByKey.set(`${from}\0${r.name}`, { path: r.path!, realPath: r.realPath, via: r.via! });
    }
    for (const r of before.resolutions) {
      const from = before.objects[r.from]!;
      const now = afterByKey.get(`${from.realPath}\0${r.name}`);
      if (!now || !decoySet.has(now.realPath)) continue;
      if (r.status === "found" && r.realPath === now.realPath) continue;
      switches.push({
        root: before.root,
        file: from.realPath,
        name: r.name,
        before: r.status === "found" ? { path: r.path!, via: r.via! } : null,
        after: { path: now.path, via: now.via },
      });
    }
  });
  return { decoyDir, decoys, switches, baseline, polluted };
}
