/**
 * The modules rex's Python imports, in commands() and in `@late()` functions
 * alike: the standard library answering host queries through a PythonHost,
 * `re`, and Rez's own modules, where the attribute decorators (`@early`,
 * `@late`, `@include`) have no meaning. One chain, so both answer and report
 * host queries the same way.
 */
import type { SystemInfo } from "../rez/system.js";
import type { Interpreter } from "../rez/python/interpreter.js";
import {
  chainImporters,
  stdlibImporter,
  type HostQuery,
  type HostQueryListener,
  type Importer,
  type PythonHost,
} from "../rez/python/modules.js";
import { reImporter } from "../rez/python/regex.js";
import { rezImporter } from "../rez/definition/rez-modules.js";
import { INVALID_PACKAGE_ERROR } from "../rez/definition/package-py.js";
import { PyBuiltin, PyException } from "../rez/python/values.js";

export interface RexImporterOptions {
  /** The interpreter running the code, for the file and line each host query came from. */
  python: () => Interpreter;
  /** What host queries answer; asked on the first import only. */
  host: () => PythonHost;
  /** rez's `system` (`from rez.system import system`). */
  system: () => SystemInfo;
  /** Told each host query, with the package.py line asking. */
  onHostQuery?: HostQueryListener;
  /** Where the code runs, for the decorators' NameError: "inside commands", "in a @late() function". */
  where: string;
}

/** The importer, built on the first import (most commands import nothing). */
export function rexImporter(opts: RexImporterOptions): Importer {
  let chain: Importer | undefined;
  return (name) => {
    if (!chain) {
      const listener = opts.onHostQuery;
      const report = listener
        ? (kind: HostQuery["kind"], query: string, answer: string, buildHost?: boolean): void => {
            const loc = opts.python().context.location;
            listener({ kind, query, answer, file: loc.file, line: loc.line, ...(buildHost ? { buildHost } : {}) });
          }
        : (): void => {};
      const notHere = (n: string) =>
        new PyBuiltin(n, () => {
          throw new PyException("NameError", `@${n}() decorates package attributes; it has no meaning ${opts.where}`);
        });
      chain = chainImporters(
        stdlibImporter(opts.host(), report),
        reImporter,
        rezImporter({
          early: notHere("early"),
          late: notHere("late"),
          include: notHere("include"),
          invalidPackageError: INVALID_PACKAGE_ERROR,
          system: opts.system,
          report,
        }),
      );
    }
    return chain(name);
  };
}
