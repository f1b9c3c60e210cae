/**
 * The standard-library modules real package definitions import (`os`,
 * `os.path`, `sys`, `platform`, `ast`, `json`), with CPython's meaning, and the
 * import machinery's module objects.
 *
 * Host queries: `platform.*`, `sys.platform`, `os.environ`, `os.getcwd()` and
 * the file-system tests of `os.path` ask the machine Rez would run on. They are
 * answered by a PythonHost, the real host by default (as Rez answers them), or
 * the platform being resolved for when the embedding program passes one (an
 * image's `platform`/`arch`/`os`): see targetPythonHost. Every answer is
 * reported to a listener with the file and line that asked, so `repo check
 * --verbose` can say which packages depend on where they are loaded.
 * File-system queries are real reads of the host, as Rez's are.
 */
import fs from "node:fs";
import os from "node:os";
import { spawnSync } from "node:child_process";
import { arity, bindArgs, noKwargs } from "./args.js";
import { CPYTHON_HINT, FatalPythonError } from "./errors.js";
import { floatRepr } from "./repr.js";
import { iterate, orderCompare } from "./ops.js";
import { parseModule } from "./ast.js";
import { exceptionType } from "./builtins.js";
import type { ExprNode } from "./ast.js";
import {
  HostObject,
  PyBuiltin,
  PyDict,
  PyException,
  PyExceptionType,
  PyExceptionValue,
  PyFloat,
  PySet,
  PyTuple,
  typeName,
  type CallContext,
  type PyValue,
} from "./values.js";

// ---------------------------------------------------------------------------
// Refusals

/**
 * The sentence for Python that real packages use but this evaluator does not
 * evaluate (a process, a module shipped next to the package, an unsupported
 * function): which construct, and what the way out is.
 */
export function outsideSubsetMessage(construct: string): string {
  return `${construct} is not evaluated by Tantalus's Python evaluator; ${CPYTHON_HINT}`;
}

export function outsideSubset(construct: string): FatalPythonError {
  return new FatalPythonError("not-allowed", outsideSubsetMessage(construct));
}

// ---------------------------------------------------------------------------
// Modules

type Member = PyValue | (() => PyValue);

/**
 * A module object. Members may be computed when read (host queries are asked,
 * and reported, each time the package reads them). A name the module does not provide
 * is refused with the sentence above, not an AttributeError: the real module
 * has it, so the package is valid Python that Tantalus cannot evaluate.
 */
export class PyModule extends HostObject {
  readonly pyTypeName = "module";
  private readonly members = new Map<string, Member>();

  constructor(
    readonly name: string,
    members: Record<string, Member> = {},
    /** For modules whose every name has a value (Rez's lint_helper): the value of any other name. */
    private readonly fallback?: (name: string) => PyValue | undefined,
    /** Names `from m import *` binds (Python: public names, or __all__); null: __all__ is None (a TypeError). */
    private readonly starNames?: readonly string[] | null,
  ) {
    super();
    for (const [k, v] of Object.entries(members)) this.members.set(k, v);
  }

  set(name: string, value: Member): void {
    this.members.set(name, value);
  }

  has(name: string): boolean {
    return this.members.has(name) || this.fallback?.(name) !== undefined;
  }

  override getAttr(name: string): PyValue {
    const m = this.members.get(name);
    if (m !== undefined) {
      // Computed members are host queries: asked (and reported) on every read.
      if (typeof m === "function") return m();
      return m;
    }
    const f = this.fallback?.(name);
    if (f !== undefined) return f;
    throw outsideSubset(`'${this.name}.${name}'`);
  }

  /** The names and values `from <module> import *` binds. */
  starImport(): [string, PyValue][] {
    // Rez's lint_helper answers None for __all__ too, so Python fails to iterate it.
    if (this.starNames === null) throw new PyException("TypeError", "'NoneType' object is not iterable");
    const names = this.starNames ?? [...this.members.keys()].filter((n) => !n.startsWith("_"));
    return names.map((n) => [n, this.getAttr(n)]);
  }

  override repr(): string {
    return `<module '${this.name}'>`;
  }
}

/** Resolves a dotted module name for `import`; undefined: no such module here. */
export type Importer = (name: string) => PyModule | undefined;

/** Chains importers: the first that knows the module wins. */
export function chainImporters(...importers: Importer[]): Importer {
  return (name) => {
    for (const imp of importers) {
      const m = imp(name);
      if (m) return m;
    }
    return undefined;
  };
}

// ---------------------------------------------------------------------------
// The host

/** What host queries answer. */
export interface PythonHost {
  /** platform.system(): "Linux", "Darwin", "Windows". */
  system(): string;
  /** platform.machine(): "x86_64", "aarch64". */
  machine(): string;
  /** platform.release(): the kernel release. */
  release(): string;
  /** platform.node(): the host name. */
  node(): string;
  /** platform.version(): the kernel version string. */
  version(): string;
  /** platform.processor(). */
  processor(): string;
  /** sys.platform: "linux", "darwin", "win32". */
  sysPlatform(): string;
  /** sys.version_info's first three fields and sys.version, of the Python Rez runs in. */
  python(): { major: number; minor: number; micro: number; releaselevel: string; serial: number; version: string };
  /** os.environ. */
  environ(): Readonly<Record<string, string | undefined>>;
  /** os.getcwd(). */
  cwd(): string;
  /**
   * Where the file-system tests (`os.path.exists`/`isdir`/`isfile`/`islink`/
   * `lexists`, pathlib's) find an absolute path the process asks about, on this
   * machine. Omitted: the path itself, as for Rez, which asks the machine it
   * runs on. A process that is not this machine's (an image being captured)
   * answers from where its content is here; `buildHost` marks a path whose
   * content is not here, answered by this machine's own file instead, which
   * the query then says.
   */
  locate?(path: string): { path: string; buildHost?: boolean };
}

let hostPython: ReturnType<PythonHost["python"]> | undefined;

/** The Python on PATH (what Rez runs in when started as `rez`), asked once, and only when a package asks. */
function askHostPython(): ReturnType<PythonHost["python"]> {
  if (hostPython) return hostPython;
  const p = spawnSync("python3", ["-c", "import sys, json; print(json.dumps([list(sys.version_info), sys.version]))"], {
    encoding: "utf8",
  });
  if (p.status !== 0 || !p.stdout) {
    throw new FatalPythonError(
      "host",
      "sys.version_info: no python3 on this host to answer for the Python Rez would run in",
    );
  }
  const [[major, minor, micro, releaselevel, serial], version] = JSON.parse(p.stdout) as [
    [number, number, number, string, number],
    string,
  ];
  hostPython = { major, minor, micro, releaselevel, serial, version };
  return hostPython;
}

const SYSTEM_NAMES: Record<string, string> = { linux: "Linux", darwin: "Darwin", win32: "Windows", freebsd: "FreeBSD" };

/** The machine Tantalus runs on: what Rez answers when it loads the package here. */
export const realPythonHost: PythonHost = {
  system: () => os.type(),
  machine: () => os.machine(),
  release: () => os.release(),
  node: () => (os.hostname().split(".")[0] === os.hostname() ? os.hostname() : os.hostname()),
  version: () => os.version(),
  // CPython on Linux reads `uname -p`, which is "unknown" there and reported as "".
  processor: () => (os.platform() === "linux" ? "" : os.machine()),
  sysPlatform: () => os.platform(),
  python: askHostPython,
  environ: () => process.env,
  cwd: () => process.cwd(),
};

/**
 * The host seen from a package resolved for a target platform (an image's
 * `platform`, `arch`, `os` in Rez's names): platform.system(), machine() and
 * sys.platform answer for the target. The kernel (release(), version()) is the
 * host's, as it is inside a container; everything else falls through to `base`.
 */
export function targetPythonHost(
  target: { platform: string; arch: string },
  base: PythonHost = realPythonHost,
): PythonHost {
  const sysPlatform = target.platform === "windows" ? "win32" : target.platform === "osx" ? "darwin" : target.platform;
  return {
    ...base,
    system: () => SYSTEM_NAMES[sysPlatform] ?? target.platform,
    machine: () => target.arch,
    sysPlatform: () => sysPlatform,
  };
}

/** A host query as reported to the listener: e.g. `platform.system()` answered "Linux". */
export interface HostQuery {
  kind: "platform" | "environment" | "filesystem";
  query: string;
  answer: string;
  /** A file-system answer this machine gave for a process that is not its own (PythonHost.locate's buildHost). */
  buildHost?: boolean;
  file: string;
  line?: number;
}

export type HostQueryListener = (q: HostQuery) => void;

// ---------------------------------------------------------------------------
// Helpers

/** Functions of the modules here: Rez drops them from package attributes (`from os.path import join`). */
export const MODULE_FUNCTIONS = new WeakSet<PyBuiltin>();

export function moduleFunction(
  name: string,
  impl: (args: PyValue[], kwargs: Map<string, PyValue>, ctx: CallContext) => PyValue,
): PyBuiltin {
  const b = new PyBuiltin(name, impl);
  MODULE_FUNCTIONS.add(b);
  return b;
}

const fn = moduleFunction;

function strArg(fname: string, v: PyValue | undefined, what = "path"): string {
  if (typeof v === "string") return v;
  if (v instanceof HostObject && v.pyTypeName === "PosixPath") return (v as unknown as { path: string }).path;
  throw new PyException("TypeError", `${fname}: ${what} should be string, not ${typeName(v ?? null)}`);
}

/** A read-only mapping over the host environment (os.environ). */
class Environ extends HostObject {
  readonly pyTypeName = "_Environ";
  constructor(
    private readonly env: () => Readonly<Record<string, string | undefined>>,
    private readonly asked: (query: string, answer: string) => void,
  ) {
    super();
  }

  private value(key: string): string | undefined {
    const v = this.env()[key];
    this.asked(`os.environ[${JSON.stringify(key)}]`, v === undefined ? "<unset>" : v);
    return v;
  }

  override getItem(key: PyValue): PyValue {
    if (typeof key !== "string") throw new PyException("TypeError", `str expected, not ${typeName(key)}`);
    const v = this.value(key);
    if (v === undefined) throw new PyException("KeyError", `'${key}'`);
    return v;
  }

  override setItem(key: PyValue): void {
    throw outsideSubset(`changing os.environ (${typeof key === "string" ? `'${key}'` : "a key"})`);
  }

  override contains(key: PyValue): boolean {
    return typeof key === "string" && this.value(key) !== undefined;
  }

  override getAttr(name: string): PyValue | undefined {
    if (name === "get") {
      return fn("get", (args, kwargs) => {
        noKwargs("get", kwargs);
        arity("get", args, 1, 2);
        const k = args[0]!;
        const v = typeof k === "string" ? this.value(k) : undefined;
        return v === undefined ? (args[1] ?? null) : v;
      });
    }
    if (name === "copy") return fn("copy", () => PyDict.from(this.all()));
    if (name === "keys" || name === "items" || name === "values") {
      return fn(name, () => {
        const d = PyDict.from(this.all());
        return name === "keys"
          ? [...d.keys()]
          : name === "values"
            ? [...d.values()]
            : [...d.entries()].map(([k, v]) => new PyTuple([k, v]));
      });
    }
    return undefined;
  }

  private all(): [PyValue, PyValue][] {
    this.asked("os.environ (all of it)", "…");
    return Object.entries(this.env()).filter((e): e is [string, string] => e[1] !== undefined);
  }

  override iterate(): Iterable<PyValue> {
    return this.all().map(([k]) => k);
  }

  override length(): number {
    return this.all().length;
  }

  override repr(): string {
    return "environ({...})";
  }
}

/** sys.version_info: a tuple that also has named fields. */
class VersionInfo extends HostObject {
  readonly pyTypeName = "sys.version_info";
  constructor(readonly items: PyValue[]) {
    super();
  }
  override getAttr(name: string): PyValue | undefined {
    const i = ["major", "minor", "micro", "releaselevel", "serial"].indexOf(name);
    return i < 0 ? undefined : this.items[i];
  }
  override getItem(key: PyValue, ctx: CallContext): PyValue {
    return ctx.getItem(new PyTuple(this.items), key);
  }
  override asTuple(): readonly PyValue[] {
    return this.items;
  }
  override iterate(): Iterable<PyValue> {
    return this.items;
  }
  override length(): number {
    return 5;
  }
  override equals(other: PyValue): boolean {
    const o = other instanceof VersionInfo ? other.items : other instanceof PyTuple ? other.items : undefined;
    return o !== undefined && orderCompare(new PyTuple(this.items), new PyTuple(o)) === 0;
  }
  override compare(other: PyValue): number | undefined {
    const o = other instanceof VersionInfo ? other.items : other instanceof PyTuple ? other.items : undefined;
    return o === undefined ? undefined : orderCompare(new PyTuple(this.items), new PyTuple(o));
  }
  override hashKey(): unknown {
    return undefined;
  }
  override repr(ctx: CallContext): string {
    const [a, b, c, d, e] = this.items;
    return `sys.version_info(major=${ctx.repr(a!)}, minor=${ctx.repr(b!)}, micro=${ctx.repr(c!)}, releaselevel=${ctx.repr(d!)}, serial=${ctx.repr(e!)})`;
  }
}

// ---------------------------------------------------------------------------
// posixpath, exactly as CPython's

export function pathJoin(a: string, rest: string[]): string {
  let p = a;
  for (const b of rest) {
    if (b.startsWith("/")) p = b;
    else if (p === "" || p.endsWith("/")) p += b;
    else p += "/" + b;
  }
  return p;
}

export function pathSplit(p: string): [string, string] {
  const i = p.lastIndexOf("/") + 1;
  let head = p.slice(0, i);
  const tail = p.slice(i);
  if (head && head !== "/".repeat(head.length)) head = head.replace(/\/+$/, "");
  return [head, tail];
}

export function pathSplitext(p: string): [string, string] {
  const sep = p.lastIndexOf("/");
  const dot = p.lastIndexOf(".");
  if (dot > sep) {
    for (let i = sep + 1; i < dot; i++) if (p[i] !== ".") return [p.slice(0, dot), p.slice(dot)];
  }
  return [p, ""];
}

export function pathNormpath(p: string): string {
  if (p === "") return ".";
  let initial = p.startsWith("/") ? 1 : 0;
  if (initial && p.startsWith("//") && !p.startsWith("///")) initial = 2;
  const out: string[] = [];
  for (const comp of p.split("/")) {
    if (comp === "" || comp === ".") continue;
    if (comp !== ".." || (!initial && out.length === 0) || (out.length > 0 && out[out.length - 1] === ".."))
      out.push(comp);
    else if (out.length > 0) out.pop();
  }
  const joined = "/".repeat(initial) + out.join("/");
  return joined || ".";
}

// ---------------------------------------------------------------------------
// The standard-library modules

/** Builds the modules for one evaluation; `report` receives each host query with the line that asked. */
export function stdlibImporter(
  host: PythonHost,
  report: (kind: HostQuery["kind"], query: string, answer: string, buildHost?: boolean) => void,
): Importer {
  const modules = new Map<string, PyModule>();
  const platformQuery = (name: string, get: () => string) =>
    fn(name, (args, kwargs) => {
      noKwargs(name, kwargs);
      arity(name, args, 0, 0);
      const v = get();
      report("platform", `platform.${name}()`, v);
      return v;
    });

  const stat = (query: string, rel: string, follow: boolean): fs.Stats | undefined => {
    let st: fs.Stats | undefined;
    // A relative path is relative to the working directory of the process Rez runs in.
    const asked = rel.startsWith("/") ? rel : pathJoin(host.cwd(), [rel]);
    const where = host.locate?.(asked) ?? { path: asked };
    try {
      const p = where.path;
      st = p.includes("\0")
        ? undefined
        : follow
          ? fs.statSync(p, { throwIfNoEntry: false })
          : fs.lstatSync(p, { throwIfNoEntry: false });
    } catch {
      st = undefined; // Python's exists()/isdir() are False on any OSError
    }
    const answer = st ? (st.isDirectory() ? "directory" : st.isFile() ? "file" : "other") : "missing";
    report("filesystem", query, answer, where.buildHost);
    return st;
  };
  const fsTest = (name: string, test: (st: fs.Stats | undefined) => boolean, follow = true) =>
    fn(name, (args, kwargs) => {
      const [p] = bindArgs(name, args, kwargs, ["path"], 1);
      const path = strArg(name, p);
      return test(stat(`os.path.${name}(${JSON.stringify(path)})`, path, follow));
    });
  const cwd = (): string => {
    const c = host.cwd();
    report("filesystem", "os.getcwd()", c);
    return c;
  };
  const environ = new Environ(
    () => host.environ(),
    (q, a) => report("environment", q, a),
  );
  const expanduser = (p: string): string => {
    if (!p.startsWith("~")) return p;
    let i = p.indexOf("/", 1);
    if (i < 0) i = p.length;
    if (i !== 1) throw outsideSubset(`os.path.expanduser of another user's home ('${p.slice(0, i)}')`);
    const home = host.environ().HOME;
    report("environment", 'os.environ["HOME"]', home ?? "<unset>");
    if (home === undefined) throw outsideSubset("os.path.expanduser without HOME set");
    return home.replace(/\/+$/, "") + p.slice(i) || "/";
  };

  const osPath = new PyModule("posixpath", {
    sep: "/",
    pathsep: ":",
    curdir: ".",
    pardir: "..",
    extsep: ".",
    join: fn("join", (args, kwargs) => {
      noKwargs("join", kwargs);
      if (args.length === 0) throw new PyException("TypeError", "join() missing 1 required positional argument: 'a'");
      const parts = args.map((a) => {
        if (typeof a !== "string")
          throw new PyException(
            "TypeError",
            `join() argument must be str, bytes, or os.PathLike object, not '${typeName(a)}'`,
          );
        return a;
      });
      return pathJoin(parts[0]!, parts.slice(1));
    }),
    dirname: fn(
      "dirname",
      (args, kwargs) => pathSplit(strArg("dirname", bindArgs("dirname", args, kwargs, ["p"], 1)[0]))[0],
    ),
    basename: fn(
      "basename",
      (args, kwargs) => pathSplit(strArg("basename", bindArgs("basename", args, kwargs, ["p"], 1)[0]))[1],
    ),
    split: fn(
      "split",
      (args, kwargs) => new PyTuple(pathSplit(strArg("split", bindArgs("split", args, kwargs, ["p"], 1)[0]))),
    ),
    splitext: fn(
      "splitext",
      (args, kwargs) => new PyTuple(pathSplitext(strArg("splitext", bindArgs("splitext", args, kwargs, ["p"], 1)[0]))),
    ),
    normpath: fn("normpath", (args, kwargs) =>
      pathNormpath(strArg("normpath", bindArgs("normpath", args, kwargs, ["path"], 1)[0])),
    ),
    isabs: fn("isabs", (args, kwargs) => strArg("isabs", bindArgs("isabs", args, kwargs, ["s"], 1)[0]).startsWith("/")),
    abspath: fn("abspath", (args, kwargs) => {
      const p = strArg("abspath", bindArgs("abspath", args, kwargs, ["path"], 1)[0]);
      return pathNormpath(p.startsWith("/") ? p : pathJoin(cwd(), [p]));
    }),
    expanduser: fn("expanduser", (args, kwargs) =>
      expanduser(strArg("expanduser", bindArgs("expanduser", args, kwargs, ["path"], 1)[0])),
    ),
    exists: fsTest("exists", (st) => st !== undefined),
    lexists: fsTest("lexists", (st) => st !== undefined, false),
    isfile: fsTest("isfile", (st) => st?.isFile() ?? false),
    isdir: fsTest("isdir", (st) => st?.isDirectory() ?? false),
    islink: fsTest("islink", (st) => st?.isSymbolicLink() ?? false, false),
  });
  modules.set("os.path", osPath);
  modules.set("posixpath", osPath);

  modules.set(
    "os",
    new PyModule("os", {
      path: osPath,
      sep: "/",
      altsep: null,
      pathsep: ":",
      linesep: "\n",
      curdir: ".",
      pardir: "..",
      extsep: ".",
      devnull: "/dev/null",
      name: () => (host.sysPlatform() === "win32" ? "nt" : "posix"),
      environ,
      getenv: fn("getenv", (args, kwargs) => {
        const [k, d] = bindArgs("getenv", args, kwargs, ["key", "default"], 1);
        if (typeof k !== "string") throw new PyException("TypeError", `str expected, not ${typeName(k ?? null)}`);
        return environ.contains(k) ? environ.getItem(k) : (d ?? null);
      }),
      getcwd: fn("getcwd", (args, kwargs) => {
        noKwargs("getcwd", kwargs);
        arity("getcwd", args, 0, 0);
        return cwd();
      }),
    }),
  );

  modules.set(
    "sys",
    new PyModule("sys", {
      platform: () => {
        const v = host.sysPlatform();
        report("platform", "sys.platform", v);
        return v;
      },
      version_info: () => {
        const p = host.python();
        report("platform", "sys.version_info", `${p.major}.${p.minor}.${p.micro}`);
        return new VersionInfo([p.major, p.minor, p.micro, p.releaselevel, p.serial]);
      },
      version: () => {
        const p = host.python();
        report("platform", "sys.version", p.version);
        return p.version;
      },
      hexversion: () => {
        const p = host.python();
        report("platform", "sys.hexversion", `${p.major}.${p.minor}.${p.micro}`);
        const level = { alpha: 0xa, beta: 0xb, candidate: 0xc, final: 0xf }[p.releaselevel] ?? 0xf;
        return (p.major << 24) | (p.minor << 16) | (p.micro << 8) | (level << 4) | p.serial;
      },
      maxsize: 9223372036854775807n,
      byteorder: "little",
      maxunicode: 0x10ffff,
    }),
  );

  modules.set(
    "platform",
    new PyModule("platform", {
      system: platformQuery("system", () => host.system()),
      machine: platformQuery("machine", () => host.machine()),
      release: platformQuery("release", () => host.release()),
      node: platformQuery("node", () => host.node()),
      version: platformQuery("version", () => host.version()),
      processor: platformQuery("processor", () => host.processor()),
      python_version: platformQuery("python_version", () => {
        const p = host.python();
        return `${p.major}.${p.minor}.${p.micro}`;
      }),
      python_version_tuple: fn("python_version_tuple", () => {
        const p = host.python();
        report("platform", "platform.python_version_tuple()", `${p.major}.${p.minor}.${p.micro}`);
        return new PyTuple([String(p.major), String(p.minor), String(p.micro)]);
      }),
    }),
  );

  modules.set("ast", new PyModule("ast", { literal_eval: LITERAL_EVAL }));

  // pathlib: pure path arithmetic as PurePosixPath does it; exists()/is_file()/is_dir(), cwd(), home() ask the host.
  const pathOps: PathHostOps = {
    stat: (query, p) => stat(query, p, true),
    cwd,
    home: () => expanduser("~"),
  };
  const pathModule = new PyModule("pathlib", {
    Path: new PathClass("Path", pathOps),
    PosixPath: new PathClass("PosixPath", pathOps),
    PurePath: new PathClass("PurePath", pathOps),
    PurePosixPath: new PathClass("PurePosixPath", pathOps),
  });
  modules.set("pathlib", pathModule);
  modules.set(
    "json",
    new PyModule("json", { loads: JSON_LOADS, dumps: JSON_DUMPS, JSONDecodeError: JSON_DECODE_ERROR }),
  );

  return (name) => modules.get(name);
}

// ---------------------------------------------------------------------------
// pathlib

interface PathHostOps {
  stat(query: string, p: string): fs.Stats | undefined;
  cwd(): string;
  home(): string;
}

/** The Path class: called to make a path; Path.cwd() and Path.home() ask the host. */
class PathClass extends HostObject {
  readonly pyTypeName = "type";
  constructor(
    /** The class's __name__: a class imported into package.py stays an attribute in Rez (it is not a function). */
    readonly name: string,
    private readonly ops: PathHostOps,
  ) {
    super();
  }
  override call(args: PyValue[], kwargs: Map<string, PyValue>): PyValue {
    if (kwargs.size) throw new PyException("TypeError", "Path() takes no keyword arguments");
    return PosixPath.of(args, this.ops);
  }
  override getAttr(name: string): PyValue | undefined {
    if (name === "cwd") return fn("cwd", () => PosixPath.of([this.ops.cwd()], this.ops));
    if (name === "home") return fn("home", () => PosixPath.of([this.ops.home()], this.ops));
    return undefined;
  }
  override repr(): string {
    return `<class 'pathlib.${this.name}'>`;
  }
}

/** pathlib's Path on POSIX: parts, root, and the operations that need no host. */
class PosixPath extends HostObject {
  readonly pyTypeName = "PosixPath";
  readonly path: string;

  private constructor(
    readonly root: string,
    readonly parts: readonly string[],
    private readonly ops: PathHostOps,
  ) {
    super();
    this.path = root + parts.join("/") || ".";
  }

  /** PurePosixPath(*segments): a later absolute segment restarts; '' and '.' parts vanish; '//' is kept. */
  static of(segments: readonly PyValue[], ops: PathHostOps): PosixPath {
    let root = "";
    const parts: string[] = [];
    for (const seg of segments) {
      const s = seg instanceof PosixPath ? seg.path : seg;
      if (typeof s !== "string")
        throw new PyException("TypeError", `expected str, bytes or os.PathLike object, not ${typeName(seg)}`);
      if (s.startsWith("/")) {
        root = s.startsWith("//") && !s.startsWith("///") ? "//" : "/";
        parts.length = 0;
      }
      for (const x of s.split("/")) if (x && x !== ".") parts.push(x);
    }
    return new PosixPath(root, parts, ops);
  }

  private get name(): string {
    return this.parts.length ? this.parts[this.parts.length - 1]! : "";
  }

  private get suffix(): string {
    const n = this.name;
    const i = n.lastIndexOf(".");
    return i > 0 && i < n.length - 1 ? n.slice(i) : "";
  }

  private with(parts: readonly string[]): PosixPath {
    return new PosixPath(this.root, parts, this.ops);
  }

  private test(method: string, check: (st: fs.Stats | undefined) => boolean): PyBuiltin {
    return fn(method, () => {
      const abs = this.root ? this.path : pathJoin(this.ops.cwd(), [this.path]);
      return check(this.ops.stat(`Path(${JSON.stringify(this.path)}).${method}()`, abs));
    });
  }

  override getAttr(name: string): PyValue | undefined {
    switch (name) {
      case "name":
        return this.name;
      case "suffix":
        return this.suffix;
      case "stem": {
        const sfx = this.suffix;
        return sfx ? this.name.slice(0, -sfx.length) : this.name;
      }
      case "suffixes": {
        const n = this.name;
        if (n.endsWith(".")) return [];
        return n
          .replace(/^\.+/, "")
          .split(".")
          .slice(1)
          .map((x) => "." + x);
      }
      case "parent":
        return this.parts.length ? this.with(this.parts.slice(0, -1)) : this;
      case "parts":
        return new PyTuple(this.root ? [this.root, ...this.parts] : [...this.parts]);
      case "root":
      case "anchor":
        return this.root;
      case "drive":
        return "";
      case "is_absolute":
        return fn("is_absolute", () => this.root !== "");
      case "as_posix":
        return fn("as_posix", () => this.path);
      case "joinpath":
        return fn("joinpath", (args) => PosixPath.of([this, ...args], this.ops));
      case "with_name":
        return fn("with_name", (args) => {
          const n = args[0];
          if (typeof n !== "string" || !n || n.includes("/") || n === ".")
            throw new PyException("ValueError", `Invalid name ${typeof n === "string" ? `'${n}'` : ""}`.trim());
          if (!this.name) throw new PyException("ValueError", `PosixPath('${this.path}') has an empty name`);
          return this.with([...this.parts.slice(0, -1), n]);
        });
      case "with_suffix":
        return fn("with_suffix", (args) => {
          const sfx = args[0];
          if (typeof sfx !== "string" || sfx.includes("/") || (sfx && (!sfx.startsWith(".") || sfx === ".")))
            throw new PyException("ValueError", `Invalid suffix ${typeof sfx === "string" ? `'${sfx}'` : ""}`.trim());
          if (!this.name) throw new PyException("ValueError", `PosixPath('${this.path}') has an empty name`);
          const cur = this.suffix;
          const stem = cur ? this.name.slice(0, -cur.length) : this.name;
          return this.with([...this.parts.slice(0, -1), stem + sfx]);
        });
      case "exists":
        return this.test("exists", (st) => st !== undefined);
      case "is_file":
        return this.test("is_file", (st) => st?.isFile() ?? false);
      case "is_dir":
        return this.test("is_dir", (st) => st?.isDirectory() ?? false);
      case "absolute":
        return fn("absolute", () => (this.root ? this : PosixPath.of([this.ops.cwd(), this], this.ops)));
      case "expanduser":
        return fn("expanduser", () =>
          this.parts[0] === "~" && !this.root
            ? PosixPath.of([this.ops.home(), ...this.parts.slice(1)], this.ops)
            : this,
        );
      default:
        return undefined;
    }
  }

  override binaryOp(op: string, other: PyValue, reflected: boolean): PyValue | undefined {
    if (op !== "Div" || !(typeof other === "string" || other instanceof PosixPath)) return undefined;
    return reflected ? PosixPath.of([other, this], this.ops) : PosixPath.of([this, other], this.ops);
  }

  override str(): string {
    return this.path;
  }

  override repr(): string {
    return `PosixPath(${JSON.stringify(this.path).replace(/^"|"$/g, "'")})`;
  }

  override equals(other: PyValue): boolean {
    return other instanceof PosixPath && other.path === this.path;
  }

  override hashKey(): unknown {
    return `PosixPath:${this.path}`;
  }

  override compare(other: PyValue): number | undefined {
    if (!(other instanceof PosixPath)) return undefined;
    return this.path < other.path ? -1 : this.path > other.path ? 1 : 0;
  }
}

// ---------------------------------------------------------------------------
// ast.literal_eval

function malformed(node: ExprNode): PyException {
  return new PyException(
    "ValueError",
    `malformed node or string on line ${node.lineno}: <ast.${node.nodeType} object>`,
  );
}

function literalValue(node: ExprNode, ctx: CallContext): PyValue {
  switch (node.nodeType) {
    case "Constant": {
      const v = (node as { pyValue?: PyValue }).pyValue;
      if (v === undefined) throw malformed(node);
      return v;
    }
    case "Tuple":
      return new PyTuple(node.elts.map((e) => literalValue(e, ctx)));
    case "List":
      return node.elts.map((e) => literalValue(e, ctx));
    case "Set":
      return new PySet(node.elts.map((e) => literalValue(e, ctx)));
    case "Dict": {
      const d = new PyDict();
      node.keys.forEach((k, i) => {
        if (!k) throw malformed(node);
        d.set(literalValue(k, ctx), literalValue(node.values[i]!, ctx));
      });
      return d;
    }
    case "Call":
      // set() is the only call literal_eval accepts.
      if (
        node.func.nodeType === "Name" &&
        node.func.id === "set" &&
        node.args.length === 0 &&
        node.keywords.length === 0
      )
        return new PySet();
      throw malformed(node);
    case "UnaryOp": {
      const v = literalValue(node.operand, ctx);
      const op = node.op.nodeType;
      if (
        (op === "USub" || op === "UAdd") &&
        (typeof v === "number" || typeof v === "bigint" || v instanceof PyFloat)
      ) {
        if (op === "UAdd") return v;
        if (v instanceof PyFloat) return new PyFloat(-v.value);
        return typeof v === "bigint" ? -v : v === 0 ? 0 : -v;
      }
      throw malformed(node);
    }
    default:
      throw malformed(node);
  }
}

const LITERAL_EVAL = fn("literal_eval", (args, kwargs, ctx) => {
  const [src] = bindArgs("literal_eval", args, kwargs, ["node_or_string"], 1);
  if (typeof src !== "string")
    throw outsideSubset(`ast.literal_eval of a ${typeName(src ?? null)} (only a string is evaluated)`);
  const text = src.replace(/^[ \t]+/, "");
  let mod;
  try {
    mod = parseModule(text, "<unknown>");
  } catch (err) {
    throw new PyException(
      "SyntaxError",
      err instanceof Error ? err.message.replace(/^<unknown>:\d+: /, "") : String(err),
    );
  }
  const body = mod.node.body.filter((s) => s.nodeType !== "Comment");
  if (body.length !== 1 || body[0]!.nodeType !== "Expr") throw new PyException("SyntaxError", "invalid syntax");
  return literalValue(body[0].value, ctx);
});

// ---------------------------------------------------------------------------
// json

const JSON_DECODE_ERROR = new PyExceptionType("JSONDecodeError", exceptionType("ValueError"));

class JsonReader {
  i = 0;
  constructor(private readonly s: string) {}

  fail(what: string, at = this.i): never {
    const before = this.s.slice(0, at);
    const line = before.split("\n").length;
    const col = at - before.lastIndexOf("\n");
    const msg = `${what}: line ${line} column ${col} (char ${at})`;
    throw new PyException("JSONDecodeError", msg, new PyExceptionValue(JSON_DECODE_ERROR, [msg], msg));
  }

  ws(): void {
    while (this.i < this.s.length && " \t\n\r".includes(this.s[this.i]!)) this.i++;
  }

  value(): PyValue {
    this.ws();
    const c = this.s[this.i];
    if (c === "{") return this.object();
    if (c === "[") return this.array();
    if (c === '"') return this.string();
    for (const [word, v] of [
      ["null", null],
      ["true", true],
      ["false", false],
      ["NaN", new PyFloat(NaN)],
      ["Infinity", new PyFloat(Infinity)],
      ["-Infinity", new PyFloat(-Infinity)],
    ] as const) {
      if (this.s.startsWith(word, this.i)) {
        this.i += word.length;
        return v;
      }
    }
    const m = /^-?(?:0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?/.exec(this.s.slice(this.i));
    if (!m) this.fail("Expecting value");
    this.i += m[0].length;
    if (m[1] === undefined && m[2] === undefined) {
      const n = Number(m[0]);
      return Number.isSafeInteger(n) ? n : BigInt(m[0]);
    }
    return new PyFloat(Number(m[0]));
  }

  string(): string {
    const start = this.i;
    this.i++;
    let out = "";
    for (;;) {
      if (this.i >= this.s.length) this.fail("Unterminated string starting at", start);
      const c = this.s[this.i]!;
      if (c === '"') {
        this.i++;
        return out;
      }
      if (c === "\\") {
        const e = this.s[this.i + 1];
        const simple: Record<string, string> = {
          '"': '"',
          "\\": "\\",
          "/": "/",
          b: "\b",
          f: "\f",
          n: "\n",
          r: "\r",
          t: "\t",
        };
        if (e !== undefined && simple[e] !== undefined) {
          out += simple[e];
          this.i += 2;
        } else if (e === "u" && /^[0-9a-fA-F]{4}$/.test(this.s.slice(this.i + 2, this.i + 6))) {
          out += String.fromCharCode(parseInt(this.s.slice(this.i + 2, this.i + 6), 16));
          this.i += 6;
        } else {
          this.fail("Invalid \\escape", this.i);
        }
        continue;
      }
      if (c.charCodeAt(0) < 0x20) this.fail("Invalid control character at", this.i);
      out += c;
      this.i++;
    }
  }

  array(): PyValue[] {
    this.i++;
    const out: PyValue[] = [];
    this.ws();
    if (this.s[this.i] === "]") {
      this.i++;
      return out;
    }
    for (;;) {
      out.push(this.value());
      this.ws();
      const c = this.s[this.i];
      this.i++;
      if (c === "]") return out;
      if (c !== ",") this.fail("Expecting ',' delimiter", this.i - 1);
    }
  }

  object(): PyDict {
    this.i++;
    const d = new PyDict();
    this.ws();
    if (this.s[this.i] === "}") {
      this.i++;
      return d;
    }
    for (;;) {
      this.ws();
      if (this.s[this.i] !== '"') this.fail("Expecting property name enclosed in double quotes");
      const k = this.string();
      this.ws();
      if (this.s[this.i] !== ":") this.fail("Expecting ':' delimiter");
      this.i++;
      d.set(k, this.value());
      this.ws();
      const c = this.s[this.i];
      this.i++;
      if (c === "}") return d;
      if (c !== ",") this.fail("Expecting ',' delimiter", this.i - 1);
    }
  }
}

const JSON_LOADS = fn("loads", (args, kwargs) => {
  const [s] = bindArgs("loads", args, kwargs, ["s"], 1);
  if (typeof s !== "string")
    throw new PyException("TypeError", `the JSON object must be str, bytes or bytearray, not ${typeName(s ?? null)}`);
  const r = new JsonReader(s);
  const v = r.value();
  r.ws();
  if (r.i !== s.length) r.fail("Extra data");
  return v;
});

function jsonString(s: string, ensureAscii: boolean): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ch = s[i]!;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\b") out += "\\b";
    else if (ch === "\f") out += "\\f";
    else if (c < 0x20 || (ensureAscii && c > 0x7e)) out += "\\u" + c.toString(16).padStart(4, "0");
    else out += ch;
  }
  return out + '"';
}

function jsonFloat(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (x === Infinity) return "Infinity";
  if (x === -Infinity) return "-Infinity";
  return floatRepr(x);
}

const JSON_DUMPS = fn("dumps", (args, kwargs, ctx) => {
  const [obj, , ensureAsciiArg, , , , , indentArg, separatorsArg, , sortKeysArg] = bindArgs(
    "dumps",
    args,
    kwargs,
    [
      "obj",
      "skipkeys",
      "ensure_ascii",
      "check_circular",
      "allow_nan",
      "cls",
      "default",
      "indent",
      "separators",
      "default_",
      "sort_keys",
    ],
    1,
    {
      keywordOnly: [
        "skipkeys",
        "ensure_ascii",
        "check_circular",
        "allow_nan",
        "cls",
        "default",
        "indent",
        "separators",
        "default_",
        "sort_keys",
      ],
    },
  );
  for (const k of kwargs.keys())
    if (["skipkeys", "check_circular", "allow_nan", "cls", "default", "default_"].includes(k))
      throw outsideSubset(`json.dumps(${k}=...)`);
  const ensureAscii =
    ensureAsciiArg === undefined ? true : ctx.str(ensureAsciiArg) !== "False" && ensureAsciiArg !== false;
  const sortKeys = sortKeysArg === true;
  let indent: string | undefined;
  if (typeof indentArg === "number") indent = " ".repeat(Math.max(0, indentArg));
  else if (typeof indentArg === "string") indent = indentArg;
  else if (indentArg !== undefined && indentArg !== null)
    throw outsideSubset(`json.dumps(indent=${ctx.repr(indentArg)})`);
  let itemSep = indent === undefined ? ", " : ",";
  let keySep = ": ";
  if (separatorsArg instanceof PyTuple || Array.isArray(separatorsArg)) {
    const items = separatorsArg instanceof PyTuple ? separatorsArg.items : separatorsArg;
    if (items.length !== 2 || typeof items[0] !== "string" || typeof items[1] !== "string")
      throw new PyException("ValueError", "separators must be a (item_separator, key_separator) tuple");
    [itemSep, keySep] = [items[0], items[1]];
  }
  const key = (k: PyValue): string => {
    if (typeof k === "string") return k;
    if (k === true) return "true";
    if (k === false) return "false";
    if (k === null) return "null";
    if (typeof k === "number" || typeof k === "bigint") return String(k);
    if (k instanceof PyFloat) return jsonFloat(k.value);
    throw new PyException("TypeError", `keys must be str, int, float, bool or None, not ${typeName(k)}`);
  };
  const seen = new Set<unknown>();
  const enc = (v: PyValue, level: number): string => {
    ctx.step();
    if (v === null) return "null";
    if (v === true) return "true";
    if (v === false) return "false";
    if (typeof v === "string") return jsonString(v, ensureAscii);
    if (typeof v === "number" || typeof v === "bigint") return String(v);
    if (v instanceof PyFloat) return jsonFloat(v.value);
    const nl = indent === undefined ? "" : "\n" + indent.repeat(level + 1);
    const close = indent === undefined ? "" : "\n" + indent.repeat(level);
    if (Array.isArray(v) || v instanceof PyTuple) {
      const items = Array.isArray(v) ? v : v.items;
      if (items.length === 0) return "[]";
      if (seen.has(v)) throw new PyException("ValueError", "Circular reference detected");
      seen.add(v);
      const s = "[" + nl + items.map((x) => enc(x, level + 1)).join(itemSep + nl) + close + "]";
      seen.delete(v);
      return s;
    }
    if (v instanceof PyDict) {
      if (v.size === 0) return "{}";
      if (seen.has(v)) throw new PyException("ValueError", "Circular reference detected");
      seen.add(v);
      let entries = [...v.entries()].map(([k, x]) => [key(k), x] as const);
      if (sortKeys) entries = entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      const s =
        "{" +
        nl +
        entries.map(([k, x]) => jsonString(k, ensureAscii) + keySep + enc(x, level + 1)).join(itemSep + nl) +
        close +
        "}";
      seen.delete(v);
      return s;
    }
    throw new PyException("TypeError", `Object of type ${typeName(v)} is not JSON serializable`);
  };
  return enc(obj ?? null, 0);
});

/** Iterates the items of a sequence argument (for callers that need a JS array). */
export function items(v: PyValue, ctx: CallContext): PyValue[] {
  return [...iterate(v, ctx)];
}
