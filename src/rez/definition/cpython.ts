/**
 * `python: cpython`: a package.py the built-in evaluator refuses for a
 * construct outside its subset (subprocess, open(), a site module...) is
 * loaded by the host's CPython through the shim in src/rez/cpython, and its
 * attributes come back as the same Python values the built-in evaluator gives
 * (so the schema, the summaries and the index cache treat it like any other
 * definition). Its `commands()` and `@late()` functions stay in CPython, as
 * ForeignFunctions: rex runs them there with its own bindings, each use of one
 * (`env.PATH.append(...)`, `this.version`, `getenv(...)`) a question back to
 * Tantalus, so the actions, their order and their expansion are Tantalus's
 * rex's own.
 */
import { InputError, TantalusError } from "../../errors.js";
import {
  HostObject,
  PyBuiltin,
  PyDict,
  PyException,
  PyFloat,
  PyFunction,
  PySet,
  PyTuple,
  PythonError,
  pyEquals,
  typeName,
  iterate,
  length,
  truthy,
  contains,
  type CallContext,
  type PyValue,
} from "../python/index.js";
import { compareOp, binaryOp, type CompareOperator, type BinaryOperator } from "../python/ops.js";
import { ForeignFunction, type ForeignCall } from "../python/foreign.js";
import { CPythonSession, type Answer, type Callback, type CallbackReply } from "../cpython/session.js";
import { hostSystem, type SystemInfo } from "../system.js";
import { INVALID_PACKAGE_ERROR, ModifyList, REX_KEYS } from "./package-py.js";
import { rezImporter } from "./rez-modules.js";
import { chainImporters, realPythonHost, stdlibImporter, targetPythonHost, type Importer } from "../python/modules.js";
import { reImporter } from "../python/regex.js";
import { FORBIDDEN_BUILTINS } from "../python/builtins.js";
import type { PackageDefinition } from "./types.js";
import type { RawAttributes } from "./package-py.js";

/** Which evaluator loads package.py files the built-in one refuses. */
export interface PythonSettings {
  evaluator: "builtin" | "cpython";
  /** The CPython to run (default: python3 on PATH). */
  interpreter?: string;
}

/**
 * Whether a definition the built-in evaluator loaded keeps code (commands(),
 * @late()) that it would refuse when rex runs it: an import of a module it does
 * not provide, a name of one it provides in part (`os.listdir`), or a builtin
 * it refuses (open, exec...). Such a file is loaded by CPython whole, so its
 * functions run there. (What is refused only as it runs is caught in rex.)
 */
export function keptCodeNeedsCPython(def: PackageDefinition): boolean {
  const fns: PyFunction[] = [];
  for (const v of Object.values(def.attributes)) if (v instanceof PyFunction && v.kind === "def") fns.push(v);
  for (const k of REX_KEYS) {
    const v = def[k as keyof PackageDefinition];
    if (v instanceof PyFunction && v.kind === "def" && !fns.includes(v)) fns.push(v);
  }
  if (fns.length === 0) return false;
  importer ??= builtinImporter();
  const imp = importer;
  return fns.some((fn) => {
    const modules = importedModules(fn.body, imp);
    return fn.body.some((stmt) => refusedIn(stmt, imp, modules));
  });
}

let importer: Importer | undefined;

/** The modules the built-in evaluator provides (host answers are not asked: only names are looked up). */
function builtinImporter(): Importer {
  const none = new PyBuiltin("unused", () => null);
  return chainImporters(
    stdlibImporter(realPythonHost, () => {}),
    reImporter,
    rezImporter({
      early: none,
      late: none,
      include: none,
      invalidPackageError: INVALID_PACKAGE_ERROR,
      system: hostSystem,
      report: () => {},
    }),
  );
}

type AstNode = { nodeType?: string; [k: string]: unknown };

/** Names a function body binds to modules by import (`import os`, `import os.path as p`, `from os import path`). */
function importedModules(body: unknown, imp: Importer): Map<string, string> {
  const out = new Map<string, string>();
  const visit = (node: unknown): void => {
    if (node === null || typeof node !== "object") return;
    if (Array.isArray(node)) return node.forEach(visit);
    const n = node as AstNode;
    if (n.nodeType === "Import") {
      for (const a of n.names as { name: string; asname?: string | null }[]) {
        if (a.asname) out.set(a.asname, a.name);
        else out.set(a.name.split(".")[0]!, a.name.split(".")[0]!);
      }
    } else if (n.nodeType === "ImportFrom" && typeof n.module === "string") {
      for (const a of n.names as { name: string; asname?: string | null }[]) {
        const sub = `${n.module}.${a.name}`;
        if (imp(sub)) out.set(a.asname ?? a.name, sub);
      }
    }
    for (const [key, v] of Object.entries(n)) if (key !== "parent" && typeof v === "object") visit(v);
  };
  visit(body);
  return out;
}

/** The module a dotted expression names (`os`, `os.path`), when the body imported it. */
function moduleOf(node: AstNode, imp: Importer, modules: Map<string, string>): string | undefined {
  if (node.nodeType === "Name") return modules.get(node.id as string);
  if (node.nodeType === "Attribute") {
    const parent = moduleOf(node.value as AstNode, imp, modules);
    const name = parent !== undefined ? `${parent}.${node.attr as string}` : undefined;
    return name !== undefined && imp(name) ? name : undefined;
  }
  return undefined;
}

/**
 * Walks a parsed statement for what the built-in evaluator refuses when it
 * runs: imports of modules it lacks, refused builtins (open, exec...), and
 * names of a module it provides only in part (`os.listdir`).
 */
function refusedIn(node: unknown, imp: Importer, modules: Map<string, string>): boolean {
  if (node === null || typeof node !== "object") return false;
  if (Array.isArray(node)) return node.some((n) => refusedIn(n, imp, modules));
  const n = node as AstNode;
  if (n.nodeType === "Import") {
    const names = n.names as { name: string }[];
    if (names.some((a) => !imp(a.name))) return true;
  } else if (n.nodeType === "ImportFrom") {
    if ((n.level as number) > 0 || !imp(String(n.module))) return true;
    const mod = imp(String(n.module))!;
    const names = n.names as { name: string }[];
    if (names.some((a) => a.name !== "*" && !mod.has(a.name) && !imp(`${String(n.module)}.${a.name}`))) return true;
  } else if (n.nodeType === "Name" && FORBIDDEN_BUILTINS.has(n.id as string)) return true;
  else if (n.nodeType === "Attribute") {
    const mod = moduleOf(n.value as AstNode, imp, modules);
    const attr = n.attr as string;
    if (mod !== undefined && !imp(mod)!.has(attr) && !imp(`${mod}.${attr}`)) return true;
  }
  for (const [key, v] of Object.entries(n)) {
    if (key === "parent" || typeof v !== "object") continue;
    if (refusedIn(v, imp, modules)) return true;
  }
  return false;
}

/** True for a refusal of a construct outside the built-in subset (not a genuine Python error, which Rez raises too). */
export function isOutsideSubset(err: unknown): boolean {
  return err instanceof PythonError && err.kind === "not-allowed";
}

type Wire = null | boolean | number | string | Wire[] | { [k: string]: Wire };

/**
 * Loads `file` with CPython: its attributes, with @early functions evaluated
 * there, as RawAttributes for buildDefinition.
 */
export function loadWithCPython(
  file: string,
  source: string,
  settings: PythonSettings,
  system: SystemInfo | undefined,
  earlyObjects: ReadonlyMap<string, PyValue> | undefined,
): RawAttributes {
  const session = CPythonSession.for(settings.interpreter ?? "python3");
  const objects: [string, Wire][] = [];
  for (const [k, v] of earlyObjects ?? []) objects.push([k, encodePlain(v)]);
  const answer = session.request(
    {
      op: "load",
      file,
      source,
      cwd: process.cwd(),
      system: system ?? hostSystem(),
      // A configured target: platform and sys answer for it too, not only rez.system, as targetPythonHost answers.
      ...(system !== undefined ? { target: targetAnswers(system) } : {}),
      early_objects: Object.fromEntries(objects),
    },
    `loading ${file}`,
  );
  const result = unwrap(answer, file) as { values: [string, Wire][]; lines: Record<string, number> };
  const decode = valueDecoder(file, session, new Map());
  const values = new Map<string, PyValue>();
  for (const [k, v] of result.values) values.set(k, decode(v));
  const lines = new Map(Object.entries(result.lines));
  return { values, lines };
}

/** What platform.system(), platform.machine() and sys.platform answer under a target, for the shim. */
function targetAnswers(system: SystemInfo): { system: string; machine: string; sys_platform: string } {
  const host = targetPythonHost(system);
  return { system: host.system(), machine: host.machine(), sys_platform: host.sysPlatform() };
}

/** The answer to a load: its result, or the package's exception as Rez reports it (type, message, line). */
function unwrap(answer: Answer, file: string): unknown {
  if ("ok" in answer) return answer.ok;
  if ("error" in answer) {
    const e = answer.error;
    throw new PythonError(
      `${e.type}: ${e.message} (loaded by CPython)`,
      { file, ...(e.line !== null ? { line: e.line } : {}) },
      e.type,
      "exception",
    );
  }
  if ("refused" in answer)
    throw new InputError(answer.refused, { file, ...(answer.line !== null ? { line: answer.line } : {}) });
  throw new TantalusError(`CPython stopped loading ${file}`);
}

/** Plain data for CPython (the early objects: building, build_variant_index...). */
function encodePlain(v: PyValue): Wire {
  if (v === null || typeof v === "boolean" || typeof v === "string") return v;
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return { i: v.toString() };
  if (v instanceof PyFloat) return { f: v.value };
  if (Array.isArray(v)) return v.map(encodePlain);
  if (v instanceof PyTuple) return { t: v.items.map(encodePlain) };
  if (v instanceof PyDict) return { d: [...v.entries()].map(([k, x]) => [encodePlain(k), encodePlain(x)]) };
  throw new TantalusError(`cannot give CPython a ${typeName(v)}`);
}

interface FunctionInfo {
  id: number;
  name: string;
  line: number;
  late: boolean;
  marks: { name: string; nargs?: string[] }[];
}

/** Wire -> PyValue; `handles` resolves objects that live here (rex bindings) by number. */
function valueDecoder(file: string, session: CPythonSession, handles: Map<number, PyValue>): (w: Wire) => PyValue {
  const decode = (w: Wire): PyValue => {
    if (w === null || typeof w !== "object") return w;
    if (Array.isArray(w)) return w.map(decode);
    if ("t" in w) return new PyTuple((w.t as Wire[]).map(decode));
    if ("d" in w) return PyDict.from((w.d as [Wire, Wire][]).map(([k, x]) => [decode(k), decode(x)] as const));
    if ("s" in w) return new PySet((w.s as Wire[]).map(decode));
    if ("f" in w) return new PyFloat(typeof w.f === "number" ? w.f : Number(w.f === "nan" ? NaN : w.f));
    if ("i" in w) return BigInt(w.i as string);
    if ("ml" in w) {
      const [append, prepend] = w.ml as [Wire, Wire];
      return new ModifyList(decode(append), decode(prepend));
    }
    if ("h" in w) {
      const v = handles.get(w.h as number);
      if (v === undefined) throw new TantalusError(`CPython named an unknown object (${JSON.stringify(w.h)})`);
      return v;
    }
    if ("fn" in w) return foreignFunction(file, session, w.fn as unknown as FunctionInfo);
    if ("o" in w) return new OpaqueObject(w.ty as string, w.o as string);
    throw new TantalusError(`CPython sent a value Tantalus does not know: ${JSON.stringify(w)}`);
  };
  return decode;
}

/** An object CPython's package data holds that is not data (a file object, an instance): its type and repr. */
class OpaqueObject extends HostObject {
  constructor(
    readonly pyTypeName: string,
    private readonly text: string,
  ) {
    super();
  }

  override repr(): string {
    return this.text;
  }
}

function foreignFunction(file: string, session: CPythonSession, info: FunctionInfo): PyFunction {
  const fn = new ForeignFunction(info.name, file, info.line, {
    run: (call) => runInCPython(session, file, info, call),
  });
  for (const m of info.marks) fn.marks.push({ name: m.name, args: m.nargs ?? [] });
  if (info.late && !fn.hasMark("late")) fn.marks.push({ name: "late", args: [] });
  return fn;
}

/**
 * Runs a kept function in CPython with `call.globals` as its namespace. The
 * bindings go over as handles; each use CPython makes of one comes back as a
 * callback, answered here by this evaluator's own objects (so `env.X.append`
 * is the ActionManager's append, `this.version` the binding's).
 */
function runInCPython(session: CPythonSession, file: string, info: FunctionInfo, call: ForeignCall): PyValue {
  const ctx = call.ctx;
  const handles = new Map<number, PyValue>();
  const numbers = new Map<unknown, number>();
  const decode = valueDecoder(file, session, handles);
  const encode = (v: PyValue): Wire => {
    if (v === null || typeof v === "boolean" || typeof v === "string" || typeof v === "number") return v;
    if (typeof v === "bigint") return { i: v.toString() };
    if (v instanceof PyFloat) return { f: Number.isFinite(v.value) ? v.value : String(v.value) };
    if (Array.isArray(v)) return v.map(encode);
    if (v instanceof PyTuple) return { t: v.items.map(encode) };
    if (v instanceof PyDict) return { d: [...v.entries()].map(([k, x]) => [encode(k), encode(x)]) };
    let n = numbers.get(v);
    if (n === undefined) {
      n = handles.size + 1;
      handles.set(n, v);
      numbers.set(v, n);
    }
    return { h: n, ty: typeName(v) };
  };
  let failure: unknown;
  const serve = (cb: Callback): CallbackReply => {
    if (cb.line !== null) call.setLine(cb.line);
    if (cb.ns) for (const [k, w] of Object.entries(cb.ns)) call.globals.set(k, decode(w as Wire));
    // os.path's file tests of a process that is not CPython's own: where the path's content is here.
    if (cb.cb === "locate") return { ret: call.process?.locate?.(cb.args[0] as string) ?? cb.args[0] };
    try {
      return {
        ret: encode(
          answerCallback(
            cb.cb,
            cb.args.map((a) => decode(a as Wire)),
            ctx,
          ),
        ),
      };
    } catch (err) {
      if (err instanceof PyException) return { exc: { type: err.pyType, message: err.pyMessage } };
      // A refusal, a budget or a Tantalus error: CPython must not catch it; it is rethrown here once CPython unwinds.
      failure = err;
      return { abort: true };
    }
  };
  const globals: [string, Wire][] = [];
  for (const [k, v] of call.globals) globals.push([k, encode(v)]);
  const answer = session.request(
    {
      op: "run",
      fn: info.id,
      body: call.asBody,
      globals,
      args: call.args.map(encode),
      ...(call.process
        ? {
            process: {
              environ: call.process.environ,
              cwd: call.process.cwd,
              locate: call.process.locate !== undefined,
            },
          }
        : {}),
    },
    `running ${info.name}() of ${file}`,
    serve,
  );
  if ("aborted" in answer) throw failure instanceof Error ? failure : new TantalusError(String(failure));
  if ("error" in answer) {
    if (answer.error.line !== null) call.setLine(answer.error.line);
    throw new PyException(answer.error.type, answer.error.message);
  }
  if ("refused" in answer)
    throw new InputError(answer.refused, { file, ...(answer.line ? { line: answer.line } : {}) });
  return decode(answer.ok as Wire);
}

function answerCallback(op: string, args: PyValue[], ctx: CallContext): PyValue {
  const [obj, a, b] = args;
  const host = (what: string): HostObject => {
    if (obj instanceof HostObject) return obj;
    throw new PyException("TypeError", `'${typeName(obj ?? null)}' object does not support ${what}`);
  };
  switch (op) {
    case "getattr":
      return ctx.getAttr(obj!, a as string);
    case "setattr":
      host("attribute assignment").setAttr(a as string, b ?? null, ctx);
      return null;
    case "delattr":
      host("attribute deletion").delAttr(a as string, ctx);
      return null;
    case "call": {
      const kwargs = new Map<string, PyValue>();
      if (b instanceof PyDict) for (const [k, v] of b.entries()) kwargs.set(k as string, v);
      return ctx.call(obj!, Array.isArray(a) ? a : [], kwargs);
    }
    case "getitem":
      return ctx.getItem(obj!, a ?? null);
    case "setitem":
      host("item assignment").setItem(a ?? null, b ?? null, ctx);
      return null;
    case "delitem":
      host("item deletion").delItem(a ?? null, ctx);
      return null;
    case "contains":
      return contains(obj!, a ?? null, ctx);
    case "iter":
      return [...iterate(obj!, ctx)];
    case "len":
      return length(obj!, ctx);
    case "bool":
      return truthy(obj!, ctx);
    case "str":
      return ctx.str(obj!);
    case "repr":
      return ctx.repr(obj!);
    case "compare": {
      // args: operator, left, right
      const [opName, left, right] = args as [string, PyValue, PyValue];
      if (opName === "Eq" && !(left instanceof HostObject) && !(right instanceof HostObject))
        return pyEquals(left, right);
      return compareOp(opName as CompareOperator, left, right, ctx);
    }
    case "binop": {
      const [opName, left, right] = args as [string, PyValue, PyValue];
      return binaryOp(opName as BinaryOperator, left, right, ctx);
    }
    default:
      throw new TantalusError(`CPython asked an unknown question '${op}'`);
  }
}
