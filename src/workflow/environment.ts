/**
 * The environment a workflow's programs start with inside its image, captured
 * once for everyone who needs it: the build writes its script into the top
 * layer, the audit searches libraries with its LD_LIBRARY_PATH and PATH and
 * looks for host paths in its values. One function, so the audit checks the
 * environment that ships, not a second interpretation of its own.
 *
 * The resolved packages' commands are interpreted as Rez does, from an empty
 * parent environment (an image inherits none) with repository roots mapped to
 * image paths and `~` left to the shell that sources the script; then come the
 * workflow's own variables (tantalus.yaml `env`), then the repairs' directories.
 * The script depends only on the resolve, the package definitions, root_map
 * and the epoch, never on where the repositories are on the build machine or
 * on the time.
 *
 * Commands that ask their own process (`os.environ`, `os.getenv`,
 * `os.path.expanduser`: in Rez, rez-env's environment) would leak the build
 * host's environment into every artist's image. They see IMAGE_PROCESS_ENV
 * instead, and every such read is kept (CapturedEnvironment.hostQueries) so the
 * audit can name the packages that asked.
 *
 * The file system they ask about is the image's too: `os.path.exists(
 * os.path.join(this.root, "python"))` asks about the image path `this.root`
 * names, answered from the host root whose content the builder lays out there
 * (root_map moves a root, so the image path need not exist on the build host,
 * or be something else there). A path under no resolved package's root is the
 * base image's, which the capture does not have unpacked (the audit and the
 * report capture without the base): the build host answers it, and the query
 * is marked `buildHost` so the audit says whose answer it was. `os.getcwd()`
 * is IMAGE_WORKING_DIR. Commands CPython runs (`python: cpython`) get the
 * same environment, working directory and file answers (rex hands its
 * PythonHost's to the shim), but their queries are not recorded.
 */
import { optionsFromContext } from "../rex/from-context.js";
import { interpretContext } from "../rex/interpret.js";
import { realPythonHost, targetPythonHost, type HostQuery, type PythonHost } from "../rez/python/modules.js";
import { imageContentSource } from "../context/root-map.js";
import { renderShell } from "../rex/shells.js";
import type { HomeResolver } from "../rex/expand.js";
import type { WorkflowResolve } from "./resolve.js";

/**
 * `~` in the packages' values means the home of whoever runs the image, so it
 * is written as $HOME, which the sourcing shell expands (values Rez marks
 * expandable are double-quoted). `~user` stays as written.
 */
/** The line that starts the repairs' directories in the script (a dev run keeps the image's repair lines from it). */
export const REPAIR_MARK = "\n# repaired libraries (library audit)\n";

const IMAGE_HOME: HomeResolver = { home: "${HOME}", userHome: () => undefined };

/**
 * What commands' `os.environ` holds while the image's environment is captured:
 * HOME only, as the same `${HOME}` placeholder, so `os.path.expanduser("~/x")`
 * becomes `${HOME}/x` for the sourcing shell to expand, like `~` in values.
 * Nothing of the build host's environment.
 */
export const IMAGE_PROCESS_ENV: Readonly<Record<string, string>> = Object.freeze({ HOME: "${HOME}" });

/**
 * `os.getcwd()` while the image's environment is captured. The script is
 * written once for every run, and each run starts elsewhere (`tantalus run`
 * passes the artist's directory as the container's working directory, or
 * home, or `/`); the image config sets no WorkingDir (src/image/entrypoint.ts
 * entrypointConfig), so `/` is where a plain `podman run` of the image starts.
 */
export const IMAGE_WORKING_DIR = "/";

/** A host query a package's commands made while the image's environment was captured. */
export interface CommandHostQuery extends HostQuery {
  /** The package (qualified name) whose commands asked. */
  package: string;
}

/** Directories appended to a variable after everything else (the audit's repair directories). */
export interface EnvAddition {
  name: string;
  /** Elements appended, in order, after the Rez environment and the workflow's own variables. */
  append: string[];
  separator: string;
}

export interface CaptureOptions {
  /** Host repository root -> image path (image.root_map). */
  rootMap?: Readonly<Record<string, string>>;
  /** REZ_USED_TIMESTAMP: the image's epoch, not the time of the build (default: the context's creation time). */
  epochSeconds?: number;
  /** Appended last (the repair layer's library directories). */
  additions?: readonly EnvAddition[];
}

export interface CapturedEnvironment {
  /** The sh script (`#!/bin/sh` …) for /etc/tantalus/environment.sh. */
  script: string;
  /** Every variable the image's programs see, expanded: the packages', the workflow's, the repairs'. */
  environ: Record<string, string>;
  /**
   * Workflow variables for the image config's Env ("KEY=value"): those no
   * package sets, so a runtime's `-e` can still override them. Those a
   * package also sets must come after the Rez environment, so they are in
   * the script instead.
   */
  configEnv: string[];
  /** Package (qualified name) whose commands put each element into each variable. */
  origins: Map<string, Map<string, string>>;
  /** What the packages' commands asked of their process (os.environ, platform...), answered for the image. */
  hostQueries: CommandHostQuery[];
}

export function captureEnvironment(resolve: WorkflowResolve, opts: CaptureOptions = {}): CapturedEnvironment {
  const base = optionsFromContext(resolve.context);
  const pkgOfFile = new Map(resolve.variants.map((v) => [v.package.file, v.package.qualifiedName]));
  const hostQueries: CommandHostQuery[] = [];
  const result = interpretContext(resolve.variants, {
    ...base,
    ...(opts.epochSeconds !== undefined ? { timestamp: opts.epochSeconds } : {}),
    shell: "sh",
    parentEnv: {},
    pythonHost: imagePythonHost(resolve, opts.rootMap ?? {}, base.system),
    onHostQuery: (q) => hostQueries.push({ ...q, package: pkgOfFile.get(q.file) ?? q.file }),
    rootMap: opts.rootMap ?? {},
    home: IMAGE_HOME,
  });
  let script = renderShell(result.actions, "sh", { home: IMAGE_HOME });
  const workflowEnv = Object.entries(resolve.definition.env).sort((a, b) => (a[0] < b[0] ? -1 : 1));
  const inScript = workflowEnv.filter(([k]) => k in result.environ);
  if (inScript.length > 0) {
    const lines = ["", "# workflow variables (tantalus.yaml), after the packages' own"];
    for (const [k, v] of inScript) lines.push(`export ${k}=${shQuote(v)}`);
    script += lines.join("\n") + "\n";
  }
  const additions = opts.additions ?? [];
  // The repair directories go after everything else: package directories keep precedence.
  const appended = additions
    .map((a) => `export ${a.name}="\${${a.name}:+$${a.name}${a.separator}}${a.append.join(a.separator)}"\n`)
    .join("");
  if (appended) script += `${REPAIR_MARK}${appended}`;

  const pkgOfVariant = new Map(resolve.variants.map((v) => [v.qualifiedName, v.package.qualifiedName]));
  const origins = new Map<string, Map<string, string>>();
  for (const a of result.actions) {
    if (a.kind !== "setenv" && a.kind !== "resetenv" && a.kind !== "prependenv" && a.kind !== "appendenv") continue;
    const pkg = a.origin?.variant ? pkgOfVariant.get(a.origin.variant) : undefined;
    if (!pkg) continue;
    let m = origins.get(a.expandedKey);
    if (!m) origins.set(a.expandedKey, (m = new Map<string, string>()));
    for (const e of a.expandedValue.toString().split(a.separator)) if (e && !m.has(e)) m.set(e, pkg);
  }
  return {
    script,
    environ: applyEnvAdditions({ ...result.environ, ...Object.fromEntries(workflowEnv) }, additions),
    configEnv: workflowEnv.filter(([k]) => !(k in result.environ)).map(([k, v]) => `${k}=${v}`),
    origins,
    hostQueries,
  };
}

/** What commands' host queries answer in the capture: the image's environment, working directory and files. */
function imagePythonHost(
  resolve: WorkflowResolve,
  rootMap: Readonly<Record<string, string>>,
  system: { platform: string; arch: string },
): PythonHost {
  const source = imageContentSource(
    rootMap,
    resolve.variants.map((v) => v.root),
  );
  return {
    ...targetPythonHost(system, realPythonHost),
    environ: () => IMAGE_PROCESS_ENV,
    cwd: () => IMAGE_WORKING_DIR,
    locate: (p) => {
      const host = source(p);
      return host !== undefined ? { path: host } : { path: p, buildHost: true };
    },
  };
}

/** The environment with the additions applied (an element already there is not added twice). */
export function applyEnvAdditions(
  environ: Readonly<Record<string, string>>,
  additions: readonly EnvAddition[],
): Record<string, string> {
  const out = { ...environ };
  for (const a of additions) {
    const existing = out[a.name];
    const parts = existing ? existing.split(a.separator) : [];
    for (const e of a.append) if (!parts.includes(e)) parts.push(e);
    out[a.name] = parts.join(a.separator);
  }
  return out;
}

function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'"'"'`)}'`;
}
