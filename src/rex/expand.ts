/**
 * The three textual transformations rex applies to values, each exactly as Rez
 * does it (the regular expressions are Rez's, quirks included):
 *
 * - protecting `$VAR` / `${VAR}` before str.format (NamespaceFormatter): both
 *   become `${VAR}`, and the bare form stops at its first digit, so `$PY3X` is
 *   read as `${PY}3X`;
 * - `expandvars` (rez.utils.formatting): `$VAR` / `${VAR}` replaced from an
 *   environment, unknown names left as written;
 * - `expanduser` (os.path.expanduser): a leading `~` or `~user`.
 */
import fs from "node:fs";
import os from "node:os";

/** Rez's ActionInterpreter.ENV_VAR_REGEX: what a shell reads as a variable reference. */
const SHELL_ENV_REF = /\$\{([^{}]+?)\}|\$([a-zA-Z_]+[a-zA-Z0-9_]*?)/g;

/** PowerShellBase.ENV_VAR_REGEX: `$Env:X` and `${Env:X}` first, then the generic forms. */
const PWSH_ENV_REF =
  /\$[Ee][Nn][Vv]:([a-zA-Z_]+[a-zA-Z0-9_]*?)|\$\{[Ee][Nn][Vv]:([a-zA-Z_]+[a-zA-Z0-9_]*?)\}|\$\{([^{}]+?)\}|\$([a-zA-Z_]+[a-zA-Z0-9_]*?)/g;

export type RefSyntax = "generic" | "pwsh";

/** String.prototype.replace with a global regex starts at 0 and resets lastIndex, so sharing them is safe. */
export function envRefRegex(syntax: RefSyntax): RegExp {
  return syntax === "pwsh" ? PWSH_ENV_REF : SHELL_ENV_REF;
}

/**
 * Rewrites every variable reference to `${{NAME}}`, so that str.format leaves
 * `${NAME}` behind instead of reading `{NAME}` as a field.
 */
export function protectEnvRefs(template: string, syntax: RefSyntax): string {
  if (!template.includes("$")) return template;
  return template.replace(envRefRegex(syntax), (...m: unknown[]) => {
    const name = firstGroup(m);
    return "${{" + name + "}}";
  });
}

/** Replaces each reference with fn(name) (Shell.convert_tokens). */
export function convertEnvRefs(text: string, syntax: RefSyntax, fn: (name: string) => string): string {
  if (!text.includes("$")) return text;
  return text.replace(envRefRegex(syntax), (...m: unknown[]) => fn(firstGroup(m)));
}

function firstGroup(m: unknown[]): string {
  // replace() callback arguments: match, groups..., offset, string
  for (let i = 1; i < m.length - 2; i++) if (typeof m[i] === "string") return m[i] as string;
  return "";
}

/** rez.utils.formatting.ENV_VAR_REGEX (Python's \w is Unicode-aware for str). */
const EXPANDVARS_REF = /\$([\p{L}\p{N}_]+|\{[^}]*\})/gu;

/** Rez's expandvars: replaces known variables, leaves unknown ones as written; inserted text is not rescanned. */
export function expandvars(
  text: string,
  environ: ReadonlyMap<string, string> | Readonly<Record<string, string>>,
): string {
  if (!text.includes("$")) return text;
  const get =
    environ instanceof Map
      ? (k: string) => (environ as ReadonlyMap<string, string>).get(k)
      : (k: string) =>
          Object.prototype.hasOwnProperty.call(environ, k) ? (environ as Record<string, string>)[k] : undefined;
  return text.replace(EXPANDVARS_REF, (whole: string, ref: string) => {
    const name = ref.startsWith("{") && ref.endsWith("}") ? ref.slice(1, -1) : ref;
    const v = get(name);
    return v === undefined ? whole : v;
  });
}

/** How `~` and `~user` are expanded: the home directory, and a user lookup. */
export interface HomeResolver {
  home: string;
  userHome(user: string): string | undefined;
}

/** os.path.expanduser on POSIX. */
export function expanduser(text: string, resolver: HomeResolver): string {
  if (!text.startsWith("~")) return text;
  let i = text.indexOf("/", 1);
  if (i < 0) i = text.length;
  let home: string | undefined;
  if (i === 1) home = resolver.home;
  else home = resolver.userHome(text.slice(1, i));
  if (home === undefined) return text;
  home = home.replace(/\/+$/, "");
  return home + text.slice(i) || "/";
}

/** The host's resolver: $HOME (else the user's home, as Python falls back to pwd), and /etc/passwd for `~user`. */
export function hostHomeResolver(home = process.env.HOME ?? os.userInfo().homedir): HomeResolver {
  let passwd: Map<string, string> | undefined;
  return {
    home,
    userHome(user: string) {
      if (!passwd) {
        passwd = new Map();
        try {
          for (const line of fs.readFileSync("/etc/passwd", "utf8").split("\n")) {
            const f = line.split(":");
            if (f.length >= 6 && f[0]) passwd.set(f[0], f[5]!);
          }
        } catch {
          // No passwd file: ~user stays as written, as Python does for an unknown user.
        }
      }
      return passwd.get(user);
    },
  };
}
