/**
 * Rez's `scope` global in package.py (`src/rez/utils/scope.py`):
 *
 *     with scope("config") as c:
 *         release_packages_path = "/x"     # a local assigned in the block...
 *         c.build_thread_count = 4         # ...or an attribute set on the scope
 *
 * becomes the attribute `config = {"release_packages_path": "/x",
 * "build_thread_count": 4}`. Variables assigned in the block are recorded and
 * then removed again, so they do not become package attributes themselves.
 * Scopes nest, and re-entering a scope merges into it.
 */
import {
  HostObject,
  PyDict,
  PyException,
  pyEquals,
  type CallContext,
  type FrameAccess,
  type PyValue,
} from "../python/index.js";

/** An object that grows attributes on assignment, also through missing intermediate names (`c.a.b = 1`). */
export class RecursiveAttribute extends HostObject {
  readonly pyTypeName: string = "RecursiveAttribute";
  readonly data = new Map<string, PyValue>();
  private pending?: { name: string; parent: RecursiveAttribute };

  override getAttr(name: string): PyValue {
    const v = this.data.get(name);
    if (v !== undefined) return v;
    // Not added until something is assigned to it, so reading a missing name adds nothing.
    const child = new RecursiveAttribute();
    child.pending = { name, parent: this };
    return child;
  }

  override setAttr(name: string, value: PyValue): void {
    this.data.set(name, value);
    this.reparent();
  }

  override getItem(key: PyValue): PyValue {
    if (typeof key !== "string") throw new PyException("TypeError", "attribute name must be string");
    return this.getAttr(key);
  }

  override setItem(key: PyValue, value: PyValue): void {
    if (typeof key !== "string") throw new PyException("TypeError", "attribute name must be string");
    this.setAttr(key, value);
  }

  override str(ctx: CallContext): string {
    return ctx.str(this.toDict());
  }

  override repr(ctx: CallContext): string {
    return `${this.pyTypeName}(${ctx.repr(this.toDict())})`;
  }

  /** Merges a dict in; nested dicts become recursive attributes, as in Rez. */
  update(values: Iterable<[string, PyValue]>): void {
    for (const [k, v] of values) this.data.set(k, v instanceof PyDict ? RecursiveAttribute.fromDict(v) : v);
  }

  static fromDict(d: PyDict): RecursiveAttribute {
    const r = new RecursiveAttribute();
    r.update([...d.entries()].filter((e): e is [string, PyValue] => typeof e[0] === "string"));
    return r;
  }

  toDict(): PyDict {
    const d = new PyDict();
    for (const [k, v] of this.data) d.set(k, v instanceof RecursiveAttribute ? v.toDict() : v);
    return d;
  }

  private reparent(): void {
    if (!this.pending) return;
    const { name, parent } = this.pending;
    parent.reparent();
    parent.data.set(name, this);
    this.pending = undefined;
  }
}

/** One named scope: a context manager that records the variables its block assigns. */
class Scope extends RecursiveAttribute {
  override readonly pyTypeName = "_Scope";
  private snapshot?: Map<string, PyValue>;

  constructor(
    readonly name: string,
    private readonly context: ScopeContext,
  ) {
    super();
  }

  override enter(frame: FrameAccess): PyValue {
    this.snapshot = new Map(frame.names().map((n) => [n, frame.get(n)!]));
    return this;
  }

  override exit(frame: FrameAccess): void {
    const before = this.snapshot ?? new Map<string, PyValue>();
    const updates: [string, PyValue][] = [];
    for (const name of frame.names()) {
      const v = frame.get(name)!;
      if (name.startsWith("__") && name.endsWith("__")) continue;
      if (v instanceof Scope) continue;
      const old = before.get(name);
      if (old === undefined || !pyEquals(v, old)) updates.push([name, v]);
    }
    this.update(updates);
    // Restore the enclosing namespace: the block's variables belong to the scope only.
    for (const name of frame.names()) if (!before.has(name)) frame.delete(name);
    for (const [name, v] of before) frame.set(name, v);
    this.context.exitScope(this);
  }
}

/** The `scope` callable: `scope("config")` returns the (possibly re-entered) scope of that path. */
export class ScopeContext extends HostObject {
  readonly pyTypeName = "ScopeContext";
  private readonly scopes = new Map<string, Scope>();
  private readonly stack: RecursiveAttribute[] = [new RecursiveAttribute()];
  /** Line of the `with` that first opened each top-level scope. */
  readonly lines = new Map<string, number>();

  override call(args: PyValue[], kwargs: Map<string, PyValue>, ctx: CallContext): PyValue {
    if (args.length !== 1 || kwargs.size > 0 || typeof args[0] !== "string") {
      throw new PyException("TypeError", "scope() takes one argument: the scope name (a str)");
    }
    const name = args[0];
    const path = [...this.stack.slice(1).map((s) => (s as Scope).name), name].join("\u0000");
    let scope = this.scopes.get(path);
    if (!scope) {
      scope = new Scope(name, this);
      this.scopes.set(path, scope);
    }
    if (this.stack.length === 1 && !this.lines.has(name) && ctx.location.line !== undefined)
      this.lines.set(name, ctx.location.line);
    this.stack.push(scope);
    return scope;
  }

  exitScope(scope: Scope): void {
    const top = this.stack.pop();
    if (top !== scope || this.stack.length === 0) throw new PyException("RuntimeError", "scopes exited out of order");
    this.stack[this.stack.length - 1]!.update([[scope.name, scope.toDict()]]);
  }

  /** The recorded scopes, as Rez's ScopeContext.to_dict(). */
  toDict(): PyDict {
    return this.stack[this.stack.length - 1]!.toDict();
  }
}
