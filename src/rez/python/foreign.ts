/**
 * A function whose code runs outside this evaluator: a `commands()` or
 * `@late()` function of a definition that CPython loaded (`python: cpython`).
 * It is a PyFunction, so definitions, rex and late binding hold it like any
 * other; the interpreter hands its calls to `code` (callFunction and runBody,
 * with the globals rex binds), which answers back into this interpreter for
 * every binding the foreign code uses.
 */
import type { ModuleNode, ParsedModule } from "./ast.js";
import { PyFunction, type CallContext, type PyValue } from "./values.js";

/**
 * The process foreign code is to believe it runs in: `os.environ` and
 * `os.getcwd()` as the embedding program answers them for the built-in
 * evaluator (an image's capture: not the build host's).
 */
export interface ForeignProcess {
  environ: Readonly<Record<string, string>>;
  cwd: string;
  /** Where os.path's file tests look for an absolute path (PythonHost.locate); omitted: the path itself. */
  locate?: (path: string) => string;
}

export interface ForeignCall {
  /** Omitted: the foreign process's own environment and working directory. */
  process?: ForeignProcess;
  /** The namespace: rex's bindings (`this`, `env`, `setenv`...); names the code sets are written back into it. */
  globals: Map<string, PyValue>;
  /** Run as a body (Rez's rex functions: assignments land in `globals`), or call (a `@late()` function). */
  asBody: boolean;
  args: PyValue[];
  ctx: CallContext;
  /** Moves the current line, so actions and errors name the line of the foreign code that is running. */
  setLine(line: number): void;
}

export interface ForeignCode {
  run(call: ForeignCall): PyValue;
}

export class ForeignFunction extends PyFunction {
  constructor(
    name: string,
    file: string,
    line: number,
    readonly code: ForeignCode,
  ) {
    const node = { nodeType: "Module", body: [], type_ignores: [] } as unknown as ModuleNode;
    const module: ParsedModule = { file, node, lines: [], lineOffset: 0 };
    super({ name, kind: "def", body: [], globals: new Map(), module, line });
  }
}
