/**
 * The one module that talks to the Python parser (py-ast, pinned). Everything
 * else uses the node types re-exported here, so swapping the parser touches only
 * this file.
 *
 * py-ast's tree is CPython-shaped, but its constants lose information Python
 * keeps: `1.0` comes back as the number 1, `1e400` as null, bytes as text. So
 * every literal is re-read from its source text here and the exact Python value
 * is attached to the node (ConstantNode.pyValue), or the reason it is outside
 * the supported subset (ConstantNode.unsupported).
 */
import { parse as pyParse } from "py-ast";
import type {
  Arguments,
  Constant,
  ExceptHandler,
  ExprNode,
  FunctionDef,
  Keyword,
  Module,
  StmtNode,
  Comprehension,
  WithItem,
  Arg,
  Alias,
} from "py-ast";
import { InputError } from "../../errors.js";
import { parseNumberLiteral, type LiteralValue } from "./literals.js";
import { tokenizerError, type TokenizerError } from "./tokens.js";

export type { Arguments, ExprNode, Keyword, StmtNode, Comprehension, WithItem, ExceptHandler, Arg, Alias };
export type ModuleNode = Module;
export type FunctionNode = FunctionDef;
export type LambdaNode = Extract<ExprNode, { nodeType: "Lambda" }>;
export type ConstantNode = Constant & {
  /** The exact Python value of the literal. */
  pyValue?: LiteralValue;
  /** Set instead of pyValue for literals outside the subset (bytes, complex, Ellipsis). */
  unsupported?: string;
};

export interface ParseOptions {
  /** Added to every line number: for code embedded in another file (YAML `commands: |`). */
  lineOffset?: number;
}

/** A parsed source file: the tree plus the text lines (for function source and messages). */
export interface ParsedModule {
  readonly file: string;
  readonly node: ModuleNode;
  readonly lines: readonly string[];
  readonly lineOffset: number;
}

/**
 * Parses Python source. Syntax errors become an InputError naming the file and
 * line, as Python reports them.
 */
export function parseModule(source: string, file: string, options: ParseOptions = {}): ParsedModule {
  const lineOffset = options.lineOffset ?? 0;
  let text = source.replace(/\r\n?/g, "\n");
  // CPython ignores form feeds in a line's indentation (counting columns after the last one); py-ast rejects them.
  if (text.includes("\f")) text = text.replace(/^[ \t\f]*\f/gm, "");
  // Tokenizer errors: a TabError needs a tab, and every other one also makes py-ast fail, so the
  // scan only runs for files with tabs or that do not parse (nearly every file skips it).
  const tokenizerFailure = (e: TokenizerError) =>
    new InputError(`${e.pyType}: ${e.message}`, { file, line: e.line + lineOffset });
  const early = text.includes("\t") ? tokenizerError(text) : undefined;
  if (early && !early.unclosed) throw tokenizerFailure(early);
  let node: Module;
  try {
    node = pyParse(text, { filename: file });
  } catch (err) {
    const parserError = syntaxError(err, file, lineOffset);
    const tokError = early ?? tokenizerError(text);
    if (tokError && !tokError.unclosed) throw tokenizerFailure(tokError);
    const at = parserError.location?.line;
    // CPython names the unclosed bracket when the parser failed on a later line, or ran into the end of the file.
    const lastLine = text.split("\n").length - (text.endsWith("\n") ? 1 : 0) + lineOffset;
    if (tokError && (at === undefined || at > tokError.line + lineOffset || at >= lastLine))
      throw tokenizerFailure(tokError);
    throw parserError;
  }
  const lines = text.split("\n");
  annotateConstants(node, lines, file, lineOffset);
  if (lineOffset !== 0) shiftLines(node, lineOffset);
  return { file, node, lines, lineOffset };
}

function syntaxError(err: unknown, file: string, lineOffset: number): InputError {
  const e = err as { message?: string; lineno?: number };
  const raw = String(e.message ?? err);
  // py-ast appends " at line L, column C"; the location goes into the InputError instead.
  const m = /^(.*?)(?: at line (\d+)(?:, column \d+)?)?$/s.exec(raw);
  const detail = (m?.[1] ?? raw).trim();
  const line = e.lineno ?? (m?.[2] ? Number(m[2]) : undefined);
  return new InputError(`invalid Python syntax: ${detail}`, {
    file,
    line: line === undefined ? undefined : line + lineOffset,
  });
}

/** The source text of a node, from its line/column span (columns are UTF-8 byte offsets, as in CPython). */
function sourceSegment(
  lines: readonly string[],
  n: { lineno: number; col_offset: number; end_lineno?: number; end_col_offset?: number },
): string {
  const endLine = n.end_lineno ?? n.lineno;
  const endCol = n.end_col_offset ?? n.col_offset;
  if (endLine === n.lineno) return sliceBytes(lines[n.lineno - 1] ?? "", n.col_offset, endCol);
  const parts = [sliceBytes(lines[n.lineno - 1] ?? "", n.col_offset, undefined)];
  for (let l = n.lineno + 1; l < endLine; l++) parts.push(lines[l - 1] ?? "");
  parts.push(sliceBytes(lines[endLine - 1] ?? "", 0, endCol));
  return parts.join("\n");
}

function sliceBytes(line: string, start: number, end: number | undefined): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(line)) return end === undefined ? line.slice(start) : line.slice(start, end);
  const buf = Buffer.from(line, "utf8");
  return buf.subarray(start, end).toString("utf8");
}

/** Source text of a statement range, used for PyFunction.source. */
export function sourceLines(mod: ParsedModule, firstLine: number, lastLine: number): string {
  const a = firstLine - mod.lineOffset;
  const b = lastLine - mod.lineOffset;
  return mod.lines.slice(a - 1, b).join("\n");
}

type AnyNode = { nodeType: string; [k: string]: unknown };

function annotateConstants(root: Module, lines: readonly string[], file: string, lineOffset: number): void {
  const visit = (node: AnyNode, inFString: boolean): void => {
    if (node.nodeType === "Constant") {
      if (!inFString) annotate(node as unknown as ConstantNode, lines, file, lineOffset);
      else (node as unknown as ConstantNode).pyValue = (node as unknown as ConstantNode).value as string;
      return;
    }
    const fstring = node.nodeType === "JoinedStr";
    for (const key in node) {
      const v = node[key];
      if (v === null || typeof v !== "object") continue;
      if (Array.isArray(v)) {
        for (const item of v)
          if (item && typeof item === "object" && "nodeType" in item) visit(item as AnyNode, fstring);
      } else if ("nodeType" in v) {
        // A format spec is itself a JoinedStr; its parts are literal text too.
        visit(v as AnyNode, false);
      }
    }
  };
  visit(root as unknown as AnyNode, false);
}

function annotate(node: ConstantNode, lines: readonly string[], file: string, lineOffset: number): void {
  const v: unknown = node.value;
  if (typeof v === "boolean") {
    node.pyValue = v;
    return;
  }
  if (typeof v === "string") {
    const q = node.quote_style;
    if (q === undefined) {
      if (v === "..." && sourceSegment(lines, node) === "...") node.unsupported = "the Ellipsis literal (...)";
      else node.pyValue = v;
      return;
    }
    const prefix = q.replace(/['"]+$/, "").toLowerCase();
    if (prefix.includes("b")) {
      node.unsupported = "a bytes literal";
      return;
    }
    if (!prefix.includes("r") && /(^|[^\\])(\\\\)*\\N\{/.test(sourceSegment(lines, node))) {
      node.unsupported = "a \\N{...} escape in a string";
      return;
    }
    node.pyValue = v;
    return;
  }
  if (v === null) {
    const text = sourceSegment(lines, node);
    if (text === "None") node.pyValue = null;
    else node.pyValue = parseNumberLiteral(text) ?? null;
    return;
  }
  if (typeof v === "number" || typeof v === "bigint") {
    const text = sourceSegment(lines, node);
    const parsed = parseNumberLiteral(text);
    if (parsed === undefined) {
      // py-ast is more lenient than CPython here (e.g. `012`).
      const why = /^0\d/.test(text)
        ? "leading zeros in decimal integer literals are not permitted"
        : `invalid number literal '${text}'`;
      throw new InputError(`invalid Python syntax: ${why}`, { file, line: node.lineno + lineOffset });
    }
    node.pyValue = parsed;
    return;
  }
  node.unsupported = "a complex number";
}

function shiftLines(root: Module, offset: number): void {
  const visit = (node: AnyNode): void => {
    if (typeof node.lineno === "number") node.lineno = node.lineno + offset;
    if (typeof node.end_lineno === "number") node.end_lineno = node.end_lineno + offset;
    for (const key in node) {
      const v = node[key];
      if (v === null || typeof v !== "object") continue;
      if (Array.isArray(v)) {
        for (const item of v) if (item && typeof item === "object" && "nodeType" in item) visit(item as AnyNode);
      } else if ("nodeType" in v) visit(v as AnyNode);
    }
  };
  visit(root as unknown as AnyNode);
}
