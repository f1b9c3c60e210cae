/**
 * ELF header reader: just what the dynamic linker looks at (identification,
 * program headers, PT_INTERP, the dynamic section and symbol-version tables),
 * read with positioned reads. Every offset and count taken from the file is
 * bounds-checked and capped, so truncated or hostile files yield an
 * `ElfError` naming the problem instead of an exception or a hang.
 */
import { BufferSource, FileSource, type ByteSource } from "./bytesource.js";

export const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46] as const;

export const ET = { NONE: 0, REL: 1, EXEC: 2, DYN: 3, CORE: 4 } as const;
export const PT = { LOAD: 1, DYNAMIC: 2, INTERP: 3, NOTE: 4, PHDR: 6 } as const;
export const DT = {
  NULL: 0,
  NEEDED: 1,
  STRTAB: 5,
  STRSZ: 10,
  SONAME: 14,
  RPATH: 15,
  RUNPATH: 29,
  FLAGS: 30,
  FLAGS_1: 0x6ffffffb,
  VERDEF: 0x6ffffffc,
  VERDEFNUM: 0x6ffffffd,
  VERNEED: 0x6ffffffe,
  VERNEEDNUM: 0x6fffffff,
} as const;
export const DF_1 = { NOW: 0x1, NOOPEN: 0x40, ORIGIN: 0x80, NODEFLIB: 0x800, PIE: 0x08000000 } as const;
export const VER_FLG = { BASE: 0x1, WEAK: 0x2 } as const;

export const EM = {
  SPARC: 2,
  I386: 3,
  M68K: 4,
  MIPS: 8,
  PPC: 20,
  PPC64: 21,
  S390: 22,
  ARM: 40,
  SPARCV9: 43,
  IA_64: 50,
  X86_64: 62,
  AARCH64: 183,
  CUDA: 190,
  AMDGPU: 224,
  RISCV: 243,
  BPF: 247,
  LOONGARCH: 258,
} as const;

const MACHINE_NAMES: Record<number, string> = {
  0: "none",
  [EM.SPARC]: "sparc",
  [EM.I386]: "i386",
  [EM.M68K]: "m68k",
  [EM.MIPS]: "mips",
  [EM.PPC]: "ppc",
  [EM.PPC64]: "ppc64",
  [EM.S390]: "s390",
  [EM.ARM]: "arm",
  [EM.SPARCV9]: "sparcv9",
  [EM.IA_64]: "ia64",
  [EM.X86_64]: "x86_64",
  [EM.AARCH64]: "aarch64",
  [EM.CUDA]: "cuda",
  [EM.AMDGPU]: "amdgpu",
  [EM.RISCV]: "riscv",
  [EM.BPF]: "bpf",
  [EM.LOONGARCH]: "loongarch",
};

const OSABI_NAMES: Record<number, string> = {
  0: "SYSV",
  1: "HPUX",
  2: "NetBSD",
  3: "GNU",
  6: "Solaris",
  9: "FreeBSD",
  12: "OpenBSD",
  64: "ARM_AEABI",
  97: "ARM",
  255: "Standalone",
};

const TYPE_NAMES: Record<number, string> = { 0: "NONE", 1: "REL", 2: "EXEC", 3: "DYN", 4: "CORE" };

export function machineName(machine: number): string {
  return MACHINE_NAMES[machine] ?? `machine-${machine}`;
}

export interface VersionNeedEntry {
  name: string;
  hash: number;
  flags: number;
  /** VER_FLG_WEAK: a missing version is only a warning for ld.so. */
  weak: boolean;
}

/** One Elf_Verneed record: versions this object needs from `file`. */
export interface VersionNeed {
  file: string;
  versions: VersionNeedEntry[];
}

export interface VersionDef {
  name: string;
  /** VER_FLG_BASE: the entry naming the object itself, not a real version. */
  base: boolean;
}

export interface ElfDynamic {
  needed: string[];
  soname?: string;
  rpath?: string;
  runpath?: string;
  /** DT_FLAGS */
  flags: number;
  /** DT_FLAGS_1 (NODEFLIB, PIE, ...) */
  flags1: number;
  versionNeeds: VersionNeed[];
  /** Undefined when the object has no DT_VERDEF (no symbol versioning). */
  versionDefs?: VersionDef[];
}

/** Identification and ELF header fields: what ld.so checks before anything else. */
export interface ElfHeader {
  elfClass: 32 | 64;
  data: "lsb" | "msb";
  /** e_ident[EI_VERSION] */
  identVersion: number;
  osabi: number;
  osabiName: string;
  abiVersion: number;
  /** e_ident[EI_PAD..] are all zero (ld.so insists). */
  identPadZero: boolean;
  type: number;
  typeName: string;
  machine: number;
  machineName: string;
  /** e_version */
  version: number;
  phentsize: number;
  phnum: number;
}

export interface ElfInfo extends ElfHeader {
  ok: true;
  /** Number of PT_LOAD segments. */
  loadSegments: number;
  /** PT_INTERP contents. */
  interpreter?: string;
  /** Present when the object has a non-empty PT_DYNAMIC. */
  dynamic?: ElfDynamic;
  /** True when PT_DYNAMIC exists but is empty (separate debug info files). */
  emptyDynamic: boolean;
}

export type ElfErrorCode = "not-elf" | "too-short" | "truncated" | "malformed" | "io";

export interface ElfError {
  ok: false;
  code: ElfErrorCode;
  reason: string;
  /** The header, when the failure came after it was read (a loader still checks class and machine first). */
  header?: ElfHeader;
}

export type ElfResult = ElfInfo | ElfError;

/** Caps that keep hostile headers from making us read or loop without bound. */
const MAX_DYN_ENTRIES = 1 << 16;
const MAX_STRING = 1 << 16;
const MAX_VERSION_RECORDS = 1 << 12;
const MAX_VERSION_AUX = 1 << 14;

class ElfFormatError extends Error {
  constructor(
    readonly code: ElfErrorCode,
    message: string,
  ) {
    super(message);
  }
}

function fail(code: ElfErrorCode, reason: string): never {
  throw new ElfFormatError(code, reason);
}

/** Quick magic check on a buffer that holds at least the first 4 bytes. */
export function hasElfMagic(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46;
}

/** True if the file at `hostPath` (or the buffer) starts with the ELF magic. */
export function isElf(input: string | Uint8Array): boolean {
  if (typeof input !== "string") return hasElfMagic(input);
  let src: FileSource;
  try {
    src = FileSource.open(input);
  } catch {
    return false;
  }
  try {
    return hasElfMagic(src.read(0, 4));
  } catch {
    return false;
  } finally {
    src.close();
  }
}

interface Segment {
  vaddr: number;
  offset: number;
  filesz: number;
}

/** Little/big-endian field access over the source; 64-bit values become numbers. */
class Fields {
  constructor(
    private readonly src: ByteSource,
    private readonly le: boolean,
  ) {}

  bytes(offset: number, length: number, what: string): Uint8Array {
    if (!Number.isSafeInteger(offset) || offset < 0 || offset + length > this.src.size) {
      fail("truncated", `truncated ${what} at offset ${offset} (needs ${length} bytes, file has ${this.src.size})`);
    }
    const b = this.src.read(offset, length);
    if (b.length < length) fail("io", `short read of ${what} at offset ${offset}`);
    return b;
  }

  view(offset: number, length: number, what: string): DataView {
    const b = this.bytes(offset, length, what);
    return new DataView(b.buffer, b.byteOffset, b.byteLength);
  }

  u16(v: DataView, at: number): number {
    return v.getUint16(at, this.le);
  }
  u32(v: DataView, at: number): number {
    return v.getUint32(at, this.le);
  }
  /** Unsigned 64-bit as a number; values beyond 2^53 become Infinity so range checks reject them. */
  u64(v: DataView, at: number): number {
    const lo = v.getUint32(at + (this.le ? 0 : 4), this.le);
    const hi = v.getUint32(at + (this.le ? 4 : 0), this.le);
    if (hi >= 0x200000) return Number.POSITIVE_INFINITY;
    return hi * 0x100000000 + lo;
  }
  /** A 64-bit d_tag: the low half when the high half is zero, else -1 (no tag we know). */
  tag64(v: DataView, at: number): number {
    const hi = v.getUint32(at + (this.le ? 4 : 0), this.le);
    return hi === 0 ? v.getUint32(at + (this.le ? 0 : 4), this.le) : -1;
  }
  word(v: DataView, at: number, is64: boolean): number {
    return is64 ? this.u64(v, at) : this.u32(v, at);
  }

  /** NUL-terminated string at `offset`, not reading past `limit`. */
  cstring(offset: number, limit: number, what: string): string {
    const end = Math.min(limit, this.src.size, offset + MAX_STRING);
    if (!Number.isSafeInteger(offset) || offset < 0 || offset >= end) {
      fail("malformed", `${what} at offset ${offset} is outside the file or its table`);
    }
    let pos = offset;
    const parts: Uint8Array[] = [];
    while (pos < end) {
      const chunk = this.src.read(pos, Math.min(256, end - pos));
      if (chunk.length === 0) break;
      const nul = chunk.indexOf(0);
      if (nul >= 0) {
        parts.push(chunk.subarray(0, nul));
        return Buffer.concat(parts).toString("utf8");
      }
      parts.push(chunk);
      pos += chunk.length;
    }
    fail("malformed", `unterminated ${what} at offset ${offset}`);
  }
}

function mapAddress(segments: Segment[], addr: number): number | undefined {
  for (const s of segments) {
    if (addr >= s.vaddr && addr < s.vaddr + s.filesz) return addr - s.vaddr + s.offset;
  }
  return undefined;
}

function parse(src: ByteSource, seen: { header?: ElfHeader }): ElfInfo {
  const ident = src.read(0, 16);
  if (!hasElfMagic(ident)) fail("not-elf", "not an ELF file");
  const size = src.size;
  if (ident.length < 16) fail("too-short", `truncated ELF identification: file has ${size} bytes`);
  const cls = ident[4]!;
  const dataByte = ident[5]!;
  if (cls !== 1 && cls !== 2) fail("malformed", `invalid ELF class ${cls}`);
  if (dataByte !== 1 && dataByte !== 2) fail("malformed", `invalid ELF data encoding ${dataByte}`);
  const is64 = cls === 2;
  const le = dataByte === 1;
  const f = new Fields(src, le);
  const ehsize = is64 ? 64 : 52;
  if (size < ehsize) fail("too-short", `truncated ELF header: file has ${size} bytes, the header needs ${ehsize}`);
  const h = f.view(0, ehsize, "ELF header");
  const type = f.u16(h, 16);
  const machine = f.u16(h, 18);
  const version = f.u32(h, 20);
  const phoff = f.word(h, is64 ? 32 : 28, is64);
  const shoff = f.word(h, is64 ? 40 : 32, is64);
  const phentsize = f.u16(h, is64 ? 54 : 42);
  let phnum = f.u16(h, is64 ? 56 : 44);
  const shentsize = f.u16(h, is64 ? 58 : 46);

  const osabi = ident[7]!;
  const info: ElfInfo = {
    ok: true,
    elfClass: is64 ? 64 : 32,
    data: le ? "lsb" : "msb",
    identVersion: ident[6]!,
    osabi,
    osabiName: OSABI_NAMES[osabi] ?? `osabi-${osabi}`,
    abiVersion: ident[8]!,
    identPadZero: ident.subarray(9, 16).every((b) => b === 0),
    type,
    typeName: TYPE_NAMES[type] ?? `type-${type}`,
    machine,
    machineName: machineName(machine),
    version,
    phentsize,
    phnum,
    loadSegments: 0,
    emptyDynamic: false,
  };
  seen.header = info;

  // PN_XNUM: the real count lives in section header 0's sh_info.
  if (phnum === 0xffff) {
    const shsize = is64 ? 64 : 40;
    if (shentsize < shsize) fail("malformed", `section header entry size ${shentsize} is too small`);
    const sh0 = f.view(shoff, shsize, "section header 0");
    phnum = f.u32(sh0, is64 ? 44 : 28);
    info.phnum = phnum;
  }
  if (phnum === 0) return info;

  const minPhent = is64 ? 56 : 32;
  if (phentsize < minPhent) fail("malformed", `program header entry size ${phentsize}, expected ${minPhent}`);
  const tableSize = phnum * phentsize;
  if (!Number.isSafeInteger(phoff) || phoff + tableSize > size) {
    fail(
      "truncated",
      `truncated program header table at offset ${phoff} (${phnum} entries of ${phentsize} bytes, file has ${size} bytes)`,
    );
  }
  const ph = f.view(phoff, tableSize, "program header table");

  const loads: Segment[] = [];
  let dynamic: { offset: number; filesz: number } | undefined;
  let interp: { offset: number; filesz: number } | undefined;
  for (let i = 0; i < phnum; i++) {
    const at = i * phentsize;
    const ptype = f.u32(ph, at);
    const offset = f.word(ph, at + (is64 ? 8 : 4), is64);
    const vaddr = f.word(ph, at + (is64 ? 16 : 8), is64);
    const filesz = f.word(ph, at + (is64 ? 32 : 16), is64);
    if (ptype === PT.LOAD) loads.push({ vaddr, offset, filesz });
    else if (ptype === PT.DYNAMIC) {
      // ld.so keeps the last non-empty PT_DYNAMIC.
      if (filesz === 0) info.emptyDynamic = true;
      else dynamic = { offset, filesz };
    } else if (ptype === PT.INTERP) interp = { offset, filesz };
  }
  info.loadSegments = loads.length;
  if (dynamic) info.emptyDynamic = false;

  // Separate debug-info files keep the program headers but no contents (p_filesz 0).
  if (interp && interp.filesz > 0) {
    if (!Number.isSafeInteger(interp.offset) || interp.offset + interp.filesz > size) {
      fail("truncated", `PT_INTERP at offset ${interp.offset} (${interp.filesz} bytes) lies outside the file`);
    }
    info.interpreter = f.cstring(interp.offset, interp.offset + interp.filesz, "PT_INTERP string");
  }

  if (dynamic) info.dynamic = parseDynamic(f, is64, dynamic, loads, size);
  return info;
}

function parseDynamic(
  f: Fields,
  is64: boolean,
  seg: { offset: number; filesz: number },
  loads: Segment[],
  size: number,
): ElfDynamic {
  const entsize = is64 ? 16 : 8;
  if (!Number.isSafeInteger(seg.offset) || seg.offset >= size) {
    fail("truncated", `truncated dynamic section at offset ${seg.offset} (file has ${size} bytes)`);
  }
  const avail = Math.min(seg.filesz, size - seg.offset);
  const count = Math.min(Math.floor(avail / entsize), MAX_DYN_ENTRIES);
  const d = f.view(seg.offset, count * entsize, "dynamic section");

  const needed: number[] = [];
  let strtab: number | undefined;
  let strsz: number | undefined;
  let soname: number | undefined;
  let rpath: number | undefined;
  let runpath: number | undefined;
  let flags = 0;
  let flags1 = 0;
  let verneed: number | undefined;
  let verneednum = 0;
  let verdef: number | undefined;
  let verdefnum = 0;
  let terminated = false;
  for (let i = 0; i < count; i++) {
    const at = i * entsize;
    // Tags we use all fit in 32 bits; a 64-bit tag with high bits set is skipped.
    const tag = is64 ? f.tag64(d, at) : f.u32(d, at);
    const val = f.word(d, at + (is64 ? 8 : 4), is64);
    if (tag === DT.NULL) {
      terminated = true;
      break;
    }
    switch (tag) {
      case DT.NEEDED:
        needed.push(val);
        break;
      case DT.STRTAB:
        strtab = val;
        break;
      case DT.STRSZ:
        strsz = val;
        break;
      case DT.SONAME:
        soname = val;
        break;
      case DT.RPATH:
        rpath = val;
        break;
      case DT.RUNPATH:
        runpath = val;
        break;
      case DT.FLAGS:
        flags = Number.isFinite(val) ? val : 0;
        break;
      case DT.FLAGS_1:
        flags1 = Number.isFinite(val) ? val : 0;
        break;
      case DT.VERNEED:
        verneed = val;
        break;
      case DT.VERNEEDNUM:
        verneednum = val;
        break;
      case DT.VERDEF:
        verdef = val;
        break;
      case DT.VERDEFNUM:
        verdefnum = val;
        break;
    }
  }
  if (!terminated && count * entsize < seg.filesz && seg.offset + seg.filesz > size) {
    fail("truncated", `truncated dynamic section at offset ${seg.offset} (${seg.filesz} bytes, file has ${size})`);
  }

  const dyn: ElfDynamic = { needed: [], flags, flags1, versionNeeds: [] };
  const usesStrings = needed.length > 0 || soname !== undefined || rpath !== undefined || runpath !== undefined;
  const usesVersions = verneed !== undefined || verdef !== undefined;
  if (!usesStrings && !usesVersions) return dyn;
  if (strtab === undefined) fail("malformed", "dynamic section has string references but no DT_STRTAB");
  const strOff = mapAddress(loads, strtab);
  if (strOff === undefined) {
    fail("malformed", `DT_STRTAB address 0x${strtab.toString(16)} is not inside any PT_LOAD segment`);
  }
  const strLimit = strsz !== undefined && Number.isFinite(strsz) ? Math.min(size, strOff + strsz) : size;
  const str = (off: number, what: string): string => {
    if (!Number.isSafeInteger(off) || strOff + off >= strLimit) {
      fail("malformed", `${what} string offset ${off} is outside the dynamic string table`);
    }
    return f.cstring(strOff + off, strLimit, `${what} string`);
  };

  dyn.needed = needed.map((o) => str(o, "DT_NEEDED"));
  if (soname !== undefined) dyn.soname = str(soname, "DT_SONAME");
  if (rpath !== undefined) dyn.rpath = str(rpath, "DT_RPATH");
  if (runpath !== undefined) dyn.runpath = str(runpath, "DT_RUNPATH");
  if (verneed !== undefined) dyn.versionNeeds = parseVerneed(f, loads, verneed, verneednum, str);
  if (verdef !== undefined) dyn.versionDefs = parseVerdef(f, loads, verdef, verdefnum, str);
  return dyn;
}

function parseVerneed(
  f: Fields,
  loads: Segment[],
  addr: number,
  num: number,
  str: (off: number, what: string) => string,
): VersionNeed[] {
  let pos = mapAddress(loads, addr);
  if (pos === undefined)
    fail("malformed", `DT_VERNEED address 0x${addr.toString(16)} is not inside any PT_LOAD segment`);
  const out: VersionNeed[] = [];
  const limit = Math.min(Number.isFinite(num) && num > 0 ? num : MAX_VERSION_RECORDS, MAX_VERSION_RECORDS);
  let auxTotal = 0;
  for (let i = 0; i < limit; i++) {
    const v = f.view(pos, 16, "version need record");
    const cnt = f.u16(v, 2);
    const file = str(f.u32(v, 4), "version need file");
    const auxOff = f.u32(v, 8);
    const next = f.u32(v, 12);
    const versions: VersionNeedEntry[] = [];
    let apos = pos + auxOff;
    for (let j = 0; j < cnt; j++) {
      if (++auxTotal > MAX_VERSION_AUX) fail("malformed", "too many version need entries");
      const a = f.view(apos, 16, "version need entry");
      const flags = f.u16(a, 4);
      versions.push({
        name: str(f.u32(a, 8), "version need name"),
        hash: f.u32(a, 0),
        flags,
        weak: (flags & VER_FLG.WEAK) !== 0,
      });
      const anext = f.u32(a, 12);
      if (anext === 0) break;
      apos += anext;
    }
    out.push({ file, versions });
    if (next === 0) break;
    pos += next;
  }
  return out;
}

function parseVerdef(
  f: Fields,
  loads: Segment[],
  addr: number,
  num: number,
  str: (off: number, what: string) => string,
): VersionDef[] {
  let pos = mapAddress(loads, addr);
  if (pos === undefined)
    fail("malformed", `DT_VERDEF address 0x${addr.toString(16)} is not inside any PT_LOAD segment`);
  const out: VersionDef[] = [];
  const limit = Math.min(Number.isFinite(num) && num > 0 ? num : MAX_VERSION_RECORDS, MAX_VERSION_RECORDS);
  for (let i = 0; i < limit; i++) {
    const v = f.view(pos, 20, "version definition record");
    const flags = f.u16(v, 2);
    const cnt = f.u16(v, 6);
    const aux = f.u32(v, 12);
    const next = f.u32(v, 16);
    if (cnt > 0) {
      const a = f.view(pos + aux, 8, "version definition name");
      out.push({ name: str(f.u32(a, 0), "version definition"), base: (flags & VER_FLG.BASE) !== 0 });
    }
    if (next === 0) break;
    pos += next;
  }
  return out;
}

/** Input for `readElf`: a host path, a buffer, an open descriptor, or any byte source. */
export type ElfInput = string | Uint8Array | { fd: number } | ByteSource;

function isByteSource(x: object): x is ByteSource {
  return typeof (x as ByteSource).read === "function" && typeof (x as ByteSource).size === "number";
}

/**
 * Reads the ELF headers of a file. Never throws for bad file contents or
 * I/O errors: the result is `{ ok: false, code, reason }`.
 */
export function readElf(input: ElfInput): ElfResult {
  let src: ByteSource;
  let owned = false;
  try {
    if (typeof input === "string") {
      src = FileSource.open(input);
      owned = true;
    } else if (input instanceof Uint8Array) src = new BufferSource(input);
    else if (isByteSource(input)) src = input;
    else src = FileSource.fromFd(input.fd);
  } catch (e) {
    return { ok: false, code: "io", reason: ioReason(e) };
  }
  const seen: { header?: ElfHeader } = {};
  try {
    // Most files in an audit are not ELF: answer those without an exception.
    if (!hasElfMagic(src.read(0, 4))) return { ok: false, code: "not-elf", reason: "not an ELF file" };
    return parse(src, seen);
  } catch (e) {
    const err: ElfError =
      e instanceof ElfFormatError
        ? { ok: false, code: e.code, reason: e.message }
        : { ok: false, code: "io", reason: ioReason(e) };
    if (seen.header) err.header = headerOnly(seen.header);
    return err;
  } finally {
    if (owned) src.close();
  }
}

function headerOnly(h: ElfHeader): ElfHeader {
  const {
    elfClass,
    data,
    identVersion,
    osabi,
    osabiName,
    abiVersion,
    identPadZero,
    type,
    typeName,
    machine,
    machineName,
    version,
    phentsize,
    phnum,
  } = h;
  return {
    elfClass,
    data,
    identVersion,
    osabi,
    osabiName,
    abiVersion,
    identPadZero,
    type,
    typeName,
    machine,
    machineName,
    version,
    phentsize,
    phnum,
  };
}

function ioReason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err && err.code === "EISDIR") return "is a directory";
  if (err && err.code === "ENOENT") return "no such file";
  if (err && err.code === "EACCES") return "permission denied";
  return err instanceof Error ? err.message : String(e);
}
