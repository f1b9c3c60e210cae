import type { ElfSpec, PayloadItem, PythonAbi, VariantInfo } from "../model.js";

/** Sizes used by the catalog, in bytes at scale 1. */
export const KB = 1024;
export const MB = 1024 * 1024;

export interface LibOptions {
  /** File name when it differs from the SONAME, e.g. "libImath-3_1.so.29.12.0". */
  real?: string;
  /** Development link name ("libImath-3_1.so"); derived from the SONAME unless false. */
  dev?: string | false;
  needs?: string[];
  runpath?: string[];
  oldRpath?: boolean;
  weight?: number;
  program?: ElfSpec["program"];
}

/**
 * A shared library installed the way `make install` does: the real file,
 * then the SONAME link to it, then the development link to the SONAME.
 */
export function lib(dir: string, soname: string, ident: string, o: LibOptions = {}): PayloadItem {
  const real = o.real ?? soname;
  const links: string[] = [];
  if (real !== soname) links.push(soname);
  const dev = o.dev === false ? null : (o.dev ?? soname.replace(/\.so\..*$/, ".so"));
  if (dev && dev !== soname && dev !== real) links.push(dev);
  return {
    type: "elf",
    elf: {
      kind: "lib",
      path: dir && dir !== "." ? `${dir}/${real}` : real,
      soname,
      links,
      needs: o.needs ?? [],
      runpath: o.runpath,
      oldRpath: o.oldRpath,
      weight: o.weight,
      program: o.program,
      ident,
    },
  };
}

export interface ObjOptions {
  runpath?: string[];
  oldRpath?: boolean;
  weight?: number;
  program?: ElfSpec["program"];
  entry?: string;
}

export function exe(path: string, ident: string, needs: string[], o: ObjOptions = {}): PayloadItem {
  return {
    type: "elf",
    elf: {
      kind: "exe",
      path,
      needs,
      ident,
      program: o.program ?? "generic",
      runpath: o.runpath,
      oldRpath: o.oldRpath,
      weight: o.weight,
    },
  };
}

/** A dlopen()ed object without SONAME: a Python extension or an application plugin. */
export function mod(path: string, ident: string, needs: string[], o: ObjOptions = {}): PayloadItem {
  const base = path.slice(path.lastIndexOf("/") + 1).replace(/\..*$/, "");
  return {
    type: "elf",
    elf: {
      kind: "module",
      path,
      needs,
      ident,
      entry: o.entry ?? `PyInit_${base}`,
      runpath: o.runpath,
      oldRpath: o.oldRpath,
      weight: o.weight,
    },
  };
}

export function text(path: string, content: string, mode?: number): PayloadItem {
  return { type: "text", path, content, mode };
}

export function script(path: string, content: string): PayloadItem {
  return { type: "text", path, content, mode: 0o755 };
}

export function link(path: string, target: string): PayloadItem {
  return { type: "symlink", path, target };
}

export function filler(path: string, weight: number): PayloadItem {
  return { type: "filler", path, weight };
}

export function sources(
  dir: string,
  stem: string,
  ext: string,
  count: number,
  weight: number,
  style: "python" | "mel" | "shader" | "config",
): PayloadItem {
  return { type: "sources", dir, stem, ext, count, weight, style };
}

/** The python of a variant; the catalog only asks for it where a variant requires python. */
export function py(v: VariantInfo): PythonAbi {
  if (!v.python) throw new Error(`${v.pkg.name}-${v.pkg.version}: variant ${v.index} has no python requirement`);
  return v.python;
}

export function libpython(abi: PythonAbi): string {
  return `libpython${abi.mm}.so.1.0`;
}

/** CPython extension suffix, e.g. ".cpython-311-x86_64-linux-gnu.so". */
export function extSuffix(abi: PythonAbi): string {
  return `.cpython-${abi.tag}-x86_64-linux-gnu.so`;
}

export function sitePackages(abi: PythonAbi): string {
  return `lib/python${abi.mm}/site-packages`;
}

/** The Boost build the VFX Reference Platform pairs with each Python. */
export const BOOST_FOR_PYTHON: Record<string, string> = { "3.9": "1.76.0", "3.10": "1.80.0", "3.11": "1.82.0" };

export function boostPython(abi: PythonAbi): string {
  return `libboost_python${abi.tag}.so.${BOOST_FOR_PYTHON[abi.mm]}`;
}

/** Commands line adding a Python site-packages dir for whichever python is in the resolve. */
export const SITE_PACKAGES_COMMAND =
  'if "python" in resolve:\n    env.PYTHONPATH.append("{root}/lib/python{resolve.python.version.major}.{resolve.python.version.minor}/site-packages")';
