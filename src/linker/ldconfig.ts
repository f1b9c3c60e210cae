/**
 * What `ldconfig` would put in ld.so.cache for an image: the directories of
 * ld.so.conf followed by the distribution's library directories, each
 * scanned for lib*.so* / ld-*.so* ELF files of the profile's architecture,
 * one entry per soname per directory (plus the development ".so" links
 * ldconfig also records), glibc-hwcaps subdirectories included, sorted the
 * way ldconfig sorts. Used when a plan will run ldconfig after adding
 * layers, or to check a base image's cache against its configuration.
 */
import { readElf } from "./elf.js";
import type { ImageFs } from "./imagefs.js";
import { resolveImagePath } from "./imagefs.js";
import { ldCacheLibcmp, type LdCache, type LdCacheEntry } from "./ldcache.js";
import { parseLdSoConf, type LdConfProblem } from "./ldconf.js";
import type { LinkerProfile } from "./profile.js";

export interface SynthesizedCache {
  cache: LdCache;
  /** Directories scanned, in order (as spelled in the configuration). */
  directories: string[];
  problems: LdConfProblem[];
}

const HWCAP_EXTENSION = 1n << 62n;

/** glibc's _dl_is_dso: the names ldconfig considers. */
function looksLikeDso(name: string): boolean {
  return (name.startsWith("lib") || name.startsWith("ld-")) && name.includes(".so");
}

interface DirLib {
  name: string;
  soname: string;
  isLink: boolean;
}

interface PendingEntry extends LdCacheEntry {
  order: number;
}

export function synthesizeLdCache(
  image: ImageFs,
  profile: LinkerProfile,
  opts: { confPath?: string; extraDirs?: string[] } = {},
): SynthesizedCache {
  const conf = parseLdSoConf(image, opts.confPath ?? "/etc/ld.so.conf");
  const dirs: { path: string; realPath: string }[] = [];
  const seen = new Set<string>();
  const add = (p: string, realPath: string): void => {
    if (seen.has(realPath)) return;
    seen.add(realPath);
    dirs.push({ path: p, realPath });
  };
  for (const d of conf.directories) add(d.path, d.realPath);
  for (const d of [...profile.ldconfigDirs, ...(opts.extraDirs ?? [])]) {
    const r = resolveImagePath(image, d);
    if (r.ok && r.type === "dir") add(d, r.path);
  }

  const pending: PendingEntry[] = [];
  const hwcapsNames: string[] = [];
  let order = 0;
  const flags = profile.cacheDefaultFlags;
  for (const d of dirs) {
    for (const lib of scanDir(image, profile, d.realPath, true)) {
      pending.push({
        soname: lib.soname,
        path: `${d.path}/${lib.soname}`,
        flags,
        osVersion: 0,
        hwcap: 0n,
        order: order++,
      });
    }
    // glibc-hwcaps subdirectories: entries name the real file, not the soname.
    const hw = resolveImagePath(image, `${d.realPath}/glibc-hwcaps`);
    if (hw.ok && hw.type === "dir") {
      const names = [...(image.list(hw.path)?.keys() ?? [])].filter((n) => !n.startsWith(".") && !n.includes(":"));
      for (const sub of names) {
        const subReal = resolveImagePath(image, `${hw.path}/${sub}`);
        if (!subReal.ok || subReal.type !== "dir") continue;
        const libs = scanDir(image, profile, subReal.path, false);
        if (libs.length === 0) continue;
        if (!hwcapsNames.includes(sub)) hwcapsNames.push(sub);
        for (const lib of libs) {
          pending.push({
            soname: lib.soname,
            path: `${d.path}/glibc-hwcaps/${sub}/${lib.name}`,
            flags,
            osVersion: 0,
            hwcap: HWCAP_EXTENSION | BigInt(hwcapsNames.indexOf(sub)),
            hwcapsSubdir: sub,
            order: order++,
          });
        }
      }
    }
  }

  pending.sort((a, b) => {
    const byName = ldCacheLibcmp(b.soname, a.soname);
    if (byName !== 0) return byName;
    if (a.flags !== b.flags) return b.flags - a.flags;
    const ah = a.hwcapsSubdir !== undefined;
    const bh = b.hwcapsSubdir !== undefined;
    if (ah !== bh) return ah ? -1 : 1;
    if (ah && bh && a.hwcapsSubdir !== b.hwcapsSubdir) return a.hwcapsSubdir! < b.hwcapsSubdir! ? -1 : 1;
    return a.order - b.order;
  });
  const entries: LdCacheEntry[] = pending.map(({ order: _order, ...e }) => e);
  return {
    cache: { format: "new", entries, source: `synthesized from ${opts.confPath ?? "/etc/ld.so.conf"}` },
    directories: dirs.map((d) => d.path),
    problems: conf.problems,
  };
}

/** One directory as ldconfig's search_dir sees it: one library per soname. */
function scanDir(image: ImageFs, profile: LinkerProfile, dir: string, linksBySoname: boolean): DirLib[] {
  const entries = image.list(dir);
  if (!entries) return [];
  const bySoname = new Map<string, DirLib>();
  for (const [name, type] of entries) {
    if (type !== "file" && type !== "symlink") continue;
    if (!looksLikeDso(name)) continue;
    if (name.endsWith(".#prelink#") || /\.#prelink#\.[^/]{6}$/.test(name)) continue;
    const target = resolveImagePath(image, `${dir}/${name}`);
    if (!target.ok || target.type !== "file") continue;
    const src = image.open(target.path);
    let elf;
    try {
      elf = readElf(src);
    } finally {
      src.close();
    }
    if (!elf.ok) continue;
    if (elf.elfClass !== profile.elfClass || elf.machine !== profile.machine) continue;
    let soname = elf.dynamic?.soname ?? name;
    let isLink = type === "symlink";
    if (isLink && linksBySoname && name !== soname) {
      // A link that is neither the soname nor its "libfoo.so" development
      // link is treated like a regular file carrying that soname.
      if (!(name.endsWith(".so") && soname.startsWith(name))) isLink = false;
    }
    if (isLink) soname = name;
    const known = bySoname.get(soname);
    if (!known) bySoname.set(soname, { name, soname, isLink });
    else if ((!isLink && known.isLink) || (isLink === known.isLink && ldCacheLibcmp(known.name, name) < 0)) {
      known.name = name;
      known.isLink = isLink;
    }
  }
  return [...bySoname.values()];
}
