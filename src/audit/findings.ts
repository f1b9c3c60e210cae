/**
 * Turns load trees into findings about packages. The package model is two
 * callbacks (who owns a file; is one package in another's requirement
 * closure), so this module does not depend on Rez: the integration plugs in
 * resolved packages and their requirement closures.
 */
import type { ImageFs } from "../linker/imagefs.js";
import { imageBasename, resolveImagePath } from "../linker/imagefs.js";
import type { LoadTree, LoadedObject, SearchDir } from "../linker/linker.js";

export type FindingKind =
  | "missing"
  | "system"
  | "undeclared"
  | "conflict"
  | "wrong-architecture"
  | "host-leak"
  | "unloadable"
  | "missing-version"
  | "os-mismatch"
  | "unreadable";

export interface FileRef {
  path: string;
  /** Owning package, or null for the base image. */
  package: string | null;
}

export interface Finding {
  kind: FindingKind;
  /** Package owning `file` (null: the base image; undefined: not a file, e.g. an environment variable). */
  package: string | null | undefined;
  /** The object (or variable) at fault. */
  file: string;
  /** The audited file whose load tree showed it. */
  root: string;
  /** The needed library name, when the finding is about one. */
  name?: string;
  /** The file that satisfied `name`. */
  provider?: FileRef;
  /** Other files involved: shadowed copies, conflicting family members, rejected candidates. */
  others?: (FileRef & { detail?: string })[];
  /** missing-version: the version needed and the newest of its series (GLIBC_, GLIBCXX_...) the provider defines. */
  version?: SymbolVersionGap;
  message: string;
}

/** A symbol version an object needs and what its provider offers instead. */
export interface SymbolVersionGap {
  /** e.g. "GLIBC_2.34". */
  needed: string;
  /** The newest version of the same series the provider defines (e.g. "GLIBC_2.30"), null when it defines none. */
  newest: string | null;
}

/** The series of a symbol version: "GLIBC_2.34" → "GLIBC_", "GLIBCXX_3.4.30" → "GLIBCXX_", "V_2.0" → "V_". */
export function versionSeries(version: string): string {
  return /^(.*?[_.]?)\d[\d.]*$/.exec(version)?.[1] ?? version;
}

/** Orders versions of one series by their numbers (GLIBC_2.9 before GLIBC_2.17). */
export function compareSymbolVersions(a: string, b: string): number {
  const x = a.slice(versionSeries(a).length).split(".").map(Number);
  const y = b.slice(versionSeries(b).length).split(".").map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** The newest version of `needed`'s series among `defined` (VER_FLG_BASE entries excluded), or null. */
export function newestInSeries(needed: string, defined: readonly { name: string; base: boolean }[]): string | null {
  const series = versionSeries(needed);
  let newest: string | null = null;
  for (const d of defined) {
    if (d.base || !d.name.startsWith(series) || versionSeries(d.name) !== series) continue;
    if (newest === null || compareSymbolVersions(d.name, newest) > 0) newest = d.name;
  }
  return newest;
}

export interface PackageModel {
  /** Package that owns the file at canonical image path `path`; null for the base image. */
  ownerOf(path: string): string | null;
  /** True if `dependency` is in `pkg`'s requirement closure (a package requires itself). */
  requires(pkg: string, dependency: string): boolean;
}

/** Libraries a base image may provide without any package declaring them. */
export const DEFAULT_SYSTEM_ALLOW: readonly string[] = [
  // glibc
  "ld-linux*.so.*",
  "libc.so.*",
  "libm.so.*",
  "libmvec.so.*",
  "libdl.so.*",
  "libpthread.so.*",
  "librt.so.*",
  "libutil.so.*",
  "libresolv.so.*",
  "libnsl.so.*",
  "libanl.so.*",
  "libcrypt.so.*",
  "libnss_*.so.*",
  "libthread_db.so.*",
  "libBrokenLocale.so.*",
  // GCC runtime
  "libstdc++.so.*",
  "libgcc_s.so.*",
  // X11
  "libX*.so.*",
  "libxcb*.so.*",
  "libICE.so.*",
  "libSM.so.*",
  // OpenGL and friends
  "libGL.so.*",
  "libGLX*.so.*",
  "libGLdispatch.so.*",
  "libGLU.so.*",
  "libEGL*.so.*",
  "libGLES*.so.*",
  "libOpenGL.so.*",
  "libgbm.so.*",
  "libdrm*.so.*",
  "libvulkan.so.*",
];

/** Libraries the container runtime injects (NVIDIA driver): absent from the image by design. */
export const DEFAULT_RUNTIME_PROVIDED: readonly string[] = [
  "libcuda.so*",
  "libnvidia-*.so*",
  "libnvcuvid.so*",
  "libnvoptix.so*",
  "libGLX_nvidia.so*",
  "libEGL_nvidia.so*",
];

export interface ClassifyOptions {
  /** Globs of sonames the base image may provide undeclared (default DEFAULT_SYSTEM_ALLOW). */
  systemAllow?: readonly string[];
  /** Globs of sonames that are missing from the image by design (default DEFAULT_RUNTIME_PROVIDED). */
  runtimeProvided?: readonly string[];
  /** Library family of a soname (default `libraryFamily`). */
  family?: (soname: string) => string;
}

/** A shell-style glob (*, ?, [...]) as an anchored regular expression. */
export function globToRegExp(glob: string): RegExp {
  let re = "^";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*") re += ".*";
    else if (c === "?") re += ".";
    else if (c === "[") {
      const close = glob.indexOf("]", i + 1);
      if (close < 0) re += "\\[";
      else {
        const body = glob.slice(i + 1, close);
        re += "[" + (body.startsWith("!") ? "^" + body.slice(1) : body).replace(/\\/g, "\\\\") + "]";
        i = close;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(re + "$");
}

const matchers = new WeakMap<readonly string[], (name: string) => boolean>();

/** A compiled allow-list, cached per array so thousands of trees share it. */
function matcher(globs: readonly string[]): (name: string) => boolean {
  let m = matchers.get(globs);
  if (!m) {
    const res = globs.map(globToRegExp);
    const memo = new Map<string, boolean>();
    m = (name) => {
      let hit = memo.get(name);
      if (hit === undefined) {
        hit = res.some((r) => r.test(name));
        memo.set(name, hit);
      }
      return hit;
    };
    matchers.set(globs, m);
  }
  return m;
}

/**
 * The library family of a soname: the name before ".so" with its version
 * suffix removed, so libOpenEXR-2_5.so.25 and libOpenEXR-3_1.so.30 are both
 * "libOpenEXR", libpython3.9.so.1.0 and libpython3.10.so.1.0 both
 * "libpython", libpng12/libpng16 both "libpng". Trailing digits directly
 * after an upper-case letter are kept (libX11, libQt5Core stay themselves).
 */
export function libraryFamily(soname: string): string {
  let f = families.get(soname);
  if (f === undefined) {
    f = computeFamily(soname);
    families.set(soname, f);
  }
  return f;
}

const families = new Map<string, string>();

function computeFamily(soname: string): string {
  let stem = soname;
  const so = stem.indexOf(".so");
  if (so > 0) stem = stem.slice(0, so);
  const separated = /^(.*?[A-Za-z+])[-_.]\d+(?:[._]\d+)*$/.exec(stem);
  if (separated) return separated[1]!;
  const bare = /^(.*[a-z+])\d+(?:[._]\d+)*$/.exec(stem);
  if (bare && bare[1]!.length >= 4) return bare[1]!;
  return stem;
}

function nameOf(o: LoadedObject): string {
  return o.soname ?? imageBasename(o.realPath);
}

/** Findings for one load tree. */
export function classifyLoadTree(tree: LoadTree, model: PackageModel, opts: ClassifyOptions = {}): Finding[] {
  const allowed = matcher(opts.systemAllow ?? DEFAULT_SYSTEM_ALLOW);
  const injected = matcher(opts.runtimeProvided ?? DEFAULT_RUNTIME_PROVIDED);
  const family = opts.family ?? libraryFamily;
  const out: Finding[] = [];
  const owners = new Map<string, string | null>();
  const owner = (p: string): string | null => {
    if (!owners.has(p)) owners.set(p, model.ownerOf(p));
    return owners.get(p)!;
  };
  const ref = (p: string): FileRef => ({ path: p, package: owner(p) });
  const root = tree.root;

  for (const p of tree.problems) {
    if (p.kind === "not-elf" || p.kind === "not-dynamic") continue;
    const kind =
      p.kind === "interpreter-missing"
        ? "missing"
        : p.kind === "wrong-architecture"
          ? "wrong-architecture"
          : p.kind === "unreadable"
            ? "unreadable"
            : "unloadable";
    const rootOwner =
      tree.rootIndex !== null ? owner(tree.objects[tree.rootIndex]!.realPath) : rootOwnerGuess(tree, model);
    out.push({ kind, package: rootOwner, file: root, root, message: p.message });
  }

  for (const r of tree.resolutions) {
    const needer = tree.objects[r.from]!;
    // The host program's dlopen() of the audited object is not a dependency
    // of the host's package; a failed dlopen is already a tree problem.
    if (needer.kind === "main" && needer.path !== tree.root && r.name === tree.root) continue;
    const needOwner = owner(needer.realPath);
    for (const rej of r.rejected) {
      out.push({
        kind: "wrong-architecture",
        package: owner(rej.realPath),
        file: rej.path,
        root,
        name: r.name,
        others: [{ ...ref(needer.realPath), detail: "needed by" }],
        message: `${rej.path} is ${rej.elfClass}-bit ${rej.machine}; ld.so skipped it while looking for ${r.name} for ${needer.path}`,
      });
    }
    if (r.status === "missing") {
      if (injected(r.name)) continue;
      out.push({
        kind: "missing",
        package: needOwner,
        file: needer.realPath,
        root,
        name: r.name,
        message: `${r.name} needed by ${needer.path} is not found${r.rejected.length ? " (only wrong-architecture candidates)" : ""}`,
      });
      continue;
    }
    if (r.status === "fatal") {
      out.push({
        kind: "unloadable",
        package: needOwner,
        file: needer.realPath,
        root,
        name: r.name,
        provider: r.realPath ? ref(r.realPath) : undefined,
        message: `loading ${r.name} for ${needer.path} stops ld.so: ${r.path ?? r.name}: ${r.error}`,
      });
      continue;
    }
    const provider = tree.objects[r.object!]!;
    const provOwner = owner(provider.realPath);
    if (needOwner !== null) {
      if (provOwner === null) {
        if (!allowed(r.name) && !(provider.soname && allowed(provider.soname))) {
          out.push({
            kind: "system",
            package: needOwner,
            file: needer.realPath,
            root,
            name: r.name,
            provider: ref(provider.realPath),
            message: `${r.name} needed by ${needer.path} comes from the base image (${provider.path}); no package provides it`,
          });
        }
      } else if (provOwner !== needOwner && !model.requires(needOwner, provOwner)) {
        out.push({
          kind: "undeclared",
          package: needOwner,
          file: needer.realPath,
          root,
          name: r.name,
          provider: ref(provider.realPath),
          message: `${r.name} needed by ${needer.path} comes from package ${provOwner}, which ${needOwner} does not require`,
        });
      }
    }
    const hidden = r.shadowed.filter((s) => owner(s.realPath) !== provOwner);
    if (hidden.length > 0) {
      out.push({
        kind: "conflict",
        package: provOwner,
        file: provider.realPath,
        root,
        name: r.name,
        provider: ref(provider.realPath),
        others: hidden.map((s) => ({ ...ref(s.realPath), detail: `shadowed (${s.via})` })),
        message: `${r.name} for ${needer.path} is provided by ${describeOwner(provOwner)} and also by ${hidden
          .map((s) => `${describeOwner(owner(s.realPath))} (${s.path})`)
          .join(", ")}; the first one on the search path wins`,
      });
    }
  }

  for (const v of tree.versionProblems) {
    const needer = tree.objects[v.from]!;
    const provider = tree.objects[v.provider]!;
    const needOwner = owner(needer.realPath);
    const provOwner = owner(provider.realPath);
    const newest = newestInSeries(v.version, provider.elf.dynamic?.versionDefs ?? []);
    // Say what the provider has and what would repair it: the needing package rebuilt against
    // what is there, or a provider (usually the base OS's) new enough.
    const has = newest
      ? `it defines ${versionSeries(v.version)} versions up to ${newest}`
      : `it defines no ${versionSeries(v.version)} versions`;
    const fix =
      needOwner !== null
        ? `rebuild ${needOwner} for ${provOwner === null ? "this base OS" : `package ${provOwner}`}, or use ${provOwner === null ? "a base" : "a version"} whose ${v.file} defines ${v.version}`
        : `the base image's own ${needer.path} needs a newer ${v.file}`;
    out.push({
      kind: "missing-version",
      package: needOwner,
      file: needer.realPath,
      root,
      name: v.file,
      provider: ref(provider.realPath),
      version: { needed: v.version, newest },
      message: `${v.weak ? "weak " : ""}version ${v.version} of ${v.file} needed by ${needer.path} is not defined by ${provider.path} (${has}): ${fix}`,
    });
  }

  // Two sonames of one library family in one process.
  const families = new Map<string, LoadedObject[]>();
  for (const e of tree.order) {
    if (!("object" in e)) continue;
    const o = tree.objects[e.object]!;
    if (o.kind === "main") continue;
    const f = family(nameOf(o));
    const list = families.get(f);
    if (list) list.push(o);
    else families.set(f, [o]);
  }
  for (const [f, members] of families) {
    const sonames = new Set(members.map(nameOf));
    if (sonames.size < 2) continue;
    out.push({
      kind: "conflict",
      package: tree.rootIndex !== null ? owner(tree.objects[tree.rootIndex]!.realPath) : null,
      file: root,
      root,
      others: members.map((m) => ({ ...ref(m.realPath), detail: nameOf(m) })),
      message: `${root} loads ${[...sonames].join(" and ")}: two versions of ${f} in one process`,
    });
  }

  // Search-path entries naming absolute directories that do not exist in the image.
  for (const e of tree.order) {
    if (!("object" in e)) continue;
    const o = tree.objects[e.object]!;
    const objOwner = owner(o.realPath);
    if (objOwner === null) continue;
    for (const [what, dirs] of [
      ["RUNPATH", o.runpath],
      ["RPATH", o.rpath],
    ] as const) {
      for (const d of dirs ?? []) {
        const leak = leakOf(d);
        if (leak) {
          out.push({
            kind: "host-leak",
            package: objOwner,
            file: o.realPath,
            root,
            message: `${what} of ${o.path}: ${leak}`,
          });
        }
      }
    }
  }
  for (const d of tree.ldLibraryPath) {
    const leak = leakOf(d);
    if (leak)
      out.push({
        kind: "host-leak",
        package: undefined,
        file: "LD_LIBRARY_PATH",
        root,
        message: `LD_LIBRARY_PATH: ${leak}`,
      });
  }
  return out;
}

function leakOf(d: SearchDir): string | null {
  if (d.raw.includes("$")) return null;
  if (d.dir === "" || !d.dir.startsWith("/")) return `relative entry "${d.raw}" depends on the working directory`;
  if (!d.exists) return `${d.raw} does not exist in the image (a path from the build host?)`;
  return null;
}

function describeOwner(o: string | null): string {
  return o === null ? "the base image" : `package ${o}`;
}

function rootOwnerGuess(tree: LoadTree, model: PackageModel): string | null {
  return model.ownerOf(tree.root);
}

/**
 * Environment values that point outside the image: every ":"-separated
 * absolute element of the chosen variables (default: all) that does not
 * exist in the image.
 */
export function environmentHostLeaks(
  image: ImageFs,
  env: Readonly<Record<string, string>>,
  opts: { variables?: readonly string[]; root?: string } = {},
): Finding[] {
  const out: Finding[] = [];
  const names = opts.variables ?? Object.keys(env).sort();
  for (const name of names) {
    const value = env[name];
    if (value === undefined) continue;
    for (const element of value.split(":")) {
      if (!element.startsWith("/")) continue;
      if (resolveImagePath(image, element).ok) continue;
      out.push({
        kind: "host-leak",
        package: undefined,
        file: `$${name}`,
        root: opts.root ?? "environment",
        message: `${name} contains ${element}, which does not exist in the image`,
      });
    }
  }
  return out;
}

/**
 * One finding per (kind, file, name, provider, message): the same broken
 * dependency shows up in every tree that loads the object.
 */
export function dedupeFindings(findings: readonly Finding[]): Finding[] {
  const seen = new Map<string, Finding>();
  for (const f of findings) {
    const key = [f.kind, f.file, f.name ?? "", f.provider?.path ?? "", f.message].join("\0");
    if (!seen.has(key)) seen.set(key, f);
  }
  return [...seen.values()];
}
