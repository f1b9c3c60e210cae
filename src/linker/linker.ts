/**
 * glibc's ld.so library search, emulated over an image filesystem
 * (elf/dl-load.c _dl_map_object, elf/dl-deps.c _dl_map_object_deps,
 * elf/dl-version.c). For each DT_NEEDED entry, breadth-first from the
 * program:
 *   0. an already loaded object whose name or SONAME matches is reused;
 *   1. a name containing '/' is opened as a path (after $ORIGIN expansion);
 *   2. otherwise, if the requesting object has no DT_RUNPATH: the DT_RPATH of
 *      the requesting object, then of the object that loaded it, and so on
 *      up to the program, then the program's own DT_RPATH;
 *   3. LD_LIBRARY_PATH (ignored in secure mode);
 *   4. the requesting object's DT_RUNPATH (its direct needs only);
 *   5. ld.so.cache (cache entries in system directories are skipped for
 *      DF_1_NODEFLIB objects);
 *   6. the system directories (skipped for DF_1_NODEFLIB objects).
 * Every search directory is tried with the profile's hwcaps subdirectories
 * first. Candidates of another ELF class or machine are skipped (and
 * recorded); non-ELF or damaged candidates stop ld.so with an error, which
 * is recorded as a fatal resolution. A file already loaded under another
 * path is reused. Missing libraries are recorded the way `ldd` shows them.
 */
import { DF_1, ET, readElf, type ElfHeader, type ElfInfo, type ElfResult } from "./elf.js";
import type { ImageFs } from "./imagefs.js";
import { resolveImagePath, type EntryType, type ResolveResult } from "./imagefs.js";
import { lookupLdCache, type LdCache } from "./ldcache.js";
import type { LinkerProfile } from "./profile.js";

export type SearchRule = "rpath" | "ld_library_path" | "runpath" | "cache" | "default" | "path" | "loaded";

export interface SearchDir {
  /** The element as written, before $ORIGIN/$LIB/$PLATFORM expansion. */
  raw: string;
  /** Expanded directory ending in "/"; "" is the current directory. */
  dir: string;
  /** Whether it is a directory in the image (relative ones are taken from `cwd`). */
  exists: boolean;
}

export interface LoadedObject {
  index: number;
  kind: "main" | "interpreter" | "library" | "dlopened";
  /** The path ld.so opened it by (its l_name): what ldd prints. */
  path: string;
  /** Canonical path in the image. */
  realPath: string;
  /** The name it was first requested by ("" for the program). */
  requestedAs: string;
  /** All names it answers to (requested names, SONAME once matched). */
  names: string[];
  soname?: string;
  elf: ElfInfo;
  /** The object whose dependency caused it to be loaded (l_loader). */
  loader: number | null;
  /** $ORIGIN for its own RPATH/RUNPATH. */
  origin: string | null;
  /** Effective DT_RPATH (absent when the object also has DT_RUNPATH: ld.so ignores it then). */
  rpath?: SearchDir[];
  runpath?: SearchDir[];
  /** Distance from the program in the load tree. */
  depth: number;
}

export interface RejectedCandidate {
  path: string;
  realPath: string;
  via: SearchRule;
  reason: "wrong-class" | "wrong-machine";
  elfClass: number;
  machine: string;
}

export interface ShadowedCandidate {
  path: string;
  realPath: string;
  via: SearchRule;
}

export interface Resolution {
  /** Index of the object whose DT_NEEDED this is. */
  from: number;
  name: string;
  status: "found" | "missing" | "fatal";
  object?: number;
  via?: SearchRule;
  /** Path the library was found at (or the candidate that stopped ld.so). */
  path?: string;
  /** Canonical image path of `path`. */
  realPath?: string;
  /** Satisfied by an object already loaded (by name, SONAME or same file). */
  reused: boolean;
  /** Candidates ld.so skipped before the one it took (or before giving up). Shared: do not mutate. */
  rejected: readonly RejectedCandidate[];
  /** Other loadable candidates later in the search order, hidden by the winner. Shared: do not mutate. */
  shadowed: readonly ShadowedCandidate[];
  /** Why ld.so stops ("invalid ELF header", ...), for fatal resolutions. */
  error?: string;
}

export interface VersionProblem {
  from: number;
  /** The needed file named in DT_VERNEED. */
  file: string;
  version: string;
  provider: number;
  /** Weak version needs only produce a warning. */
  weak: boolean;
}

export type TreeProblemKind =
  "unreadable" | "not-elf" | "not-dynamic" | "wrong-architecture" | "interpreter-missing" | "not-loadable";

export interface TreeProblem {
  kind: TreeProblemKind;
  message: string;
}

export type OrderEntry = { object: number } | { missing: string; from: number };

export interface LoadTree {
  /** The path that was audited. */
  root: string;
  /** Index of the audited object, or null when it could not be loaded. */
  rootIndex: number | null;
  objects: LoadedObject[];
  /** ld.so's link-map order, as ldd prints it (the program first). */
  order: OrderEntry[];
  resolutions: Resolution[];
  versionProblems: VersionProblem[];
  ldLibraryPath: SearchDir[];
  problems: TreeProblem[];
  /** The real ld.so would refuse to run this (missing library, fatal candidate, missing version...). */
  fails: boolean;
}

export interface LinkerOptions {
  profile: LinkerProfile;
  /** The image's ld.so.cache; null or absent when it has none. */
  cache?: LdCache | null;
  /** LD_LIBRARY_PATH as in the environment (":" or ";" separated). */
  ldLibraryPath?: string;
  /** Working directory for relative search entries. */
  cwd?: string;
  /** AT_SECURE (setuid) semantics: no LD_LIBRARY_PATH, restricted $ORIGIN. */
  secure?: boolean;
  /**
   * $ORIGIN of the program: "realpath" as when the kernel executes it
   * (symlinks resolved via /proc/self/exe), or "invoked" as under
   * `ld.so --list PATH` (the directory of the path given).
   */
  mainOrigin?: "realpath" | "invoked";
  /** Also record loadable candidates hidden by the winner (default true). */
  collectShadowed?: boolean;
  /**
   * File facts by host file (ImageFs.hostFile), shared by the linkers of images stacked from the
   * same host files: auditing a studio's workflows reads each package's headers once, not once per
   * workflow that carries the package. For one pass over files that do not change meanwhile.
   */
  sharedFacts?: Map<string, FileFacts>;
}

export interface ResolveOptions {
  /** Overrides LinkerOptions.ldLibraryPath for this tree. */
  ldLibraryPath?: string;
  /** Load the root with dlopen() from this program (e.g. a Python extension module from python). */
  dlopenFrom?: string;
}

/** A file's size and ELF headers, as the linker reads them once. */
export interface FileFacts {
  size: number;
  elf: ElfResult;
}

type Verify =
  | { kind: "absent" }
  | { kind: "stop" }
  | { kind: "reject"; candidate: RejectedCandidate }
  | { kind: "fatal"; message: string; realPath?: string }
  | { kind: "ok"; realPath: string; elf: ElfInfo };

interface Hit {
  path: string;
  realPath: string;
  elf: ElfInfo;
  via: SearchRule;
}

/** The outcome of a whole search for a name. Shared between trees: never mutated. */
interface NameSearch {
  status: "found" | "missing" | "fatal";
  hit?: Hit;
  rejected: readonly RejectedCandidate[];
  shadowed: readonly ShadowedCandidate[];
  fatal?: { path: string; realPath?: string; message: string };
}

interface TriedDir {
  /** Directory with a trailing "/" ("" is the current directory). */
  dir: string;
  /** Its entries, or null when they cannot be listed (then every name is tried). */
  names: ReadonlyMap<string, EntryType> | null;
}

interface SearchContext {
  key: string;
  rpaths: SearchDir[][];
  nodeflib: boolean;
}

const NONE: readonly never[] = Object.freeze([]);
const MISSING: NameSearch = { status: "missing", rejected: NONE, shadowed: NONE };

/** Resolutions all have one shape (one hidden class), built in one place. */
function resolution(
  from: number,
  name: string,
  status: Resolution["status"],
  object: number | undefined,
  via: SearchRule | undefined,
  path: string | undefined,
  realPath: string | undefined,
  reused: boolean,
  rejected: readonly RejectedCandidate[],
  shadowed: readonly ShadowedCandidate[],
  error: string | undefined,
): Resolution {
  return { from, name, status, object, via, path, realPath, reused, rejected, shadowed, error };
}

interface ListSearch {
  hit?: Hit;
  fatal?: { path: string; realPath?: string; message: string };
  rejected: RejectedCandidate[];
  /** Loadable candidates after the hit (or all, when there is no hit). */
  later: Hit[];
}

/**
 * A reusable emulator for one image and one ld.so profile. File facts
 * (ELF headers), directory lookups and per-directory-list search results
 * are cached across trees, so auditing thousands of programs that share
 * libraries costs little more than reading each file's headers once.
 */
export class Linker {
  private readonly facts = new Map<string, FileFacts>();
  private readonly resolved = new Map<string, ResolveResult>();
  private readonly listSearches = new Map<string, ListSearch>();
  private readonly dirLists = new Map<string, SearchDir[]>();
  private readonly listIds = new Map<SearchDir[], number>();
  private readonly tried = new Map<string, TriedDir[]>();
  /** Whole name searches: search context key (lists, NODEFLIB) -> name -> outcome. */
  readonly nameSearches = new Map<string, Map<string, NameSearch>>();
  private readonly profile: LinkerProfile;
  private readonly cwd: string;
  private readonly systemDirs: SearchDir[];

  constructor(
    readonly image: ImageFs,
    readonly options: LinkerOptions,
  ) {
    this.profile = options.profile;
    this.cwd = options.cwd ?? "/";
    this.systemDirs = this.profile.systemDirs.map((d) => ({ raw: d, dir: withSlash(d), exists: this.isDir(d) }));
  }

  /** Resolves `p` (absolute, or relative to cwd) in the image, cached. */
  resolvePath(p: string): ResolveResult {
    const abs = p.startsWith("/") ? p : `${this.cwd}/${p}`;
    let r = this.resolved.get(abs);
    if (!r) {
      r = resolveImagePath(this.image, abs);
      this.resolved.set(abs, r);
    }
    return r;
  }

  private isDir(p: string): boolean {
    const r = this.resolvePath(p === "" ? "." : p);
    return r.ok && r.type === "dir";
  }

  /** Size and ELF headers of the file at canonical path `realPath`, cached. */
  fileFacts(realPath: string): FileFacts {
    let f = this.facts.get(realPath);
    if (f) return f;
    const shared = this.options.sharedFacts;
    const host = shared ? this.image.hostFile?.(realPath) : undefined;
    f = host !== undefined ? shared!.get(host) : undefined;
    if (!f) {
      try {
        const src = this.image.open(realPath);
        try {
          f = { size: src.size, elf: readElf(src) };
        } finally {
          src.close();
        }
      } catch (e) {
        f = { size: 0, elf: { ok: false, code: "io", reason: (e as Error).message } };
      }
      if (host !== undefined) shared!.set(host, f);
    }
    this.facts.set(realPath, f);
    return f;
  }

  /** ld.so's open_verify: is this candidate loadable, skipped, or fatal? */
  private verify(path: string, via: SearchRule): Verify {
    const r = this.resolvePath(path);
    if (!r.ok) return r.error === "ELOOP" ? { kind: "stop" } : { kind: "absent" };
    const fatal = (message: string): Verify => ({ kind: "fatal", message, realPath: r.path });
    if (r.type === "dir") return fatal("cannot read file data: Is a directory");
    if (r.type !== "file") return fatal("not a regular file");
    const facts = this.fileFacts(r.path);
    if (facts.size < this.profile.ehdrSize) return fatal("file too short");
    const elf = facts.elf;
    const header: ElfHeader | undefined = elf.ok ? elf : elf.header;
    if (!header) {
      if (!elf.ok && elf.code === "malformed" && /invalid ELF class/.test(elf.reason)) {
        return {
          kind: "reject",
          candidate: { path, realPath: r.path, via, reason: "wrong-class", elfClass: 0, machine: "unknown" },
        };
      }
      if (!elf.ok && elf.code === "malformed" && /data encoding/.test(elf.reason)) {
        return fatal("ELF file data encoding not little-endian");
      }
      return fatal(!elf.ok && elf.code === "io" ? `cannot read file data: ${elf.reason}` : "invalid ELF header");
    }
    const p = this.profile;
    if (header.elfClass !== p.elfClass) {
      return {
        kind: "reject",
        candidate: {
          path,
          realPath: r.path,
          via,
          reason: "wrong-class",
          elfClass: header.elfClass,
          machine: header.machineName,
        },
      };
    }
    if (header.data !== p.data) {
      return fatal(`ELF file data encoding not ${p.data === "lsb" ? "little" : "big"}-endian`);
    }
    if (header.identVersion !== 1) return fatal("ELF file version ident does not match current one");
    if (header.osabi !== 0 && header.osabi !== 3) return fatal("ELF file OS ABI invalid");
    if (header.abiVersion !== 0 && !(header.osabi === 3 && header.abiVersion <= p.maxGnuAbiVersion)) {
      return fatal("ELF file ABI version invalid");
    }
    if (!header.identPadZero) return fatal("nonzero padding in e_ident");
    if (header.version !== 1) return fatal("ELF file version does not match current one");
    if (header.machine !== p.machine) {
      return {
        kind: "reject",
        candidate: {
          path,
          realPath: r.path,
          via,
          reason: "wrong-machine",
          elfClass: header.elfClass,
          machine: header.machineName,
        },
      };
    }
    if (header.type !== ET.DYN && header.type !== ET.EXEC) return fatal("only ET_DYN and ET_EXEC can be loaded");
    if (header.phentsize !== (p.elfClass === 64 ? 56 : 32)) {
      return fatal("ELF file's phentsize not the expected size");
    }
    if (!elf.ok) return fatal(`cannot read file data: ${elf.reason}`);
    return { kind: "ok", realPath: r.path, elf };
  }

  /** The directories ld.so tries for a search directory (its hwcaps subdirectories that exist, then itself), with their entries. */
  private triedDirs(d: SearchDir): TriedDir[] {
    let t = this.tried.get(d.dir);
    if (!t) {
      t = [];
      for (const sub of this.profile.searchSubdirs) {
        const dir = sub === "" ? d.dir : `${d.dir}${sub}/`;
        if (sub !== "" && !this.isDir(dir === "" ? "." : dir)) continue;
        const r = this.resolvePath(dir === "" ? "." : dir);
        t.push({ dir, names: r.ok && r.type === "dir" ? this.image.list(r.path) : null });
      }
      this.tried.set(d.dir, t);
    }
    return t;
  }

  /** Searches one directory list for `name` (memoised: the result depends only on the list). */
  private searchList(dirs: SearchDir[], name: string, via: SearchRule): ListSearch {
    const key = `${via}\0${this.listId(dirs)}\0${name}`;
    const cached = this.listSearches.get(key);
    if (cached) return cached;
    const out: ListSearch = { rejected: [], later: [] };
    const collect = this.options.collectShadowed ?? true;
    outer: for (const d of dirs) {
      if (!d.exists) continue;
      for (const tried of this.triedDirs(d)) {
        // Most directories do not have the name: a look in the listing saves resolving the path.
        if (tried.names !== null && !tried.names.has(name)) continue;
        const candidate = tried.dir + name;
        const v = this.verify(candidate, via);
        if (v.kind === "absent") continue;
        // open_path gives up on the whole list for errors other than ENOENT (a symlink loop).
        if (v.kind === "stop") break outer;
        if (out.hit || out.fatal) {
          if (v.kind === "ok") out.later.push({ path: candidate, realPath: v.realPath, elf: v.elf, via });
          if (!collect) break outer;
          continue;
        }
        if (v.kind === "reject") out.rejected.push(v.candidate);
        else if (v.kind === "fatal") {
          out.fatal = { path: candidate, realPath: v.realPath, message: v.message };
          if (!collect) break outer;
        } else {
          out.hit = { path: candidate, realPath: v.realPath, elf: v.elf, via };
          if (!collect) break outer;
        }
      }
    }
    this.listSearches.set(key, out);
    return out;
  }

  /** Expands $ORIGIN, $LIB and $PLATFORM (ELF gABI DST rules); null discards the element. */
  expandTokens(input: string, origin: string | null, isProgram: boolean): string | null {
    if (!input.includes("$")) return input;
    const secure = this.options.secure ?? false;
    let out = "";
    let usedOrigin = false;
    for (let i = 0; i < input.length;) {
      if (input[i] !== "$") {
        out += input[i++];
        continue;
      }
      const rest = input.slice(i + 1);
      const tok = matchToken(rest);
      if (!tok) {
        out += "$";
        i++;
        continue;
      }
      let repl: string | null;
      if (tok.name === "ORIGIN") {
        // In secure mode $ORIGIN counts only as the very first thing in the element.
        repl = secure && !(i === 0 && (rest[tok.length] === undefined || rest[tok.length] === "/")) ? null : origin;
        usedOrigin = true;
      } else if (tok.name === "PLATFORM") repl = this.profile.platform;
      else repl = this.profile.lib;
      if (repl === null) return null;
      out += repl;
      i += 1 + tok.length;
    }
    if (
      secure &&
      usedOrigin &&
      isProgram &&
      !this.profile.systemDirs.some((d) => normalizeDir(out).startsWith(withSlash(d)))
    ) {
      return null;
    }
    return out;
  }

  /**
   * Splits and expands an RPATH/RUNPATH/LD_LIBRARY_PATH value the way
   * fillin_rpath does. Memoised, so equal lists are the same array across
   * trees (search results are cached by list identity).
   */
  searchDirs(value: string, separators: RegExp, origin: string | null, isProgram: boolean): SearchDir[] {
    const key = `${separators.source}\0${origin ?? "\u0001"}\0${isProgram ? 1 : 0}\0${value}`;
    let out = this.dirLists.get(key);
    if (!out) {
      out = this.expandDirs(value, separators, origin, isProgram);
      this.dirLists.set(key, out);
    }
    return out;
  }

  /** A small number naming a directory list, for cache keys. */
  listId(dirs: SearchDir[] | undefined): number {
    if (!dirs || dirs.length === 0) return 0;
    let id = this.listIds.get(dirs);
    if (id === undefined) {
      id = this.listIds.size + 1;
      this.listIds.set(dirs, id);
    }
    return id;
  }

  private expandDirs(value: string, separators: RegExp, origin: string | null, isProgram: boolean): SearchDir[] {
    const out: SearchDir[] = [];
    const seen = new Set<string>();
    for (const raw of value.split(separators)) {
      let dir: string;
      if (raw === "") dir = "";
      else {
        const expanded = this.expandTokens(raw, origin, isProgram);
        if (expanded === null || expanded === "") continue;
        dir = withSlash(expanded.replace(/\/+$/, "") || "/");
      }
      if (seen.has(dir)) continue;
      seen.add(dir);
      out.push({ raw, dir, exists: this.isDir(dir === "" ? "." : dir) });
    }
    return out;
  }

  /** Builds the load tree of the program or library at image path `path`. */
  resolve(path: string, opts: ResolveOptions = {}): LoadTree {
    return new TreeBuilder(this, this.profile, this.options, opts).build(path);
  }

  /** @internal */
  get defaultDirs(): SearchDir[] {
    return this.systemDirs;
  }

  /** @internal */
  verifyCandidate(path: string, via: SearchRule): Verify {
    return this.verify(path, via);
  }

  /** @internal */
  search(dirs: SearchDir[], name: string, via: SearchRule): ListSearch {
    return this.searchList(dirs, name, via);
  }
}

function matchToken(rest: string): { name: "ORIGIN" | "PLATFORM" | "LIB"; length: number } | null {
  for (const name of ["ORIGIN", "PLATFORM", "LIB"] as const) {
    if (rest.startsWith(`{${name}}`)) return { name, length: name.length + 2 };
    if (rest.startsWith(name) && !/[A-Za-z0-9_]/.test(rest[name.length] ?? "")) return { name, length: name.length };
  }
  return null;
}

function withSlash(d: string): string {
  return d.endsWith("/") ? d : d + "/";
}

function normalizeDir(d: string): string {
  const parts: string[] = [];
  for (const c of d.split("/")) {
    if (c === "" || c === ".") continue;
    if (c === "..") parts.pop();
    else parts.push(c);
  }
  return "/" + parts.join("/") + "/";
}

function dirnameOf(p: string): string {
  const i = p.lastIndexOf("/");
  if (i < 0) return ".";
  return i === 0 ? "/" : p.slice(0, i);
}

class TreeBuilder {
  private readonly objects: LoadedObject[] = [];
  private readonly order: OrderEntry[] = [];
  private readonly resolutions: Resolution[] = [];
  private readonly versionProblems: VersionProblem[] = [];
  private readonly problems: TreeProblem[] = [];
  private readonly byName = new Map<string, number>();
  private readonly bySoname = new Map<string, number>();
  private readonly byRealPath = new Map<string, number>();
  private readonly queued = new Set<number>();
  private readonly contexts = new Map<number, SearchContext>();
  private mainIndex = 0;
  private ldLibraryPath: SearchDir[] = [];
  private fails = false;

  constructor(
    private readonly linker: Linker,
    private readonly profile: LinkerProfile,
    private readonly options: LinkerOptions,
    private readonly run: ResolveOptions,
  ) {}

  build(rootPath: string): LoadTree {
    const tree = (rootIndex: number | null): LoadTree => ({
      root: rootPath,
      rootIndex,
      objects: this.objects,
      order: this.order,
      resolutions: this.resolutions,
      versionProblems: this.versionProblems,
      ldLibraryPath: this.ldLibraryPath,
      problems: this.problems,
      fails: this.fails || this.problems.length > 0,
    });

    const programPath = this.run.dlopenFrom ?? rootPath;
    const main = this.loadProgram(programPath);
    if (main === null) return tree(null);
    this.expandLdLibraryPath();
    this.loadInterpreter();
    this.walk([main]);
    this.checkVersions(0);
    if (this.run.dlopenFrom === undefined) return tree(main);

    const firstNew = this.objects.length;
    const opened = this.dlopen(rootPath);
    if (opened !== null) {
      this.walk([opened]);
      this.checkVersions(firstNew);
    }
    return tree(opened);
  }

  private problem(kind: TreeProblemKind, message: string): null {
    this.problems.push({ kind, message });
    return null;
  }

  private loadProgram(p: string): number | null {
    const r = this.linker.resolvePath(p);
    if (!r.ok) return this.problem("unreadable", `${p}: no such file in the image`);
    if (r.type !== "file") return this.problem("unreadable", `${p}: not a regular file`);
    const elf = this.linker.fileFacts(r.path).elf;
    if (!elf.ok) return this.problem(elf.code === "not-elf" ? "not-elf" : "unreadable", `${p}: ${elf.reason}`);
    if (elf.elfClass !== this.profile.elfClass || elf.machine !== this.profile.machine) {
      return this.problem(
        "wrong-architecture",
        `${p}: ${elf.elfClass}-bit ${elf.machineName}, but the image's ld.so runs ${this.profile.elfClass}-bit ${this.profile.name}`,
      );
    }
    if (!elf.dynamic) return this.problem("not-dynamic", `${p}: not a dynamic executable`);
    if (elf.type !== ET.DYN && elf.type !== ET.EXEC)
      return this.problem("not-loadable", `${p}: ELF type ${elf.typeName} cannot be run`);
    const invoked = this.options.mainOrigin === "invoked";
    const abs = p.startsWith("/") ? p : `${this.options.cwd ?? "/"}/${p}`;
    const obj = this.addObject(
      "main",
      p,
      r.path,
      invoked ? p : "",
      elf,
      null,
      invoked ? dirnameOf(abs) : dirnameOf(r.path),
      0,
    );
    this.mainIndex = obj;
    this.enqueue(obj);
    return obj;
  }

  private expandLdLibraryPath(): void {
    const value = this.run.ldLibraryPath ?? this.options.ldLibraryPath;
    if (value === undefined || value === "" || this.options.secure) return;
    const main = this.objects[this.mainIndex]!;
    this.ldLibraryPath = this.linker.searchDirs(value, /[:;]/, main.origin, true);
  }

  private loadInterpreter(): void {
    const main = this.objects[this.mainIndex]!;
    const interp = main.elf.interpreter ?? this.profile.interpreter;
    const r = this.linker.resolvePath(interp);
    if (!r.ok || r.type !== "file") {
      this.problem("interpreter-missing", `program interpreter ${interp} is not in the image`);
      return;
    }
    const elf = this.linker.fileFacts(r.path).elf;
    if (!elf.ok) {
      this.problem("interpreter-missing", `program interpreter ${interp}: ${elf.reason}`);
      return;
    }
    // ld.so is mapped before any dependency; it answers to PT_INTERP and its SONAME.
    this.addObject("interpreter", interp, r.path, interp, elf, null, dirnameOf(interp), 0);
  }

  private addObject(
    kind: LoadedObject["kind"],
    path: string,
    realPath: string,
    requestedAs: string,
    elf: ElfInfo,
    loader: number | null,
    origin: string | null,
    depth: number,
  ): number {
    const index = this.objects.length;
    const dyn = elf.dynamic;
    const isProgram = kind === "main";
    const runpath =
      dyn?.runpath !== undefined ? this.linker.searchDirs(dyn.runpath, /:/, origin, isProgram) : undefined;
    const rpath =
      runpath === undefined && dyn?.rpath !== undefined
        ? this.linker.searchDirs(dyn.rpath, /:/, origin, isProgram)
        : undefined;
    const obj: LoadedObject = {
      index,
      kind,
      path,
      realPath,
      requestedAs,
      names: [],
      soname: dyn?.soname,
      elf,
      loader,
      origin,
      rpath,
      runpath,
      depth,
    };
    this.objects.push(obj);
    if (requestedAs !== "") this.addName(index, requestedAs);
    if (kind === "interpreter" && obj.soname) this.addName(index, obj.soname);
    if (kind !== "main" || requestedAs !== "") this.addName(index, path);
    if (obj.soname && !this.bySoname.has(obj.soname)) this.bySoname.set(obj.soname, index);
    if (!this.byRealPath.has(realPath)) this.byRealPath.set(realPath, index);
    return index;
  }

  private addName(index: number, name: string): void {
    const obj = this.objects[index]!;
    if (!obj.names.includes(name)) obj.names.push(name);
    if (!this.byName.has(name)) this.byName.set(name, index);
  }

  private enqueue(index: number): boolean {
    if (this.queued.has(index)) return false;
    this.queued.add(index);
    if (this.objects[index]!.kind === "interpreter") {
      // rtld.c moves ld.so's link map right after its predecessor in the
      // search list, which leaves out not-found entries.
      let at = this.order.length;
      while (at > 0 && "missing" in this.order[at - 1]!) at--;
      this.order.splice(at, 0, { object: index });
    } else this.order.push({ object: index });
    return true;
  }

  /** Breadth-first over DT_NEEDED, as _dl_map_object_deps does. */
  private walk(start: number[]): void {
    const queue = [...start];
    for (let qi = 0; qi < queue.length; qi++) {
      const from = queue[qi]!;
      for (const name of this.objects[from]!.elf.dynamic?.needed ?? []) {
        const res = this.resolveNeeded(from, name);
        this.resolutions.push(res);
        if (res.status === "found" && res.object !== undefined && this.enqueue(res.object)) queue.push(res.object);
        if (res.status === "missing") this.order.push({ missing: name, from });
        if (res.status !== "found") this.fails = true;
      }
    }
  }

  /** _dl_lookup_map: an object loaded earlier whose l_name, requested names or SONAME match. */
  private lookupLoaded(name: string): number | undefined {
    const a = this.byName.get(name);
    const b = this.bySoname.get(name);
    if (a === undefined) return b;
    if (b === undefined) return a;
    return Math.min(a, b);
  }

  private resolveNeeded(from: number, name: string): Resolution {
    const loaded = this.lookupLoaded(name);
    if (loaded !== undefined) {
      this.addName(loaded, name);
      const o = this.objects[loaded]!;
      return resolution(from, name, "found", loaded, "loaded", o.path, o.realPath, true, NONE, NONE, undefined);
    }
    const loader = this.objects[from]!;
    const found = name.includes("/") ? this.openPath(loader, name) : this.searchName(loader, name);
    return this.settle(from, name, found, "library");
  }

  /** Turns a search outcome into a resolution, mapping a new object when one was found. */
  private settle(from: number, name: string, found: NameSearch, kind: "library" | "dlopened"): Resolution {
    if (found.fatal) {
      return resolution(
        from,
        name,
        "fatal",
        undefined,
        undefined,
        found.fatal.path,
        found.fatal.realPath,
        false,
        found.rejected,
        NONE,
        found.fatal.message,
      );
    }
    if (!found.hit)
      return resolution(
        from,
        name,
        "missing",
        undefined,
        undefined,
        undefined,
        undefined,
        false,
        found.rejected,
        NONE,
        undefined,
      );
    return this.map(from, name, found.hit, found, kind);
  }

  private openPath(loader: LoadedObject, name: string): NameSearch {
    const expanded = this.linker.expandTokens(name, loader.origin, loader.kind === "main");
    if (expanded === null) return MISSING;
    const v = this.linker.verifyCandidate(expanded, "path");
    if (v.kind === "ok")
      return {
        status: "found",
        hit: { path: expanded, realPath: v.realPath, elf: v.elf, via: "path" },
        rejected: NONE,
        shadowed: NONE,
      };
    if (v.kind === "fatal")
      return {
        status: "fatal",
        rejected: NONE,
        shadowed: NONE,
        fatal: { path: expanded, realPath: v.realPath, message: v.message },
      };
    if (v.kind === "reject") return { status: "missing", rejected: [v.candidate], shadowed: NONE };
    return MISSING;
  }

  /** The search order of _dl_map_object for a name without '/' (memoised per search context). */
  private searchName(loader: LoadedObject, name: string): NameSearch {
    let ctx = this.contexts.get(loader.index);
    if (!ctx) {
      ctx = this.searchContext(loader);
      this.contexts.set(loader.index, ctx);
    }
    let byName = this.linker.nameSearches.get(ctx.key);
    if (!byName) {
      byName = new Map();
      this.linker.nameSearches.set(ctx.key, byName);
    }
    let found = byName.get(name);
    if (!found) {
      found = this.runSearch(ctx.rpaths, loader.runpath, ctx.nodeflib, name);
      byName.set(name, found);
    }
    return found;
  }

  /** What the search for this loader's dependencies depends on, and a key naming it. */
  private searchContext(loader: LoadedObject): SearchContext {
    const main = this.objects[this.mainIndex]!;
    // DT_RPATH of the requesting object, then of the objects that loaded it, up to the program.
    const rpaths: SearchDir[][] = [];
    if (!loader.runpath) {
      let didMain = false;
      for (let l: LoadedObject | undefined = loader; l; l = l.loader === null ? undefined : this.objects[l.loader]) {
        if (!l.rpath || l.rpath.length === 0) continue;
        rpaths.push(l.rpath);
        if (l.index === this.mainIndex) didMain = true;
      }
      if (!didMain && main.rpath && main.rpath.length > 0) rpaths.push(main.rpath);
    }
    const nodeflib = ((loader.elf.dynamic?.flags1 ?? 0) & DF_1.NODEFLIB) !== 0;
    const key = [
      rpaths.map((l) => this.linker.listId(l)).join(","),
      this.linker.listId(this.ldLibraryPath),
      this.linker.listId(loader.runpath),
      nodeflib ? 1 : 0,
    ].join("/");
    return { key, rpaths, nodeflib };
  }

  private runSearch(
    rpaths: SearchDir[][],
    runpath: SearchDir[] | undefined,
    nodeflib: boolean,
    name: string,
  ): NameSearch {
    const collect = this.options.collectShadowed ?? true;
    const lists: ListSearch[] = [];
    const decided = (): boolean => lists.some((s) => s.hit !== undefined || s.fatal !== undefined);
    const step = (dirs: SearchDir[] | undefined, via: SearchRule): void => {
      if (!dirs || dirs.length === 0 || (!collect && decided())) return;
      lists.push(this.linker.search(dirs, name, via));
    };
    for (const r of rpaths) step(r, "rpath");
    step(this.ldLibraryPath, "ld_library_path");
    step(runpath, "runpath");
    if (this.options.cache && (collect || !decided())) {
      const entry = lookupLdCache(this.options.cache, name, this.profile);
      if (entry && !(nodeflib && this.profile.systemDirs.some((d) => entry.path.startsWith(withSlash(d))))) {
        const v = this.linker.verifyCandidate(entry.path, "cache");
        const s: ListSearch = { rejected: [], later: [] };
        if (v.kind === "ok") s.hit = { path: entry.path, realPath: v.realPath, elf: v.elf, via: "cache" };
        else if (v.kind === "reject") s.rejected.push(v.candidate);
        else if (v.kind === "fatal") s.fatal = { path: entry.path, realPath: v.realPath, message: v.message };
        lists.push(s);
      }
    }
    if (!nodeflib) step(this.linker.defaultDirs, "default");

    let hit: Hit | undefined;
    let fatal: NameSearch["fatal"];
    const rejected: RejectedCandidate[] = [];
    const shadowed: ShadowedCandidate[] = [];
    for (const s of lists) {
      if (!hit && !fatal) {
        rejected.push(...s.rejected);
        hit = s.hit;
        fatal = s.hit ? undefined : s.fatal;
        if (hit) shadowed.push(...s.later.map(toShadow));
      } else {
        if (s.hit) shadowed.push(toShadow(s.hit));
        shadowed.push(...s.later.map(toShadow));
      }
    }
    if (fatal) return { status: "fatal", rejected, shadowed: [], fatal };
    if (!hit) return { status: "missing", rejected, shadowed: [] };
    return { status: "found", hit, rejected, shadowed: dedupeShadowed(shadowed, hit) };
  }

  /** _dl_map_object_from_fd: same file already loaded, or a new object after the mapping checks. */
  private map(from: number, name: string, hit: Hit, found: NameSearch, kind: "library" | "dlopened"): Resolution {
    const same = this.byRealPath.get(hit.realPath);
    if (same !== undefined) {
      this.addName(same, name);
      return resolution(
        from,
        name,
        "found",
        same,
        hit.via,
        hit.path,
        hit.realPath,
        true,
        found.rejected,
        found.shadowed,
        undefined,
      );
    }
    const elf = hit.elf;
    const flags1 = elf.dynamic?.flags1 ?? 0;
    let error: string | undefined;
    if (elf.loadSegments === 0) error = "object file has no loadable segments";
    else if (elf.type !== ET.DYN) error = "cannot dynamically load executable";
    else if (!elf.dynamic) error = "object file has no dynamic section";
    else if (flags1 & DF_1.PIE) error = "cannot dynamically load position-independent executable";
    else if (kind === "dlopened" && flags1 & DF_1.NOOPEN) error = "shared object cannot be dlopen()ed";
    if (error)
      return resolution(
        from,
        name,
        "fatal",
        undefined,
        hit.via,
        hit.path,
        hit.realPath,
        false,
        found.rejected,
        NONE,
        error,
      );
    const abs = hit.path.startsWith("/") ? hit.path : `${this.options.cwd ?? "/"}/${hit.path}`;
    const index = this.addObject(
      kind,
      hit.path,
      hit.realPath,
      name,
      elf,
      kind === "dlopened" ? null : from,
      dirnameOf(abs),
      kind === "dlopened" ? 0 : this.objects[from]!.depth + 1,
    );
    return resolution(
      from,
      name,
      "found",
      index,
      hit.via,
      hit.path,
      hit.realPath,
      false,
      found.rejected,
      found.shadowed,
      undefined,
    );
  }

  /** dlopen(path) from the program: a '/' path, reused if already loaded. */
  private dlopen(p: string): number | null {
    const main = this.objects[this.mainIndex]!;
    const loaded = this.lookupLoaded(p);
    let res: Resolution;
    if (loaded !== undefined) {
      const o = this.objects[loaded]!;
      res = resolution(this.mainIndex, p, "found", loaded, "loaded", p, o.realPath, true, NONE, NONE, undefined);
    } else {
      const found = p.includes("/") ? this.openPath(main, p) : this.searchName(main, p);
      res = this.settle(this.mainIndex, p, found, "dlopened");
    }
    this.resolutions.push(res);
    if (res.status !== "found" || res.object === undefined) {
      this.fails = true;
      return this.problem("not-loadable", `dlopen(${p}) fails: ${res.error ?? "cannot open shared object file"}`);
    }
    this.enqueue(res.object);
    return res.object;
  }

  /** _dl_check_map_versions: every DT_VERNEED version must be defined by the provider. */
  private checkVersions(firstObject: number): void {
    for (const entry of this.order) {
      if (!("object" in entry) || entry.object < firstObject) continue;
      const obj = this.objects[entry.object]!;
      for (const need of obj.elf.dynamic?.versionNeeds ?? []) {
        const provider = this.byName.get(need.file) ?? this.bySoname.get(need.file);
        if (provider === undefined || !this.queued.has(provider)) continue;
        const defs = this.objects[provider]!.elf.dynamic?.versionDefs;
        if (!defs) continue;
        for (const v of need.versions) {
          if (defs.some((d) => d.name === v.name)) continue;
          this.versionProblems.push({ from: obj.index, file: need.file, version: v.name, provider, weak: v.weak });
          if (!v.weak) this.fails = true;
        }
      }
    }
  }
}

function toShadow(h: Hit): ShadowedCandidate {
  return { path: h.path, realPath: h.realPath, via: h.via };
}

function dedupeShadowed(list: ShadowedCandidate[], hit: Hit | undefined): ShadowedCandidate[] {
  const seen = new Set<string>(hit ? [hit.realPath] : []);
  const out: ShadowedCandidate[] = [];
  for (const s of list) {
    if (seen.has(s.realPath)) continue;
    seen.add(s.realPath);
    out.push(s);
  }
  return out;
}

/** Convenience: one tree with a fresh emulator. */
export function resolveLoadTree(image: ImageFs, path: string, options: LinkerOptions & ResolveOptions): LoadTree {
  return new Linker(image, options).resolve(path, {
    ldLibraryPath: options.ldLibraryPath,
    dlopenFrom: options.dlopenFrom,
  });
}

/**
 * The tree as `ldd` / LD_TRACE_LOADED_OBJECTS=1 prints it, without load
 * addresses and without the vDSO line: "name => path", "path" (for objects
 * requested by path), "name => not found", and version errors.
 */
export function traceLines(tree: LoadTree): string[] {
  const lines: string[] = [];
  for (const e of tree.order) {
    if ("missing" in e) {
      lines.push(`${e.missing} => not found`);
      continue;
    }
    const o = tree.objects[e.object]!;
    if (o.kind === "main") continue;
    lines.push(o.requestedAs === o.path ? o.path : `${o.requestedAs} => ${o.path}`);
  }
  return lines;
}
