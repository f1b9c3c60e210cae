/**
 * The value model of the Python subset. Python values map onto JavaScript as:
 *
 *   None -> null, bool -> boolean, str -> string,
 *   int -> number (always a safe integer) or bigint (only outside the safe range),
 *   float -> PyFloat, list -> PyValue[] (a plain, mutable array), tuple -> PyTuple,
 *   dict -> PyDict, set -> PySet, range -> PyRange, iterators -> PyIterator,
 *   functions -> PyFunction / PyBuiltin, exception types and instances -> PyExceptionType / PyExceptionValue,
 *   anything the embedding program provides -> HostObject.
 *
 * Keeping ints as plain numbers makes the common case (timestamps, version tokens)
 * cheap and natural for callers; floats are rare in package definitions, so
 * wrapping them costs nothing in practice and keeps `1` and `1.0` apart, which
 * Python's str() needs.
 */
import type { FunctionNode, LambdaNode, ParsedModule, StmtNode } from "./ast.js";
import type { SourceLocation } from "../../errors.js";
import { PyFloat, normInt } from "./literals.js";

// The literal values are defined with the literal reader, which the parser uses: values.ts
// imports the parser's node types, so the parser must not import values.ts.
export { PyFloat, normInt };

export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | PyFloat
  | PyValue[]
  | PyTuple
  | PyDict
  | PySet
  | PyRange
  | PyIterator
  | PyDictView
  | PyCallable
  | PyType
  | PyExceptionType
  | PyExceptionValue
  | HostObject;

export class PyTuple {
  constructor(readonly items: readonly PyValue[]) {}
}

/** A `range` object: lazy, like Python's. */
export class PyRange {
  constructor(
    readonly start: number,
    readonly stop: number,
    readonly step: number,
  ) {}

  get length(): number {
    if (this.step > 0) return this.stop > this.start ? Math.ceil((this.stop - this.start) / this.step) : 0;
    return this.start > this.stop ? Math.ceil((this.start - this.stop) / -this.step) : 0;
  }

  at(i: number): number {
    return this.start + i * this.step;
  }
}

/** A one-shot iterator (generator expressions, enumerate, zip, map, iter(), dict iteration...). */
export class PyIterator {
  private done = false;
  constructor(
    readonly kind: string,
    private readonly source: Iterator<PyValue>,
  ) {}

  next(): IteratorResult<PyValue> {
    if (this.done) return { done: true, value: undefined };
    const r = this.source.next();
    if (r.done) this.done = true;
    return r;
  }

  [Symbol.iterator](): Iterator<PyValue> {
    return { next: () => this.next() };
  }
}

/** `dict.keys()`, `dict.values()`, `dict.items()`: live views on the dict. */
export class PyDictView {
  constructor(
    readonly kind: "dict_keys" | "dict_values" | "dict_items",
    readonly dict: PyDict,
  ) {}

  *[Symbol.iterator](): Iterator<PyValue> {
    for (const [k, v] of this.dict.entries()) {
      if (this.kind === "dict_keys") yield k;
      else if (this.kind === "dict_values") yield v;
      else yield new PyTuple([k, v]);
    }
  }
}

/** Marker for tuple keys in hash maps: U+10FFFF is a noncharacter no real key string starts with. */
const TUPLE_KEY_PREFIX = "\u{10FFFF}t";

/**
 * The hash-map key of a Python value, following Python's equality: `1`, `1.0`
 * and `True` are the same key, `"1"` is not. Throws a TypeError PyException for
 * unhashable values (lists, dicts, sets).
 */
export function hashKey(v: PyValue): unknown {
  switch (typeof v) {
    case "string":
    case "number":
    case "bigint":
      return v;
    case "boolean":
      return v ? 1 : 0;
    default:
      break;
  }
  if (v === null) return null;
  if (v instanceof PyFloat) {
    const f = v.value;
    if (Number.isInteger(f) && !Number.isSafeInteger(f)) return BigInt(f);
    return f;
  }
  if (v instanceof PyTuple) {
    let s = TUPLE_KEY_PREFIX;
    for (const item of v.items) s += tupleKeyPart(hashKey(item)) + "\u{10FFFF},";
    return s;
  }
  if (Array.isArray(v) || v instanceof PyDict || v instanceof PySet) {
    throw new PyException("TypeError", `unhashable type: '${typeName(v)}'`);
  }
  if (v instanceof HostObject) {
    const h = v.hashKey();
    if (h === undefined) throw new PyException("TypeError", `unhashable type: '${v.pyTypeName}'`);
    return h;
  }
  // Functions, types, iterators: hashed by identity, as in Python.
  return v;
}

let identityCounter = 0;
const identities = new WeakMap<object, number>();

function tupleKeyPart(k: unknown): string {
  switch (typeof k) {
    case "string":
      return "s" + k;
    case "number":
      return "n" + String(k);
    case "bigint":
      return "n" + k.toString();
    case "boolean":
    case "undefined":
      return "?" + String(k);
    case "symbol":
      return "?" + k.toString();
    default:
      break;
  }
  if (k === null) return "N";
  // Objects and functions: by identity.
  let id = identities.get(k as object);
  if (id === undefined) {
    id = ++identityCounter;
    identities.set(k as object, id);
  }
  return "o" + id;
}

/** A Python dict: insertion-ordered, keys compared with Python equality. */
export class PyDict {
  private readonly map = new Map<unknown, [PyValue, PyValue]>();

  static from(entries: Iterable<readonly [PyValue, PyValue]>): PyDict {
    const d = new PyDict();
    for (const [k, v] of entries) d.set(k, v);
    return d;
  }

  get size(): number {
    return this.map.size;
  }

  get(key: PyValue): PyValue | undefined {
    const e = this.map.get(hashKey(key));
    return e === undefined ? undefined : e[1];
  }

  has(key: PyValue): boolean {
    return this.map.has(hashKey(key));
  }

  /** Sets a value; an existing key keeps its original key object and position, as in Python. */
  set(key: PyValue, value: PyValue): void {
    const h = hashKey(key);
    const e = this.map.get(h);
    if (e !== undefined) e[1] = value;
    else this.map.set(h, [key, value]);
  }

  delete(key: PyValue): boolean {
    return this.map.delete(hashKey(key));
  }

  clear(): void {
    this.map.clear();
  }

  *keys(): IterableIterator<PyValue> {
    for (const e of this.map.values()) yield e[0];
  }

  *values(): IterableIterator<PyValue> {
    for (const e of this.map.values()) yield e[1];
  }

  *entries(): IterableIterator<[PyValue, PyValue]> {
    for (const e of this.map.values()) yield [e[0], e[1]];
  }

  /** First entry, for popitem() (which takes the last). */
  lastEntry(): [PyValue, PyValue] | undefined {
    let last: [PyValue, PyValue] | undefined;
    for (const e of this.map.values()) last = e;
    return last === undefined ? undefined : [last[0], last[1]];
  }

  copy(): PyDict {
    const d = new PyDict();
    for (const [k, v] of this.entries()) d.set(k, v);
    return d;
  }
}

/**
 * A Python set. Iteration follows insertion order: CPython's order depends on
 * hashes (randomised for strings), so no order can match it in general.
 */
export class PySet {
  private readonly map = new Map<unknown, PyValue>();

  constructor(items?: Iterable<PyValue>) {
    if (items) for (const v of items) this.add(v);
  }

  get size(): number {
    return this.map.size;
  }

  has(v: PyValue): boolean {
    return this.map.has(hashKey(v));
  }

  add(v: PyValue): void {
    const h = hashKey(v);
    if (!this.map.has(h)) this.map.set(h, v);
  }

  delete(v: PyValue): boolean {
    return this.map.delete(hashKey(v));
  }

  clear(): void {
    this.map.clear();
  }

  values(): IterableIterator<PyValue> {
    return this.map.values();
  }

  [Symbol.iterator](): IterableIterator<PyValue> {
    return this.map.values();
  }

  copy(): PySet {
    return new PySet(this.map.values());
  }
}

/** Decorations applied by the embedding program's decorators (Rez's `@early()`, `@late()`, `@include(...)`). */
export interface FunctionMark {
  name: string;
  args: PyValue[];
}

/** What a PyFunction is made of; see PyFunction. */
export interface PyFunctionInit {
  name: string;
  kind: "def" | "lambda" | "code";
  /** The FunctionDef or Lambda node; undefined for kind "code". */
  node?: FunctionNode | LambdaNode;
  body: readonly StmtNode[];
  defaults?: readonly PyValue[];
  kwDefaults?: ReadonlyMap<string, PyValue>;
  globals: Map<string, PyValue>;
  closure?: Scope | null;
  module: ParsedModule;
  line: number;
  source?: string;
}

/**
 * A function defined in Python source (`def` or `lambda`), or a block of code
 * given as a string (Rez's YAML `commands: |`), which runs like a function body.
 * It keeps its syntax tree, so it can be called later with a fresh set of
 * globals (see Interpreter.callFunction and Interpreter.runBody).
 */
export class PyFunction {
  /** Marks set by decorators such as `@late()`; see FunctionMark. */
  readonly marks: FunctionMark[] = [];
  readonly name: string;
  readonly kind: "def" | "lambda" | "code";
  readonly node: FunctionNode | LambdaNode | undefined;
  /** The statements of the body (for a lambda: a synthetic `return <expr>`). */
  readonly body: readonly StmtNode[];
  /** Default values of positional parameters, evaluated at definition time (aligned right). */
  readonly defaults: readonly PyValue[];
  /** Defaults of keyword-only parameters, by name. */
  readonly kwDefaults: ReadonlyMap<string, PyValue>;
  /** The module globals the function was defined in. */
  readonly globals: Map<string, PyValue>;
  /** Enclosing function scope (for closures); null for module-level functions. */
  readonly closure: Scope | null;
  /** The parsed file (or code string) the function comes from. */
  readonly module: ParsedModule;
  /** Line of the `def` (or of the code block). */
  readonly line: number;
  /** Source text of the definition, decorators included. */
  readonly source: string;

  constructor(init: PyFunctionInit) {
    this.name = init.name;
    this.kind = init.kind;
    this.node = init.node;
    this.body = init.body;
    this.defaults = init.defaults ?? [];
    this.kwDefaults = init.kwDefaults ?? new Map();
    this.globals = init.globals;
    this.closure = init.closure ?? null;
    this.module = init.module;
    this.line = init.line;
    this.source = init.source ?? "";
  }

  get file(): string {
    return this.module.file;
  }

  hasMark(name: string): boolean {
    return this.marks.some((m) => m.name === name);
  }

  get location(): SourceLocation {
    return { file: this.file, line: this.line };
  }
}

/** Context a builtin or host callback gets: where it was called from and access to the interpreter's services. */
export interface CallContext {
  readonly location: SourceLocation;
  /** Calls any Python callable (e.g. a function passed as `key=`). */
  call(fn: PyValue, args: PyValue[], kwargs?: Map<string, PyValue>): PyValue;
  /** Python str() and repr(), honouring host objects. */
  str(v: PyValue): string;
  repr(v: PyValue): string;
  /** Attribute and item access with Python semantics (host objects included). */
  getAttr(obj: PyValue, name: string): PyValue;
  getItem(obj: PyValue, key: PyValue): PyValue;
  /** Where print() output goes; absent: print() discards its output. */
  output?(text: string): void;
  /** Counts an evaluation step (long-running builtins call this so the step limit still applies). */
  step(): void;
}

export type BuiltinImpl = (args: PyValue[], kwargs: Map<string, PyValue>, ctx: CallContext) => PyValue;

/** A function implemented in TypeScript (a builtin, a bound method, or a host-provided function). */
export class PyBuiltin {
  constructor(
    readonly name: string,
    readonly impl: BuiltinImpl,
    /** For bound methods: the owner's type name, used in repr. */
    readonly owner?: string,
  ) {}
}

export type PyCallable = PyFunction | PyBuiltin;

/**
 * A type object (`str`, `int`, `list`, ...): callable as a constructor and usable
 * with isinstance(). `matches` says whether a value is an instance.
 */
export class PyType {
  constructor(
    readonly name: string,
    readonly construct: BuiltinImpl,
    readonly matches: (v: PyValue) => boolean,
  ) {}
}

/** An exception class (`ValueError`, Rez's `InvalidPackageError`, ...). */
export class PyExceptionType {
  constructor(
    readonly name: string,
    readonly base: PyExceptionType | null,
  ) {}

  isSubclassOf(other: PyExceptionType): boolean {
    return this === other || (this.base?.isSubclassOf(other) ?? false);
  }
}

/** An exception instance (what `raise` throws and `except ... as e` binds). */
export class PyExceptionValue {
  constructor(
    readonly type: PyExceptionType,
    readonly args: readonly PyValue[],
    /** str(e), computed when the exception was created. */
    readonly message: string,
  ) {}
}

/**
 * A Python-level exception travelling through the interpreter. Catchable by
 * `try/except`. Host callbacks throw it (e.g. `new PyException("KeyError", "'FOO'")`)
 * for errors package code may legitimately catch. The location is filled in by
 * the interpreter with the line being evaluated.
 */
export class PyException extends Error {
  location?: SourceLocation;
  /** Function the exception was raised in, for messages. */
  functionName?: string;

  constructor(
    /** The Python exception type name, e.g. "KeyError". */
    readonly pyType: string,
    /** str() of the exception. */
    readonly pyMessage: string,
    /** The exception object when raised by Python code (so `except E as e` gets the same object back). */
    readonly value?: PyExceptionValue,
  ) {
    super(pyMessage ? `${pyType}: ${pyMessage}` : pyType);
  }
}

/** A variable scope of a running function (for closures). */
export interface Scope {
  readonly vars: Map<string, PyValue>;
  /** Names local to this scope (assigned in the function body, minus global/nonlocal ones). */
  readonly localNames: ReadonlySet<string>;
  readonly parent: Scope | null;
}

/**
 * Access to the namespace a `with` block runs in, for context managers such as
 * Rez's `with scope("config"):`, which records the variables the block assigns.
 */
export interface FrameAccess {
  names(): string[];
  get(name: string): PyValue | undefined;
  set(name: string, value: PyValue): void;
  delete(name: string): void;
}

/**
 * An object provided by the embedding program (Rez's `env`, `this`, `resolve`,
 * a config scope...). Override what the object supports; the defaults raise the
 * Python error Python would raise. Callbacks receive a CallContext and may throw
 * PyException (catchable by package code) or any other Error (reported with the
 * package.py line being evaluated, not catchable).
 */
export abstract class HostObject {
  /** The type name Python code and error messages see. */
  abstract readonly pyTypeName: string;

  /** Attribute read; return undefined when there is no such attribute (an AttributeError follows). */
  getAttr(_name: string, _ctx: CallContext): PyValue | undefined {
    return undefined;
  }

  /** Attribute write (`env.FOO = "x"`). */
  setAttr(name: string, _value: PyValue, _ctx: CallContext): void {
    throw new PyException("AttributeError", `'${this.pyTypeName}' object has no attribute '${name}'`);
  }

  delAttr(name: string, _ctx: CallContext): void {
    throw new PyException("AttributeError", `'${this.pyTypeName}' object has no attribute '${name}'`);
  }

  /** Item read (`env["FOO"]`). */
  getItem(_key: PyValue, _ctx: CallContext): PyValue {
    throw new PyException("TypeError", `'${this.pyTypeName}' object is not subscriptable`);
  }

  setItem(_key: PyValue, _value: PyValue, _ctx: CallContext): void {
    throw new PyException("TypeError", `'${this.pyTypeName}' object does not support item assignment`);
  }

  delItem(_key: PyValue, _ctx: CallContext): void {
    throw new PyException("TypeError", `'${this.pyTypeName}' object does not support item deletion`);
  }

  /** Called as a function. */
  call(_args: PyValue[], _kwargs: Map<string, PyValue>, _ctx: CallContext): PyValue {
    throw new PyException("TypeError", `'${this.pyTypeName}' object is not callable`);
  }

  /** `item in obj`. */
  contains(item: PyValue, ctx: CallContext): boolean {
    const it = this.iterate(ctx);
    if (it === undefined) throw new PyException("TypeError", `argument of type '${this.pyTypeName}' is not iterable`);
    for (const v of it) if (pyEquals(v, item)) return true;
    return false;
  }

  /** For tuple-like objects (named tuples such as sys.version_info): the items, so slices work. */
  asTuple(): readonly PyValue[] | undefined {
    return undefined;
  }

  /** Iteration; undefined when not iterable. */
  iterate(_ctx: CallContext): Iterable<PyValue> | undefined {
    return undefined;
  }

  /** len(obj); undefined when it has no length. */
  length(_ctx: CallContext): number | undefined {
    return undefined;
  }

  /** Truth value; default: true, or length != 0 when it has a length. */
  truthy(ctx: CallContext): boolean {
    const n = this.length(ctx);
    return n === undefined ? true : n !== 0;
  }

  /** str(obj). */
  str(ctx: CallContext): string {
    return this.repr(ctx);
  }

  /** repr(obj). */
  repr(_ctx: CallContext): string {
    return `<${this.pyTypeName} object>`;
  }

  /** format(obj, spec) and f-string `{obj:spec}`; the default formats str(obj) with a string spec. */
  format(_spec: string, _ctx: CallContext): string | undefined {
    return undefined;
  }

  /** `obj == other`; default identity. */
  equals(other: PyValue): boolean {
    return other === this;
  }

  /** Ordering against another value: negative, zero, positive, or undefined when not comparable. */
  compare(_other: PyValue): number | undefined {
    return undefined;
  }

  /** A binary operator (`+`, `%`...; op is the AST name, e.g. "Add"); undefined when unsupported. */
  binaryOp(_op: string, _other: PyValue, _reflected: boolean, _ctx: CallContext): PyValue | undefined {
    return undefined;
  }

  /** A unary operator ("UAdd", "USub", "Invert"); undefined when unsupported. */
  unaryOp(_op: string, _ctx: CallContext): PyValue | undefined {
    return undefined;
  }

  /** Hash-map key when the object is hashable by value; undefined when unhashable; default: identity. */
  hashKey(): unknown {
    return this;
  }

  /** `with obj as x:`: the value bound to x. */
  enter(_frame: FrameAccess, _ctx: CallContext): PyValue {
    throw new PyException("TypeError", `'${this.pyTypeName}' object does not support the context manager protocol`);
  }

  exit(_frame: FrameAccess, _ctx: CallContext): void {}
}

export function typeName(v: PyValue): string {
  switch (typeof v) {
    case "string":
      return "str";
    case "number":
    case "bigint":
      return "int";
    case "boolean":
      return "bool";
    default:
      break;
  }
  if (v === null) return "NoneType";
  if (Array.isArray(v)) return "list";
  if (v instanceof PyFloat) return "float";
  if (v instanceof PyTuple) return "tuple";
  if (v instanceof PyDict) return "dict";
  if (v instanceof PySet) return "set";
  if (v instanceof PyRange) return "range";
  if (v instanceof PyIterator) return v.kind;
  if (v instanceof PyDictView) return v.kind;
  if (v instanceof PyFunction) return "function";
  if (v instanceof PyBuiltin) return "builtin_function_or_method";
  if (v instanceof PyType) return "type";
  if (v instanceof PyExceptionType) return "type";
  if (v instanceof PyExceptionValue) return v.type.name;
  if (v instanceof HostObject) return v.pyTypeName;
  return "object";
}

export function isInt(v: PyValue): v is number | bigint {
  return typeof v === "number" || typeof v === "bigint";
}

/** Python equality (`==`) for values that do not need the interpreter. */
export function pyEquals(a: PyValue, b: PyValue): boolean {
  if (a === b) return a instanceof PyFloat ? !Number.isNaN(a.value) : true;
  const ta = typeof a;
  const tb = typeof b;
  if (ta === "string" || tb === "string") {
    // A host object may equal a string (Rez's EnvironmentVariable, EscapedString), either way round.
    if (a instanceof HostObject) return a.equals(b);
    if (b instanceof HostObject) return b.equals(a);
    return false;
  }
  const na = numericValue(a);
  if (na !== undefined) {
    const nb = numericValue(b);
    if (nb === undefined) return b instanceof HostObject ? b.equals(a) : false;
    return numEquals(na, nb);
  }
  if (a === null || b === null) return false;
  if (Array.isArray(a)) return Array.isArray(b) && seqEquals(a, b);
  if (a instanceof PyTuple) return b instanceof PyTuple && seqEquals(a.items, b.items);
  if (a instanceof PyDict) {
    if (!(b instanceof PyDict) || a.size !== b.size) return false;
    for (const [k, v] of a.entries()) {
      const w = b.get(k);
      if (w === undefined || !pyEquals(v, w)) return false;
    }
    return true;
  }
  if (a instanceof PySet) {
    if (!(b instanceof PySet) || a.size !== b.size) return false;
    for (const v of a) if (!b.has(v)) return false;
    return true;
  }
  if (a instanceof PyRange) {
    if (!(b instanceof PyRange)) return false;
    const la = a.length;
    if (la !== b.length) return false;
    if (la === 0) return true;
    if (a.start !== b.start) return false;
    return la === 1 || a.step === b.step;
  }
  // Key and item views compare like sets (with each other and with sets).
  const setLike = (x: PyValue): x is PySet | PyDictView =>
    x instanceof PySet || (x instanceof PyDictView && x.kind !== "dict_values");
  if ((a instanceof PyDictView || b instanceof PyDictView) && setLike(a) && setLike(b)) {
    return pyEquals(a instanceof PySet ? a : new PySet(a), b instanceof PySet ? b : new PySet(b));
  }
  if (a instanceof HostObject) return a.equals(b);
  if (b instanceof HostObject) return b.equals(a);
  return false;
}

function seqEquals(a: readonly PyValue[], b: readonly PyValue[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!pyEquals(a[i]!, b[i]!)) return false;
  return true;
}

/** The numeric value of int, bool or float (undefined for anything else). */
export function numericValue(v: PyValue): number | bigint | undefined {
  switch (typeof v) {
    case "number":
    case "bigint":
      return v;
    case "boolean":
      return v ? 1 : 0;
    default:
      return v instanceof PyFloat ? v.value : undefined;
  }
}

function numEquals(a: number | bigint, b: number | bigint): boolean {
  if (typeof a === "number" && typeof b === "number") return a === b;
  return compareNumbers(a, b) === 0;
}

/** Exact comparison of int/float values, mixing numbers and bigints. NaN compares as undefined. */
export function compareNumbers(a: number | bigint, b: number | bigint): number | undefined {
  if (typeof a === "number" && typeof b === "number") {
    if (Number.isNaN(a) || Number.isNaN(b)) return undefined;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  if (typeof a === "bigint" && typeof b === "bigint") return a < b ? -1 : a > b ? 1 : 0;
  // One bigint, one number: compare exactly.
  const big = typeof a === "bigint" ? a : (b as bigint);
  const num = typeof a === "number" ? a : (b as number);
  const sign = typeof a === "bigint" ? 1 : -1;
  if (Number.isNaN(num)) return undefined;
  if (num === Infinity) return -sign;
  if (num === -Infinity) return sign;
  const fl = Math.floor(num);
  const bf = BigInt(fl);
  if (big < bf) return -sign;
  if (big > bf) return sign;
  return num > fl ? -sign : 0;
}
