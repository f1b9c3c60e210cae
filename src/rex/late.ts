/**
 * `@late()` requires during a solve, evaluated as Rez evaluates them: the
 * package's function is called with `this` bound to the package and
 * `in_context()` returning False (the solver's packages have no context yet),
 * and nothing else from rex (no `request`, `system` or `building`, as in Rez).
 */
import type { Package } from "../rez/package.js";
import type { LateRequiresHook } from "../solver/index.js";
import type { SystemInfo } from "../rez/system.js";
import { hostSystem } from "../rez/system.js";
import { Interpreter } from "../rez/python/interpreter.js";
import { PythonError } from "../rez/python/errors.js";
import { isOutsideSubset } from "../rez/definition/cpython.js";
import {
  realPythonHost,
  targetPythonHost,
  type HostQueryListener,
  type Importer,
  type PythonHost,
} from "../rez/python/modules.js";
import { rexImporter } from "./importer.js";
import { HostObject, PyBuiltin, PyException, PyFunction, PyTuple, type PyValue } from "../rez/python/values.js";
import { InputError } from "../errors.js";
import { VersionBinding } from "./values.js";
import { PACKAGE_SCHEMA_KEYS } from "./schema-keys.js";
import { pyRepr } from "../rez/python/index.js";

/**
 * `this` in a `@late()` function: Rez's Package (packages.py
 * `_eval_late_binding` binds the wrapper itself). Also when commands read a
 * late attribute through their `this`: Rez's variant forwards the attribute to
 * its package, so `this.index` or `this.root` raise there too.
 */
export class PackageBinding extends HostObject {
  readonly pyTypeName = "Package";
  private version?: VersionBinding;
  private readonly late = new Map<string, PyValue>();

  /** `mapPath`: where the repository is as the context sees it (an image's root map). */
  constructor(
    private readonly pkg: Package,
    private readonly evaluate: (fn: PyFunction, self: PackageBinding) => PyValue,
    private readonly mapPath: (p: string) => string = (p) => p,
  ) {
    super();
  }

  override getAttr(name: string): PyValue | undefined {
    const p = this.pkg;
    switch (name) {
      case "name":
        return p.name;
      case "version":
        return (this.version ??= new VersionBinding(p.version));
      case "base":
        return this.mapPath(p.base);
      case "qualified_name":
        return p.qualifiedName;
      case "uri":
        return this.mapPath(p.file);
      case "is_package":
        return true;
      case "is_variant":
        return false;
      case "num_variants":
        return p.variants.length;
      default:
        break;
    }
    const attrs = p.definition.attributes;
    if (Object.prototype.hasOwnProperty.call(attrs, name)) {
      const v = attrs[name]!;
      if (!(v instanceof PyFunction && v.hasMark("late"))) return v;
      if (!this.late.has(name)) this.late.set(name, this.evaluate(v, this));
      return this.late.get(name)!;
    }
    if (PACKAGE_SCHEMA_KEYS.has(name)) return null;
    throw new PyException("AttributeError", `Package instance has no attribute '${name}'`);
  }

  /** Rez's str(Package): the resource wrapper's repr, `Package(filesystem.package{...})`. */
  override str(): string {
    const p = this.pkg;
    const handle = [`'location': ${pyRepr(this.mapPath(p.repository))}`, `'name': ${pyRepr(p.name)}`];
    const v = p.version.toString();
    if (v) handle.push(`'version': ${pyRepr(v)}`);
    handle.push(`'repository_type': 'filesystem'`);
    return `Package(filesystem.package{${handle.join(", ")}})`;
  }
}

/** Where `@late()` functions are evaluated: the platform resolved for, and who hears their host queries. */
export interface LateEvaluationOptions {
  /**
   * The platform packages are resolved for (a configured `target:`): platform.*,
   * sys.platform and rez's `system` answer for it. Default: this host, as Rez.
   */
  system?: SystemInfo;
  /** What host queries answer (tests); default: this host, or `system` on its kernel. */
  host?: PythonHost;
  /** Told each host query a late function makes, with its file and line. */
  onHostQuery?: HostQueryListener;
}

/** The late-evaluation options a configuration implies: its `target:` answers the host queries. */
export function lateOptionsOf(config: { target?: SystemInfo } | undefined): LateEvaluationOptions {
  return config?.target !== undefined ? { system: config.target } : {};
}

/**
 * The modules a `@late()` function can import. Rez runs the function in its own
 * process (SourceCode.exec_), so `import os` / `platform` there are the real
 * modules of the machine running Rez: os.environ is that process's
 * environment, whatever context is being built.
 */
function lateImporter(python: () => Interpreter, opts: LateEvaluationOptions): Importer {
  const system = opts.system;
  return rexImporter({
    python,
    host: () => opts.host ?? (system ? targetPythonHost(system, realPythonHost) : realPythonHost),
    system: () => system ?? hostSystem(),
    ...(opts.onHostQuery ? { onHostQuery: opts.onHostQuery } : {}),
    where: "in a @late() function",
  });
}

/** A LateRequiresHook for the solver (SolveOptions.lateRequires). */
export function lateRequiresHook(opts: LateEvaluationOptions = {}): LateRequiresHook {
  const python: Interpreter = new Interpreter({ importer: lateImporter(() => python, opts) });
  const notInContext = new PyBuiltin("in_context", () => false);
  const evaluate = (fn: PyFunction, self: PackageBinding): PyValue => {
    const globals = new Map<string, PyValue>([
      ["in_context", notInContext],
      ["this", self],
    ]);
    return python.callFunction(fn, [], new Map(), { globals });
  };
  return (pkg: Package) => {
    const fn = pkg.lateRequires;
    if (!fn) return pkg.requires.map(String);
    let value: PyValue;
    try {
      try {
        value = evaluate(fn, new PackageBinding(pkg, evaluate));
      } catch (err) {
        // python: cpython: a construct the evaluator refuses only as it runs; CPython evaluates it.
        const again = isOutsideSubset(err) ? pkg.definition.cpython?.().requires : undefined;
        if (!(again instanceof PyFunction)) throw err;
        value = evaluate(again, new PackageBinding(pkg, evaluate));
      }
    } catch (err) {
      if (err instanceof PythonError) {
        throw new InputError(
          `${pkg.qualifiedName}: @late() requires failed: ${err.detail}`,
          err.location ?? { file: pkg.file },
        );
      }
      throw err;
    }
    const items = Array.isArray(value) ? value : value instanceof PyTuple ? value.items : undefined;
    if (!items || items.some((x) => typeof x !== "string")) {
      throw new InputError(`${pkg.qualifiedName}: @late() requires must return a list of requirement strings`, {
        file: pkg.file,
        line: fn.line,
      });
    }
    return items as string[];
  };
}

/**
 * Evaluates a package's `@late()` attribute as Rez does when the package is
 * read outside a context (`rez view`, `package.tools`): `this` is the Package,
 * `in_context()` is False.
 */
export function lateAttributeEvaluator(opts: LateEvaluationOptions = {}): (pkg: Package, fn: PyFunction) => PyValue {
  const python: Interpreter = new Interpreter({ importer: lateImporter(() => python, opts) });
  const notInContext = new PyBuiltin("in_context", () => false);
  const evaluate = (fn: PyFunction, self: PackageBinding): PyValue =>
    python.callFunction(fn, [], new Map(), {
      globals: new Map<string, PyValue>([
        ["in_context", notInContext],
        ["this", self],
      ]),
    });
  return (pkg, fn) => {
    try {
      return evaluate(fn, new PackageBinding(pkg, evaluate));
    } catch (err) {
      if (err instanceof PythonError)
        throw new InputError(
          `${pkg.qualifiedName}: @late() ${fn.name} failed: ${err.detail}`,
          err.location ?? { file: pkg.file },
        );
      throw err;
    }
  };
}
