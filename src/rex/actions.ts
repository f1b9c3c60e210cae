/**
 * The actions a context's commands produce, in order (Rez's rex Action list).
 * Each environment action keeps the value both as written (formatted, with
 * `${VAR}` references left for the shell) and as expanded at interpretation
 * time: shells that expand themselves print the first, PowerShell (which Rez
 * drives with expanded values) prints the second.
 */
import type { EscapedString } from "./escaped.js";

/** Where an action came from: a package's commands, or Rez's own bookkeeping. */
export interface ActionOrigin {
  /** Qualified variant name, e.g. `python-3.11.4[0]`; undefined for Rez's own variables. */
  variant?: string;
  phase: RexPhase | "system";
  file?: string;
  line?: number;
}

export type RexPhase = "pre_commands" | "commands" | "post_commands";

interface Base {
  origin?: ActionOrigin;
}

export interface EnvValueAction extends Base {
  /** setenv; resetenv (Rez's "reset", a setenv with an unused friends list); prependenv/appendenv after the first reference. */
  kind: "setenv" | "resetenv" | "prependenv" | "appendenv";
  key: string;
  expandedKey: string;
  value: EscapedString;
  expandedValue: EscapedString;
  /** Separator of the variable (env_var_separators, else ':'); used by prependenv/appendenv. */
  separator: string;
}

export interface UnsetenvAction extends Base {
  kind: "unsetenv";
  key: string;
  expandedKey: string;
}

/** Makes a variable safe to reference before a parent variable is appended to (Rez's _saferefenv; csh only). */
export interface SaferefenvAction extends Base {
  kind: "saferefenv";
  key: string;
}

export interface AliasAction extends Base {
  kind: "alias";
  name: string;
  command: string;
}

export interface SourceAction extends Base {
  kind: "source";
  path: string;
}

export interface CommandAction extends Base {
  kind: "command";
  /** A shell line, written as is; or a program and its arguments (arguments are quoted). */
  command: string | readonly (string | EscapedString)[];
}

export interface CommentAction extends Base {
  kind: "comment";
  text: string;
}

export interface MessageAction extends Base {
  kind: "info" | "error";
  message: EscapedString;
}

export interface ShebangAction extends Base {
  kind: "shebang";
}

export type Action =
  | EnvValueAction
  | UnsetenvAction
  | SaferefenvAction
  | AliasAction
  | SourceAction
  | CommandAction
  | CommentAction
  | MessageAction
  | ShebangAction;
