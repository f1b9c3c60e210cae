import type { TextStyle } from "./filler.js";

/**
 * The sample studio described as data: packages as Rez installs them, the
 * files inside each variant, and the ELF objects the generator compiles.
 */

/** Tantalus hint written into package.py as `tantalus = {...}`. */
export interface TantalusHint {
  layer?: string;
  repair?: Record<string, unknown>;
}

export interface PackageSpec {
  name: string;
  version: string;
  description: string;
  authors?: string[];
  /** Plain requires list; omit when `late` supplies a @late requires. */
  requires?: string[];
  variants?: string[][];
  hashedVariants?: boolean;
  tools?: string[];
  tantalus?: TantalusHint;
  /** Body of `def commands():` (Python, unindented). */
  commands?: string;
  preCommands?: string;
  postCommands?: string;
  /** Raw Python blocks (e.g. @early / @late functions) placed after the plain fields. */
  extraPy?: string;
  /** Arbitrary extra attributes, written as Python literals. */
  attributes?: Record<string, unknown>;
  /** Release date "YYYY-MM-DD", written as the `timestamp` epoch. */
  released: string;
  format?: "py" | "yaml";
  /** Hidden with `.ignore<version>` next to the version directory (rez-pkg-ignore). */
  ignored?: boolean;
  /** Files of one variant (or of the package when it has no variants). */
  payload?: (v: VariantInfo) => PayloadItem[];
}

export interface VariantInfo {
  pkg: PackageSpec;
  /** null for a package without variants. */
  index: number | null;
  requires: string[];
  /** Path of the variant root relative to the package base ("" without variants). */
  subpath: string;
  /** The python the variant is built for ("3.11"), when a variant requires python. */
  python?: PythonAbi;
}

export interface PythonAbi {
  /** "3.11" */
  mm: string;
  /** "311" */
  tag: string;
}

export type ElfKind = "lib" | "exe" | "module";

export interface ElfSpec {
  kind: ElfKind;
  /** Path relative to the variant root, e.g. "lib/libImath-3_1.so.29.8.0". */
  path: string;
  /** SONAME (libraries only). */
  soname?: string;
  /** Extra names in the same directory as symlinks to `path` (the SONAME link, the dev link). */
  links?: string[];
  /** DT_NEEDED in order, not counting libc.so.6 which every object gets. */
  needs: string[];
  /** DT_RUNPATH entries ($ORIGIN-relative only: nothing may embed the repository path). */
  runpath?: string[];
  /** Write the entries as the old DT_RPATH (as CentOS 7 era vendor binaries do). */
  oldRpath?: boolean;
  /** Program text of executables; libraries and modules are generic. */
  program?: "generic" | "launch_app" | "python" | "studio_core";
  /** Python extension / plugin entry point exported by a module, e.g. "PyInit__usd". */
  entry?: string;
  /** Filler bytes at scale 1 linked into the object (.rodata), for realistic weight. */
  weight?: number;
  /** Human description printed by the object, e.g. "imath-3.1.12 libImath". */
  ident: string;
}

export type PayloadItem =
  | { type: "elf"; elf: ElfSpec }
  | { type: "text"; path: string; content: string; mode?: number }
  | { type: "filler"; path: string; weight: number; mode?: number }
  /** `count` generated source files (scaled) under `dir`, names from `stem`. */
  | { type: "sources"; dir: string; count: number; stem: string; ext: string; style: TextStyle; weight: number }
  | { type: "symlink"; path: string; target: string };

export interface WorkflowSpec {
  name: string;
  description: string;
  request: string[];
  env?: Record<string, string>;
  mounts?: { source: string; target: string; readonly?: boolean }[];
}

export type DefectKind = "undeclared" | "system" | "mixed";

/** A deliberate fault in the sample studio, for the audit to find. */
export interface StudioDefect {
  kind: DefectKind;
  /** Workflow whose resolve contains the fault. */
  workflow: string;
  package: string;
  version: string;
  /** Variant subpath ("" for packages without variants). */
  variant: string;
  /** The ELF file carrying the DT_NEEDED, relative to the studio directory. */
  file: string;
  /** The DT_NEEDED entries at fault. */
  needed: string[];
  /** DT_RUNPATH of that file, as written. */
  runpath: string[];
  /** For "undeclared": the package that provides the library but is not in `package`'s requires. */
  provider?: string;
  /** For "mixed": sonames of each family found in one load tree. */
  families?: Record<string, string[]>;
  summary: string;
}
