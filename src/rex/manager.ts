/**
 * The bookkeeping behind rex (Rez's ActionManager): each call records an action
 * and updates the context's environ, the "expanded" view Rez keeps of every
 * variable the context set, which is also what `get_environ` returns.
 *
 * Values arrive formatted by the rex namespace (str.format), except values that
 * were not strings, which Rez str()'s without formatting. Expansion (`$VAR`
 * from the context, then from the parent environment, then `~`) gives the
 * expanded value; shells get the unexpanded one and expand it themselves.
 */
import type { Action, ActionOrigin, EnvValueAction } from "./actions.js";
import { EscapedString } from "./escaped.js";
import { expanduser, expandvars, type HomeResolver } from "./expand.js";
import { PyException } from "../rez/python/values.js";

/** str() of a value that was not a string: Rez does not format it. */
export class Stringified {
  constructor(readonly text: string) {}
}

export type RexInput = string | EscapedString | Stringified;

/** Formats one expandable part with the rex namespace; throws PyException as Python's str.format would. */
export type PartFormatter = (text: string) => string;

export interface ManagerOptions {
  parentEnv: Readonly<Record<string, string>>;
  /** Rez's env_var_separators. */
  separators: Readonly<Record<string, string>>;
  /** The interpreter's path separator. */
  pathsep: string;
  /** Variables appended to rather than overwritten on first reference (Rez's parent_variables; true = all). */
  parentVariables: readonly string[] | true;
  home: HomeResolver;
}

export class RexUndefinedVariable extends PyException {
  constructor(name: string) {
    super("RexUndefinedVariableError", `Referenced undefined environment variable: ${name}`);
  }
}

export class ActionManager {
  readonly actions: Action[] = [];
  /** The context's variables, expanded; insertion order is Rez's dict order. */
  readonly environ = new Map<string, string>();
  /** Who is running now; stamped on every action. */
  origin: ActionOrigin = { phase: "system" };
  /** The package.py line being evaluated, while commands run. */
  line?: () => number | undefined;
  formatter: PartFormatter = (t) => t;

  private readonly separators: ReadonlyMap<string, string>;

  constructor(private readonly opts: ManagerOptions) {
    this.separators = new Map(Object.entries(opts.separators));
  }

  // -- formatting and expansion (Rez's _format, _expand, _key, _value)

  /** Formats the expandable parts; on KeyError/ValueError the value is used unformatted, as Rez does. */
  format(value: RexInput): string | EscapedString {
    if (value instanceof Stringified) return value.text;
    try {
      return EscapedString.promote(value).mapExpandable(this.formatter);
    } catch (err) {
      if (err instanceof PyException && (err.pyType === "KeyError" || err.pyType === "ValueError")) return value;
      throw err;
    }
  }

  expand(value: string | EscapedString): EscapedString {
    return EscapedString.promote(value).mapExpandable((s) => {
      s = expandvars(s, this.environ);
      s = expandvars(s, this.opts.parentEnv);
      return expanduser(s, this.opts.home);
    });
  }

  private key(key: RexInput): [string, string] {
    // Variable names rarely need formatting or expansion.
    if (typeof key === "string" && !/[{}$~]/.test(key)) return [key, key];
    const unexpanded = String(this.format(key));
    return [unexpanded, String(this.expand(unexpanded))];
  }

  private value(value: RexInput): [EscapedString, EscapedString] {
    const unexpanded = this.format(value);
    return [EscapedString.promote(unexpanded), this.expand(unexpanded)];
  }

  separator(expandedKey: string): string {
    return this.separators.get(expandedKey) ?? this.opts.pathsep;
  }

  private lastOrigin: ActionOrigin = this.origin;

  /**
   * A restore point: the closure puts the actions and the environment back as
   * they are now (rex runs a package's commands() again in CPython when the
   * built-in evaluator refuses a construct half-way, under `python: cpython`).
   */
  checkpoint(): () => void {
    const count = this.actions.length;
    const environ = new Map(this.environ);
    const lastOrigin = this.lastOrigin;
    return () => {
      this.actions.length = count;
      this.environ.clear();
      for (const [k, v] of environ) this.environ.set(k, v);
      this.lastOrigin = lastOrigin;
    };
  }

  private record(a: Action): void {
    const line = this.line?.();
    const o = this.origin;
    if (line === undefined) a.origin = o;
    else {
      // Consecutive actions from one line (a loop, a header) share their origin.
      const last = this.lastOrigin;
      if (last.line !== line || last.file !== o.file || last.variant !== o.variant || last.phase !== o.phase) {
        this.lastOrigin = { variant: o.variant, phase: o.phase, file: o.file, line };
      }
      a.origin = this.lastOrigin;
    }
    this.actions.push(a);
  }

  // -- queries

  undefined(key: RexInput): boolean {
    const [, k] = this.key(key);
    return !this.environ.has(k) && !Object.prototype.hasOwnProperty.call(this.opts.parentEnv, k);
  }

  defined(key: RexInput): boolean {
    return !this.undefined(key);
  }

  getenv(key: RexInput): string {
    const [, k] = this.key(key);
    const v = this.environ.get(k);
    if (v !== undefined) return v;
    if (Object.prototype.hasOwnProperty.call(this.opts.parentEnv, k)) return this.opts.parentEnv[k]!;
    throw new RexUndefinedVariable(k);
  }

  expandvars(value: RexInput, format = true): string {
    const v: string | EscapedString = format
      ? String(this.format(value))
      : value instanceof Stringified
        ? value.text
        : value;
    return String(this.expand(v));
  }

  // -- actions

  setenv(key: RexInput, value: RexInput, kind: "setenv" | "resetenv" = "setenv"): void {
    const [uk, ek] = this.key(key);
    const [uv, ev] = this.value(value);
    this.record({ kind, key: uk, expandedKey: ek, value: uv, expandedValue: ev, separator: this.separator(ek) });
    this.environ.set(ek, String(ev));
  }

  unsetenv(key: RexInput): void {
    const [uk, ek] = this.key(key);
    this.record({ kind: "unsetenv", key: uk, expandedKey: ek });
    this.environ.delete(ek);
  }

  prependenv(key: RexInput, value: RexInput): void {
    this.pend("prependenv", key, value);
  }

  appendenv(key: RexInput, value: RexInput): void {
    this.pend("appendenv", key, value);
  }

  /** The first append/prepend of a variable the context has not set is a setenv: parent values are dropped. */
  private pend(kind: "prependenv" | "appendenv", key: RexInput, value: RexInput): void {
    const [uk, ek] = this.key(key);
    const [uv, ev] = this.value(value);
    const pv = this.opts.parentVariables;
    if (!this.environ.has(ek) && (pv === true || pv.includes(ek))) {
      this.environ.set(
        ek,
        Object.prototype.hasOwnProperty.call(this.opts.parentEnv, ek) ? this.opts.parentEnv[ek]! : "",
      );
      this.record({ kind: "saferefenv", key: uk });
    }
    const sep = this.separator(ek);
    const current = this.environ.get(ek);
    if (current === undefined) {
      const a: EnvValueAction = {
        kind: "setenv",
        key: uk,
        expandedKey: ek,
        value: uv,
        expandedValue: ev,
        separator: sep,
      };
      this.record(a);
      this.environ.set(ek, String(ev));
      return;
    }
    this.record({ kind, key: uk, expandedKey: ek, value: uv, expandedValue: ev, separator: sep });
    // Rez splits the value on the separator and joins it back around the new entry: a concatenation.
    this.environ.set(ek, kind === "prependenv" ? String(ev) + sep + current : current + sep + String(ev));
  }

  alias(name: RexInput, command: RexInput): void {
    this.record({ kind: "alias", name: String(this.format(name)), command: String(this.format(command)) });
  }

  info(message: RexInput = ""): void {
    this.record({ kind: "info", message: EscapedString.promote(this.format(message)) });
  }

  error(message: RexInput): void {
    this.record({ kind: "error", message: EscapedString.promote(this.format(message)) });
  }

  /** Not formatted: a command line is the shell's business. */
  command(command: string | readonly (string | EscapedString)[]): void {
    this.record({ kind: "command", command });
  }

  comment(text: RexInput): void {
    this.record({ kind: "comment", text: String(this.format(text)) });
  }

  source(path: RexInput): void {
    this.record({ kind: "source", path: String(this.format(path)) });
  }

  shebang(): void {
    this.record({ kind: "shebang" });
  }
}
