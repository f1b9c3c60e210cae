/**
 * The objects package commands see (Rez's rex_bindings.py and the rex
 * namespace): `env` and its variables, `this` / `resolve.<pkg>` (variant
 * bindings), `version`, `request` / `implicits` / `ephemerals`, `system`,
 * literal()/expandable() strings and version ranges. Attribute names, return
 * values and error messages follow Rez's, since commands branch on them.
 */
import { bindArgs } from "../rez/python/args.js";
import {
  HostObject,
  PyBuiltin,
  PyException,
  PyTuple,
  type BuiltinImpl,
  type CallContext,
  type PyValue,
} from "../rez/python/values.js";
import { strRepr } from "../rez/python/repr.js";
import { Requirement, VersionRange, type Version } from "../rez/version/index.js";
import { EscapedString } from "./escaped.js";
import { Stringified, type ActionManager, type RexInput } from "./manager.js";
import { VARIANT_SCHEMA_KEYS } from "./schema-keys.js";

function method(owner: string, name: string, impl: BuiltinImpl): PyBuiltin {
  return new PyBuiltin(name, impl, owner);
}

/** bindArgs, without its bookkeeping for the common call: positional arguments only. */
export function bindRexArgs(
  fname: string,
  args: readonly PyValue[],
  kwargs: ReadonlyMap<string, PyValue>,
  names: readonly string[],
  required: number,
): (PyValue | undefined)[] {
  if (kwargs.size === 0 && args.length >= required && args.length <= names.length) return args as PyValue[];
  return bindArgs(fname, args, kwargs, names, required);
}

function reprOf(ctx: CallContext, v: PyValue): string {
  return ctx.repr(v);
}

/** A Python value as rex takes it: strings and literal()/expandable() are formatted, anything else is str()'d. */
export function rexInput(v: PyValue, ctx: CallContext): RexInput {
  if (typeof v === "string") return v;
  if (v instanceof EscapedStringValue) return v.escaped;
  return new Stringified(ctx.str(v));
}

// ---------------------------------------------------------------------------
// literal() / expandable()

/** Rez's EscapedString as Python sees it: `.literal()`, `.expandable()`, `.l()`, `.e()` extend it in place. */
export class EscapedStringValue extends HostObject {
  readonly pyTypeName = "EscapedString";

  constructor(public escaped: EscapedString) {
    super();
  }

  override getAttr(name: string): PyValue | undefined {
    const extend = (lit: boolean) =>
      method("EscapedString", name, (args, kwargs) => {
        const [v] = bindRexArgs(name, args, kwargs, ["value"], 1);
        if (typeof v !== "string")
          throw new PyException("TypeError", `can only concatenate str (not "${pyTypeOf(v!)}") to str`);
        this.escaped = lit ? this.escaped.withLiteral(v) : this.escaped.withExpandable(v);
        return this;
      });
    switch (name) {
      case "literal":
      case "l":
        return extend(true);
      case "expandable":
      case "e":
        return extend(false);
      case "copy":
        return method("EscapedString", name, () => new EscapedStringValue(this.escaped));
      case "split":
        return method("EscapedString", name, (args, kwargs) => {
          const [d] = bindRexArgs(name, args, kwargs, ["delimiter"], 0);
          if (d !== undefined && d !== null && typeof d !== "string")
            throw new PyException("TypeError", "must be str or None");
          if (typeof d !== "string")
            throw new PyException("ValueError", "EscapedString.split() needs a delimiter in Tantalus");
          return this.escaped.split(d).map((e) => new EscapedStringValue(e));
        });
      default:
        return undefined;
    }
  }

  override binaryOp(op: string, other: PyValue, reflected: boolean): PyValue | undefined {
    if (op !== "Add" || reflected) return undefined;
    if (typeof other === "string") return new EscapedStringValue(this.escaped.concat(other));
    if (other instanceof EscapedStringValue) return new EscapedStringValue(this.escaped.concat(other.escaped));
    return undefined;
  }

  override str(): string {
    return this.escaped.toString();
  }

  override repr(): string {
    const parts = this.escaped.parts.map(([lit, t]) => `(${lit ? "True" : "False"}, ${strRepr(t)})`);
    return `EscapedString([${parts.join(", ")}])`;
  }

  override equals(other: PyValue): boolean {
    if (typeof other === "string") return this.escaped.toString() === other;
    return other instanceof EscapedStringValue && other.escaped.equals(this.escaped);
  }

  override hashKey(): unknown {
    return undefined; // __eq__ without __hash__: unhashable, as in Rez
  }
}

function pyTypeOf(v: PyValue): string {
  if (typeof v === "string") return "str";
  if (typeof v === "number" || typeof v === "bigint") return "int";
  if (typeof v === "boolean") return "bool";
  if (v === null) return "NoneType";
  if (v instanceof HostObject) return v.pyTypeName;
  return Array.isArray(v) ? "list" : "object";
}

// ---------------------------------------------------------------------------
// env

/** `env`: attribute and item access give EnvironmentVariable objects; assignment is setenv. */
export class EnvironmentDict extends HostObject {
  readonly pyTypeName = "AttrDictWrapper";
  private readonly known = new Set<string>();

  constructor(
    private readonly manager: ActionManager,
    parentKeys: Iterable<string>,
  ) {
    super();
    for (const k of parentKeys) this.known.add(k);
  }

  private readonly variables = new Map<string, EnvironmentVariable>();

  variable(name: string): EnvironmentVariable {
    let v = this.variables.get(name);
    if (!v) {
      v = new EnvironmentVariable(name, this.manager);
      this.variables.set(name, v);
      this.known.add(name);
    }
    return v;
  }

  override getAttr(name: string, ctx: CallContext): PyValue | undefined {
    // AttrDictWrapper is a MutableMapping: its mapping methods win over variable names.
    switch (name) {
      case "get":
        return method("AttrDictWrapper", name, (args, kwargs) => {
          const [k] = bindRexArgs(name, args, kwargs, ["key", "default"], 1);
          return this.variable(keyName(k!, ctx));
        });
      case "keys":
        return method("AttrDictWrapper", name, () => [...this.known]);
      case "setdefault":
      case "update":
      case "pop":
      case "popitem":
      case "clear":
      case "items":
      case "values":
        return method("AttrDictWrapper", name, () => {
          throw new PyException("NotImplementedError", `env.${name}() is not supported by Tantalus's rex`);
        });
      default:
        return this.variable(name);
    }
  }

  override setAttr(name: string, value: PyValue, ctx: CallContext): void {
    this.variable(name);
    this.manager.setenv(name, rexInput(value, ctx));
  }

  override getItem(key: PyValue, ctx: CallContext): PyValue {
    return this.variable(keyName(key, ctx));
  }

  override setItem(key: PyValue, value: PyValue, ctx: CallContext): void {
    const name = keyName(key, ctx);
    this.variable(name);
    this.manager.setenv(name, rexInput(value, ctx));
  }

  override delItem(key: PyValue, ctx: CallContext): void {
    // Rez forgets its cached EnvironmentVariable; the variable itself is not unset.
    const name = keyName(key, ctx);
    this.variables.delete(name);
    if (!this.known.delete(name)) throw new PyException("KeyError", strRepr(name));
  }

  override contains(item: PyValue): boolean {
    return typeof item === "string" && this.known.has(item);
  }

  override iterate(): Iterable<PyValue> {
    return [...this.known];
  }

  override length(): number {
    return this.known.size;
  }
}

function keyName(key: PyValue, ctx: CallContext): string {
  return typeof key === "string" ? key : ctx.str(key);
}

/** `env.VAR`: set/append/prepend/unset/reset, and reads through getenv (undefined raises). */
export class EnvironmentVariable extends HostObject {
  readonly pyTypeName = "EnvironmentVariable";

  constructor(
    readonly name: string,
    private readonly manager: ActionManager,
  ) {
    super();
  }

  private readonly methods = new Map<string, PyValue>();

  override getAttr(name: string, ctx: CallContext): PyValue | undefined {
    if (name === "name") return this.name;
    let m = this.methods.get(name);
    if (m === undefined) {
      const made = this.method(name, ctx);
      if (made === undefined) return undefined;
      this.methods.set(name, (m = made));
    }
    return m;
  }

  private method(name: string, ctx: CallContext): PyValue | undefined {
    const m = this.manager;
    const one = (fn: (v: RexInput) => void) =>
      method("EnvironmentVariable", name, (args, kwargs) => {
        const [v] = bindRexArgs(name, args, kwargs, ["value"], 1);
        fn(rexInput(v!, ctx));
        return null;
      });
    switch (name) {
      case "set":
        return one((v) => m.setenv(this.name, v));
      case "append":
        return one((v) => m.appendenv(this.name, v));
      case "prepend":
        return one((v) => m.prependenv(this.name, v));
      case "setdefault":
        return one((v) => {
          if (!this.truthy()) m.setenv(this.name, v);
        });
      case "reset":
        return method("EnvironmentVariable", name, (args, kwargs) => {
          const [v] = bindRexArgs(name, args, kwargs, ["value", "friends"], 1);
          m.setenv(this.name, rexInput(v!, ctx), "resetenv");
          return null;
        });
      case "unset":
        return method("EnvironmentVariable", name, (args, kwargs) => {
          bindRexArgs(name, args, kwargs, [], 0);
          m.unsetenv(this.name);
          return null;
        });
      case "get":
      case "value":
        return method("EnvironmentVariable", name, (args, kwargs) => {
          bindRexArgs(name, args, kwargs, [], 0);
          return m.getenv(this.name);
        });
      default:
        return undefined;
    }
  }

  value(): string {
    return this.manager.getenv(this.name);
  }

  override str(): string {
    return this.value();
  }

  override repr(): string {
    return `EnvironmentVariable(${strRepr(this.name)}, ${strRepr(this.value())})`;
  }

  override truthy(): boolean {
    return this.manager.defined(this.name) ? this.value() !== "" : false;
  }

  override equals(other: PyValue): boolean {
    const v = other instanceof EnvironmentVariable ? other.value() : other;
    return this.value() === v;
  }

  override hashKey(): unknown {
    return undefined;
  }
}

// ---------------------------------------------------------------------------
// version

/** Rez's VersionBinding: `.major`, `.minor`, `.patch`, `[i]`, `as_tuple()`; numeric tokens come back as int. */
export class VersionBinding extends HostObject {
  readonly pyTypeName = "VersionBinding";

  constructor(readonly version: Version) {
    super();
  }

  /** A token as Rez converts it: digits without a leading zero (or "0") become an int. */
  private token(i: number): PyValue {
    const t = this.version.token(i);
    if (t === undefined) return null;
    return /^[0-9]+$/.test(t) && (t[0] !== "0" || t === "0") ? Number(t) : t;
  }

  override getAttr(name: string): PyValue | undefined {
    switch (name) {
      case "major":
        return this.token(0);
      case "minor":
        return this.token(1);
      case "patch":
        return this.token(2);
      case "as_tuple":
        return method("VersionBinding", name, () => new PyTuple(this.version.tokens.map((_, i) => this.token(i))));
      default:
        throw new PyException("AttributeError", `version ${this.version.toString()} has no attribute '${name}'`);
    }
  }

  override getItem(key: PyValue): PyValue {
    if (typeof key === "number") {
      const i = key < 0 ? this.version.length + key : key;
      return i >= 0 && i < this.version.length ? this.token(i) : null;
    }
    throw new PyException("TypeError", "version indices must be integers");
  }

  override length(): number {
    return this.version.length;
  }

  override truthy(): boolean {
    return true;
  }

  override iterate(): Iterable<PyValue> {
    return [...this.version.tokens];
  }

  override str(): string {
    return this.version.toString();
  }

  override repr(): string {
    return `<VersionBinding ${this.version.toString()}>`;
  }
}

// ---------------------------------------------------------------------------
// this / resolve.<pkg>

/** What a variant binding reads: the variant's facts with roots as the image sees them, and its package attributes. */
export interface BoundVariantFacts {
  name: string;
  version: Version;
  index: number | null;
  root: string;
  base: string;
  uri: string;
  qualifiedName: string;
  qualifiedPackageName: string;
  requires: readonly Requirement[];
  variantRequires: readonly Requirement[];
  /** A package attribute (late ones evaluated); undefined when the package does not define it. */
  attribute(name: string): PyValue | undefined;
}

/** Rez's VariantBinding: `this` and `resolve.<pkg>`. */
export class VariantBinding extends HostObject {
  readonly pyTypeName = "VariantBinding";
  private versionBinding?: VersionBinding;
  /** Attributes commands assigned (`this.tag = "x"`): a Python instance attribute, which shadows the package's. */
  private assigned?: Map<string, PyValue>;

  constructor(readonly facts: BoundVariantFacts) {
    super();
  }

  /**
   * What commands assigned so far, to put back when their run is undone (rex
   * runs a package's commands again in CPython after the built-in evaluator
   * refused a construct half-way: the first attempt's `this.x = ...` must not
   * be seen by the second).
   */
  checkpoint(): () => void {
    const saved = this.assigned && new Map(this.assigned);
    return () => {
      this.assigned = saved && new Map(saved);
    };
  }

  override setAttr(name: string, value: PyValue): void {
    // `root` is a property without a setter in Rez; everything else lands in the instance's __dict__.
    if (name === "root")
      throw new PyException("AttributeError", "property 'root' of 'VariantBinding' object has no setter");
    (this.assigned ??= new Map()).set(name, value);
  }

  override getAttr(name: string): PyValue | undefined {
    const own = this.assigned?.get(name);
    if (own !== undefined) return own;
    const f = this.facts;
    switch (name) {
      case "version":
        return (this.versionBinding ??= new VersionBinding(f.version));
      case "name":
        return f.name;
      case "root":
        return f.root;
      case "base":
        return f.base;
      case "index":
        return f.index;
      case "uri":
        return f.uri;
      case "subpath":
        return f.index === null ? null : f.root.slice(f.base.length + 1);
      case "qualified_name":
        return f.qualifiedName;
      case "qualified_package_name":
        return f.qualifiedPackageName;
      case "is_package":
        return false;
      case "is_variant":
        return true;
      case "is_local":
        return false;
      case "requires":
        return f.requires.map((r) => new RequirementValue(r));
      case "variant_requires":
        return f.variantRequires.map((r) => new RequirementValue(r));
      default:
        break;
    }
    const v = f.attribute(name);
    if (v !== undefined) return v;
    if (VARIANT_SCHEMA_KEYS.has(name)) return null;
    throw new PyException("AttributeError", `package ${f.qualifiedPackageName} has no attribute '${name}'`);
  }

  override str(): string {
    return this.facts.qualifiedPackageName;
  }

  override repr(): string {
    return `<VariantBinding ${this.facts.qualifiedName}>`;
  }
}

/** A requirement object (`this.requires` items): str() is the requirement string. */
export class RequirementValue extends HostObject {
  readonly pyTypeName = "PackageRequest";

  constructor(readonly requirement: Requirement) {
    super();
  }

  override getAttr(name: string): PyValue | undefined {
    const r = this.requirement;
    switch (name) {
      case "name":
        return r.name;
      case "range":
        return r.range ? new VersionRangeValue(r.range) : null;
      case "conflict":
        return r.conflict;
      case "weak":
        return r.weak;
      default:
        return undefined;
    }
  }

  override str(): string {
    return this.requirement.toString();
  }

  override repr(): string {
    return `PackageRequest(${strRepr(this.requirement.toString())})`;
  }

  override equals(other: PyValue): boolean {
    return other instanceof RequirementValue && other.requirement.equals(this.requirement);
  }

  override hashKey(): unknown {
    return "req:" + this.requirement.toString();
  }
}

/** A version range (`request.get_range()`); intersects() takes it. */
export class VersionRangeValue extends HostObject {
  readonly pyTypeName = "VersionRange";

  constructor(readonly range: VersionRange) {
    super();
  }

  override str(): string {
    return this.range.toString();
  }

  override repr(): string {
    return `VersionRange(${strRepr(this.range.toString())})`;
  }

  override equals(other: PyValue): boolean {
    return other instanceof VersionRangeValue && other.range.equals(this.range);
  }

  override hashKey(): unknown {
    return "range:" + this.range.toString();
  }
}

// ---------------------------------------------------------------------------
// resolve / request / implicits / ephemerals

abstract class ReadOnlyMapping extends HostObject {
  constructor(protected readonly data: ReadonlyMap<string, PyValue>) {
    super();
  }

  protected abstract missing(name: string): PyException;

  protected extraMethod(_name: string): PyValue | undefined {
    return undefined;
  }

  override getAttr(name: string, ctx: CallContext): PyValue | undefined {
    if (name === "get") {
      return method(this.pyTypeName, name, (args, kwargs) => {
        const [k, d] = bindRexArgs(name, args, kwargs, ["name", "default"], 1);
        const v = this.data.get(keyName(k!, ctx));
        return v === undefined ? (d ?? null) : v;
      });
    }
    const extra = this.extraMethod(name);
    if (extra !== undefined) return extra;
    const v = this.data.get(name);
    if (v === undefined) throw this.missing(name);
    return v;
  }

  override getItem(key: PyValue, ctx: CallContext): PyValue {
    const name = keyName(key, ctx);
    const v = this.data.get(name);
    if (v === undefined) throw this.missing(name);
    return v;
  }

  override contains(item: PyValue): boolean {
    return typeof item === "string" && this.data.has(item);
  }

  override truthy(): boolean {
    return true;
  }

  override str(ctx: CallContext): string {
    return `dict_values([${[...this.data.values()].map((v) => reprOf(ctx, v)).join(", ")}])`;
  }
}

/** `resolve`: the variant bindings of the whole resolve, by package name. */
export class VariantsBinding extends ReadOnlyMapping {
  readonly pyTypeName = "VariantsBinding";

  protected missing(name: string): PyException {
    return new PyException("AttributeError", `package does not exist: '${name}'`);
  }
}

/** Shared by request/implicits (requirements by name) and ephemerals (by name without the dot). */
abstract class RequirementStrings extends ReadOnlyMapping {
  protected override extraMethod(name: string): PyValue | undefined {
    if (name !== "get_range") return undefined;
    return method(this.pyTypeName, name, (args, kwargs, ctx) => {
      const [k, d] = bindRexArgs(name, args, kwargs, ["name", "default"], 1);
      const s = this.data.get(keyName(k!, ctx));
      if (typeof s === "string" && s) {
        const range = Requirement.parse(s).range;
        return range ? new VersionRangeValue(range) : null;
      }
      if (d !== undefined && d !== null) return new VersionRangeValue(VersionRange.parse(ctx.str(d)));
      return null;
    });
  }
}

export class RequirementsBinding extends RequirementStrings {
  readonly pyTypeName = "RequirementsBinding";

  constructor(requirements: readonly Requirement[]) {
    super(new Map(requirements.map((r) => [r.name, r.toString()] as [string, PyValue])));
  }

  protected missing(name: string): PyException {
    return new PyException("AttributeError", `request does not exist: '${name}'`);
  }
}

export class EphemeralsBinding extends RequirementStrings {
  readonly pyTypeName = "EphemeralsBinding";

  constructor(ephemerals: readonly Requirement[]) {
    super(new Map(ephemerals.map((r) => [r.name.slice(1), r.toString()] as [string, PyValue])));
  }

  protected missing(name: string): PyException {
    return new PyException("AttributeError", `ephemeral does not exist: '${name}'`);
  }
}

// ---------------------------------------------------------------------------
// system

/** What Tantalus knows of the target system: Rez's `system.platform`, `.arch` and `.os`. */
export class SystemBinding extends HostObject {
  readonly pyTypeName = "System";

  constructor(private readonly info: { platform: string; arch: string; os: string }) {
    super();
  }

  override getAttr(name: string): PyValue | undefined {
    switch (name) {
      case "platform":
        return this.info.platform;
      case "arch":
        return this.info.arch;
      case "os":
        return this.info.os;
      default:
        // hostname, user, num_cpus... describe the machine that runs Rez, which an image does not have.
        throw new PyException(
          "AttributeError",
          `system.${name} is not available: Tantalus captures environments for images, where only system.platform, system.arch and system.os are known`,
        );
    }
  }

  override str(): string {
    return `${this.info.platform}-${this.info.arch}-${this.info.os}`;
  }
}

// ---------------------------------------------------------------------------
// intersects()

/** Rez's intersects(obj, range): a request string, a range, a variant binding or a version binding against a range. */
export function intersects(obj: PyValue, rangeText: PyValue, ctx: CallContext): boolean {
  const range1 = VersionRange.parse(ctx.str(rangeText));
  let range2: VersionRange;
  if (typeof obj === "string") {
    const req = Requirement.parse(obj);
    if (req.conflict) return false;
    range2 = req.range ?? VersionRange.ANY;
  } else if (obj instanceof VersionRangeValue) {
    range2 = obj.range;
  } else if (obj instanceof VariantBinding) {
    range2 = VersionRange.parse(obj.facts.version.toString());
  } else if (obj instanceof VersionBinding) {
    range2 = VersionRange.parse(obj.version.toString());
  } else {
    throw new PyException(
      "RuntimeError",
      `Invalid type ${obj === null ? "<class 'NoneType'>" : `<class '${pyTypeOf(obj)}'>`} passed as first arg to 'intersects'`,
    );
  }
  return range1.intersects(range2);
}
