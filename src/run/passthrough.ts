/**
 * Host environment variables that cross into the container. The container's
 * environment is otherwise only the image's plus the captured one: host
 * PATH, LD_LIBRARY_PATH or PYTHONPATH leaking in is exactly the "blurry
 * between Rez packages and the system" problem images are meant to end.
 *
 * Passed by default: licence locations (the DCC vendors' documented
 * variables; RLM's `<isv>_LICENSE` and FlexLM's `<VENDOR>_LICENSE_FILE`
 * conventions as patterns) and the terminal's description. Names may use `*`.
 */
export const LICENCE_VARIABLES = [
  "foundry_LICENSE",
  "ADSKFLEX_LICENSE_FILE",
  "RLM_LICENSE",
  "PIXAR_LICENSE_FILE",
  "SESI_LMHOST",
  "LM_LICENSE_FILE",
  "ARNOLD_LICENSE_ORDER",
  "ARNOLD_LICENSE_MANAGER",
  "*_LICENSE",
  "*_LICENSE_FILE",
] as const;

export const TERMINAL_VARIABLES = ["TERM", "COLORTERM", "TZ"] as const;

export const DEFAULT_PASSTHROUGH: readonly string[] = [...LICENCE_VARIABLES, ...TERMINAL_VARIABLES];

/** Variables that describe the host or its identity, never passed from the host by a pattern (the plan sets them itself). */
const NEVER_BY_PATTERN = new Set([
  "PATH",
  "HOME",
  "USER",
  "LOGNAME",
  "SHELL",
  "PWD",
  "OLDPWD",
  "LD_LIBRARY_PATH",
  "LD_PRELOAD",
  "HOSTNAME",
  "TANTALUS_WORKFLOW",
]);

function globToRegExp(glob: string): RegExp {
  return new RegExp("^" + glob.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*") + "$");
}

/** The host variables selected by `patterns` (names or `*` globs), in host order. */
export function selectPassthrough(env: NodeJS.ProcessEnv, patterns: readonly string[]): Array<[string, string]> {
  const exact = new Set(patterns.filter((p) => !p.includes("*")));
  const globs = patterns.filter((p) => p.includes("*")).map(globToRegExp);
  const out: Array<[string, string]> = [];
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if (exact.has(name) || (!NEVER_BY_PATTERN.has(name) && globs.some((g) => g.test(name)))) out.push([name, value]);
  }
  return out;
}

/**
 * Hosts named by licence variables: `port@host` (RLM, FlexLM, Foundry),
 * lists separated by `:` `;` `,` or spaces (FlexLM on Unix uses `:`), or a bare
 * host (SESI_LMHOST). File and directory paths are not hosts.
 */
export function licenceHosts(values: readonly string[]): string[] {
  const hosts = new Set<string>();
  for (const value of values) {
    for (const item of value.split(/[:;,\s]+/)) {
      if (item === "" || item.startsWith("/") || item.startsWith(".") || item.startsWith("~")) continue;
      const at = item.lastIndexOf("@");
      const host = at >= 0 ? item.slice(at + 1) : /^\d+$/.test(item) ? "" : item;
      const literalIp = /^\d+\.\d+\.\d+\.\d+$/.test(host);
      if (/^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(host) && !literalIp && host !== "localhost") hosts.add(host);
    }
  }
  return [...hosts];
}

/** The values of the licence variables present in `env`. */
export function licenceValues(env: NodeJS.ProcessEnv): string[] {
  return selectPassthrough(env, LICENCE_VARIABLES).map(([, v]) => v);
}
