/**
 * A tree-walking evaluator for the safe Python subset of Rez package
 * definitions and rex commands. It never runs arbitrary code: there is no
 * import, no file or process access, no classes, no dunder attributes; names
 * the embedding program injects (HostObject, PyBuiltin) are the only way out.
 *
 * Every evaluation counts steps (statements, loop iterations, calls) and stops
 * at a limit, so a `while True:` in a package cannot hang a resolve.
 */
import { ForeignFunction, type ForeignProcess } from "./foreign.js";
import type {
  Arguments,
  Comprehension,
  ConstantNode,
  ExceptHandler,
  ExprNode,
  FunctionNode,
  Keyword,
  LambdaNode,
  ParsedModule,
  StmtNode,
} from "./ast.js";
import { sourceLines } from "./ast.js";
import { DEFAULT_MEMORY_LIMIT, resetMemoryBudget } from "./budget.js";
import { BUILTINS, FORBIDDEN_BUILTINS, exceptionType, instantiateException } from "./builtins.js";
import { FatalPythonError, PythonError, notAllowedMessage } from "./errors.js";
import { outsideSubset, type Importer, type PyModule } from "./modules.js";
import { formatField } from "./format.js";
import { builtinMethod, typeMethod } from "./methods.js";
import {
  PySlice,
  binaryOp,
  compareOp,
  delItem,
  getItem,
  inplaceOp,
  iterate,
  setItem,
  truthy,
  unaryOp,
  type BinaryOperator,
} from "./ops.js";
import { pyRepr, pyStr } from "./repr.js";
import {
  HostObject,
  PyBuiltin,
  PyDict,
  PyException,
  PyExceptionType,
  PyExceptionValue,
  PyFunction,
  PyIterator,
  PySet,
  PyTuple,
  PyType,
  typeName,
  type CallContext,
  type FrameAccess,
  type PyValue,
  type Scope,
} from "./values.js";
import { TantalusError, type SourceLocation } from "../../errors.js";

export interface InterpreterOptions {
  /** Maximum statements + loop iterations + calls per evaluation (default 1,000,000). */
  stepLimit?: number;
  /** Maximum list items + string characters produced per evaluation (default 16 Mi; see budget.ts). */
  memoryLimit?: number;
  /** Maximum nesting of Python function calls (default 200). */
  maxCallDepth?: number;
  /**
   * Resolves `import x` / `from x import y` (see modules.ts). Without one, or
   * for a module it does not know, an import is refused with a sentence naming it.
   */
  importer?: Importer;
  /** Receives print() output; by default print() output is discarded. */
  print?: (text: string) => void;
  /** The process ForeignFunctions' code is to see (asked at each call); omitted: its own. */
  foreignProcess?: () => ForeignProcess;
}

export interface ExecModuleOptions {
  /** Called for every assignment to a module-level name, with the line (for "defined at" messages). */
  onGlobalStore?: (name: string, line: number) => void;
}

const NORMAL = 0;
const BREAK = 1;
const CONTINUE = 2;
const RETURN = 3;
type Completion = typeof NORMAL | typeof BREAK | typeof CONTINUE | typeof RETURN;

const EMPTY_NAMES: ReadonlySet<string> = new Set();

/** Static scope facts of a function body. */
interface FunctionInfo {
  localNames: ReadonlySet<string>;
  globalNames: ReadonlySet<string>;
  nonlocalNames: ReadonlySet<string>;
}

const functionInfoCache = new WeakMap<object, FunctionInfo>();

class Frame implements Scope {
  line: number;
  returnValue: PyValue = null;
  /** Exceptions being handled, innermost last (for a bare `raise`). */
  readonly handling: PyException[] = [];
  /** For comprehension frames: the frame the comprehension appears in. */
  outer: Frame | null = null;
  /** For function frames: the function running (locals() reads its parameters and body). */
  fn: PyFunction | null = null;
  /** What locals() returned in this frame (CPython 3.11 returns the same dict, refreshed). */
  localsDict: PyDict | null = null;

  constructor(
    readonly globals: Map<string, PyValue>,
    /** Local variables; the globals map itself for module-level code. */
    readonly vars: Map<string, PyValue>,
    readonly info: FunctionInfo | null,
    readonly parent: Scope | null,
    readonly module: ParsedModule,
    readonly fnName: string | null,
    readonly isComprehension: boolean,
    readonly onGlobalStore?: (name: string, line: number) => void,
  ) {
    this.line = 0;
  }

  get localNames(): ReadonlySet<string> {
    return this.info ? this.info.localNames : EMPTY_NAMES;
  }

  get isModule(): boolean {
    return this.info === null && !this.isComprehension;
  }

  get file(): string {
    return this.module.file;
  }

  get location(): SourceLocation {
    return { file: this.module.file, line: this.line };
  }
}

export class Interpreter {
  private readonly stepLimit: number;
  private readonly memoryLimit: number;
  private readonly maxCallDepth: number;
  private readonly printer?: (text: string) => void;
  /** Settable so that one interpreter can evaluate files with different hosts (see InterpreterOptions.importer). */
  importer?: Importer;
  private readonly foreignProcess?: () => ForeignProcess;
  private steps = 0;
  private active = 0;
  private depth = 0;
  private frame: Frame | null = null;
  private readonly ctx: CallContext;

  constructor(options: InterpreterOptions = {}) {
    this.stepLimit = options.stepLimit ?? 1_000_000;
    this.memoryLimit = options.memoryLimit ?? DEFAULT_MEMORY_LIMIT;
    this.maxCallDepth = options.maxCallDepth ?? 200;
    this.printer = options.print;
    this.importer = options.importer;
    if (options.foreignProcess) this.foreignProcess = options.foreignProcess;
    this.ctx = this.makeContext();
  }

  // -------------------------------------------------------------------------
  // Public entry points

  /** Runs a parsed module with the given globals (updated in place). */
  execModule(mod: ParsedModule, globals: Map<string, PyValue>, options: ExecModuleOptions = {}): void {
    const f = new Frame(globals, globals, null, null, mod, null, false, options.onGlobalStore);
    this.enter(f, () => {
      this.execBlock(mod.node.body, f);
      return null;
    });
  }

  /**
   * Calls a function (or any callable) from outside. With `globals`, a
   * PyFunction runs against that namespace instead of the one it was defined
   * in: that is how Rez evaluates `@late()` functions with `this` bound.
   */
  callFunction(
    fn: PyValue,
    args: PyValue[] = [],
    kwargs: Map<string, PyValue> = new Map(),
    options: { globals?: Map<string, PyValue> } = {},
  ): PyValue {
    const where = fn instanceof PyFunction ? fn.module : undefined;
    const f = new Frame(
      options.globals ?? new Map<string, PyValue>(),
      new Map(),
      null,
      null,
      where ?? placeholderModule,
      null,
      false,
    );
    f.line = fn instanceof PyFunction ? fn.line : 0;
    return this.enter(f, () => {
      if (fn instanceof PyFunction) return this.invoke(fn, args, kwargs, options.globals);
      return this.callValue(fn, args, kwargs);
    });
  }

  /**
   * Runs a function's body as module-level code in `globals`: assignments land
   * in `globals`. This is how Rez runs `commands()` (its body is executed, not
   * called), so a variable set in commands is visible to later code.
   * Returns the value of a `return` statement, else None.
   */
  runBody(fn: PyFunction, globals: Map<string, PyValue>): PyValue {
    const f = new Frame(globals, globals, null, null, fn.module, fn.name, false);
    f.line = fn.line;
    return this.enter(f, () => {
      if (fn instanceof ForeignFunction)
        return fn.code.run({
          globals,
          asBody: true,
          args: [],
          ctx: this.ctx,
          setLine: (n) => (f.line = n),
          ...this.foreignProcessOf(),
        });
      const c = this.execBlock(fn.body, f);
      return c === RETURN ? f.returnValue : null;
    });
  }

  private foreignProcessOf(): { process?: ForeignProcess } {
    return this.foreignProcess ? { process: this.foreignProcess() } : {};
  }

  /** The CallContext host objects get, for calling back into Python (str(), calls...). */
  get context(): CallContext {
    return this.ctx;
  }

  private enter<T>(f: Frame, run: () => T): T {
    if (this.active === 0) {
      this.steps = 0;
      this.depth = 0;
      resetMemoryBudget(this.memoryLimit);
    }
    this.active++;
    const saved = this.frame;
    this.frame = f;
    try {
      return run();
    } catch (err) {
      throw publicError(locate(err, f));
    } finally {
      this.frame = saved;
      this.active--;
    }
  }

  // -------------------------------------------------------------------------
  // Services for builtins and host objects

  private makeContext(): CallContext {
    const self = this;
    return {
      get location(): SourceLocation {
        return self.frame ? self.frame.location : { file: "<python>" };
      },
      call: (fn, args, kwargs) => this.callValue(fn, args, kwargs ?? new Map<string, PyValue>()),
      str: (v) => pyStr(v, this.ctx),
      repr: (v) => pyRepr(v, this.ctx),
      getAttr: (obj, name) => this.getAttr(obj, name),
      getItem: (obj, key) => getItem(obj, key, this.ctx),
      step: () => this.tick(),
      output: this.printer ? (text: string) => this.printer!(text) : undefined,
    };
  }

  private tick(): void {
    if (++this.steps > this.stepLimit) {
      throw new FatalPythonError(
        "step-limit",
        `evaluation stopped after ${this.stepLimit.toLocaleString("en-US")} steps: is there an endless loop? (package code runs with a step limit)`,
      );
    }
  }

  // -------------------------------------------------------------------------
  // Statements

  private execBlock(stmts: readonly StmtNode[], f: Frame): Completion {
    for (let i = 0; i < stmts.length; i++) {
      const s = stmts[i]!;
      f.line = s.lineno;
      this.tick();
      const c = this.execStmt(s, f);
      if (c !== NORMAL) return c;
    }
    return NORMAL;
  }

  private execStmt(s: StmtNode, f: Frame): Completion {
    switch (s.nodeType) {
      case "Expr":
        this.eval(s.value, f);
        return NORMAL;
      case "Assign": {
        const v = this.eval(s.value, f);
        f.line = s.lineno;
        for (const t of s.targets) this.assign(t, v, f);
        return NORMAL;
      }
      case "AugAssign":
        this.augAssign(s.target, s.op.nodeType, s.value, f);
        return NORMAL;
      case "AnnAssign":
        if (s.value) this.assign(s.target, this.eval(s.value, f), f);
        return NORMAL;
      case "If":
        if (truthy(this.eval(s.test, f), this.ctx)) return this.execBlock(s.body, f);
        return s.orelse.length ? this.execBlock(s.orelse, f) : NORMAL;
      case "For":
        return this.execFor(s, f);
      case "While": {
        for (;;) {
          f.line = s.lineno;
          if (!truthy(this.eval(s.test, f), this.ctx)) break;
          this.tick();
          const c = this.execBlock(s.body, f);
          if (c === BREAK) return NORMAL;
          if (c === RETURN) return c;
        }
        return s.orelse.length ? this.execBlock(s.orelse, f) : NORMAL;
      }
      case "Break":
        return BREAK;
      case "Continue":
        return CONTINUE;
      case "Pass":
        return NORMAL;
      case "Return":
        f.returnValue = s.value ? this.eval(s.value, f) : null;
        return RETURN;
      case "FunctionDef": {
        const fn = this.defineFunction(s, f);
        f.line = s.lineno;
        this.store(s.name, fn, f);
        return NORMAL;
      }
      case "Global":
      case "Nonlocal":
        return NORMAL; // handled by the static scope analysis
      case "Delete":
        for (const t of s.targets) this.delete(t, f);
        return NORMAL;
      case "With":
        return this.execWith(s, f);
      case "Try":
        return this.execTry(s, f);
      case "Raise":
        throw this.raiseStmt(s, f);
      case "Assert":
        if (!truthy(this.eval(s.test, f), this.ctx)) {
          const msg = s.msg ? this.eval(s.msg, f) : undefined;
          const t = exceptionType("AssertionError");
          const value = instantiateException(t, msg === undefined ? [] : [msg], this.ctx);
          throw new PyException("AssertionError", value.message, value);
        }
        return NORMAL;
      case "Import":
        for (const a of s.names) {
          const leaf = this.importModule(a.name, `'import ${a.name}'`);
          if (a.asname) this.store(a.asname, leaf, f);
          else {
            const top = a.name.split(".")[0]!;
            this.store(top, this.importModule(top, `'import ${a.name}'`), f);
          }
        }
        return NORMAL;
      case "ImportFrom":
        this.importFrom(s, f);
        return NORMAL;
      case "ClassDef":
        throw notAllowed(`'class ${s.name}' (a class definition)`);
      case "AsyncFunctionDef":
      case "AsyncFor":
      case "AsyncWith":
        throw notAllowed("async code");
      case "Match":
        throw notAllowed("a 'match' statement");
      case "TryStar":
        throw notAllowed("'try/except*'");
      case "TypeAlias":
        throw notAllowed("a 'type' alias statement");
      case "Comment":
        return NORMAL;
      default:
        throw notAllowed(`the statement '${(s as { nodeType: string }).nodeType}'`);
    }
  }

  /** The module for a dotted name; refused (uncatchably) when the evaluator does not provide it. */
  private importModule(name: string, construct: string): PyModule {
    const m = this.importer?.(name);
    if (!m) throw outsideSubset(`${construct} (the module '${name}')`);
    return m;
  }

  private importFrom(s: Extract<StmtNode, { nodeType: "ImportFrom" }>, f: Frame): void {
    const construct = `'from ${".".repeat(s.level ?? 0)}${s.module ?? ""} import ${s.names.map((a) => a.name).join(", ")}'`;
    if (s.level) throw outsideSubset(`${construct} (a relative import)`);
    const mod = this.importModule(s.module ?? "", construct);
    for (const a of s.names) {
      if (a.name === "*") {
        for (const [k, v] of mod.starImport()) this.store(k, v, f);
        continue;
      }
      // A submodule (`from os import path`) or a member.
      const v = mod.has(a.name)
        ? mod.getAttr(a.name)
        : (this.importer?.(`${s.module}.${a.name}`) ?? mod.getAttr(a.name));
      this.store(a.asname ?? a.name, v, f);
    }
  }

  private execFor(s: Extract<StmtNode, { nodeType: "For" }>, f: Frame): Completion {
    const iterable = this.eval(s.iter, f);
    for (const item of iterate(iterable, this.ctx)) {
      this.tick();
      f.line = s.lineno;
      this.assign(s.target, item, f);
      const c = this.execBlock(s.body, f);
      if (c === BREAK) return NORMAL;
      if (c === RETURN) return c;
    }
    return s.orelse.length ? this.execBlock(s.orelse, f) : NORMAL;
  }

  private execWith(s: Extract<StmtNode, { nodeType: "With" }>, f: Frame): Completion {
    const managers: HostObject[] = [];
    const access = frameAccess(f);
    try {
      for (const item of s.items) {
        const m = this.eval(item.context_expr, f);
        if (!(m instanceof HostObject)) {
          throw new PyException("TypeError", `'${typeName(m)}' object does not support the context manager protocol`);
        }
        const bound = m.enter(access, this.ctx);
        managers.push(m);
        if (item.optional_vars) this.assign(item.optional_vars, bound, f);
      }
      return this.execBlock(s.body, f);
    } finally {
      for (let i = managers.length - 1; i >= 0; i--) managers[i]!.exit(access, this.ctx);
    }
  }

  private execTry(s: Extract<StmtNode, { nodeType: "Try" }>, f: Frame): Completion {
    let completion: Completion = NORMAL;
    let pending: unknown;
    let failed = false;
    try {
      let raised = false;
      try {
        completion = this.execBlock(s.body, f);
      } catch (err) {
        if (!(err instanceof PyException) || s.handlers.length === 0) throw err;
        raised = true;
        const handler = this.findHandler(s.handlers, err, f);
        if (!handler) throw err;
        completion = this.runHandler(handler, err, f);
      }
      if (!raised && completion === NORMAL && s.orelse.length) completion = this.execBlock(s.orelse, f);
    } catch (err) {
      failed = true;
      pending = err;
    }
    if (s.finalbody.length) {
      const c = this.execBlock(s.finalbody, f);
      // A break/continue/return in `finally` wins over the block's outcome, and
      // discards a Python exception, as in Python (never a fatal error).
      if (c !== NORMAL && (!failed || pending instanceof PyException)) return c;
    }
    if (failed) throw pending;
    return completion;
  }

  private findHandler(handlers: readonly ExceptHandler[], err: PyException, f: Frame): ExceptHandler | undefined {
    const errType = err.value ? err.value.type : exceptionType(err.pyType);
    for (const h of handlers) {
      if (!h.type) return h;
      f.line = h.lineno;
      const t = this.eval(h.type, f);
      const types = t instanceof PyTuple ? t.items : [t];
      for (const x of types) {
        if (!(x instanceof PyExceptionType))
          throw new PyException("TypeError", "catching classes that do not inherit from BaseException is not allowed");
        if (errType.isSubclassOf(x)) return h;
      }
    }
    return undefined;
  }

  private runHandler(h: ExceptHandler, err: PyException, f: Frame): Completion {
    if (h.name) {
      const value = err.value ?? new PyExceptionValue(exceptionType(err.pyType), [err.pyMessage], err.pyMessage);
      this.store(h.name, value, f);
    }
    f.handling.push(err);
    try {
      return this.execBlock(h.body, f);
    } finally {
      f.handling.pop();
      if (h.name) {
        // Python unbinds the name at the end of the handler.
        if (f.isModule) f.globals.delete(h.name);
        else f.vars.delete(h.name);
      }
    }
  }

  private raiseStmt(s: Extract<StmtNode, { nodeType: "Raise" }>, f: Frame): Error {
    if (!s.exc) {
      const current = f.handling[f.handling.length - 1];
      return current ?? new PyException("RuntimeError", "No active exception to reraise");
    }
    const e = this.eval(s.exc, f);
    if (s.cause) this.eval(s.cause, f);
    if (e instanceof PyExceptionType) {
      const value = instantiateException(e, [], this.ctx);
      return new PyException(e.name, value.message, value);
    }
    if (e instanceof PyExceptionValue) return new PyException(e.type.name, e.message, e);
    return new PyException("TypeError", "exceptions must derive from BaseException");
  }

  // -------------------------------------------------------------------------
  // Functions

  private defineFunction(s: FunctionNode, f: Frame): PyValue {
    const decorators = s.decorator_list.map((d) => this.eval(d, f));
    const { defaults, kwDefaults } = this.evalDefaults(s.args, f);
    const first = s.decorator_list.length ? Math.min(s.lineno, ...s.decorator_list.map((d) => d.lineno)) : s.lineno;
    const fn = new PyFunction({
      name: s.name,
      kind: "def",
      node: s,
      body: s.body,
      defaults,
      kwDefaults,
      globals: f.globals,
      closure: f.isModule ? null : f,
      module: f.module,
      line: s.lineno,
      source: sourceLines(f.module, first, s.end_lineno ?? s.lineno),
    });
    let result: PyValue = fn;
    for (let i = decorators.length - 1; i >= 0; i--) {
      f.line = s.decorator_list[i]!.lineno;
      result = this.callValue(decorators[i]!, [result], new Map());
    }
    return result;
  }

  private evalDefaults(a: Arguments, f: Frame): { defaults: PyValue[]; kwDefaults: Map<string, PyValue> } {
    const defaults = a.defaults.map((d) => this.eval(d, f));
    const kwDefaults = new Map<string, PyValue>();
    a.kwonlyargs.forEach((arg, i) => {
      const d = a.kw_defaults[i];
      if (d) kwDefaults.set(arg.arg, this.eval(d, f));
    });
    return { defaults, kwDefaults };
  }

  private makeLambda(node: LambdaNode, f: Frame): PyFunction {
    const { defaults, kwDefaults } = this.evalDefaults(node.args, f);
    const ret = { nodeType: "Return", value: node.body, lineno: node.lineno, col_offset: node.col_offset } as StmtNode;
    return new PyFunction({
      name: "<lambda>",
      kind: "lambda",
      node,
      body: [ret],
      defaults,
      kwDefaults,
      globals: f.globals,
      closure: f.isModule ? null : f,
      module: f.module,
      line: node.lineno,
      source: sourceLines(f.module, node.lineno, node.end_lineno ?? node.lineno),
    });
  }

  /** Calls a Python-defined function: binds arguments, runs the body in a new frame. */
  private invoke(
    fn: PyFunction,
    args: PyValue[],
    kwargs: Map<string, PyValue>,
    globals?: Map<string, PyValue>,
  ): PyValue {
    if (this.depth >= this.maxCallDepth) throw new PyException("RecursionError", "maximum recursion depth exceeded");
    this.tick();
    if (fn instanceof ForeignFunction) {
      if (kwargs.size > 0) throw new PyException("TypeError", `${fn.name}() got an unexpected keyword argument`);
      const f = this.frame;
      return fn.code.run({
        globals: globals ?? fn.globals,
        asBody: false,
        args,
        ctx: this.ctx,
        setLine: (n) => {
          if (f) f.line = n;
        },
        ...this.foreignProcessOf(),
      });
    }
    const info = functionInfo(fn);
    const locals = new Map<string, PyValue>();
    if (fn.node) bindParameters(fn, fn.node.args, args, kwargs, locals);
    else if (args.length || kwargs.size)
      throw new PyException("TypeError", `${fn.name}() takes 0 positional arguments but ${args.length} were given`);
    const f = new Frame(globals ?? fn.globals, locals, info, fn.closure, fn.module, fn.name, false);
    f.line = fn.line;
    f.fn = fn;
    const saved = this.frame;
    this.frame = f;
    this.depth++;
    try {
      const c = this.execBlock(fn.body, f);
      return c === RETURN ? f.returnValue : null;
    } catch (err) {
      throw locate(err, f);
    } finally {
      this.depth--;
      this.frame = saved;
    }
  }

  /** Calls any callable value. */
  callValue(fn: PyValue, args: PyValue[], kwargs: Map<string, PyValue>): PyValue {
    if (fn instanceof PyFunction) return this.invoke(fn, args, kwargs);
    if (fn instanceof PyBuiltin) return fn.impl(args, kwargs, this.ctx);
    if (fn instanceof PyType) return fn.construct(args, kwargs, this.ctx);
    if (fn instanceof PyExceptionType) {
      if (kwargs.size) throw new PyException("TypeError", `${fn.name}() takes no keyword arguments`);
      return instantiateException(fn, args, this.ctx);
    }
    if (fn instanceof HostObject) return fn.call(args, kwargs, this.ctx);
    throw new PyException("TypeError", `'${typeName(fn)}' object is not callable`);
  }

  // -------------------------------------------------------------------------
  // Names and assignment

  private lookup(name: string, f: Frame): PyValue {
    if (!f.isModule) {
      if (f.localNames.has(name)) {
        const v = f.vars.get(name);
        if (v !== undefined) return v;
        if (f.isComprehension) throw new PyException("NameError", `name '${name}' is not defined`);
        throw new PyException(
          "UnboundLocalError",
          `cannot access local variable '${name}' where it is not associated with a value`,
        );
      }
      if (!f.info || !f.info.globalNames.has(name)) {
        for (let s = f.parent; s; s = s.parent) {
          if (s.localNames.has(name)) {
            const v = s.vars.get(name);
            if (v !== undefined) return v;
            throw new PyException(
              "NameError",
              `cannot access free variable '${name}' where it is not associated with a value in enclosing scope`,
            );
          }
        }
      }
    }
    const g = f.globals.get(name);
    if (g !== undefined) return g;
    if (name === "globals") return globalsBuiltin(f.globals);
    if (name === "locals") return localsBuiltin(f);
    const b = BUILTINS.get(name);
    if (b !== undefined) return b;
    if (FORBIDDEN_BUILTINS.has(name)) throw notAllowed(`'${name}()'`);
    throw new PyException("NameError", `name '${name}' is not defined`);
  }

  private store(name: string, v: PyValue, f: Frame): void {
    if (f.isModule) {
      f.globals.set(name, v);
      f.onGlobalStore?.(name, f.line);
      return;
    }
    const info = f.info;
    if (info) {
      if (info.globalNames.has(name)) {
        f.globals.set(name, v);
        return;
      }
      if (info.nonlocalNames.has(name)) {
        for (let s = f.parent; s; s = s.parent) {
          if (s.localNames.has(name)) {
            s.vars.set(name, v);
            return;
          }
        }
        throw new PyException("SyntaxError", `no binding for nonlocal '${name}' found`);
      }
    }
    f.vars.set(name, v);
  }

  private assign(target: ExprNode, v: PyValue, f: Frame): void {
    switch (target.nodeType) {
      case "Name":
        this.store(target.id, v, f);
        return;
      case "Tuple":
      case "List":
        this.unpack(target.elts, v, f);
        return;
      case "Attribute": {
        const obj = this.eval(target.value, f);
        f.line = target.lineno;
        checkAttrName(target.attr, obj);
        if (obj instanceof HostObject) obj.setAttr(target.attr, v, this.ctx);
        else
          throw new PyException(
            "AttributeError",
            `'${typeName(obj)}' object has no attribute '${target.attr}' (only host objects accept attribute assignment)`,
          );
        return;
      }
      case "Subscript": {
        const obj = this.eval(target.value, f);
        const key = this.evalSubscriptKey(target.slice, f);
        f.line = target.lineno;
        setItem(obj, key, v, this.ctx);
        return;
      }
      case "Starred":
        throw new PyException("SyntaxError", "starred assignment target must be in a list or tuple");
      default:
        throw new PyException("SyntaxError", `cannot assign to ${target.nodeType}`);
    }
  }

  private unpack(targets: readonly ExprNode[], v: PyValue, f: Frame): void {
    let items: PyValue[];
    try {
      items = [...iterate(v, this.ctx)];
    } catch (err) {
      if (err instanceof PyException && err.pyType === "TypeError" && / is not iterable$/.test(err.pyMessage)) {
        throw new PyException("TypeError", `cannot unpack non-iterable ${typeName(v)} object`);
      }
      throw err;
    }
    const star = targets.findIndex((t) => t.nodeType === "Starred");
    if (star < 0) {
      if (items.length > targets.length)
        throw new PyException("ValueError", `too many values to unpack (expected ${targets.length})`);
      if (items.length < targets.length)
        throw new PyException(
          "ValueError",
          `not enough values to unpack (expected ${targets.length}, got ${items.length})`,
        );
      targets.forEach((t, i) => this.assign(t, items[i]!, f));
      return;
    }
    const after = targets.length - star - 1;
    if (items.length < targets.length - 1) {
      throw new PyException(
        "ValueError",
        `not enough values to unpack (expected at least ${targets.length - 1}, got ${items.length})`,
      );
    }
    for (let i = 0; i < star; i++) this.assign(targets[i]!, items[i]!, f);
    this.assign(
      (targets[star] as Extract<ExprNode, { nodeType: "Starred" }>).value,
      items.slice(star, items.length - after),
      f,
    );
    for (let i = 0; i < after; i++) this.assign(targets[star + 1 + i]!, items[items.length - after + i]!, f);
  }

  private augAssign(target: ExprNode, op: BinaryOperator, valueNode: ExprNode, f: Frame): void {
    switch (target.nodeType) {
      case "Name": {
        const cur = this.lookup(target.id, f);
        const v = this.eval(valueNode, f);
        f.line = target.lineno;
        this.store(target.id, inplaceOp(op, cur, v, this.ctx), f);
        return;
      }
      case "Attribute": {
        const obj = this.eval(target.value, f);
        const cur = this.getAttr(obj, target.attr);
        const v = this.eval(valueNode, f);
        f.line = target.lineno;
        const r = inplaceOp(op, cur, v, this.ctx);
        if (obj instanceof HostObject) obj.setAttr(target.attr, r, this.ctx);
        else
          throw new PyException("AttributeError", `'${typeName(obj)}' object attribute '${target.attr}' is read-only`);
        return;
      }
      case "Subscript": {
        const obj = this.eval(target.value, f);
        const key = this.evalSubscriptKey(target.slice, f);
        const cur = getItem(obj, key, this.ctx);
        const v = this.eval(valueNode, f);
        f.line = target.lineno;
        setItem(obj, key, inplaceOp(op, cur, v, this.ctx), this.ctx);
        return;
      }
      default:
        throw new PyException("SyntaxError", `'${target.nodeType}' is an illegal expression for augmented assignment`);
    }
  }

  private delete(target: ExprNode, f: Frame): void {
    switch (target.nodeType) {
      case "Name": {
        const global = f.isModule || (f.info?.globalNames.has(target.id) ?? false);
        const map = global ? f.globals : f.vars;
        if (!map.delete(target.id)) throw new PyException("NameError", `name '${target.id}' is not defined`);
        return;
      }
      case "Tuple":
      case "List":
        for (const t of target.elts) this.delete(t, f);
        return;
      case "Subscript": {
        const obj = this.eval(target.value, f);
        delItem(obj, this.evalSubscriptKey(target.slice, f), this.ctx);
        return;
      }
      case "Attribute": {
        const obj = this.eval(target.value, f);
        checkAttrName(target.attr, obj);
        if (obj instanceof HostObject) obj.delAttr(target.attr, this.ctx);
        else throw new PyException("AttributeError", `'${typeName(obj)}' object has no attribute '${target.attr}'`);
        return;
      }
      default:
        throw new PyException("SyntaxError", `cannot delete ${target.nodeType}`);
    }
  }

  // -------------------------------------------------------------------------
  // Attributes

  getAttr(obj: PyValue, name: string): PyValue {
    if (name === "__name__") {
      // type(x).__name__, f.__name__, module.__name__: the name, nothing else of the object.
      if (
        obj instanceof PyType ||
        obj instanceof PyExceptionType ||
        obj instanceof PyFunction ||
        obj instanceof PyBuiltin
      )
        return obj.name;
      if (obj instanceof HostObject && obj.pyTypeName === "module") return (obj as unknown as { name: string }).name;
    }
    checkAttrName(name, obj);
    if (obj instanceof HostObject) {
      const v = obj.getAttr(name, this.ctx);
      if (v === undefined)
        throw new PyException("AttributeError", `'${obj.pyTypeName}' object has no attribute '${name}'`);
      return v;
    }
    const m = builtinMethod(obj, name);
    if (m) return m;
    if (obj instanceof PyType) {
      const tm = typeMethod(obj.name, name);
      if (tm) return tm;
      throw new PyException("AttributeError", `type object '${obj.name}' has no attribute '${name}'`);
    }
    if (obj instanceof PyExceptionValue && name === "args") return new PyTuple(obj.args);
    throw new PyException("AttributeError", `'${typeName(obj)}' object has no attribute '${name}'`);
  }

  // -------------------------------------------------------------------------
  // Expressions

  private eval(node: ExprNode, f: Frame): PyValue {
    switch (node.nodeType) {
      case "Constant": {
        const c = node as ConstantNode;
        if (c.pyValue !== undefined) return c.pyValue;
        f.line = node.lineno;
        throw notAllowed(c.unsupported ?? "this literal");
      }
      case "Name":
        f.line = node.lineno;
        return this.lookup(node.id, f);
      case "Attribute": {
        const obj = this.eval(node.value, f);
        f.line = node.lineno;
        return this.getAttr(obj, node.attr);
      }
      case "Subscript": {
        const obj = this.eval(node.value, f);
        const key = this.evalSubscriptKey(node.slice, f);
        f.line = node.lineno;
        return getItem(obj, key, this.ctx);
      }
      case "Call":
        return this.evalCall(node, f);
      case "BinOp": {
        const a = this.eval(node.left, f);
        const b = this.eval(node.right, f);
        f.line = node.lineno;
        return binaryOp(node.op.nodeType, a, b, this.ctx);
      }
      case "UnaryOp":
        return unaryOp(node.op.nodeType, this.eval(node.operand, f), this.ctx);
      case "BoolOp": {
        const isAnd = node.op.nodeType === "And";
        let v: PyValue = null;
        for (const x of node.values) {
          v = this.eval(x, f);
          if (truthy(v, this.ctx) !== isAnd) return v;
        }
        return v;
      }
      case "Compare": {
        let left = this.eval(node.left, f);
        for (let i = 0; i < node.ops.length; i++) {
          const right = this.eval(node.comparators[i]!, f);
          f.line = node.lineno;
          if (!compareOp(node.ops[i]!.nodeType, left, right, this.ctx)) return false;
          left = right;
        }
        return true;
      }
      case "IfExp":
        return truthy(this.eval(node.test, f), this.ctx) ? this.eval(node.body, f) : this.eval(node.orelse, f);
      case "List":
        return this.evalElements(node.elts, f);
      case "Tuple":
        return new PyTuple(this.evalElements(node.elts, f));
      case "Set":
        return new PySet(this.evalElements(node.elts, f));
      case "Dict":
        return this.evalDict(node, f);
      case "JoinedStr":
        return this.evalJoinedStr(node, f);
      case "ListComp": {
        const out: PyValue[] = [];
        this.comprehension(node.generators, f, (cf) => out.push(this.eval(node.elt, cf)));
        return out;
      }
      case "SetComp": {
        const out = new PySet();
        this.comprehension(node.generators, f, (cf) => out.add(this.eval(node.elt, cf)));
        return out;
      }
      case "DictComp": {
        const out = new PyDict();
        this.comprehension(node.generators, f, (cf) => {
          const k = this.eval(node.key, cf);
          out.set(k, this.eval(node.value, cf));
        });
        return out;
      }
      case "GeneratorExp":
        return this.generator(node, f);
      case "Lambda":
        return this.makeLambda(node, f);
      case "NamedExpr": {
        const v = this.eval(node.value, f);
        let target = f;
        while (target.isComprehension && target.outer) target = target.outer;
        if (node.target.nodeType !== "Name")
          throw new PyException("SyntaxError", "cannot use assignment expressions with this target");
        this.store(node.target.id, v, target);
        return v;
      }
      case "Starred":
        throw new PyException("SyntaxError", "can't use starred expression here");
      case "Slice":
        throw new PyException("SyntaxError", "slice outside of a subscript");
      case "Await":
        throw notAllowed("'await'");
      case "Yield":
      case "YieldFrom":
        throw notAllowed("'yield' (generator functions)");
      case "TemplateStr":
      case "Interpolation":
        throw notAllowed("a template string (t-string)");
      case "FormattedValue":
        return this.evalFormatted(node, f);
      default:
        throw notAllowed(`the expression '${(node as { nodeType: string }).nodeType}'`);
    }
  }

  private evalSubscriptKey(slice: ExprNode, f: Frame): PyValue | PySlice {
    if (slice.nodeType === "Slice") {
      return new PySlice(
        slice.lower ? this.eval(slice.lower, f) : null,
        slice.upper ? this.eval(slice.upper, f) : null,
        slice.step ? this.eval(slice.step, f) : null,
      );
    }
    return this.eval(slice, f);
  }

  private evalElements(elts: readonly ExprNode[], f: Frame): PyValue[] {
    const out: PyValue[] = [];
    for (const e of elts) {
      if (e.nodeType === "Starred") for (const x of iterate(this.eval(e.value, f), this.ctx)) out.push(x);
      else out.push(this.eval(e, f));
    }
    return out;
  }

  private evalDict(node: Extract<ExprNode, { nodeType: "Dict" }>, f: Frame): PyDict {
    const d = new PyDict();
    for (let i = 0; i < node.values.length; i++) {
      const k = node.keys[i];
      if (k === null || k === undefined) {
        const m = this.eval(node.values[i]!, f);
        if (!(m instanceof PyDict)) throw new PyException("TypeError", `'${typeName(m)}' object is not a mapping`);
        for (const [kk, vv] of m.entries()) d.set(kk, vv);
      } else {
        const key = this.eval(k, f);
        d.set(key, this.eval(node.values[i]!, f));
      }
    }
    return d;
  }

  private evalJoinedStr(node: Extract<ExprNode, { nodeType: "JoinedStr" }>, f: Frame): string {
    let out = "";
    for (const part of node.values) {
      if (part.nodeType === "Constant") out += (part as ConstantNode).value as string;
      else out += this.evalFormatted(part as Extract<ExprNode, { nodeType: "FormattedValue" }>, f);
    }
    return out;
  }

  private evalFormatted(node: Extract<ExprNode, { nodeType: "FormattedValue" }>, f: Frame): string {
    const v = this.eval(node.value, f);
    const spec = node.format_spec
      ? this.evalJoinedStr(node.format_spec as Extract<ExprNode, { nodeType: "JoinedStr" }>, f)
      : "";
    const conv = node.conversion === 115 ? "s" : node.conversion === 114 ? "r" : node.conversion === 97 ? "a" : "";
    f.line = node.lineno;
    return formatField(v, conv, spec, this.ctx);
  }

  private evalCall(node: Extract<ExprNode, { nodeType: "Call" }>, f: Frame): PyValue {
    const fn = this.eval(node.func, f);
    const args: PyValue[] = [];
    for (const a of node.args) {
      if (a.nodeType === "Starred") for (const x of iterate(this.eval(a.value, f), this.ctx)) args.push(x);
      else args.push(this.eval(a, f));
    }
    const kwargs = this.evalKeywords(node.keywords, f, fn);
    f.line = node.lineno;
    return this.callValue(fn, args, kwargs);
  }

  private evalKeywords(keywords: readonly Keyword[], f: Frame, fn: PyValue): Map<string, PyValue> {
    const kwargs = new Map<string, PyValue>();
    for (const k of keywords) {
      const v = this.eval(k.value, f);
      if (k.arg === undefined || k.arg === null) {
        if (!(v instanceof PyDict))
          throw new PyException("TypeError", `argument after ** must be a mapping, not ${typeName(v)}`);
        for (const [kk, vv] of v.entries()) {
          if (typeof kk !== "string") throw new PyException("TypeError", "keywords must be strings");
          if (kwargs.has(kk))
            throw new PyException(
              "TypeError",
              `${callableName(fn)}() got multiple values for keyword argument '${kk}'`,
            );
          kwargs.set(kk, vv);
        }
      } else {
        if (kwargs.has(k.arg))
          throw new PyException(
            "TypeError",
            `${callableName(fn)}() got multiple values for keyword argument '${k.arg}'`,
          );
        kwargs.set(k.arg, v);
      }
    }
    return kwargs;
  }

  // -------------------------------------------------------------------------
  // Comprehensions

  private comprehensionFrame(gens: readonly Comprehension[], f: Frame): Frame {
    const names = new Set<string>();
    for (const g of gens) collectTargetNames(g.target, names);
    const info: FunctionInfo = { localNames: names, globalNames: EMPTY_NAMES, nonlocalNames: EMPTY_NAMES };
    const cf = new Frame(f.globals, new Map(), info, f.isModule ? null : f, f.module, f.fnName, true);
    cf.outer = f;
    cf.line = f.line;
    return cf;
  }

  private comprehension(gens: readonly Comprehension[], f: Frame, produce: (cf: Frame) => void): void {
    const first = this.eval(gens[0]!.iter, f);
    const cf = this.comprehensionFrame(gens, f);
    const loop = (i: number, iterable: PyValue): void => {
      const g = gens[i]!;
      for (const item of iterate(iterable, this.ctx)) {
        this.tick();
        this.assign(g.target, item, cf);
        let ok = true;
        for (const cond of g.ifs) {
          if (!truthy(this.eval(cond, cf), this.ctx)) {
            ok = false;
            break;
          }
        }
        if (!ok) continue;
        if (i + 1 < gens.length) loop(i + 1, this.eval(gens[i + 1]!.iter, cf));
        else produce(cf);
      }
    };
    loop(0, first);
  }

  private generator(node: Extract<ExprNode, { nodeType: "GeneratorExp" }>, f: Frame): PyIterator {
    const gens = node.generators;
    const first = this.eval(gens[0]!.iter, f);
    const firstIter = iterate(first, this.ctx);
    const cf = this.comprehensionFrame(gens, f);
    const self = this;
    function* run(i: number, iterable: Iterable<PyValue>): Generator<PyValue> {
      const g = gens[i]!;
      for (const item of iterable) {
        self.tick();
        self.assign(g.target, item, cf);
        let ok = true;
        for (const cond of g.ifs) {
          if (!truthy(self.eval(cond, cf), self.ctx)) {
            ok = false;
            break;
          }
        }
        if (!ok) continue;
        if (i + 1 < gens.length) yield* run(i + 1, iterate(self.eval(gens[i + 1]!.iter, cf), self.ctx));
        else yield self.eval(node.elt, cf);
      }
    }
    function* located(): Generator<PyValue> {
      try {
        yield* run(0, firstIter);
      } catch (err) {
        throw locate(err, cf);
      }
    }
    return new PyIterator("generator", located());
  }
}

// ---------------------------------------------------------------------------
// Helpers

/** Stand-in module for frames that run no code of their own. */
const placeholderModule: ParsedModule = {
  file: "<python>",
  node: { nodeType: "Module", body: [], lineno: 1, col_offset: 0 },
  lines: [],
  lineOffset: 0,
};

function notAllowed(construct: string): FatalPythonError {
  return new FatalPythonError("not-allowed", notAllowedMessage(construct));
}

/**
 * Dunder attributes (`__class__`, `__globals__`, `__proto__`...) are the way out
 * of a sandbox and are refused. A private name (`this.__cache`, no trailing
 * underscores) is only an ordinary name outside a class, and host objects look
 * names up in their own maps, so it reaches them.
 */
function checkAttrName(name: string, obj: PyValue): void {
  if (name.startsWith("__") && (name.endsWith("__") || !(obj instanceof HostObject)))
    throw notAllowed(`access to the attribute '${name}'`);
}

/** globals(): the namespace the code runs in (the package's module, or the rex bindings in commands). */
function globalsBuiltin(globals: Map<string, PyValue>): PyBuiltin {
  return new PyBuiltin("globals", (args, kwargs) => {
    if (args.length || kwargs.size)
      throw new PyException("TypeError", `globals() takes no arguments (${args.length + kwargs.size} given)`);
    return namespaceDict(globals);
  });
}

const namespaceDicts = new WeakMap<Map<string, PyValue>, GlobalsDict>();

/** The one mapping over a namespace, so that `globals() is globals()` and `locals() is globals()` hold. */
function namespaceDict(vars: Map<string, PyValue>): GlobalsDict {
  let d = namespaceDicts.get(vars);
  if (!d) namespaceDicts.set(vars, (d = new GlobalsDict(vars)));
  return d;
}

/**
 * locals(), as CPython 3.11 gives it: at module level (and in commands(), whose
 * body Rez runs as module code) the namespace itself, as globals(); in a
 * function a new dict of the bound names at the time of the call, in CPython's
 * order (see localsOrder), which later assignments do not change and writes to
 * which change no variable. In a comprehension CPython 3.11 shows the hidden
 * function's own slots ('.0', the iterator): refused rather than imitated.
 */
function localsBuiltin(f: Frame): PyBuiltin {
  return new PyBuiltin("locals", (args, kwargs) => {
    if (args.length || kwargs.size)
      throw new PyException("TypeError", `locals() takes no arguments (${args.length + kwargs.size} given)`);
    if (f.isModule) return namespaceDict(f.globals);
    if (f.isComprehension) throw notAllowed("locals() inside a comprehension");
    // CPython 3.11 (PyFrame_FastToLocals) keeps one dict per frame and refreshes it on each call:
    // bound names set, unbound ones removed, keys the code added itself kept.
    const out = (f.localsDict ??= new PyDict());
    const order = f.info && f.fn ? localsOrder(f, f.fn, f.info) : { locals: [...f.vars.keys()], free: [] as string[] };
    const refresh = (n: string, v: PyValue | undefined): void => {
      if (v !== undefined) out.set(n, v);
      else out.delete(n);
    };
    for (const n of order.locals) refresh(n, f.vars.get(n));
    for (const n of order.free) {
      for (let s = f.parent; s; s = s.parent) {
        if (!s.localNames.has(n)) continue;
        refresh(n, s.vars.get(n));
        break;
      }
    }
    return out;
  });
}

const localsOrderCache = new WeakMap<FunctionInfo, { locals: string[]; cells: Set<string>; loaded: Set<string> }>();

/**
 * The order of CPython's fast locals (co_localsplusnames), which locals()
 * follows: the parameters, the other plain locals in the order the compiler
 * meets them, then the locals an inner scope (def, lambda, comprehension)
 * captures (cell variables, sorted), then the free variables this function
 * reads from enclosing functions (sorted).
 */
function localsOrder(f: Frame, fn: PyFunction, info: FunctionInfo): { locals: string[]; free: string[] } {
  let facts = localsOrderCache.get(info);
  if (!facts) {
    const inner = new Set<string>();
    const loaded = new Set<string>();
    // Names read or written anywhere in the body; `nested`: inside an inner scope.
    const walk = (node: unknown, nested: boolean): void => {
      if (!node || typeof node !== "object") return;
      if (Array.isArray(node)) {
        for (const x of node) walk(x, nested);
        return;
      }
      const n = node as { nodeType?: string; id?: unknown; [k: string]: unknown };
      switch (n.nodeType) {
        case "Name":
          if (typeof n.id === "string") {
            loaded.add(n.id);
            if (nested) inner.add(n.id);
          }
          return;
        case "FunctionDef":
        case "Lambda": {
          // Decorators and defaults are evaluated where the function is defined; the body is its own scope.
          const a = n.args as { defaults?: unknown; kw_defaults?: unknown } | undefined;
          walk(n.decorator_list, nested);
          walk(a?.defaults, nested);
          walk(a?.kw_defaults, nested);
          walk(n.body, true);
          return;
        }
        case "ListComp":
        case "SetComp":
        case "DictComp":
        case "GeneratorExp": {
          // CPython 3.11 compiles a comprehension as a function; its first iterable is evaluated outside it.
          const gens = (n.generators ?? []) as { iter: unknown; target: unknown; ifs: unknown }[];
          gens.forEach((g, i) => {
            walk(g.iter, i === 0 ? nested : true);
            walk(g.target, true);
            walk(g.ifs, true);
          });
          walk(n.elt, true);
          walk(n.key, true);
          walk(n.value, true);
          return;
        }
        default:
          for (const k in n) {
            const v = n[k];
            if (v && typeof v === "object") walk(v, nested);
          }
      }
    };
    walk(fn.body, false);
    const cells = new Set([...info.localNames].filter((x) => inner.has(x)));
    facts = { locals: [...info.localNames], cells, loaded };
    localsOrderCache.set(info, facts);
  }
  const a = fn.node?.args;
  const params = a
    ? a.posonlyargs.length + a.args.length + a.kwonlyargs.length + (a.vararg ? 1 : 0) + (a.kwarg ? 1 : 0)
    : 0;
  const plain = facts.locals.filter((n, i) => i < params || !facts.cells.has(n));
  const cells = facts.locals.filter((n, i) => i >= params && facts.cells.has(n)).sort();
  const free = [...facts.loaded]
    .filter((n) => !info.localNames.has(n) && !info.globalNames.has(n))
    .filter((n) => {
      for (let s = f.parent; s; s = s.parent) if (s.localNames.has(n)) return true;
      return false;
    })
    .sort();
  return { locals: [...plain, ...cells], free };
}

/** The live namespace as a mapping: reads and writes go to the module's variables. */
class GlobalsDict extends HostObject {
  readonly pyTypeName = "dict";
  constructor(private readonly vars: Map<string, PyValue>) {
    super();
  }
  private key(k: PyValue, ctx: CallContext): string {
    if (typeof k !== "string") throw new PyException("KeyError", ctx.repr(k));
    return k;
  }
  override getItem(k: PyValue, ctx: CallContext): PyValue {
    const v = this.vars.get(this.key(k, ctx));
    if (v === undefined) throw new PyException("KeyError", ctx.repr(k));
    return v;
  }
  override setItem(k: PyValue, v: PyValue, ctx: CallContext): void {
    this.vars.set(this.key(k, ctx), v);
  }
  override delItem(k: PyValue, ctx: CallContext): void {
    if (!this.vars.delete(this.key(k, ctx))) throw new PyException("KeyError", ctx.repr(k));
  }
  override contains(k: PyValue): boolean {
    return typeof k === "string" && this.vars.has(k);
  }
  override iterate(): Iterable<PyValue> {
    return [...this.vars.keys()];
  }
  override length(): number {
    return this.vars.size;
  }
  override getAttr(name: string): PyValue | undefined {
    const vars = this.vars;
    switch (name) {
      case "get":
        return new PyBuiltin(
          "get",
          (args) => (typeof args[0] === "string" ? vars.get(args[0]) : undefined) ?? args[1] ?? null,
        );
      case "keys":
        return new PyBuiltin("keys", () => [...vars.keys()]);
      case "items":
        return new PyBuiltin("items", () => [...vars.entries()].map(([k, v]) => new PyTuple([k, v])));
      case "values":
        return new PyBuiltin("values", () => [...vars.values()]);
      case "setdefault":
        return new PyBuiltin("setdefault", (args, _kwargs, ctx) => {
          const k = this.key(args[0] ?? null, ctx);
          if (!vars.has(k)) vars.set(k, args[1] ?? null);
          return vars.get(k)!;
        });
      case "update":
        return new PyBuiltin("update", (args, kwargs, ctx) => {
          if (args[0] instanceof PyDict) for (const [k, v] of args[0].entries()) vars.set(this.key(k, ctx), v);
          for (const [k, v] of kwargs) vars.set(k, v);
          return null;
        });
      default:
        return undefined;
    }
  }
  override repr(): string {
    return "{...}";
  }
}

function callableName(fn: PyValue): string {
  if (fn instanceof PyFunction || fn instanceof PyBuiltin || fn instanceof PyType || fn instanceof PyExceptionType)
    return fn.name;
  return typeName(fn);
}

/** Gives an error the location of the frame it is leaving, if it has none yet. */
function locate(err: unknown, f: Frame): unknown {
  if (err instanceof PyException || err instanceof FatalPythonError) {
    if (!err.location) {
      err.location = f.location;
      err.functionName = f.fnName ?? undefined;
    }
    return err;
  }
  if (err instanceof TantalusError && err.location) return err;
  if (err instanceof PythonError) {
    // Raised by a host callback without a location: keep its kind, add the line.
    const fatal = new FatalPythonError(err.kind === "exception" ? "host" : err.kind, err.detail, err.original ?? err);
    fatal.location = f.location;
    fatal.functionName = f.fnName ?? undefined;
    return fatal;
  }
  // A failure inside a host callback (or a bug): report it at the line that triggered it.
  const message = err instanceof Error ? err.message : String(err);
  const fatal = new FatalPythonError("host", message, err);
  fatal.location = f.location;
  fatal.functionName = f.fnName ?? undefined;
  return fatal;
}

function publicError(err: unknown): Error {
  if (err instanceof PythonError) return err;
  if (err instanceof PyException) {
    const where = err.functionName ? ` (in ${err.functionName}())` : "";
    return new PythonError(`${err.message}${where}`, err.location, err.pyType, "exception", err);
  }
  if (err instanceof FatalPythonError) {
    const where = err.functionName && err.kind !== "not-allowed" ? ` (in ${err.functionName}())` : "";
    return new PythonError(`${err.message}${where}`, err.location, undefined, err.kind, err.original);
  }
  return err instanceof Error ? err : new Error(String(err));
}

function frameAccess(f: Frame): FrameAccess {
  const vars = f.isModule ? f.globals : f.vars;
  return {
    names: () => [...vars.keys()],
    get: (name) => vars.get(name),
    set: (name, value) => void vars.set(name, value),
    delete: (name) => void vars.delete(name),
  };
}

function collectTargetNames(t: ExprNode, out: Set<string>): void {
  switch (t.nodeType) {
    case "Name":
      out.add(t.id);
      break;
    case "Tuple":
    case "List":
      for (const e of t.elts) collectTargetNames(e, out);
      break;
    case "Starred":
      collectTargetNames(t.value, out);
      break;
    default:
      break;
  }
}

function functionInfo(fn: PyFunction): FunctionInfo {
  const key: object = fn.node ?? fn.body;
  let info = functionInfoCache.get(key);
  if (!info) {
    info = analyseFunction(fn);
    functionInfoCache.set(key, info);
  }
  return info;
}

/** Python's compile-time scope rules: a name assigned anywhere in a function is local to it. */
function analyseFunction(fn: PyFunction): FunctionInfo {
  const assigned = new Set<string>();
  const globals = new Set<string>();
  const nonlocals = new Set<string>();
  if (fn.node) {
    const a = fn.node.args;
    for (const p of [...a.posonlyargs, ...a.args, ...a.kwonlyargs]) assigned.add(p.arg);
    if (a.vararg) assigned.add(a.vararg.arg);
    if (a.kwarg) assigned.add(a.kwarg.arg);
  }
  const visitExpr = (e: unknown): void => {
    if (!e || typeof e !== "object") return;
    if (Array.isArray(e)) {
      for (const x of e) visitExpr(x);
      return;
    }
    const node = e as { nodeType?: string; [k: string]: unknown };
    if (node.nodeType === "Lambda") return;
    if (node.nodeType === "NamedExpr") collectTargetNames(node.target as ExprNode, assigned);
    for (const k in node) {
      const v = node[k];
      if (v && typeof v === "object") visitExpr(v);
    }
  };
  const visit = (stmts: readonly StmtNode[]): void => {
    for (const s of stmts) {
      switch (s.nodeType) {
        case "Assign":
          for (const t of s.targets) collectTargetNames(t, assigned);
          visitExpr(s.value);
          break;
        case "AugAssign":
        case "AnnAssign":
          collectTargetNames(s.target, assigned);
          visitExpr(s.value);
          break;
        case "For":
          collectTargetNames(s.target, assigned);
          visitExpr(s.iter);
          visit(s.body);
          visit(s.orelse);
          break;
        case "While":
          visitExpr(s.test);
          visit(s.body);
          visit(s.orelse);
          break;
        case "If":
          visitExpr(s.test);
          visit(s.body);
          visit(s.orelse);
          break;
        case "With":
          for (const item of s.items) {
            visitExpr(item.context_expr);
            if (item.optional_vars) collectTargetNames(item.optional_vars, assigned);
          }
          visit(s.body);
          break;
        case "Try":
          visit(s.body);
          for (const h of s.handlers) {
            if (h.name) assigned.add(h.name);
            visit(h.body);
          }
          visit(s.orelse);
          visit(s.finalbody);
          break;
        case "FunctionDef":
          assigned.add(s.name);
          visitExpr(s.decorator_list);
          break;
        case "ClassDef":
          assigned.add(s.name);
          break;
        case "Delete":
          for (const t of s.targets) collectTargetNames(t, assigned);
          break;
        case "Global":
          for (const n of s.names) globals.add(n);
          break;
        case "Nonlocal":
          for (const n of s.names) nonlocals.add(n);
          break;
        case "Import":
        case "ImportFrom":
          for (const a of s.names) assigned.add((a.asname ?? a.name).split(".")[0]!);
          break;
        case "Expr":
        case "Return":
          visitExpr((s as { value?: unknown }).value);
          break;
        default:
          break;
      }
    }
  };
  visit(fn.body);
  for (const n of globals) assigned.delete(n);
  for (const n of nonlocals) assigned.delete(n);
  return { localNames: assigned, globalNames: globals, nonlocalNames: nonlocals };
}

/** Binds call arguments to a function's parameters, with Python's rules and messages. */
function bindParameters(
  fn: PyFunction,
  a: Arguments,
  args: PyValue[],
  kwargs: Map<string, PyValue>,
  locals: Map<string, PyValue>,
): void {
  const name = fn.name;
  const positional = [...a.posonlyargs, ...a.args];
  const posOnly = a.posonlyargs.length;
  const extra: PyValue[] = [];
  for (let i = 0; i < args.length; i++) {
    if (i < positional.length) locals.set(positional[i]!.arg, args[i]!);
    else if (a.vararg) extra.push(args[i]!);
    else {
      const max = positional.length;
      const min = max - fn.defaults.length;
      const takes = min === max ? `${max}` : `from ${min} to ${max}`;
      throw new PyException(
        "TypeError",
        `${name}() takes ${takes} positional argument${max === 1 && min === max ? "" : "s"} but ${args.length} ${args.length === 1 ? "was" : "were"} given`,
      );
    }
  }
  let kwExtra: PyDict | undefined;
  for (const [k, v] of kwargs) {
    const pi = positional.findIndex((p) => p.arg === k);
    const isKwOnly = a.kwonlyargs.some((p) => p.arg === k);
    if ((pi >= posOnly && pi >= 0) || isKwOnly) {
      if (locals.has(k)) throw new PyException("TypeError", `${name}() got multiple values for argument '${k}'`);
      locals.set(k, v);
    } else if (a.kwarg) {
      kwExtra ??= new PyDict();
      kwExtra.set(k, v);
    } else {
      throw new PyException("TypeError", `${name}() got an unexpected keyword argument '${k}'`);
    }
  }
  const firstDefault = positional.length - fn.defaults.length;
  const missing: string[] = [];
  positional.forEach((p, i) => {
    if (locals.has(p.arg)) return;
    if (i >= firstDefault) locals.set(p.arg, fn.defaults[i - firstDefault]!);
    else missing.push(p.arg);
  });
  if (missing.length)
    throw new PyException(
      "TypeError",
      `${name}() missing ${missing.length} required positional argument${missing.length === 1 ? "" : "s"}: ${listNames(missing)}`,
    );
  const missingKw: string[] = [];
  for (const p of a.kwonlyargs) {
    if (locals.has(p.arg)) continue;
    const d = fn.kwDefaults.get(p.arg);
    if (d !== undefined) locals.set(p.arg, d);
    else missingKw.push(p.arg);
  }
  if (missingKw.length)
    throw new PyException(
      "TypeError",
      `${name}() missing ${missingKw.length} required keyword-only argument${missingKw.length === 1 ? "" : "s"}: ${listNames(missingKw)}`,
    );
  if (a.vararg) locals.set(a.vararg.arg, new PyTuple(extra));
  if (a.kwarg) locals.set(a.kwarg.arg, kwExtra ?? new PyDict());
}

function listNames(names: string[]): string {
  const q = names.map((n) => `'${n}'`);
  if (q.length === 1) return q[0]!;
  if (q.length === 2) return `${q[0]} and ${q[1]}`;
  return `${q.slice(0, -1).join(", ")}, and ${q[q.length - 1]}`;
}
