/**
 * Interpreting a resolved context: Rez's `ResolvedContext._execute`, step by
 * step, over Tantalus's variants.
 *
 * 1. system setup: REZ_USED*, the request, the resolve, the package paths;
 * 2. package variables: REZ_<PKG>_VERSION/_MAJOR_/_MINOR_/_PATCH_VERSION/_BASE/_ROOT;
 * 3. every package's pre_commands, then every commands, then every
 *    post_commands, in resolve order, each with `this`, `version`, `root` and
 *    `base` bound to the package and with fresh globals;
 * 4. REZ_EPH_<NAME>_REQUEST for the ephemerals;
 * 5. post system setup: the system paths appended to PATH.
 *
 * What Tantalus decides for itself (there is no Rez in an image): REZ_USED is
 * "tantalus <version>" unless given, REZ_USED_VERSION is the Rez release whose
 * semantics are reproduced (3.4.0), and REZ_USED_TIMESTAMP is the context's
 * creation time (not "now"), so the same lock always gives the same script.
 */
import type { Variant } from "../rez/package.js";
import type { SystemInfo } from "../rez/system.js";
import { Requirement } from "../rez/version/index.js";
import { Interpreter } from "../rez/python/interpreter.js";
import { realPythonHost, targetPythonHost, type HostQueryListener, type PythonHost } from "../rez/python/modules.js";
import { rexImporter } from "./importer.js";
import { fromJS, type JSValue } from "../rez/python/convert.js";
import { percentFormat } from "../rez/python/format.js";
import { bindArgs } from "../rez/python/args.js";
import { PythonError } from "../rez/python/errors.js";
import type { ForeignProcess } from "../rez/python/foreign.js";
import { isOutsideSubset } from "../rez/definition/cpython.js";
import {
  HostObject,
  PyBuiltin,
  PyDict,
  PyException,
  PyFunction,
  PyTuple,
  type CallContext,
  type PyValue,
} from "../rez/python/values.js";
import { InputError } from "../errors.js";
import { VERSION } from "../version.js";
import { rootMapper } from "../context/root-map.js";
import type { Action, RexPhase } from "./actions.js";
import { EscapedString } from "./escaped.js";
import { hostHomeResolver, type HomeResolver, type RefSyntax } from "./expand.js";
import { NamespaceFormatter } from "./format.js";
import { ActionManager } from "./manager.js";
import { rexPackageOf, type RexPackage } from "./package-data.js";
import { PackageBinding } from "./late.js";
import { REZ_DEFAULT_SHELL, REZ_SYSTEM_PATHS } from "./system-paths.js";
import type { ShellKind } from "./shells.js";
import {
  EnvironmentDict,
  EphemeralsBinding,
  EscapedStringValue,
  RequirementsBinding,
  SystemBinding,
  VariantBinding,
  VariantsBinding,
  VersionBinding,
  intersects,
  rexInput,
  bindRexArgs,
  type BoundVariantFacts,
} from "./values.js";

/** The Rez release whose rex semantics Tantalus reproduces (REZ_USED_VERSION). */
export const REZ_COMPAT_VERSION = "3.4.0";

/** Rez's default env_var_separators. */
export const REZ_ENV_VAR_SEPARATORS: Readonly<Record<string, string>> = {
  CMAKE_MODULE_PATH: ";",
  DOXYGEN_TAGFILES: " ",
};

export interface InterpretOptions {
  /** The request as Rez keeps it (`_package_requests`): package requests, ephemerals included. */
  request: readonly string[];
  implicitPackages: readonly string[];
  /** Resolved ephemerals (`.name-range`). */
  ephemerals?: readonly string[];
  packagePaths: readonly string[];
  /** The environment the commands run in; {} (the default) is an image's, and `rez context --no-env`'s. */
  parentEnv?: Readonly<Record<string, string>>;
  system: SystemInfo;
  /**
   * The shell the actions are for. Omitted: Rez's passive Python interpretation
   * (`get_environ`, `rez context -f json`), which takes the default shell's
   * (bash) system paths.
   */
  shell?: ShellKind;
  /** Appended to PATH at the end (Rez's standard_system_paths); default: what Rez finds for the shell. */
  systemPaths?: readonly string[];
  /** Rez's append_sys_path (default true). */
  appendSystemPaths?: boolean;
  /** Repository roots as the image sees them: {"/studio/packages": "/opt/packages"}. Longest prefix wins. */
  rootMap?: Readonly<Record<string, string>>;
  /** REZ_USED (Rez: its module path). Default "tantalus <version>". */
  rezUsed?: string;
  /** REZ_USED_VERSION. Default 3.4.0. */
  rezVersion?: string;
  /** REZ_USED_TIMESTAMP (epoch seconds): the context's creation time. */
  timestamp: number;
  /** REZ_USED_REQUESTED_TIMESTAMP: the resolve's time filter, 0 for none. */
  requestedTimestamp?: number;
  building?: boolean;
  testing?: boolean;
  /** Rez's optionvars setting, read by optionvars(). */
  optionvars?: Readonly<Record<string, JSValue>>;
  /** Rez's env_var_separators (default: CMAKE_MODULE_PATH ";", DOXYGEN_TAGFILES " "). */
  separators?: Readonly<Record<string, string>>;
  /** Rez's parent_variables (true: all_parent_variables). */
  parentVariables?: readonly string[] | true;
  /** Home for `~` in values (default $HOME). */
  home?: string | HomeResolver;
  /**
   * What `os.environ`, `os.getenv` and `os.path.expanduser` read when commands
   * import `os`. In Rez that is the environment of the process interpreting the
   * context (rez-env's own `os.environ`), not `parentEnv`: `rez env --no-env`
   * or `get_environ(parent_environ={})` still read the caller's HOME there.
   * Default: this process's environment. An image's capture passes what the
   * image itself will have instead (see captureEnvironment).
   */
  processEnv?: Readonly<Record<string, string | undefined>>;
  /**
   * What `platform.*`, `sys.platform`, `os.environ`, `os.getcwd()` answer when
   * commands import them. Default: the target `system` on this host's kernel,
   * with `os.environ` = processEnv.
   */
  pythonHost?: PythonHost;
  /** Told each host query commands make (platform, environment, file system), with the package.py line asking. */
  onHostQuery?: HostQueryListener;
  /** REZ_RXT_FILE, written to shell code when the context came from a Rez .rxt file. */
  rxtFile?: string;
}

export interface RexMessage {
  kind: "info" | "error";
  text: string;
  variant?: string;
  file?: string;
  line?: number;
}

export interface RexResult {
  actions: Action[];
  /** The context's variables, expanded, in the order Rez sets them (what `rez context -f json` prints). */
  environ: Record<string, string>;
  /** What info() and error() report, in order, for callers that show them. */
  messages: RexMessage[];
  /** Variables unset by the context (a shell sourcing the script loses them from its parent environment). */
  unset: string[];
}

/** A failure in a package's commands, as Rez reports it, with the package.py line. */
export class RexCommandError extends InputError {
  constructor(
    readonly variant: string,
    readonly phase: RexPhase,
    /** Rez's short message (what follows "Error in commands in package ..."). */
    readonly reason: string,
    file: string,
    line: number | undefined,
  ) {
    super(`Error in ${phase} in package ${variant}: ${reason}`, { file, line });
  }
}

const HEADER_RULE = "#".repeat(80);
const MINOR_RULE = "-".repeat(80);
const PHASES: readonly RexPhase[] = ["pre_commands", "commands", "post_commands"];

export function interpretContext(variants: readonly Variant[], opts: InterpretOptions): RexResult {
  return new ContextInterpreter(variants, opts).run();
}

class ContextInterpreter {
  private readonly manager: ActionManager;
  private readonly python: Interpreter;
  private readonly globals = new Map<string, PyValue>();
  private readonly formatter: NamespaceFormatter;
  private readonly syntax: RefSyntax;
  private readonly mapPath: (p: string) => string;
  private readonly packages: RexPackage[];

  constructor(
    variants: readonly Variant[],
    private readonly opts: InterpretOptions,
  ) {
    const parentEnv = opts.parentEnv ?? {};
    const processEnv = opts.processEnv ?? process.env;
    const host = (): PythonHost =>
      opts.pythonHost ?? { ...targetPythonHost(opts.system, realPythonHost), environ: () => processEnv };
    // Commands CPython runs (python: cpython) see the same process as the built-in evaluator's, when it is not
    // this one's (an image's capture): the build host's environment must not reach the image that way either.
    const foreign = opts.pythonHost !== undefined || opts.processEnv !== undefined;
    this.python = new Interpreter({
      ...(foreign ? { foreignProcess: () => foreignProcessOf(host()) } : {}),
      importer: rexImporter({
        python: () => this.python,
        host,
        system: () => opts.system,
        ...(opts.onHostQuery ? { onHostQuery: opts.onHostQuery } : {}),
        where: "inside commands",
      }),
    });
    const home = typeof opts.home === "string" ? hostHomeResolver(opts.home) : (opts.home ?? hostHomeResolver());
    this.manager = new ActionManager({
      parentEnv,
      separators: opts.separators ?? REZ_ENV_VAR_SEPARATORS,
      pathsep: ":",
      parentVariables: opts.parentVariables ?? [],
      home,
    });
    this.syntax = opts.shell === "pwsh" ? "pwsh" : "generic";
    this.formatter = new NamespaceFormatter(
      () => this.current,
      () => this.python.context,
    );
    this.manager.formatter = (text) => this.formatter.format(text, this.syntax);
    this.mapPath = rootMapper(opts.rootMap ?? {});
    this.packages = variants.map((v) => rexPackageOf(v));
    this.bindExecutorGlobals(parentEnv);
  }

  /** The namespace formatting reads: the package's globals while its commands run. */
  private current: Map<string, PyValue> = this.globals;

  run(): RexResult {
    const m = this.manager;
    const o = this.opts;
    m.shebang();
    if (o.rxtFile && o.shell) m.setenv("REZ_RXT_FILE", o.rxtFile);
    this.systemSetup();

    const bindings = new Map<string, VariantBinding>();
    for (const p of this.packages) bindings.set(p.variant.name, this.variantBinding(p));
    this.bindPreResolve();
    this.globals.set("resolve", new VariantsBinding(bindings));

    this.header("package variables");
    for (const p of this.packages) this.packageVariables(p, bindings.get(p.variant.name)!);

    for (const phase of PHASES) {
      let found = false;
      for (const p of this.packages) {
        const fn = p.rexFunction(phase);
        if (!fn) continue;
        if (!found) this.header(phase);
        found = true;
        this.minorHeader(`${phase} from package ${p.variant.qualifiedName}`);
        this.runCommands(p, phase, fn, bindings);
      }
    }

    const ephemerals = (o.ephemerals ?? []).map((e) => Requirement.parse(e));
    if (ephemerals.length > 0) {
      this.header("ephemeral variables");
      for (const e of ephemerals) {
        const name = e.name.slice(1).toUpperCase().replace(/\./g, "_");
        m.setenv(`REZ_EPH_${name}_REQUEST`, e.range ? e.range.toString() : "");
      }
    }

    this.header("post system setup");
    if (o.appendSystemPaths ?? true) {
      const paths = o.systemPaths ?? REZ_SYSTEM_PATHS[o.shell ?? REZ_DEFAULT_SHELL];
      for (const p of paths) m.appendenv("PATH", p);
    }
    return this.result();
  }

  private result(): RexResult {
    const environ = Object.fromEntries(this.manager.environ) as Record<string, string>;
    const messages: RexMessage[] = [];
    const unset = new Set<string>();
    for (const a of this.manager.actions) {
      if (a.kind === "info" || a.kind === "error") {
        messages.push({
          kind: a.kind,
          text: a.message.toString(),
          variant: a.origin?.variant,
          file: a.origin?.file,
          line: a.origin?.line,
        });
      } else if (a.kind === "unsetenv" && !this.manager.environ.has(a.expandedKey)) {
        unset.add(a.expandedKey);
      }
    }
    return { actions: this.manager.actions, environ, messages, unset: [...unset] };
  }

  // -- Rez's own variables

  private systemSetup(): void {
    const m = this.manager;
    const o = this.opts;
    this.header("system setup");
    const resolveStr = this.packages.map((p) => p.variant.package.qualifiedName).join(" ");
    m.setenv("REZ_USED", o.rezUsed ?? `tantalus ${VERSION}`);
    m.setenv("REZ_USED_VERSION", o.rezVersion ?? REZ_COMPAT_VERSION);
    m.setenv("REZ_USED_TIMESTAMP", String(o.timestamp));
    m.setenv("REZ_USED_REQUESTED_TIMESTAMP", String(o.requestedTimestamp ?? 0));
    m.setenv("REZ_USED_REQUEST", EscapedString.literal(o.request.join(" ")));
    m.setenv("REZ_USED_IMPLICIT_PACKAGES", EscapedString.literal(o.implicitPackages.join(" ")));
    m.setenv("REZ_USED_RESOLVE", resolveStr);
    m.setenv("REZ_USED_PACKAGES_PATH", o.packagePaths.map(this.mapPath).join(":"));
    if (o.ephemerals && o.ephemerals.length > 0) m.setenv("REZ_USED_EPH_RESOLVE", o.ephemerals.join(" "));
    if (o.building) m.setenv("REZ_BUILD_ENV", "1");
  }

  private packageVariables(p: RexPackage, binding: VariantBinding): void {
    const m = this.manager;
    const v = p.variant;
    this.minorHeader(`variables for package ${v.qualifiedName}`);
    const prefix = "REZ_" + v.name.toUpperCase().replace(/\./g, "_");
    const token = (i: number) => v.version.token(i) ?? "";
    m.setenv(`${prefix}_VERSION`, v.version.toString());
    m.setenv(`${prefix}_MAJOR_VERSION`, token(0));
    m.setenv(`${prefix}_MINOR_VERSION`, token(1));
    m.setenv(`${prefix}_PATCH_VERSION`, token(2));
    m.setenv(`${prefix}_BASE`, binding.facts.base);
    m.setenv(`${prefix}_ROOT`, binding.facts.root);
  }

  private header(text: string): void {
    const m = this.manager;
    m.comment("");
    m.comment("");
    m.comment(HEADER_RULE);
    m.comment(text);
    m.comment(HEADER_RULE);
  }

  private minorHeader(text: string): void {
    const m = this.manager;
    m.comment("");
    m.comment(text);
    m.comment(MINOR_RULE);
  }

  // -- running commands

  private runCommands(
    p: RexPackage,
    phase: RexPhase,
    fn: PyFunction,
    bindings: ReadonlyMap<string, VariantBinding>,
  ): void {
    const binding = bindings.get(p.variant.name)!;
    const namespace = () => {
      const globals = new Map(this.globals);
      globals.set("this", binding);
      globals.set("version", new VersionBinding(p.variant.version));
      globals.set("root", binding.facts.root);
      globals.set("base", binding.facts.base);
      return (this.current = globals);
    };
    this.manager.origin = { variant: p.variant.qualifiedName, phase, file: p.file };
    this.manager.line = () => this.python.context.location.line;
    const restoreActions = this.manager.checkpoint();
    // `this.x = ...` (and `resolve.other.x = ...`) are undone with the actions.
    const restoreAssigned = [...bindings.values()].map((b) => b.checkpoint());
    const restore = () => {
      restoreActions();
      for (const r of restoreAssigned) r();
    };
    try {
      try {
        this.python.runBody(fn, namespace());
      } catch (err) {
        // python: cpython: a construct the evaluator refuses only as it runs; CPython runs them all afresh.
        const again = isOutsideSubset(err) ? p.cpythonFunction(phase) : undefined;
        if (!again) throw err;
        restore();
        this.python.runBody(again, namespace());
      }
    } catch (err) {
      throw this.commandError(p, phase, err);
    } finally {
      this.current = this.globals;
      this.manager.origin = { phase: "system" };
      this.manager.line = undefined;
    }
  }

  private commandError(p: RexPackage, phase: RexPhase, err: unknown): Error {
    const q = p.variant.qualifiedName;
    if (err instanceof PythonError) {
      const original = err.original;
      const reason = original instanceof PyException ? original.pyMessage : err.detail;
      return new RexCommandError(q, phase, reason, err.location?.file ?? p.file, err.location?.line);
    }
    if (err instanceof PyException)
      return new RexCommandError(q, phase, err.pyMessage, err.location?.file ?? p.file, err.location?.line);
    return err instanceof Error ? err : new Error(String(err));
  }

  // -- the namespace

  private bind(name: string, value: PyValue): void {
    this.globals.set(name, value);
  }

  private fn(
    name: string,
    params: string[],
    required: number,
    impl: (a: (PyValue | undefined)[], ctx: CallContext) => PyValue,
  ): void {
    this.bind(
      name,
      new PyBuiltin(name, (args, kwargs, ctx) => impl(bindRexArgs(name, args, kwargs, params, required), ctx)),
    );
  }

  /** What RexExecutor binds: format, literal, expandable, optionvars, env, the rex functions and system. */
  private bindExecutorGlobals(parentEnv: Readonly<Record<string, string>>): void {
    const m = this.manager;
    const input = rexInput;
    this.fn("format", ["value"], 1, ([v], ctx) => this.formatter.format(ctx.str(v!), this.syntax));
    this.fn("literal", ["value"], 1, ([v]) => new EscapedStringValue(EscapedString.literal(requireStr("literal", v!))));
    this.fn(
      "expandable",
      ["value"],
      1,
      ([v]) => new EscapedStringValue(EscapedString.expandable(requireStr("expandable", v!))),
    );
    this.fn("optionvars", ["name", "default"], 1, ([n, d], ctx) => this.optionvar(ctx.str(n!), d ?? null));
    const env = new EnvironmentDict(m, Object.keys(parentEnv));
    this.bind("env", env);

    this.fn("setenv", ["key", "value"], 2, ([k, v], ctx) => (m.setenv(input(k!, ctx), input(v!, ctx)), null));
    this.fn(
      "resetenv",
      ["key", "value", "friends"],
      2,
      ([k, v], ctx) => (m.setenv(input(k!, ctx), input(v!, ctx), "resetenv"), null),
    );
    this.fn("unsetenv", ["key"], 1, ([k], ctx) => (m.unsetenv(input(k!, ctx)), null));
    this.fn("prependenv", ["key", "value"], 2, ([k, v], ctx) => (m.prependenv(input(k!, ctx), input(v!, ctx)), null));
    this.fn("appendenv", ["key", "value"], 2, ([k, v], ctx) => (m.appendenv(input(k!, ctx), input(v!, ctx)), null));
    this.fn("alias", ["key", "value"], 2, ([k, v], ctx) => (m.alias(input(k!, ctx), input(v!, ctx)), null));
    this.fn("info", ["value"], 0, ([v], ctx) => (m.info(v === undefined ? "" : input(v, ctx)), null));
    this.fn("error", ["value"], 1, ([v], ctx) => (m.error(input(v!, ctx)), null));
    this.fn("comment", ["value"], 1, ([v], ctx) => (m.comment(input(v!, ctx)), null));
    this.fn("source", ["value"], 1, ([v], ctx) => (m.source(input(v!, ctx)), null));
    this.fn("command", ["value"], 1, ([v], ctx) => (m.command(commandValue(v!, ctx)), null));
    this.fn("shebang", [], 0, () => (m.shebang(), null));
    this.bind(
      "stop",
      new PyBuiltin("stop", (args, kwargs, ctx) => {
        const [msg] = bindArgs("stop", args.slice(0, 1), kwargs, ["msg"], 1);
        throw new PyException("RexStopError", percentFormat(ctx.str(msg!), new PyTuple(args.slice(1)), ctx));
      }),
    );
    this.fn("getenv", ["key"], 1, ([k], ctx) => m.getenv(input(k!, ctx)));
    this.fn("defined", ["key"], 1, ([k], ctx) => m.defined(input(k!, ctx)));
    this.fn("undefined", ["key"], 1, ([k], ctx) => m.undefined(input(k!, ctx)));
    this.fn("expandvars", ["value", "format"], 1, ([v, f], ctx) =>
      m.expandvars(input(v!, ctx), f === undefined ? true : truthy(f, ctx)),
    );
    this.bind("system", new SystemBinding(this.opts.system));
  }

  /** Bindings Rez makes before the resolve is known (request, implicits, ...). */
  private bindPreResolve(): void {
    const o = this.opts;
    this.bind("building", o.building ?? false);
    this.bind("testing", o.testing ?? false);
    this.bind("request", new RequirementsBinding(o.request.map((r) => Requirement.parse(r))));
    this.bind("implicits", new RequirementsBinding(o.implicitPackages.map((r) => Requirement.parse(r))));
    this.bind("ephemerals", new EphemeralsBinding((o.ephemerals ?? []).map((r) => Requirement.parse(r))));
    this.fn("intersects", ["obj", "range_"], 2, ([obj, r], ctx) => intersects(obj!, r!, ctx));
  }

  private optionvar(name: string, dflt: PyValue): PyValue {
    let value: PyValue = fromJS(this.opts.optionvars ?? {});
    const parts = name.split(".");
    for (let i = 0; i < parts.length; i++) {
      if (!(value instanceof PyDict)) {
        throw new PyException(
          "RexError",
          `Optionvar '${name}' is invalid because '${parts.slice(0, i).join(".")}' is not a dict`,
        );
      }
      const next: PyValue | undefined = value.get(parts[i]!);
      if (next === undefined) return dflt;
      value = next;
    }
    return value;
  }

  // -- variants as the commands see them

  private variantBinding(p: RexPackage): VariantBinding {
    const v = p.variant;
    const root = this.mapPath(v.root);
    const base = this.mapPath(v.package.base);
    const late = new Map<string, PyValue>();
    const self = this;
    let packageBinding: PackageBinding | undefined;
    const facts: BoundVariantFacts = {
      name: v.name,
      version: v.version,
      index: v.index,
      root,
      base,
      uri: `${this.mapPath(p.file)}[${v.index ?? ""}]`,
      qualifiedName: v.qualifiedName,
      qualifiedPackageName: v.package.qualifiedName,
      requires: v.requires,
      variantRequires: v.variantRequires,
      attribute(name: string): PyValue | undefined {
        const cached = late.get(name);
        if (cached !== undefined) return cached;
        return p.attribute(name, (fn) => {
          // Rez evaluates it on the package (the variant forwards to it): `this` is the Package, not this binding
          packageBinding ??= new PackageBinding(
            v.package,
            (f, b) => self.evaluateLate(f, b),
            (x) => self.mapPath(x),
          );
          const value = self.evaluateLate(fn, packageBinding);
          late.set(name, value);
          return value;
        });
      },
    };
    const binding = new VariantBinding(facts);
    return binding;
  }

  /** A `@late()` attribute, evaluated as Rez does: called with `this` and the pre-resolve bindings. */
  private evaluateLate(fn: PyFunction, self: HostObject): PyValue {
    const g = new Map<string, PyValue>();
    g.set("in_context", new PyBuiltin("in_context", () => true));
    for (const name of ["system", "building", "testing", "request", "implicits", "ephemerals", "intersects"]) {
      const v = this.globals.get(name);
      if (v !== undefined) g.set(name, v);
    }
    g.set("this", self);
    return this.python.callFunction(fn, [], new Map(), { globals: g });
  }
}

/** What a PythonHost answers for os.environ and os.getcwd(), for commands CPython runs. */
function foreignProcessOf(host: PythonHost): ForeignProcess {
  const environ: Record<string, string> = {};
  for (const [k, v] of Object.entries(host.environ())) if (v !== undefined) environ[k] = v;
  const locate = host.locate?.bind(host);
  return { environ, cwd: host.cwd(), ...(locate ? { locate: (p: string) => locate(p).path } : {}) };
}

function requireStr(fname: string, v: PyValue): string {
  if (typeof v !== "string") throw new PyException("TypeError", `${fname}() takes a str`);
  return v;
}

function truthy(v: PyValue, ctx: CallContext): boolean {
  if (typeof v === "boolean") return v;
  if (v === null) return false;
  if (typeof v === "number") return v !== 0;
  if (typeof v === "string") return v !== "";
  return ctx.str(v) !== "";
}

function commandValue(v: PyValue, ctx: CallContext): string | (string | EscapedString)[] {
  if (typeof v === "string") return v;
  if (Array.isArray(v) || v instanceof PyTuple) {
    const items = Array.isArray(v) ? v : v.items;
    return items.map((x) => (x instanceof EscapedStringValue ? x.escaped : typeof x === "string" ? x : ctx.str(x)));
  }
  if (v instanceof EscapedStringValue)
    throw new PyException("RexError", "The command does not accept use of 'literal' or 'expandable'");
  return ctx.str(v);
}
