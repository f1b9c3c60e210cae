import { test } from "node:test";
import assert from "node:assert/strict";
import {
  HostObject,
  Interpreter,
  PyBuiltin,
  PyException,
  PyFunction,
  PythonError,
  parseModule,
  pyStr,
  type CallContext,
  type PyValue,
} from "./index.js";

/** Runs source as a module and returns its globals. */
function run(
  source: string,
  globals: Map<string, PyValue> = new Map(),
  interpreter = new Interpreter(),
): Map<string, PyValue> {
  interpreter.execModule(parseModule(source, "pkg/package.py"), globals);
  return globals;
}

function failure(fn: () => unknown): PythonError {
  try {
    fn();
  } catch (err) {
    if (err instanceof PythonError) return err;
    throw err;
  }
  assert.fail("expected a PythonError");
}

/** A rex-like environment: `env.FOO = x`, `env.PATH.prepend(x)`, `env["FOO"]`, `"FOO" in env`. */
class FakeEnv extends HostObject {
  readonly pyTypeName = "EnvironmentDict";
  readonly actions: string[] = [];
  readonly vars = new Map<string, string>();

  override getAttr(name: string): PyValue {
    return new FakeVar(this, name);
  }

  override setAttr(name: string, value: PyValue, ctx: CallContext): void {
    this.vars.set(name, ctx.str(value));
    this.actions.push(`setenv ${name} ${ctx.str(value)}`);
  }

  override getItem(key: PyValue, ctx: CallContext): PyValue {
    const k = ctx.str(key);
    const v = this.vars.get(k);
    if (v === undefined) throw new PyException("KeyError", ctx.repr(key));
    return v;
  }

  override contains(item: PyValue): boolean {
    return typeof item === "string" && this.vars.has(item);
  }

  override iterate(): Iterable<PyValue> {
    return [...this.vars.keys()];
  }
}

class FakeVar extends HostObject {
  readonly pyTypeName = "EnvironmentVariable";
  constructor(
    private readonly env: FakeEnv,
    private readonly name: string,
  ) {
    super();
  }

  override getAttr(method: string): PyValue | undefined {
    if (!["prepend", "append", "set", "get"].includes(method)) return undefined;
    return new PyBuiltin(method, (args, _kwargs, ctx) => {
      if (method === "get") {
        const v = this.env.vars.get(this.name);
        if (v === undefined) throw new Error(`environment variable '${this.name}' is not set`);
        return v;
      }
      this.env.actions.push(`${method} ${this.name} ${ctx.str(args[0]!)}`);
      return null;
    });
  }

  override str(): string {
    return this.env.vars.get(this.name) ?? "";
  }
}

/** Rez's VersionBinding: `.major`, `[i]`, str(), comparisons. */
class FakeVersion extends HostObject {
  readonly pyTypeName = "VersionBinding";
  constructor(private readonly tokens: number[]) {
    super();
  }
  override getAttr(name: string): PyValue | undefined {
    const i = ["major", "minor", "patch"].indexOf(name);
    return i < 0 ? undefined : (this.tokens[i] ?? "");
  }
  override getItem(key: PyValue): PyValue {
    if (typeof key !== "number" || key >= this.tokens.length)
      throw new PyException("IndexError", "version token index out of range");
    return this.tokens[key]!;
  }
  override str(): string {
    return this.tokens.join(".");
  }
  override compare(other: PyValue): number | undefined {
    if (!(other instanceof FakeVersion)) return undefined;
    for (let i = 0; i < Math.max(this.tokens.length, other.tokens.length); i++) {
      const d = (this.tokens[i] ?? -1) - (other.tokens[i] ?? -1);
      if (d !== 0) return d;
    }
    return 0;
  }
}

class FakeThis extends HostObject {
  readonly pyTypeName = "VariantBinding";
  override getAttr(name: string): PyValue | undefined {
    if (name === "root") return "/repo/foo/1.2.3";
    if (name === "name") return "foo";
    if (name === "version") return new FakeVersion([1, 2, 3]);
    return undefined;
  }
}

test("host objects: attribute assignment, method calls, item access and `in` reach TypeScript callbacks", () => {
  const env = new FakeEnv();
  env.vars.set("HOME", "/home/u");
  run(
    [
      'env.FOO = "x"',
      'env.PATH.prepend("{root}/bin".format(root=this.root))',
      'env.BAR = env["HOME"] + "/bar"',
      'if "HOME" in env and "NOPE" not in env:',
      "    env.BOTH = str(this.version.major) + '.' + str(this.version[1])",
      "env.LIST = ','.join(sorted(k for k in env))",
    ].join("\n"),
    new Map<string, PyValue>([
      ["env", env],
      ["this", new FakeThis()],
    ]),
  );
  assert.deepEqual(env.actions, [
    "setenv FOO x",
    "prepend PATH /repo/foo/1.2.3/bin",
    "setenv BAR /home/u/bar",
    "setenv BOTH 1.2",
    "setenv LIST BAR,BOTH,FOO,HOME",
  ]);
});

test("str.format and f-strings read attributes and items of host objects", () => {
  const g = run(
    [
      'a = "{this.root}/lib:{this.version}:{this.version.major}".format(this=this)',
      "b = f'{this.name!r:>6}|{this.version}|{this.version[2]:03d}'",
      "c = '%s-%s' % (this.name, this.version)",
      "d = this.version > v2 and not (this.version < v2)",
    ].join("\n"),
    new Map<string, PyValue>([
      ["this", new FakeThis()],
      ["v2", new FakeVersion([1, 2])],
    ]),
  );
  assert.equal(g.get("a"), "/repo/foo/1.2.3/lib:1.2.3:1");
  assert.equal(g.get("b"), " 'foo'|1.2.3|003");
  assert.equal(g.get("c"), "foo-1.2.3");
  assert.equal(g.get("d"), true);
});

test("an error thrown inside a host callback is reported at the package.py line that triggered it", () => {
  const err = failure(() => run("x = 1\n\nvalue = env.MISSING.get()\n", new Map([["env", new FakeEnv()]])));
  assert.equal(err.location?.line, 3);
  assert.equal(err.location?.file, "pkg/package.py");
  assert.equal(err.kind, "host");
  assert.match(err.message, /^pkg\/package\.py:3: environment variable 'MISSING' is not set$/);
  assert.ok(err.original instanceof Error);
});

test("a PyException from a host callback can be caught by package code; uncaught it names the Python type", () => {
  const g = run(
    'try:\n    v = env["NOPE"]\nexcept KeyError as e:\n    v = "missing " + str(e)\n',
    new Map([["env", new FakeEnv()]]),
  );
  assert.equal(g.get("v"), "missing 'NOPE'");
  const err = failure(() => run('x = 1\nv = env["NOPE"]\n', new Map([["env", new FakeEnv()]])));
  assert.equal(err.pyType, "KeyError");
  assert.equal(err.message, "pkg/package.py:2: KeyError: 'NOPE'");
});

test("host errors and forbidden constructs cannot be swallowed by try/except", () => {
  const host = failure(() =>
    run("try:\n    env.X.get()\nexcept Exception:\n    pass\n", new Map([["env", new FakeEnv()]])),
  );
  assert.equal(host.kind, "host");
  const forbidden = failure(() => run("try:\n    import os\nexcept:\n    pass\n"));
  assert.equal(forbidden.kind, "not-allowed");
  assert.equal(forbidden.location?.line, 2);
});

test("comprehensions, generator expressions, lambdas and closures", () => {
  const g = run(
    [
      "paths = ['/a', '/b', '/c']",
      "joined = ':'.join(p + '/bin' for p in paths if p != '/b')",
      "table = {p[1:]: i for i, p in enumerate(paths)}",
      "pairs = [(x, y) for x in range(3) for y in range(x) if (x + y) % 2]",
      "uniq = sorted({c for c in 'mississippi'})",
      "def adder(n):",
      "    return lambda x: x + n",
      "add3 = adder(3)",
      "total = sum(map(add3, [1, 2]))",
      "nested = [[y * x for y in range(x)] for x in range(1, 4)]",
    ].join("\n"),
  );
  assert.equal(g.get("joined"), "/a/bin:/c/bin");
  assert.equal(pyStr(g.get("table")!), "{'a': 0, 'b': 1, 'c': 2}");
  assert.equal(pyStr(g.get("pairs")!), "[(1, 0), (2, 1)]");
  assert.equal(pyStr(g.get("uniq")!), "['i', 'm', 'p', 's']");
  assert.equal(g.get("total"), 9);
  assert.equal(pyStr(g.get("nested")!), "[[0], [0, 2], [0, 3, 6]]");
});

test("Python-exact str() of values built by package code", () => {
  const g = run(
    [
      "reqs = ['python-3.11', 'foo-1.2']",
      "a = str(reqs)",
      "b = str((1, 'a', None, True, 2.0, 1e16, 0.1 + 0.2))",
      "c = str({'k': [1, (2,)], 3: {}})",
      "d = str(1.0) + str(10 ** 20) + str(-0.0)",
      'e = repr("it\'s")',
    ].join("\n"),
  );
  assert.equal(g.get("a"), "['python-3.11', 'foo-1.2']");
  assert.equal(g.get("b"), "(1, 'a', None, True, 2.0, 1e+16, 0.30000000000000004)");
  assert.equal(g.get("c"), "{'k': [1, (2,)], 3: {}}");
  assert.equal(g.get("d"), "1.0100000000000000000000-0.0");
  assert.equal(g.get("e"), `"it's"`);
});

test("%-formatting and str.format follow Python", () => {
  const g = run(
    [
      "a = '%-6s|%5.2f|%03d|%x|%r' % ('ab', 3.14159, 7, 255, 'q')",
      "b = '%(name)s-%(ver)s' % {'name': 'foo', 'ver': '1.0'}",
      "c = '{0}{1}{0}'.format('a', 'b')",
      "d = '{:>8.3f}|{:,}|{!r}'.format(2.5, 1234567, 'x')",
      "e = '{{root}}/{}'.format('bin')",
    ].join("\n"),
  );
  assert.equal(g.get("a"), "ab    | 3.14|007|ff|'q'");
  assert.equal(g.get("b"), "foo-1.0");
  assert.equal(g.get("c"), "aba");
  assert.equal(g.get("d"), "   2.500|1,234,567|'x'");
  assert.equal(g.get("e"), "{root}/bin");
});

test("constructs outside the subset are refused with the construct, file and line", () => {
  const cases: [string, number, string][] = [
    [
      "x = 1\nimport subprocess\n",
      2,
      "'import subprocess' (the module 'subprocess') is not evaluated by Tantalus's Python evaluator",
    ],
    ["from os import path\n", 1, "'from os import path' (the module 'os') is not evaluated"],
    ["x = open('/etc/passwd')\n", 1, "'open()' is not allowed"],
    ["exec('x = 1')\n", 1, "'exec()' is not allowed"],
    ["eval('1')\n", 1, "'eval()' is not allowed"],
    ["x = __import__('os')\n", 1, "'__import__()' is not allowed"],
    ["x = ''.__class__\n", 1, "access to the attribute '__class__' is not allowed"],
    ["x = (1).__class__.__bases__\n", 1, "access to the attribute '__class__' is not allowed"],
    ["\n\nclass A:\n    pass\n", 3, "'class A' (a class definition) is not allowed"],
    ["def g():\n    yield 1\nlist(g())\n", 2, "'yield' (generator functions) is not allowed"],
    ["x = b'raw'\n", 1, "a bytes literal is not allowed"],
    ["x = getattr('', '__class__')\n", 1, "access to the attribute '__class__' is not allowed"],
  ];
  for (const [source, line, message] of cases) {
    const err = failure(() => run(source));
    assert.equal(err.kind, "not-allowed", source);
    assert.equal(err.location?.line, line, source);
    assert.ok(err.message.startsWith(`pkg/package.py:${line}: ${message}`), `${source}: ${err.message}`);
  }
});

test("an endless loop stops at the step limit with a clear error", () => {
  const err = failure(() => run("x = 0\nwhile True:\n    x += 1\n", new Map(), new Interpreter({ stepLimit: 10_000 })));
  assert.equal(err.kind, "step-limit");
  assert.match(err.message, /evaluation stopped after 10,000 steps/);
  assert.equal(err.location?.line, 2, "reported at the loop");
  const recursion = failure(() => run("def f():\n    return f()\nf()\n"));
  assert.equal(recursion.pyType, "RecursionError");
});

test("functions are kept with their syntax tree and source, and can be called later with fresh globals", () => {
  const g = run(
    "import_me = 1\n\n@deco\ndef late_value(suffix='!'):\n    return this.name + suffix\n",
    new Map([["deco", new PyBuiltin("deco", (a) => a[0]!)]]),
  );
  const fn = g.get("late_value");
  assert.ok(fn instanceof PyFunction);
  assert.equal(fn.line, 4);
  assert.equal(fn.source, "@deco\ndef late_value(suffix='!'):\n    return this.name + suffix");
  const interp = new Interpreter();
  assert.equal(interp.callFunction(fn, [], new Map(), { globals: new Map([["this", new FakeThis()]]) }), "foo!");
  assert.equal(interp.callFunction(fn, ["?"], new Map(), { globals: new Map([["this", new FakeThis()]]) }), "foo?");
  // Without `this` in the new globals, the name is undefined, reported at the function's line.
  const err = failure(() => interp.callFunction(fn, [], new Map(), { globals: new Map() }));
  assert.equal(err.message, "pkg/package.py:5: NameError: name 'this' is not defined (in late_value())");
});

test("runBody executes a function body as module code: its assignments land in the given namespace", () => {
  const g = run(
    "def commands():\n    rr = 'test'\n    env.RR = '{rr}'.format(rr=rr)\n    if building:\n        return\n    env.AFTER = 'yes'\n",
  );
  const fn = g.get("commands") as PyFunction;
  const env = new FakeEnv();
  const ns = new Map<string, PyValue>([
    ["env", env],
    ["building", true],
  ]);
  new Interpreter().runBody(fn, ns);
  assert.equal(ns.get("rr"), "test");
  assert.deepEqual(env.actions, ["setenv RR test"]);
});

test("print() output goes to the configured sink", () => {
  const out: string[] = [];
  run("print('a', 1, [2], sep='-')\nprint('b', end='')\n", new Map(), new Interpreter({ print: (t) => out.push(t) }));
  assert.deepEqual(out, ["a-1-[2]\n", "b"]);
  // By default print() is accepted and its output discarded.
  assert.doesNotThrow(() => run("print('ignored')\n"));
});

test("try/except/else/finally, raise and global/nonlocal scoping", () => {
  const g = run(
    [
      "log = []",
      "def check(v):",
      "    if v < 0:",
      "        raise ValueError('negative: %d' % v)",
      "    return v",
      "for v in (1, -2):",
      "    try:",
      "        check(v)",
      "    except ValueError as e:",
      "        log.append(str(e))",
      "    else:",
      "        log.append('ok %d' % v)",
      "    finally:",
      "        log.append('done')",
      "counter = 0",
      "def bump():",
      "    global counter",
      "    counter += 1",
      "bump(); bump()",
    ].join("\n"),
  );
  assert.equal(pyStr(g.get("log")!), "['ok 1', 'done', 'negative: -2', 'done']");
  assert.equal(g.get("counter"), 2);
});

test("syntax errors name the file and line", () => {
  assert.throws(
    () => parseModule("x = 1\ny = (2,\nz = 3 +\n", "pkg/package.py"),
    (err: Error) => err.message === "pkg/package.py:2: SyntaxError: '(' was never closed",
  );
  assert.throws(
    () => parseModule("def f(:\n    pass\n", "pkg/package.py"),
    (err: Error) => err.message.startsWith("pkg/package.py:1: invalid Python syntax"),
  );
});

test("building huge values is stopped, not run out of memory", () => {
  const big = failure(() => run("x = list(range(10 ** 9))\n", new Map(), new Interpreter({ stepLimit: 100_000 })));
  assert.equal(big.kind, "step-limit");
  const rep = failure(() => run("x = 'ab' * 10 ** 9\n"));
  assert.equal(rep.pyType, "MemoryError");
  const pow = failure(() => run("x = 10 ** (10 ** 9)\n"));
  assert.equal(pow.pyType, "OverflowError");
});
