/**
 * Reading a package definition file: decoding (UTF-8 unless a PEP 263 coding
 * line says otherwise, as Python does), then the literal fast path or the full
 * evaluator for package.py, or the YAML reader for package.yaml.
 */
import { closeSync, constants, openSync, readSync, readlinkSync, statSync, type Stats } from "node:fs";
import { isAscii } from "node:buffer";
import path from "node:path";
import { InputError } from "../../errors.js";
import { evaluatePackagePy, processAttributes, type EvaluateOptions, type RawAttributes } from "./package-py.js";
import { readPackageYaml } from "./package-yaml.js";
import { scanLiteralAssignments } from "./fast-path.js";
import { buildDefinition } from "./schema.js";
import type { PackageDefinition } from "./types.js";
import { isOutsideSubset, keptCodeNeedsCPython, loadWithCPython, type PythonSettings } from "./cpython.js";

export interface ReadOptions extends EvaluateOptions {
  /**
   * "auto" (default): literal-only files take the fast path, others the full
   * evaluator. "full": always the full evaluator. "fast": only the fast path;
   * readPackageSource returns undefined when the file needs the full evaluator
   * (used to test that both paths agree).
   */
  mode?: "auto" | "full" | "fast";
  /**
   * `python: cpython`: a package.py the built-in evaluator refuses for a
   * construct outside its subset (or whose commands()/@late() code uses one)
   * is loaded by CPython instead. Default: the built-in evaluator only.
   */
  python?: PythonSettings;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** PEP 263: a coding declaration on line 1 or 2. */
const CODING = /^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)/;

/** Decodes Python source bytes as CPython does (UTF-8 by default; BOM; coding declarations). */
export function decodePythonSource(bytes: Uint8Array, file: string): string {
  let start = 0;
  const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
  if (bom) start = 3;
  const body = bytes.subarray(start);
  const encoding = codingDeclaration(body);
  if (encoding === undefined || /^utf[-_]?8(?:[-_]sig)?$/.test(encoding)) return decodeUtf8(body, file);
  if (bom) throw new InputError(`encoding problem: ${encoding} with BOM`, { file, line: 1 });
  if (/^(?:latin[-_]?1|iso[-_]?8859[-_]?1|l1|cp819|iso[-_]?ir[-_]?100)$/.test(encoding))
    return Buffer.from(body).toString("latin1");
  if (/^(?:ascii|us[-_]ascii|646)$/.test(encoding)) {
    const bad = body.findIndex((b) => b > 0x7f);
    if (bad >= 0)
      throw new InputError(`byte 0x${body[bad]!.toString(16)} is not ASCII, but the file declares coding ${encoding}`, {
        file,
        line: lineOfOffset(body, bad),
      });
    return Buffer.from(body).toString("latin1");
  }
  throw new InputError(`unsupported source encoding '${encoding}' (declared by a coding line); use UTF-8`, {
    file,
    line: 1,
  });
}

let scratch = Buffer.allocUnsafe(1 << 16);

/**
 * Reads a file into a reused buffer (valid until the next call): open, read,
 * close, without readFileSync's fstat and allocation, which matter when a
 * repository of tens of thousands of packages is loaded.
 */
function readWhole(file: string): Buffer {
  // O_NONBLOCK: should the file become a FIFO after the check, open returns at once instead of waiting for a writer.
  const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    let length = 0;
    for (;;) {
      if (length === scratch.length) {
        const bigger = Buffer.allocUnsafe(scratch.length * 2);
        scratch.copy(bigger, 0, 0, length);
        scratch = bigger;
      }
      const n = readSync(fd, scratch, length, scratch.length - length, null);
      if (n === 0) break;
      length += n;
    }
    return scratch.subarray(0, length);
  } finally {
    closeSync(fd);
  }
}

function codingDeclaration(bytes: Uint8Array): string | undefined {
  // Only the first two lines matter.
  const first = bytes.indexOf(0x0a);
  const second = first < 0 ? -1 : bytes.indexOf(0x0a, first + 1);
  const end = second < 0 ? bytes.length : second;
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(end, 1024));
  if (head.indexOf("coding") < 0) return undefined;
  const lines = head.toString("latin1").split(/\r?\n|\r/);
  for (let i = 0; i < Math.min(2, lines.length); i++) {
    const m = CODING.exec(lines[i]!);
    if (m) return m[1]!.toLowerCase();
    // The declaration may be on line 2 only if line 1 is blank or a comment.
    if (!/^[ \t\f]*(?:#.*)?$/.test(lines[i]!)) break;
  }
  return undefined;
}

function decodeUtf8(bytes: Uint8Array, file: string): string {
  // Nearly every package file is ASCII: decoding it as latin1 is the same and much cheaper.
  if (isAscii(bytes)) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
  try {
    return utf8.decode(bytes);
  } catch {
    const bad = firstInvalidUtf8(bytes);
    throw new InputError(
      `the file is not valid UTF-8 (byte 0x${(bytes[bad] ?? 0).toString(16)}); Python reads package.py as UTF-8 unless a '# -*- coding: <encoding> -*-' line says otherwise`,
      { file, line: lineOfOffset(bytes, bad) },
    );
  }
}

function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    const n = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
    if (n < 0) return i;
    for (let k = 1; k <= n; k++) if (i + k >= b.length || (b[i + k]! & 0xc0) !== 0x80) return i;
    i += n + 1;
  }
  return b.length;
}

function lineOfOffset(bytes: Uint8Array, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < bytes.length; i++) if (bytes[i] === 0x0a) line++;
  return line;
}

/**
 * Reads a package.py or package.yaml into a PackageDefinition. Errors (syntax,
 * forbidden constructs, wrong attribute types) are InputErrors with the file
 * and line.
 */
export function readPackageFile(file: string, options: ReadOptions = {}): PackageDefinition {
  checkRegularFile(file);
  let bytes: Buffer;
  try {
    bytes = readWhole(file);
  } catch (err) {
    throw new InputError(`cannot read package definition: ${(err as Error).message}`, { file });
  }
  const format = path.extname(file) === ".yaml" || path.extname(file) === ".yml" ? "yaml" : "py";
  const text = format === "py" ? decodePythonSource(bytes, file) : decodeUtf8(bytes, file);
  const def = readPackageSource(text, file, format, options);
  if (!def) throw new InputError("the file needs the full Python evaluator (mode 'fast' was requested)", { file });
  return def;
}

const KIND: [(st: Stats) => boolean, string][] = [
  [(st) => st.isDirectory(), "a folder"],
  [(st) => st.isFIFO(), "a FIFO"],
  [(st) => st.isSocket(), "a socket"],
  [(st) => st.isCharacterDevice(), "a character device"],
  [(st) => st.isBlockDevice(), "a block device"],
];

/**
 * A definition is only ever read from a regular file (or a link to one):
 * opening a FIFO would wait for a writer forever, a device could be read
 * without end. Each refusal is one InputError naming the file.
 */
export function checkRegularFile(file: string): void {
  let st: Stats;
  try {
    st = statSync(file);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === "ELOOP") throw new InputError("the package definition is a symbolic link loop", { file });
    if (e.code === "ENOENT") {
      let target: string | undefined;
      try {
        target = readlinkSync(file);
      } catch {
        target = undefined;
      }
      if (target !== undefined)
        throw new InputError(`the package definition is a link to ${target}, which does not exist`, { file });
      throw new InputError("cannot read package definition: no such file", { file });
    }
    throw new InputError(`cannot read package definition: ${e.code === "EACCES" ? "permission denied" : e.message}`, {
      file,
    });
  }
  if (st.isFile()) return;
  const kind = KIND.find(([is]) => is(st))?.[1] ?? "not a file";
  throw new InputError(`the package definition is ${kind}, not a regular file`, { file });
}

/** As readPackageFile, from text already in memory. Undefined only with mode "fast" when the fast path gives up. */
export function readPackageSource(
  text: string,
  file: string,
  format: "py" | "yaml",
  options: ReadOptions = {},
): PackageDefinition | undefined {
  if (format === "yaml") {
    const raw = readPackageYaml(text, file);
    return buildDefinition(file, "yaml", raw, raw.blockScalars);
  }
  const source = text.includes("\r") ? text.replace(/\r\n?/g, "\n") : text;
  const nul = source.indexOf("\0");
  if (nul >= 0)
    throw new InputError("source code cannot contain null bytes", {
      file,
      line: source.slice(0, nul).split("\n").length,
    });
  const mode = options.mode ?? "auto";
  let raw: RawAttributes | undefined;
  if (mode !== "full") raw = scanLiteralAssignments(source);
  if (!raw) {
    if (mode === "fast") return undefined;
    if (options.python?.evaluator === "cpython") return readWithFallback(source, file, options, options.python);
    raw = evaluatePackagePy(source, file, options);
  }
  const def = buildDefinition(file, "py", processAttributes(raw, file, options));
  if (raw.hostQueries?.length) def.hostQueries = raw.hostQueries;
  return def;
}

/**
 * The built-in evaluator first (it records what the file asked the host);
 * CPython when it refuses a construct outside its subset, or when a kept
 * function (commands, @late) holds one it would refuse when rex runs it.
 * Genuine Python errors (a NameError, a failing @early) stay errors, as in Rez.
 */
function readWithFallback(
  source: string,
  file: string,
  options: ReadOptions,
  python: PythonSettings,
): PackageDefinition {
  let def: PackageDefinition | undefined;
  let raw: RawAttributes | undefined;
  try {
    raw = processAttributes(evaluatePackagePy(source, file, options), file, options);
    def = buildDefinition(file, "py", raw);
  } catch (err) {
    if (!isOutsideSubset(err)) throw err;
  }
  const viaCPython = (): PackageDefinition => {
    const loaded = buildDefinition(
      file,
      "py",
      loadWithCPython(file, source, python, options.system, options.earlyObjects),
    );
    loaded.evaluator = "cpython";
    return loaded;
  };
  if (def && raw && !keptCodeNeedsCPython(def)) {
    if (raw.hostQueries?.length) def.hostQueries = raw.hostQueries;
    let again: PackageDefinition | undefined;
    def.cpython = () => (again ??= viaCPython());
    return def;
  }
  return viaCPython();
}
