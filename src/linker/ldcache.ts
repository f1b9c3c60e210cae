/**
 * /etc/ld.so.cache in the formats glibc's ld.so reads: the new
 * "glibc-ld.so.cache1.1" format (with its extension directory: generator
 * string and glibc-hwcaps subdirectory names), the old "ld.so-1.7.0" format,
 * and the old format followed by the new one ("compat"). Lookup follows
 * glibc's search_cache: entries are sorted with _dl_cache_libcmp, the first
 * acceptable entry for a name wins, glibc-hwcaps entries by priority.
 */
import { InputError } from "../errors.js";
import type { ImageFs } from "./imagefs.js";
import { resolveImagePath } from "./imagefs.js";
import { CACHE_FLAG, type LinkerProfile } from "./profile.js";

const OLD_MAGIC = "ld.so-1.7.0";
const NEW_MAGIC = "glibc-ld.so.cache1.1";
const OLD_HEADER = 16;
const OLD_ENTRY = 12;
const NEW_HEADER = 48;
const NEW_ENTRY = 24;
const EXTENSION_MAGIC = 0xeaa42174;
const EXT_TAG_GENERATOR = 0;
const EXT_TAG_GLIBC_HWCAPS = 1;
/** Bit 62 of hwcap: the low 32 bits index the glibc-hwcaps names. */
const HWCAP_EXTENSION = 1n << 62n;
const HWCAP_ISA_LEVEL_MASK = (1n << 10n) - 1n;

export interface LdCacheEntry {
  soname: string;
  path: string;
  flags: number;
  osVersion: number;
  hwcap: bigint;
  /** Name of the glibc-hwcaps subdirectory (e.g. "x86-64-v3") for extension entries. */
  hwcapsSubdir?: string;
}

export interface LdCache {
  format: "new" | "old" | "old+new";
  /** Entries ld.so consults (the new-format table when there is one), in file order. */
  entries: LdCacheEntry[];
  /** The old-format table of an "old+new" file. */
  oldEntries?: LdCacheEntry[];
  /** Extension "generator" string, e.g. "ldconfig (GNU libc) stable release version 2.36". */
  generator?: string;
  /** Where the cache came from, for messages. */
  source: string;
}

/** glibc's _dl_cache_libcmp: digit runs compare numerically, everything else bytewise. */
export function ldCacheLibcmp(a: string, b: string): number {
  let i = 0;
  let j = 0;
  const isDigit = (c: number): boolean => c >= 48 && c <= 57;
  while (i < a.length) {
    const c1 = a.charCodeAt(i);
    const c2 = j < b.length ? b.charCodeAt(j) : 0;
    if (isDigit(c1)) {
      if (!isDigit(c2)) return 1;
      let v1 = 0;
      let v2 = 0;
      while (i < a.length && isDigit(a.charCodeAt(i))) v1 = v1 * 10 + a.charCodeAt(i++) - 48;
      while (j < b.length && isDigit(b.charCodeAt(j))) v2 = v2 * 10 + b.charCodeAt(j++) - 48;
      if (v1 !== v2) return v1 - v2;
    } else if (isDigit(c2)) return -1;
    else if (c1 !== c2) return c1 - c2;
    else {
      i++;
      j++;
    }
  }
  return j < b.length ? -b.charCodeAt(j) : 0;
}

function cstr(buf: Uint8Array, offset: number, source: string, what: string): string {
  if (offset < 0 || offset >= buf.length)
    throw new InputError(`${what} string offset ${offset} is outside the file`, { file: source });
  const end = buf.indexOf(0, offset);
  if (end < 0) throw new InputError(`unterminated ${what} string at offset ${offset}`, { file: source });
  return Buffer.from(buf.buffer, buf.byteOffset + offset, end - offset).toString("utf8");
}

function startsWith(buf: Uint8Array, at: number, magic: string): boolean {
  if (at + magic.length > buf.length) return false;
  for (let i = 0; i < magic.length; i++) if (buf[at + i] !== magic.charCodeAt(i)) return false;
  return true;
}

/** Parses a cache file; throws InputError naming the file for anything ld.so would reject. */
export function parseLdCache(data: Uint8Array, source = "/etc/ld.so.cache"): LdCache {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (startsWith(data, 0, NEW_MAGIC)) {
    const parsed = parseNew(data, view, 0, source);
    return { format: "new", entries: parsed.entries, generator: parsed.generator, source };
  }
  if (startsWith(data, 0, OLD_MAGIC)) {
    if (data.length < OLD_HEADER) throw new InputError("truncated old-format cache header", { file: source });
    // The old format has no endianness marker: the file is in the writer's byte order.
    const le = guessOldEndianness(data, view);
    const nlibs = view.getUint32(12, le);
    if ((data.length - OLD_HEADER) / OLD_ENTRY < nlibs) {
      throw new InputError(`cache claims ${nlibs} entries but the file has room for fewer`, { file: source });
    }
    const stringBase = OLD_HEADER + nlibs * OLD_ENTRY;
    const old: LdCacheEntry[] = [];
    for (let i = 0; i < nlibs; i++) {
      const at = OLD_HEADER + i * OLD_ENTRY;
      old.push({
        flags: view.getInt32(at, le),
        soname: cstr(data, stringBase + view.getUint32(at + 4, le), source, "library name"),
        path: cstr(data, stringBase + view.getUint32(at + 8, le), source, "library path"),
        osVersion: 0,
        hwcap: 0n,
      });
    }
    const newAt = Math.ceil(stringBase / 8) * 8;
    if (startsWith(data, newAt, NEW_MAGIC)) {
      const parsed = parseNew(data, view, newAt, source);
      return { format: "old+new", entries: parsed.entries, oldEntries: old, generator: parsed.generator, source };
    }
    return { format: "old", entries: old, source };
  }
  throw new InputError("not an ld.so.cache file (unknown magic)", { file: source });
}

function guessOldEndianness(data: Uint8Array, view: DataView): boolean {
  const le = view.getUint32(12, true);
  const be = view.getUint32(12, false);
  const fits = (n: number): boolean => OLD_HEADER + n * OLD_ENTRY <= data.length;
  return fits(le) || !fits(be);
}

function parseNew(
  data: Uint8Array,
  view: DataView,
  base: number,
  source: string,
): { entries: LdCacheEntry[]; generator?: string } {
  if (data.length < base + NEW_HEADER) throw new InputError("truncated cache header", { file: source });
  const endianFlag = data[base + 28]! & 3;
  if (endianFlag === 1) throw new InputError("cache marks its byte order as invalid", { file: source });
  const le = endianFlag !== 3;
  const nlibs = view.getUint32(base + 20, le);
  if ((data.length - base - NEW_HEADER) / NEW_ENTRY < nlibs) {
    throw new InputError(`cache claims ${nlibs} entries but the file has room for fewer`, { file: source });
  }
  const extensionOffset = view.getUint32(base + 32, le);
  const ext = parseExtensions(data, view, extensionOffset, le, source);
  const entries: LdCacheEntry[] = [];
  for (let i = 0; i < nlibs; i++) {
    const at = base + NEW_HEADER + i * NEW_ENTRY;
    const hwcap = view.getBigUint64(at + 16, le);
    const entry: LdCacheEntry = {
      flags: view.getInt32(at, le),
      soname: cstr(data, base + view.getUint32(at + 4, le), source, "library name"),
      path: cstr(data, base + view.getUint32(at + 8, le), source, "library path"),
      osVersion: view.getUint32(at + 12, le),
      hwcap,
    };
    if (isHwcapExtension(hwcap)) {
      const idx = Number(hwcap & 0xffffffffn);
      const name = ext.hwcaps[idx];
      if (name !== undefined) entry.hwcapsSubdir = name;
    }
    entries.push(entry);
  }
  return { entries, generator: ext.generator };
}

function isHwcapExtension(hwcap: bigint): boolean {
  return ((hwcap >> 32n) & ~HWCAP_ISA_LEVEL_MASK) === HWCAP_EXTENSION >> 32n;
}

function parseExtensions(
  data: Uint8Array,
  view: DataView,
  offset: number,
  le: boolean,
  source: string,
): { generator?: string; hwcaps: string[] } {
  const out: { generator?: string; hwcaps: string[] } = { hwcaps: [] };
  // Offsets in the extension directory are relative to the start of the file.
  if (offset === 0 || offset % 4 !== 0 || offset + 8 > data.length) return out;
  if (view.getUint32(offset, le) !== EXTENSION_MAGIC) return out;
  const count = view.getUint32(offset + 4, le);
  if (offset + 8 + count * 16 > data.length)
    throw new InputError("truncated cache extension directory", { file: source });
  for (let i = 0; i < count; i++) {
    const at = offset + 8 + i * 16;
    const tag = view.getUint32(at, le);
    const secOff = view.getUint32(at + 8, le);
    const size = view.getUint32(at + 12, le);
    if (secOff + size > data.length)
      throw new InputError(`cache extension section ${tag} lies outside the file`, { file: source });
    if (tag === EXT_TAG_GENERATOR) {
      out.generator = Buffer.from(data.buffer, data.byteOffset + secOff, size)
        .toString("utf8")
        .replace(/\0+$/, "");
    } else if (tag === EXT_TAG_GLIBC_HWCAPS) {
      for (let k = 0; k + 4 <= size; k += 4) {
        out.hwcaps.push(cstr(data, view.getUint32(secOff + k, le), source, "glibc-hwcaps name"));
      }
    }
  }
  return out;
}

/** Reads the image's cache file; null when the image has none (ld.so then skips the cache). */
export function readLdCache(image: ImageFs, cachePath = "/etc/ld.so.cache"): LdCache | null {
  const r = resolveImagePath(image, cachePath);
  if (!r.ok || r.type !== "file") return null;
  const src = image.open(r.path);
  try {
    return parseLdCache(src.read(0, src.size), `${cachePath} (${image.describe(r.path)})`);
  } finally {
    src.close();
  }
}

/** What the cache lookup needs from the ld.so profile. */
export type CacheTarget = Pick<LinkerProfile, "cacheFlags" | "cacheDefaultFlags" | "cacheHwcaps">;

/**
 * The entry ld.so would take for `name`, following search_cache: among the
 * entries with that name (file order), glibc-hwcaps entries come first and
 * the best-priority usable one wins; otherwise the first entry with
 * acceptable flags, or a later one with exactly the default flags. Legacy
 * hwcap entries are skipped, as glibc does since 2.37.
 */
export function lookupLdCache(cache: LdCache, name: string, target: CacheTarget): LdCacheEntry | undefined {
  const index = indexOf(cache);
  const group = index.get(normalizeKey(name));
  if (!group) return undefined;
  const hasHwcapData = cache.format !== "old";
  let best: LdCacheEntry | undefined;
  let bestPriority = 0;
  for (const e of group) {
    if (!target.cacheFlags.includes(e.flags)) continue;
    let named = false;
    if (hasHwcapData) {
      named = isHwcapExtension(e.hwcap);
      // Extension entries sort first; once past them, a match found there wins.
      if (!named && best !== undefined) break;
      if (!named && e.hwcap !== 0n) continue;
      if (named) {
        const p = e.hwcapsSubdir === undefined ? -1 : target.cacheHwcaps.indexOf(e.hwcapsSubdir);
        if (p < 0) continue;
        if (best !== undefined && p + 1 >= bestPriority) continue;
        bestPriority = p + 1;
      }
    }
    best = e;
    if (!named && e.flags === target.cacheDefaultFlags) break;
  }
  return best;
}

/** _dl_cache_libcmp treats "so.01" and "so.1" alike; group entries under that equivalence. */
function normalizeKey(name: string): string {
  return /(^|\D)0\d/.test(name) ? name.replace(/\d+/g, (d) => d.replace(/^0+(?=\d)/, "")) : name;
}

const indexes = new WeakMap<LdCache, Map<string, LdCacheEntry[]>>();
function indexOf(cache: LdCache): Map<string, LdCacheEntry[]> {
  let idx = indexes.get(cache);
  if (!idx) {
    idx = new Map();
    for (const e of cache.entries) {
      const k = normalizeKey(e.soname);
      const g = idx.get(k);
      if (g) g.push(e);
      else idx.set(k, [e]);
    }
    indexes.set(cache, idx);
  }
  return idx;
}

/** A cache with extra entries consulted first (e.g. decoys an `ldconfig` run would add). */
export function withExtraEntries(cache: LdCache | null, extra: LdCacheEntry[], source = "decoys"): LdCache {
  return {
    format: cache?.format ?? "new",
    entries: [...extra, ...(cache?.entries ?? [])],
    generator: cache?.generator,
    source: cache ? `${cache.source} + ${source}` : source,
  };
}

const TYPE_NAMES: Record<number, string> = {
  [CACHE_FLAG.LIBC4]: "libc4",
  [CACHE_FLAG.ELF]: "ELF",
  [CACHE_FLAG.ELF_LIBC5]: "libc5",
  [CACHE_FLAG.ELF_LIBC6]: "libc6",
};

const ABI_NAMES: Record<number, string> = {
  [CACHE_FLAG.SPARC_LIB64]: ",64bit",
  [CACHE_FLAG.IA64_LIB64]: ",IA-64",
  [CACHE_FLAG.X8664_LIB64]: ",x86-64",
  [CACHE_FLAG.S390_LIB64]: ",64bit",
  [CACHE_FLAG.POWERPC_LIB64]: ",64bit",
  [CACHE_FLAG.MIPS64_LIBN32]: ",N32",
  [CACHE_FLAG.MIPS64_LIBN64]: ",64bit",
  [CACHE_FLAG.X8664_LIBX32]: ",x32",
  [CACHE_FLAG.ARM_LIBHF]: ",hard-float",
  [CACHE_FLAG.AARCH64_LIB64]: ",AArch64",
  [CACHE_FLAG.ARM_LIBSF]: ",soft-float",
  [CACHE_FLAG.MIPS_LIB32_NAN2008]: ",nan2008",
  [CACHE_FLAG.MIPS64_LIBN32_NAN2008]: ",N32,nan2008",
  [CACHE_FLAG.MIPS64_LIBN64_NAN2008]: ",64bit,nan2008",
  [CACHE_FLAG.RISCV_FLOAT_ABI_SOFT]: ",soft-float",
  [CACHE_FLAG.RISCV_FLOAT_ABI_DOUBLE]: ",double-float",
  [CACHE_FLAG.LARCH_FLOAT_ABI_SOFT]: ",soft-float",
  [CACHE_FLAG.LARCH_FLOAT_ABI_DOUBLE]: ",double-float",
};

/** The "(libc6,x86-64)" description ldconfig -p prints for an entry's flags. */
export function describeCacheFlags(flags: number): string {
  const type = TYPE_NAMES[flags & CACHE_FLAG.TYPE_MASK] ?? "unknown";
  const req = flags & CACHE_FLAG.REQUIRED_MASK;
  const abi = req === 0 ? "" : (ABI_NAMES[req] ?? `,${req}`);
  return type + abi;
}

/** One line of `ldconfig -p` output for the entry. */
export function formatLdconfigLine(e: LdCacheEntry): string {
  let hw = "";
  if (e.hwcapsSubdir !== undefined) hw = `, hwcap: "${e.hwcapsSubdir}"`;
  else if (e.hwcap !== 0n) hw = `, hwcap: 0x${e.hwcap.toString(16).padStart(16, "0")}`;
  return `\t${e.soname} (${describeCacheFlags(e.flags)}${hw}) => ${e.path}`;
}
