/**
 * The literal fast path must give exactly what the full evaluator gives, and
 * must hand over to it whenever a file is more than literal assignments.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync, existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { readPackageSource, decodePythonSource } from "./index.js";
import { pyStr } from "../python/index.js";
import { benchmarkRepository } from "../../../test/helpers.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../test/fixtures/packages");

function bothPaths(source: string, file = "pkg/package.py") {
  const fast = readPackageSource(source, file, "py", { mode: "fast" });
  const full = readPackageSource(source, file, "py", { mode: "full" });
  return { fast, full };
}

const LITERAL_SOURCES: [string, string][] = [
  ["comments, blank lines and a coding line", "# -*- coding: utf-8 -*-\n\n# comment\nname = 'a'  # trailing\n\n\n"],
  [
    "every literal",
    "name = 'a'\ni = 42\nz = 0\nneg = -7\npos = +3\nf = 1.5\ng = .5\nh = 5.\ne = 1e-3\nE = 2E+10\nbig = 123456789012345678901234567890\nnbig = -9007199254740993\nhexa = 0x1F\noct = 0o17\nbin = 0b101\ngrouped = 1_000_000\nfgrouped = 1_0.5e1_0\nt = True\nn = None\nfl = False\nnegz = -0.0\nnegi = -0\n",
  ],
  [
    "nested containers with comments and trailing commas",
    "name = 'a'\nx = [  # first\n  [1, 2,],\n  ('a', 'b'),  # a tuple\n  {'k': [None, True], 'l': {},},\n  (),\n  ('one',),\n  ('paren'),\n]\n",
  ],
  ["line continuations", "name = \\\n  'a'\nv = [\\\n 'x']\nw = 1 \\\n\n"],
  [
    "triple-quoted strings",
    "name = 'a'\ndescription = '''\n  multi\n  line \"quoted\"\n'''\nother = \"\"\"x\ny\"\"\"\nafter = 1\n",
  ],
  [
    "dict with duplicate and equal keys",
    "name = 'a'\nd = {'k': 1, 'j': 2, 'k': 3, 1: 'int', True: 'bool', 1.0: 'float'}\n",
  ],
  ["reassignment keeps the first position and the last value", "name = 'a'\nv = 1\nw = 2\nv = 3\n"],
  ["unicode text", "name = 'a'\nd = 'naïve ☃ 𝄞'\n"],
  ["tabs", "name\t=\t'a'\nx = [\n\t1,\n\t2]\n"],
  ["CRLF line endings", "name = 'a'\r\nrequires = [\r\n  'b',\r\n]\r\n"],
  ["names that are builtins or soft keywords", "name = 'a'\nmatch = 1\ntype = 'x'\n_ = 2\n__hidden = 3\n"],
  ["no trailing newline", "name = 'a'\nversion = '1'"],
];

for (const [what, source] of LITERAL_SOURCES) {
  test(`fast path = full path: ${what}`, () => {
    const { fast, full } = bothPaths(source);
    assert.ok(fast, "the fast path should handle this file");
    assert.deepEqual(fast, full);
  });
}

test("fast path = full path on the literal fixture", () => {
  const file = path.join(ROOT, "literal/1.0.0/package.py");
  const text = decodePythonSource(readFileSync(file), file);
  const { fast, full } = bothPaths(text, file);
  assert.ok(fast);
  assert.deepEqual(fast, full);
});

test("fast path = full path on the first 500 benchmark packages (sorted)", () => {
  const repo = benchmarkRepository();
  const files: string[] = [];
  for (const family of readdirSync(repo).sort()) {
    for (const version of readdirSync(path.join(repo, family)).sort()) {
      const f = path.join(repo, family, version, "package.py");
      if (existsSync(f)) files.push(f);
      if (files.length === 500) break;
    }
    if (files.length === 500) break;
  }
  assert.equal(files.length, 500);
  let withVariants = 0;
  for (const file of files) {
    const text = decodePythonSource(readFileSync(file), file);
    const { fast, full } = bothPaths(text, file);
    assert.ok(fast, `${file}: the benchmark files are literal-only`);
    assert.deepEqual(fast, full, file);
    if (fast.variants?.length) withVariants++;
  }
  assert.ok(withVariants > 0, "the sample includes packages with variants");
});

const NON_LITERAL_SOURCES: [string, string, string][] = [
  ["a def", "name = 'a'\ndef commands():\n    env.X = 1\n", "commands"],
  ["a decorator", "name = 'a'\n@early()\ndef requires():\n    return ['b']\n", "['b']"],
  ["a call", "name = 'a'\nv = str(1)\n", "1"],
  ["an operator", "name = 'a'\nv = 1 + 2\n", "3"],
  ["a string operator", "name = 'a'\nv = 'a' + 'b'\n", "ab"],
  ["an f-string", "name = 'a'\nv = f'{name}-x'\n", "a-x"],
  ["%-formatting", "name = 'a'\nv = '%s-x' % name\n", "a-x"],
  ["a name reference", "name = 'a'\nv = name\n", "a"],
  ["escape sequences", "name = 'a'\nv = 'tab\\there\\n'\n", "tab\there\n"],
  ["a raw string", "name = 'a'\nv = r'C:\\dir'\n", "C:\\dir"],
  ["a unicode prefix", "name = 'a'\nv = u'x'\n", "x"],
  ["implicit concatenation", "name = 'a'\nv = 'x' 'y'\n", "xy"],
  ["implicit concatenation across lines", "name = 'a'\nv = ['x'\n     'y']\n", "['xy']"],
  ["a set literal", "name = 'a'\nv = {'x'}\n", "{'x'}"],
  ["a bare tuple", "name = 'a'\nv = 1, 2\n", "(1, 2)"],
  ["two statements on a line", "name = 'a'; v = 2\n", "2"],
  ["chained assignment", "name = 'a'\nv = w = 3\n", "3"],
  ["augmented assignment", "name = 'a'\nv = [1]\nv += [2]\n", "[1, 2]"],
  ["an annotation", "name = 'a'\nv: int = 4\n", "4"],
  ["a conditional expression", "name = 'a'\nv = 1 if name else 2\n", "1"],
  ["a comprehension", "name = 'a'\nv = [x for x in 'ab']\n", "['a', 'b']"],
  ["an if statement", "name = 'a'\nif True:\n    v = 5\n", "5"],
  ["a form feed", "name = 'a'\n\fv = 1\n", "1"],
  ["a space after a sign", "name = 'a'\nv = - 1\n", "-1"],
  ["a subscript", "name = 'a'\nv = ['x', 'y'][1]\n", "y"],
  ["a with scope block", "name = 'a'\nwith scope('config'):\n    v = 1\n", "{'v': 1}"],
];

for (const [what, source, expected] of NON_LITERAL_SOURCES) {
  test(`fast path hands over to the full evaluator: ${what}`, () => {
    assert.equal(readPackageSource(source, "pkg/package.py", "py", { mode: "fast" }), undefined);
    const def = readPackageSource(source, "pkg/package.py", "py")!;
    const key =
      expected === "commands"
        ? "commands"
        : "v" in def.attributes
          ? "v"
          : expected.startsWith("['b']")
            ? "requires"
            : "config";
    const value = def.attributes[key]!;
    assert.equal(key === "commands" ? (value as { name: string }).name : pyStr(value), expected);
  });
}

test("files the full evaluator rejects are never accepted by the fast path", () => {
  for (const source of [
    "name = 'a'\n  version = '1'\n",
    "name = 'a'\nif = 1\n",
    "name = 'a'\nv = 'unterminated\n",
    "name = 'a'\nv = [1, 2\n",
    "name = 'a'\nv = {[1]: 2}\n",
    "name = 'a'\nv = 012\n",
  ]) {
    assert.equal(readPackageSource(source, "pkg/package.py", "py", { mode: "fast" }), undefined, source);
    assert.throws(() => readPackageSource(source, "pkg/package.py", "py"), /pkg\/package\.py:\d+: /, source);
  }
});
