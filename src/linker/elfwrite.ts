/**
 * Builds minimal ELF objects: one PT_LOAD over the whole file, a PT_DYNAMIC
 * with NEEDED/SONAME/RPATH/RUNPATH/FLAGS_1 and optional version tables, and
 * an optional PT_INTERP. The pollution check uses them as decoy libraries
 * of the audited architecture; they also give us objects of classes and byte
 * orders the local compiler cannot produce (32-bit, big-endian).
 */
import { DT, EM, ET, PT, VER_FLG } from "./elf.js";

export interface ElfSpec {
  elfClass?: 32 | 64;
  data?: "lsb" | "msb";
  machine?: number;
  type?: number;
  osabi?: number;
  interpreter?: string;
  soname?: string;
  needed?: string[];
  rpath?: string;
  runpath?: string;
  flags1?: number;
  /** Versions needed from other files, e.g. { file: "libc.so.6", versions: ["GLIBC_2.34"] }. */
  versionNeeds?: { file: string; versions: (string | { name: string; weak: boolean })[] }[];
  /** Versions this object defines (a base entry naming the soname is added first). */
  versionDefs?: string[];
}

/** The System V ELF hash used in version records. */
export function elfHash(name: string): number {
  let h = 0;
  for (const c of Buffer.from(name, "utf8")) {
    h = ((h << 4) + c) >>> 0;
    const g = h & 0xf0000000;
    if (g !== 0) h ^= g >>> 24;
    h &= ~g >>> 0;
    h >>>= 0;
  }
  return h >>> 0;
}

class StringTable {
  private readonly parts: Buffer[] = [Buffer.from([0])];
  private size = 1;
  private readonly index = new Map<string, number>();
  add(s: string): number {
    const known = this.index.get(s);
    if (known !== undefined) return known;
    const off = this.size;
    const b = Buffer.from(s + "\0", "utf8");
    this.parts.push(b);
    this.size += b.length;
    this.index.set(s, off);
    return off;
  }
  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}

class Writer {
  constructor(
    readonly buf: Buffer,
    private readonly le: boolean,
  ) {}
  u8(at: number, v: number): void {
    this.buf[at] = v;
  }
  u16(at: number, v: number): void {
    if (this.le) this.buf.writeUInt16LE(v, at);
    else this.buf.writeUInt16BE(v, at);
  }
  u32(at: number, v: number): void {
    if (this.le) this.buf.writeUInt32LE(v >>> 0, at);
    else this.buf.writeUInt32BE(v >>> 0, at);
  }
  u64(at: number, v: number): void {
    const big = BigInt(v);
    if (this.le) this.buf.writeBigUInt64LE(big, at);
    else this.buf.writeBigUInt64BE(big, at);
  }
}

const align = (n: number, a: number): number => Math.ceil(n / a) * a;

export function buildElf(spec: ElfSpec): Buffer {
  const is64 = (spec.elfClass ?? 64) === 64;
  const le = (spec.data ?? "lsb") === "lsb";
  const ehsize = is64 ? 64 : 52;
  const phentsize = is64 ? 56 : 32;
  const dynent = is64 ? 16 : 8;
  const word = is64 ? 8 : 4;

  const strs = new StringTable();
  const dyn: [number, number][] = [];
  for (const n of spec.needed ?? []) dyn.push([DT.NEEDED, strs.add(n)]);
  if (spec.soname !== undefined) dyn.push([DT.SONAME, strs.add(spec.soname)]);
  if (spec.rpath !== undefined) dyn.push([DT.RPATH, strs.add(spec.rpath)]);
  if (spec.runpath !== undefined) dyn.push([DT.RUNPATH, strs.add(spec.runpath)]);

  // Version tables reference the string table, so intern their names first.
  const needs = (spec.versionNeeds ?? []).map((n) => ({
    file: strs.add(n.file),
    versions: n.versions.map((v) => {
      const name = typeof v === "string" ? v : v.name;
      return { name, off: strs.add(name), weak: typeof v === "string" ? false : v.weak };
    }),
  }));
  const defs = spec.versionDefs
    ? [spec.soname ?? "object", ...spec.versionDefs].map((name, i) => ({ name, off: strs.add(name), base: i === 0 }))
    : [];
  const strtab = strs.bytes();

  const phnum = 2 + (spec.interpreter !== undefined ? 1 : 0);
  let pos = ehsize + phnum * phentsize;
  let interpOff = 0;
  let interpBytes: Buffer | undefined;
  if (spec.interpreter !== undefined) {
    interpBytes = Buffer.from(spec.interpreter + "\0", "utf8");
    interpOff = pos;
    pos += interpBytes.length;
  }
  const strOff = pos;
  pos += strtab.length;
  pos = align(pos, 4);
  const verneedOff = pos;
  const verneedSize = needs.reduce((s, n) => s + 16 + 16 * n.versions.length, 0);
  pos += verneedSize;
  const verdefOff = pos;
  pos += defs.length * 28;
  pos = align(pos, word);
  const dynOff = pos;

  // Addresses equal file offsets: one PT_LOAD maps the file at vaddr 0.
  dyn.push([DT.STRTAB, strOff], [DT.STRSZ, strtab.length]);
  if (spec.flags1 !== undefined) dyn.push([DT.FLAGS_1, spec.flags1]);
  if (needs.length > 0) dyn.push([DT.VERNEED, verneedOff], [DT.VERNEEDNUM, needs.length]);
  if (defs.length > 0) dyn.push([DT.VERDEF, verdefOff], [DT.VERDEFNUM, defs.length]);
  dyn.push([DT.NULL, 0]);
  const total = dynOff + dyn.length * dynent;

  const w = new Writer(Buffer.alloc(total), le);
  w.buf.set([0x7f, 0x45, 0x4c, 0x46, is64 ? 2 : 1, le ? 1 : 2, 1, spec.osabi ?? 0], 0);
  w.u16(16, spec.type ?? ET.DYN);
  w.u16(18, spec.machine ?? EM.X86_64);
  w.u32(20, 1);
  if (is64) {
    w.u64(32, ehsize); // e_phoff
    w.u16(52, ehsize);
    w.u16(54, phentsize);
    w.u16(56, phnum);
    w.u16(58, 64);
  } else {
    w.u32(28, ehsize);
    w.u16(40, ehsize);
    w.u16(42, phentsize);
    w.u16(44, phnum);
    w.u16(46, 40);
  }

  const phdr = (i: number, type: number, offset: number, size: number, flags: number, alignment: number): void => {
    const at = ehsize + i * phentsize;
    w.u32(at, type);
    if (is64) {
      w.u32(at + 4, flags);
      w.u64(at + 8, offset);
      w.u64(at + 16, offset);
      w.u64(at + 24, offset);
      w.u64(at + 32, size);
      w.u64(at + 40, size);
      w.u64(at + 48, alignment);
    } else {
      w.u32(at + 4, offset);
      w.u32(at + 8, offset);
      w.u32(at + 12, offset);
      w.u32(at + 16, size);
      w.u32(at + 20, size);
      w.u32(at + 24, flags);
      w.u32(at + 28, alignment);
    }
  };
  let i = 0;
  if (interpBytes) phdr(i++, PT.INTERP, interpOff, interpBytes.length, 4, 1);
  phdr(i++, PT.LOAD, 0, total, 6, 0x1000);
  phdr(i, PT.DYNAMIC, dynOff, dyn.length * dynent, 6, word);

  if (interpBytes) interpBytes.copy(w.buf, interpOff);
  strtab.copy(w.buf, strOff);

  let at = verneedOff;
  let other = 2;
  needs.forEach((n, ni) => {
    w.u16(at, 1);
    w.u16(at + 2, n.versions.length);
    w.u32(at + 4, n.file);
    w.u32(at + 8, 16);
    w.u32(at + 12, ni === needs.length - 1 ? 0 : 16 + 16 * n.versions.length);
    let a = at + 16;
    n.versions.forEach((v, vi) => {
      w.u32(a, elfHash(v.name));
      w.u16(a + 4, v.weak ? VER_FLG.WEAK : 0);
      w.u16(a + 6, other++);
      w.u32(a + 8, v.off);
      w.u32(a + 12, vi === n.versions.length - 1 ? 0 : 16);
      a += 16;
    });
    at = a;
  });

  defs.forEach((d, di) => {
    const rec = verdefOff + di * 28;
    w.u16(rec, 1);
    w.u16(rec + 2, d.base ? VER_FLG.BASE : 0);
    w.u16(rec + 4, di + 1);
    w.u16(rec + 6, 1);
    w.u32(rec + 8, elfHash(d.name));
    w.u32(rec + 12, 20);
    w.u32(rec + 16, di === defs.length - 1 ? 0 : 28);
    w.u32(rec + 20, d.off);
    w.u32(rec + 24, 0);
  });

  dyn.forEach(([tag, val], di) => {
    const e = dynOff + di * dynent;
    if (is64) {
      w.u64(e, tag);
      w.u64(e + 8, val);
    } else {
      w.u32(e, tag);
      w.u32(e + 4, val);
    }
  });
  return w.buf;
}
