/**
 * The Python real package definitions use, checked against real Rez: every
 * package in test/fixtures/python-constructs loads to the attributes Rez loads,
 * `name==version` of the packages with commands() gives the environment Rez
 * gives, and every broken file fails with Python's error type, line and
 * message. Recorded by scripts/rez-oracle/python_constructs.py.
 *
 * Host queries (platform.*, sys.*, os.environ, os.getcwd(), rez's system) are
 * answered with what the recording host answered, through the PythonHost hook a
 * configured target platform uses: the comparison holds on any CI machine.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { readPackageFile } from "./index.js";
import {
  HostObject,
  Interpreter,
  PyDict,
  PyExceptionType,
  PyFloat,
  PyFunction,
  PySet,
  PyTuple,
  floatRepr,
  type PyValue,
} from "../python/index.js";
import type { PythonHost } from "../python/modules.js";
import { Repositories } from "../repository/index.js";
import { interpretContext, lateRequiresHook } from "../../rex/index.js";
import { solve } from "../../solver/index.js";
import type { PackageDefinition } from "./types.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../test/fixtures/python-constructs");
const REPO = path.join(ROOT, "packages");

interface Recorded {
  host: {
    system: string;
    machine: string;
    release: string;
    node: string;
    version: string;
    processor: string;
    sys_platform: string;
    python: [number, number, number, string, number];
    python_version: string;
    rez_system: { platform: string; arch: string; os: string };
    environ: Record<string, string>;
    cwd: string;
  };
  packages: Record<string, { attributes?: [string, unknown][]; error?: string }>;
  contexts: Record<string, { resolve: string[]; environ: Record<string, string> }>;
  broken: Record<string, { type: string; line: number; message: string; rez: string }>;
}

const rez = JSON.parse(readFileSync(path.join(ROOT, "rez-recorded.json"), "utf8")) as Recorded;
const unscrub = (s: string) => s.replaceAll("@ROOT@", ROOT);

const h = rez.host;
const host: PythonHost = {
  system: () => h.system,
  machine: () => h.machine,
  release: () => h.release,
  node: () => h.node,
  version: () => h.version,
  processor: () => h.processor,
  sysPlatform: () => h.sys_platform,
  python: () => ({
    major: h.python[0],
    minor: h.python[1],
    micro: h.python[2],
    releaselevel: h.python[3],
    serial: h.python[4],
    version: h.python_version,
  }),
  environ: () => h.environ,
  cwd: () => unscrub(h.cwd),
};
const read = (file: string): PackageDefinition => readPackageFile(file, { host, system: h.rez_system });

const REPR = new Interpreter().context;

/** The oracle's JSON encoding of Rez's values. */
function encode(v: PyValue): unknown {
  if (v instanceof PyFunction) return { $function: v.name, late: v.hasMark("late") };
  if (v instanceof PyExceptionType) return { $function: v.name, late: false };
  if (typeof v === "bigint") return { $int: v.toString() };
  if (v instanceof PyFloat) return { $float: floatRepr(v.value) };
  if (v instanceof PyTuple) return { $tuple: v.items.map(encode) };
  if (v instanceof PySet) return { $set: [...v].map(encode).sort() };
  if (Array.isArray(v)) return v.map(encode);
  if (v instanceof PyDict) return { $dict: [...v.entries()].map(([k, x]) => [encode(k), encode(x)]) };
  if (v instanceof HostObject && v.pyTypeName === "type")
    return { $function: (v as unknown as { name: string }).name, late: false };
  if (v instanceof HostObject) return { $repr: REPR.repr(v) };
  if (typeof v === "string") return v.replaceAll(ROOT, "@ROOT@");
  return v;
}

/** Rez's repr of an object carries its address: compare the class only. */
function normaliseRepr(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(normaliseRepr);
  if (x && typeof x === "object") {
    const o = x as Record<string, unknown>;
    if (typeof o.$repr === "string") return { $repr: o.$repr.replace(/ at 0x[0-9a-f]+>$/, ">") };
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, normaliseRepr(v)]));
  }
  return x;
}

for (const [rel, expected] of Object.entries(rez.packages)) {
  test(`${rel} loads as Rez loads it`, () => {
    const file = path.join(REPO, rel);
    if (expected.error !== undefined) {
      // Rez's message: "ResourceError: Problem loading FILE: REASON:\n<traceback>"
      const reason = /^ResourceError: Problem loading [^:]+: (.*?)(?::\n|$)/s.exec(unscrub(expected.error))![1]!;
      assert.throws(
        () => read(file),
        (err: Error) => {
          assert.ok(err.message.includes(reason), `expected "${reason}" in "${err.message}"`);
          return true;
        },
      );
      return;
    }
    const def = read(file);
    const ours = Object.entries(def.attributes).map(([k, v]) => [k, encode(v)]);
    assert.deepEqual(ours, normaliseRepr(expected.attributes));
  });
}

for (const [request, expected] of Object.entries(rez.contexts)) {
  test(`${request}: commands() give the environment Rez gives`, () => {
    const repos = new Repositories([REPO], { cache: false, read });
    const variants = expected.resolve.map((q) => {
      const m = /^(.+?)-(.+)\[(\d*)\]$/.exec(q)!;
      const pkg = repos.family(m[1]!)!.find((p) => p.version.toString() === m[2])!;
      return pkg.variants[m[3] === "" ? 0 : Number(m[3])]!;
    });
    const { environ } = interpretContext(variants, {
      request: [request],
      implicitPackages: [],
      packagePaths: repos.paths,
      system: h.rez_system,
      timestamp: 1700000000,
      home: h.environ.HOME!,
      pythonHost: host,
    });
    const ours = Object.fromEntries(
      Object.entries(environ)
        .filter(([k]) => !k.startsWith("REZ_") && k !== "PATH")
        .sort(([a], [b]) => (a < b ? -1 : 1)),
    );
    assert.deepEqual(ours, Object.fromEntries(Object.entries(expected.environ).map(([k, v]) => [k, unscrub(v)])));
  });
}

for (const [request, expected] of Object.entries(rez.contexts)) {
  test(`${request} resolves as Rez resolves it (@late requires evaluated)`, () => {
    const repos = new Repositories([REPO], { cache: false, read });
    const sys = h.rez_system;
    const implicitPackages = [`~platform==${sys.platform}`, `~arch==${sys.arch}`, `~os==${sys.os}`];
    // Rez runs @late() functions in its own process: their os.environ is the recording host's.
    const r = solve([request], repos, { implicitPackages, lateRequires: lateRequiresHook({ host }) });
    assert.deepEqual(
      r.resolved.map((v) => v.qualifiedName),
      expected.resolve,
    );
  });
}

for (const request of ["osmodule==1.0", "processenv==1.0"]) {
  test(`${request}: os.environ in commands() is Rez's own process environment, not the parent environment`, () => {
    // As Rez's get_environ(parent_environ={}): an empty parent, while the process that interprets has HOME and the
    // variables the recording set. Only the process environment is given here; platform queries are this host's.
    const expected = rez.contexts[request]!;
    const repos = new Repositories([REPO], { cache: false, read });
    const variants = expected.resolve.map((q) => {
      const m = /^(.+?)-(.+)\[(\d*)\]$/.exec(q)!;
      return repos.family(m[1]!)!.find((p) => p.version.toString() === m[2])!.variants[0]!;
    });
    const { environ } = interpretContext(variants, {
      request: [request],
      implicitPackages: [],
      packagePaths: repos.paths,
      system: h.rez_system,
      timestamp: 1700000000,
      parentEnv: {},
      processEnv: h.environ,
    });
    const ours = Object.fromEntries(Object.entries(environ).filter(([k]) => !k.startsWith("REZ_") && k !== "PATH"));
    assert.deepEqual(ours, Object.fromEntries(Object.entries(expected.environ).map(([k, v]) => [k, unscrub(v)])));
  });
}

for (const [file, expected] of Object.entries(rez.broken)) {
  test(`broken/${file}: ${expected.type} at line ${expected.line}, as Python reports it`, () => {
    assert.throws(
      () => readPackageFile(path.join(ROOT, "broken", file), { mode: "full" }),
      (err: Error & { location?: { line?: number } }) => {
        assert.equal(err.location?.line, expected.line, err.message);
        // Python's message where the tokenizer finds the error; py-ast words parser errors its own way.
        if (expected.message !== "invalid syntax")
          assert.ok(err.message.endsWith(`: ${expected.type}: ${expected.message}`), err.message);
        return true;
      },
    );
  });
}
