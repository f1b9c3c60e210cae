/**
 * package.py evaluated the way Rez loads it (`src/rez/serialise.py` `_load_py`
 * and `process_python_objects`): the module runs with the globals `scope`,
 * `early`, `late`, `include`, `ModifyList` and `InvalidPackageError`; then
 * `@early()` functions are called and replaced by their result, `@late()`
 * functions and rex functions (commands...) are kept, and plain functions and
 * `__`-prefixed names are dropped.
 */
import {
  BUILTINS,
  EXCEPTION,
  HostObject,
  Interpreter,
  PyBuiltin,
  PyDict,
  PyException,
  PyExceptionType,
  PyFunction,
  PythonError,
  parseModule,
  type CallContext,
  type PyValue,
} from "../python/index.js";
import { ScopeContext } from "./scope.js";
import {
  MODULE_FUNCTIONS,
  PyModule,
  chainImporters,
  realPythonHost,
  stdlibImporter,
  type HostQuery,
  type Importer,
  type PythonHost,
} from "../python/modules.js";
import { rezImporter } from "./rez-modules.js";
import { reImporter } from "../python/regex.js";
import { hostSystem, type SystemInfo } from "../system.js";

/** Attributes holding rex code (Rez's package_rex_keys). */
export const REX_KEYS: ReadonlySet<string> = new Set([
  "pre_commands",
  "commands",
  "post_commands",
  "pre_build_commands",
  "pre_test_commands",
]);

/** Globals Rez provides to package.py, which never become attributes. */
const INJECTED = new Set(["scope", "InvalidPackageError", "__builtins__", "early", "late", "include", "ModifyList"]);

/** Rez's InvalidPackageError (a package.py may raise it). */
export const INVALID_PACKAGE_ERROR = new PyExceptionType("InvalidPackageError", EXCEPTION);

export interface EvaluateOptions {
  /**
   * Variables visible to `@early()` functions (Rez's `set_objects`). Defaults
   * as in Rez: building=False, testing=False, build_variant_index=0,
   * build_variant_requires=[].
   */
  earlyObjects?: ReadonlyMap<string, PyValue>;
  /** Interpreter to use (for its step limit and print handling). */
  interpreter?: Interpreter;
  /**
   * The platform the package is loaded for: what `platform.*`, `sys.platform`,
   * `os.environ`, `os.getcwd()` and `rez.system` answer. Default: this host,
   * as Rez answers (see targetPythonHost for an image's platform).
   */
  host?: PythonHost;
  /** Rez's system.platform/arch/os for `from rez.system import system` (default: this host's). */
  system?: SystemInfo;
}

/** Module-level names and their values in definition order, with the line each was set on. */
export interface RawAttributes {
  values: Map<string, PyValue>;
  lines: Map<string, number>;
  /** The interpreter that ran the module, for its @early functions (same imports and host). */
  interpreter?: Interpreter;
  /** Questions the code asked the host (platform, environment, file system), with the line. */
  hostQueries?: HostQuery[];
}

/** A decorator factory: `@early()`, `@late()`, `@include("mod")`. */
function decoratorFactory(name: "early" | "late" | "include"): PyBuiltin {
  return new PyBuiltin(name, (args, kwargs) => {
    if (kwargs.size > 0)
      throw new PyException("TypeError", `${name}() got an unexpected keyword argument '${[...kwargs.keys()][0]}'`);
    if (name === "include") {
      if (args.length === 0)
        throw new PyException("TypeError", "include() missing 1 required positional argument: 'module_name'");
    } else if (args.length > 0) {
      throw new PyException(
        "TypeError",
        `${name}() takes 0 positional arguments but ${args.length} ${args.length === 1 ? "was" : "were"} given (write @${name}(), with parentheses)`,
      );
    }
    return new PyBuiltin("decorated", (fargs) => {
      const fn = fargs[0];
      if (!(fn instanceof PyFunction)) throw new PyException("TypeError", `@${name}() can only decorate a function`);
      if (name === "late" && REX_KEYS.has(fn.name))
        throw new PyException("ValueError", `Cannot use @late decorator on function '${fn.name}'`);
      fn.marks.push({ name, args });
      return fn;
    });
  });
}

/**
 * A module named by `@include("name")`. Rez imports it from the package payload
 * when the function runs; Tantalus never runs Python modules, so any use of it
 * is a clear error instead of a NameError.
 */
class IncludedModule extends HostObject {
  readonly pyTypeName = "module";
  constructor(private readonly moduleName: string) {
    super();
  }

  override getAttr(name: string): PyValue {
    throw new PythonError(
      `'${this.moduleName}.${name}': the module '${this.moduleName}' comes from @include('${this.moduleName}'); Tantalus does not run Python modules shipped with packages`,
      undefined,
      undefined,
      "not-allowed",
    );
  }

  override repr(): string {
    return `<module '${this.moduleName}' (from @include, not available)>`;
  }
}

/**
 * Globals to add when running a function decorated with `@include(...)`: each
 * included module name bound to a stand-in that explains why it is unavailable.
 */
export function includedModules(fn: PyFunction): Map<string, PyValue> {
  const out = new Map<string, PyValue>();
  for (const mark of fn.marks) {
    if (mark.name !== "include") continue;
    for (const m of mark.args) if (typeof m === "string") out.set(m, new IncludedModule(m));
  }
  return out;
}

/** Rez's ModifyList(append=None, prepend=None), used in `with scope("config")` overrides and in rezconfig files. */
export class ModifyList extends HostObject {
  readonly pyTypeName = "ModifyList";
  constructor(
    readonly append: PyValue,
    readonly prepend: PyValue,
  ) {
    super();
  }

  override getAttr(name: string): PyValue | undefined {
    if (name === "append") return this.append;
    if (name === "prepend") return this.prepend;
    return undefined;
  }

  override repr(ctx: CallContext): string {
    return `ModifyList(append=${ctx.repr(this.append)}, prepend=${ctx.repr(this.prepend)})`;
  }
}

export const MODIFY_LIST = new PyBuiltin("ModifyList", (args, kwargs, ctx) => {
  const names = ["append", "prepend"];
  const slots: PyValue[] = [null, null];
  args.forEach((a, i) => {
    if (i >= 2) throw new PyException("TypeError", "ModifyList() takes at most 2 arguments");
    slots[i] = a;
  });
  for (const [k, v] of kwargs) {
    const i = names.indexOf(k);
    if (i < 0) throw new PyException("TypeError", `ModifyList() got an unexpected keyword argument '${k}'`);
    slots[i] = v;
  }
  for (const v of slots)
    if (v !== null && !Array.isArray(v))
      throw new PyException("ValueError", `Expected list in ModifyList, not ${ctx.repr(v)}`);
  return new ModifyList(slots[0]!, slots[1]!);
});

/** Parses and runs package.py, returning its public module-level names (not yet processed). */
export function evaluatePackagePy(text: string, file: string, options: EvaluateOptions = {}): RawAttributes {
  const mod = parseModule(text, file);
  const interpreter = options.interpreter ?? new Interpreter();
  const scopes = new ScopeContext();
  const early = decoratorFactory("early");
  const late = decoratorFactory("late");
  const include = decoratorFactory("include");
  const globals = new Map<string, PyValue>([
    ["scope", scopes],
    ["early", early],
    ["late", late],
    ["include", include],
    ["ModifyList", MODIFY_LIST],
    ["InvalidPackageError", INVALID_PACKAGE_ERROR],
  ]);
  const lines = new Map<string, number>();
  const hostQueries: HostQuery[] = [];
  interpreter.importer = packageImporter(options, interpreter, hostQueries, { early, late, include });
  interpreter.execModule(mod, globals, { onGlobalStore: (name, line) => lines.set(name, line) });
  const values = new Map<string, PyValue>();
  for (const [k, v] of globals) {
    if (INJECTED.has(k)) continue;
    if (BUILTINS.get(k) === v) continue;
    values.set(k, v);
  }
  for (const [k, v] of scopes.toDict().entries()) {
    const name = k as string;
    values.set(name, v);
    const line = scopes.lines.get(name);
    if (line !== undefined) lines.set(name, line);
  }
  return { values, lines, interpreter, hostQueries };
}

/**
 * The modules package code can import, built on the first import only (most
 * definitions import nothing). Host answers are recorded with the line asking.
 */
export function packageImporter(
  options: EvaluateOptions,
  interpreter: Interpreter,
  queries: HostQuery[],
  decorators: { early: PyValue; late: PyValue; include: PyValue },
): Importer {
  let chain: Importer | undefined;
  return (name) => {
    if (!chain) {
      const report = (kind: HostQuery["kind"], query: string, answer: string): void => {
        const loc = interpreter.context.location;
        queries.push({ kind, query, answer, file: loc.file, line: loc.line });
      };
      chain = chainImporters(
        stdlibImporter(options.host ?? realPythonHost, report),
        reImporter,
        rezImporter({
          ...decorators,
          invalidPackageError: INVALID_PACKAGE_ERROR,
          system: () => options.system ?? hostSystem(),
          report,
        }),
      );
    }
    return chain(name);
  };
}

/**
 * `this` inside an `@early()` function: the package data so far. Reading an
 * attribute that is itself an early or late function is an error, as in Rez.
 */
class EarlyThis extends HostObject {
  readonly pyTypeName = "EarlyThis";
  constructor(private readonly data: Map<string, PyValue>) {
    super();
  }

  override getAttr(name: string): PyValue {
    const v = this.data.get(name);
    if (v === undefined) throw new PyException("AttributeError", `No such package attribute '${name}'`);
    if (v instanceof PyFunction && (v.hasMark("early") || v.hasMark("late"))) {
      throw new PyException(
        "ValueError",
        `An early binding function cannot refer to another early or late binding function: '${name}'`,
      );
    }
    return v;
  }
}

function defaultEarlyObjects(): Map<string, PyValue> {
  return new Map<string, PyValue>([
    ["building", false],
    ["testing", false],
    ["build_variant_index", 0],
    ["build_variant_requires", []],
  ]);
}

/**
 * Rez's process_python_objects + _trim: runs `@early()` functions, keeps
 * `@late()` and rex functions, drops other functions and `__` names (also in
 * nested dicts). Updates `raw.values` in place and returns it.
 */
export function processAttributes(raw: RawAttributes, file: string, options: EvaluateOptions = {}): RawAttributes {
  const data = raw.values;
  if (!needsProcessing(data)) return raw;
  for (const k of [...data.keys()]) if (INJECTED.has(k)) data.delete(k);
  const kept = new Set<PyFunction>();
  let interpreter = raw.interpreter ?? options.interpreter;
  const process = (value: PyValue, attr: string): PyValue => {
    if (value instanceof PyDict) {
      for (const [k, v] of [...value.entries()]) value.set(k, process(v, attr));
      return value;
    }
    if (!(value instanceof PyFunction)) return value;
    if (value.hasMark("early")) {
      interpreter ??= new Interpreter();
      return process(runEarly(value, data, interpreter, options, file, raw.lines.get(attr)), attr);
    }
    if (value.hasMark("late") || REX_KEYS.has(value.name)) kept.add(value);
    return value;
  };
  for (const [k, v] of [...data.entries()]) {
    if (v instanceof PyDict || v instanceof PyFunction) data.set(k, process(v, k));
  }
  const trimDict = (d: PyDict): void => {
    for (const [k, v] of [...d.entries()]) {
      if (v instanceof PyFunction) {
        if (!kept.has(v)) d.delete(k);
      } else if (typeof k === "string" && k.startsWith("__")) d.delete(k);
      else if (v instanceof PyDict) trimDict(v);
    }
  };
  for (const [k, v] of [...data.entries()]) {
    if (v instanceof PyModule || (v instanceof PyBuiltin && MODULE_FUNCTIONS.has(v))) {
      // Imported modules and their functions are not package data (Rez drops modules and functions).
      data.delete(k);
      raw.lines.delete(k);
    } else if (v instanceof PyFunction) {
      // `preprocess` stays for the build step, as in Rez.
      if (!kept.has(v) && v.name !== "preprocess") {
        data.delete(k);
        raw.lines.delete(k);
      }
    } else if (k.startsWith("__")) {
      data.delete(k);
      raw.lines.delete(k);
    } else if (v instanceof PyDict) trimDict(v);
  }
  return raw;
}

/** Most packages hold only plain data with public names: nothing to do. */
function needsProcessing(data: Map<string, PyValue>): boolean {
  for (const [k, v] of data) {
    if (
      v instanceof PyFunction ||
      v instanceof PyDict ||
      v instanceof HostObject ||
      v instanceof PyBuiltin ||
      k.charCodeAt(0) === 95 /* _ */ ||
      INJECTED.has(k)
    )
      return true;
  }
  return false;
}

function runEarly(
  fn: PyFunction,
  data: Map<string, PyValue>,
  interpreter: Interpreter,
  options: EvaluateOptions,
  file: string,
  line: number | undefined,
): PyValue {
  const params = fn.node?.args;
  const nparams = params
    ? params.posonlyargs.length +
      params.args.length +
      params.kwonlyargs.length +
      (params.vararg ? 1 : 0) +
      (params.kwarg ? 1 : 0)
    : 0;
  if (nparams > 1) {
    throw new PythonError(
      "ResourceError: @early decorated function must take zero or one args only",
      { file, line: line ?? fn.line },
      "ResourceError",
      "exception",
    );
  }
  const globals = new Map(fn.globals);
  globals.set("this", new EarlyThis(data));
  for (const [k, v] of defaultEarlyObjects()) globals.set(k, v);
  for (const [k, v] of options.earlyObjects ?? []) globals.set(k, v);
  const args: PyValue[] = nparams === 1 ? [PyDict.from(data.entries())] : [];
  return interpreter.callFunction(fn, args, new Map(), { globals });
}
