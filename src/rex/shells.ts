/**
 * Shell code for a list of rex actions, written as Rez's shell plugins write it
 * (`rez context --interpret -s SHELL`), line for line.
 *
 * Rez's text is copied except where it does not give the environment Rez
 * itself computes; there Tantalus writes what the shell needs:
 *
 * | shell      | Rez writes                              | Tantalus writes                 |
 * |------------|-----------------------------------------|---------------------------------|
 * | all        | resetenv(): fails (TypeError)            | the same line as setenv()      |
 * | zsh        | `%` doubled in "..." (zsh keeps `%%`)    | `%` as is                      |
 * | csh, tcsh  | a newline inside quotes (syntax error)  | backslash-newline              |
 * | csh, tcsh  | error(): `echo "msg" 1>&2` (writes the  | /bin/sh -c 'printf "%s\n" "$1"  |
 * |            | text and "1" to a file named 2)         | 1>&2' rez-error "msg"          |
 * | pwsh       | command([prog, args...]): fails         | prog "arg" "arg" (args quoted) |
 */
import type { Action, EnvValueAction } from "./actions.js";
import { EscapedString } from "./escaped.js";
import { convertEnvRefs, expanduser, type HomeResolver } from "./expand.js";

export const SHELL_KINDS = ["bash", "sh", "zsh", "tcsh", "csh", "pwsh"] as const;
export type ShellKind = (typeof SHELL_KINDS)[number];

export function isShellKind(s: string): s is ShellKind {
  return (SHELL_KINDS as readonly string[]).includes(s);
}

export interface RenderOptions {
  /** The shell's path for the `#!` line (Rez: the shell found on PATH). Default /bin/<shell>. */
  executable?: string;
  /** Home for `~` in values: the shells expand it when writing, as Rez does. */
  home: HomeResolver;
}

/** csh's stand-in for `echo MSG 1>&2`: /dev/stderr cannot be opened when stderr is a socket. */
const CSH_TO_STDERR = `/bin/sh -c 'printf "%s\\n" "$1" 1>&2' rez-error`;

/** PowerShell's own separator for prepend/append: Rez uses os.pathsep there, not env_var_separators. */
const PWSH_PATHSEP = ":";

export function renderShell(actions: readonly Action[], kind: ShellKind, options: RenderOptions): string {
  const w = kind === "pwsh" ? new PwshWriter(options) : new UnixWriter(kind, options);
  for (const a of actions) w.action(a);
  return w.lines.join("\n") + "\n";
}

abstract class Writer {
  readonly lines: string[] = [];
  constructor(protected readonly options: RenderOptions) {}

  abstract action(a: Action): void;

  protected add(line: string): void {
    this.lines.push(line);
  }

  protected comment(text: string): void {
    for (const line of text.split("\n")) this.add(`# ${line}`);
  }
}

// ---------------------------------------------------------------------------
// sh, bash, zsh, csh, tcsh (Rez's UnixShell and its plugins)

class UnixWriter extends Writer {
  private readonly csh: boolean;

  constructor(
    private readonly kind: Exclude<ShellKind, "pwsh">,
    options: RenderOptions,
  ) {
    super(options);
    this.csh = kind === "csh" || kind === "tcsh";
  }

  action(a: Action): void {
    switch (a.kind) {
      case "shebang":
        this.add(`#!${this.options.executable ?? `/bin/${this.kind}`}`);
        return;
      case "setenv":
      case "resetenv":
        this.setenv(a.key, a.value);
        return;
      case "prependenv":
      case "appendenv":
        // Unix shells have no prepend of their own: Rez writes a setenv of "value:${KEY}".
        this.setenv(a.key, pendValue(a, "${" + a.expandedKey + "}"));
        return;
      case "unsetenv":
        this.add(this.csh ? `unsetenv ${a.key}` : `unset ${a.key}`);
        return;
      case "saferefenv":
        // csh fails on a reference to an undefined variable; sh expands it to "".
        if (this.csh) this.add(`if (!($?${a.key})) setenv ${a.key}`);
        return;
      case "alias":
        if (this.csh) this.add(`alias ${a.name} '${a.command}';`);
        else if (this.kind === "bash") this.add(`function ${a.name}() { ${a.command} "$@"; };export -f ${a.name};`);
        else this.add(`${a.name}() { ${a.command} "$@"; };`);
        return;
      case "source":
        this.add(`${this.csh ? "source" : "."} ${this.escape(EscapedString.expandable(a.path))}`);
        return;
      case "command":
        if (typeof a.command === "string") this.add(a.command);
        else {
          const [program, ...args] = a.command;
          this.add(`${String(program)} ${args.map((x) => this.escape(EscapedString.promote(x))).join(" ")}`);
        }
        return;
      case "comment":
        this.comment(a.text);
        return;
      case "info":
        for (const line of a.message.split("\n")) this.add(`echo ${this.escape(line)}`);
        return;
      case "error":
        for (const line of a.message.split("\n")) {
          // csh cannot send one command's output to stderr: `1>&2` there writes a file named "2".
          if (this.csh) this.add(`${CSH_TO_STDERR} ${this.escape(line)}`);
          else this.add(`echo ${this.escape(line)} 1>&2`);
        }
        return;
    }
  }

  private setenv(key: string, value: EscapedString): void {
    const v = this.escape(value);
    this.add(this.csh ? `setenv ${key} ${v}` : `export ${key}=${v}`);
  }

  /** Rez's escape_string: literal parts single-quoted, expandable parts double-quoted (so $VAR expands). */
  private escape(value: EscapedString): string {
    let out = "";
    for (const [lit, raw] of value.parts) {
      if (lit) {
        let q = shlexQuote(raw);
        if (!q.startsWith("'")) q = `'${q}'`;
        if (this.csh) q = q.replace(/\n/g, "\\\n");
        out += q;
        continue;
      }
      let t = expanduser(raw, this.options.home);
      if (this.csh) {
        t = t.replace(/"/g, '"\\""').replace(/!/g, "\\!").replace(/\n/g, "\\\n");
      } else {
        t = t.replace(/\\/g, "\\\\").replace(/"/g, '\\"');
      }
      out += `"${t}"`;
    }
    return out;
  }
}

/** Python's shlex.quote. */
export function shlexQuote(s: string): string {
  if (s === "") return "''";
  if (!/[^\w@%+=:,./-]/.test(s)) return s;
  return "'" + s.replace(/'/g, `'"'"'`) + "'";
}

/** The value a shell without prepend/append support is given: `value<sep>${KEY}` or `${KEY}<sep>value`. */
function pendValue(a: EnvValueAction, keyToken: string): EscapedString {
  const values = a.kind === "prependenv" ? [a.value, keyToken] : [keyToken, a.value];
  return EscapedString.join(a.separator, values);
}

// ---------------------------------------------------------------------------
// pwsh (Rez's PowerShellBase): values are written expanded.

class PwshWriter extends Writer {
  action(a: Action): void {
    switch (a.kind) {
      case "shebang":
      case "saferefenv":
        return;
      case "setenv":
      case "resetenv":
        this.add(`Set-Item -Path "Env:${a.expandedKey}" -Value "${this.escape(a.expandedValue)}"`);
        return;
      case "prependenv":
        this.add(
          `Set-Item -Path "Env:${a.expandedKey}" -Value ("${this.escape(a.expandedValue)}${PWSH_PATHSEP}" + ` +
            `(Get-ChildItem -ErrorAction SilentlyContinue "Env:${a.expandedKey}").Value)`,
        );
        return;
      case "appendenv":
        this.add(
          `Set-Item -Path "Env:${a.expandedKey}" -Value ((Get-ChildItem -ErrorAction SilentlyContinue "Env:${a.expandedKey}").Value + ` +
            `"${PWSH_PATHSEP}${this.escape(a.expandedValue)}")`,
        );
        return;
      case "unsetenv":
        this.add(`Remove-Item -ErrorAction SilentlyContinue "Env:${a.expandedKey}"`);
        return;
      case "alias":
        this.add(`function ${a.name}() { ${a.command} @args }`);
        return;
      case "source":
        this.add(`. "${a.path}"`);
        return;
      case "command":
        if (typeof a.command === "string") this.add(a.command);
        else {
          const [program, ...args] = a.command;
          this.add(`${String(program)} ${args.map((x) => `"${this.escape(EscapedString.promote(x))}"`).join(" ")}`);
        }
        return;
      case "comment":
        this.comment(a.text);
        return;
      case "info":
        for (const line of a.message.split("\n")) this.add(`Write-Host ${this.tokens(this.escape(line))}`);
        return;
      case "error":
        for (const line of a.message.split("\n")) this.add(`Write-Error "${this.tokens(this.escape(line))}"`);
        return;
    }
  }

  private tokens(text: string): string {
    return convertEnvRefs(text, "pwsh", (name) => "${Env:" + name + "}");
  }

  private escape(value: EscapedString): string {
    let out = "";
    for (const [lit, raw] of value.parts) {
      const t = lit ? raw.replace(/\$/g, "`$") : expanduser(raw, this.options.home);
      out += t.replace(/"/g, '`"').replace(/'/g, "`'");
    }
    return out;
  }
}
