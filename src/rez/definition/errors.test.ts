/** Broken package definitions: every kind of error names the file, the line and what is wrong. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { readPackageFile, readPackageSource } from "./index.js";
import { InputError } from "../../errors.js";
import { PythonError } from "../python/index.js";

function errorOf(fn: () => unknown): InputError {
  try {
    fn();
  } catch (err) {
    if (err instanceof InputError) return err;
    throw err;
  }
  assert.fail("expected an InputError");
}

const FILE = "repo/pkg/1.0/package.py";
const py = (source: string) => errorOf(() => readPackageSource(source, FILE, "py"));

const CASES: { what: string; source: string; line: number | undefined; message: string }[] = [
  {
    what: "syntax error (an unclosed bracket: CPython reports the bracket's line)",
    source: "name = 'pkg'\nrequires = ['a',\nversion = '1'\n",
    line: 2,
    message: "SyntaxError: '[' was never closed",
  },
  {
    what: "bad indentation",
    source: "name = 'pkg'\n    version = '1'\n",
    line: 2,
    message: "invalid Python syntax: unexpected indent",
  },
  {
    what: "import of a module",
    source: "name = 'pkg'\nimport subprocess\n",
    line: 2,
    message:
      "'import subprocess' (the module 'subprocess') is not evaluated by Tantalus's Python evaluator; a definition that needs it is loaded by the host's CPython with the setting 'python: cpython' (in tantalus.yaml, or TANTALUS_PYTHON=cpython)",
  },
  {
    what: "from-import",
    source: "name = 'pkg'\n\nfrom subprocess import call\n",
    line: 3,
    message: "'from subprocess import call' (the module 'subprocess') is not evaluated",
  },
  {
    what: "open() call",
    source: "name = 'pkg'\ndescription = open('/etc/motd').read()\n",
    line: 2,
    message: "'open()' is not allowed in a package definition",
  },
  {
    what: "exec",
    source: "name = 'pkg'\nexec('version = \"1\"')\n",
    line: 2,
    message: "'exec()' is not allowed in a package definition",
  },
  {
    what: "dunder attribute",
    source: "name = 'pkg'\nx = name.__class__.__mro__\n",
    line: 2,
    message: "access to the attribute '__class__' is not allowed in a package definition",
  },
  {
    what: "class definition",
    source: "name = 'pkg'\nclass Helper(object):\n    pass\n",
    line: 2,
    message: "'class Helper' (a class definition) is not allowed in a package definition",
  },
  {
    what: "undefined name",
    source: "name = 'pkg'\nrequires = [python_version]\n",
    line: 2,
    message: "NameError: name 'python_version' is not defined",
  },
  {
    what: "exception in an @early function",
    source: "name = 'pkg'\n@early()\ndef requires():\n    return ['a'] + this.missing\n",
    line: 4,
    message: "AttributeError: No such package attribute 'missing' (in requires())",
  },
  {
    what: "@early reading another early attribute",
    source: "name = 'pkg'\n@early()\ndef a():\n    return this.b\n@early()\ndef b():\n    return 1\n",
    line: 4,
    message:
      "ValueError: An early binding function cannot refer to another early or late binding function: 'b' (in a())",
  },
  {
    what: "InvalidPackageError raised by the package",
    source: "name = 'pkg'\nif True:\n    raise InvalidPackageError('this package is broken')\n",
    line: 3,
    message: "InvalidPackageError: this package is broken",
  },
  {
    what: "@late() on commands",
    source: "name = 'pkg'\n@late()\ndef commands():\n    pass\n",
    line: 2,
    message: "ValueError: Cannot use @late decorator on function 'commands'",
  },
  {
    what: "endless loop",
    source: "name = 'pkg'\nwhile True:\n    pass\n",
    line: 2,
    message: "evaluation stopped after 1,000,000 steps",
  },
  {
    what: "missing name",
    source: "version = '1.0'\n",
    line: undefined,
    message: "missing the required attribute 'name'",
  },
  {
    what: "name not a string",
    source: "name = ['pkg']\n",
    line: 1,
    message: "'name' must be a string, not a list (['pkg'])",
  },
  {
    what: "version not a string",
    source: "name = 'pkg'\nversion = 1.0\n",
    line: 2,
    message: "'version' must be a string, not a float (1.0)",
  },
  {
    what: "requires not a list",
    source: "name = 'pkg'\nrequires = 'python-3'\n",
    line: 2,
    message: "'requires' must be a list of requirement strings, not a str ('python-3')",
  },
  {
    what: "requires item not a string",
    source: "name = 'pkg'\nrequires = ['python', 3]\n",
    line: 2,
    message: "'requires' must be a list of requirement strings, but item 1 is an int (3)",
  },
  {
    what: "requires as a tuple (Rez's schema wants a list)",
    source: "name = 'pkg'\nrequires = ('python',)\n",
    line: 2,
    message: "'requires' must be a list of requirement strings, not a tuple",
  },
  {
    what: "variants not a list of lists",
    source: "name = 'pkg'\n\nvariants = ['python-3.9', 'python-3.11']\n",
    line: 3,
    message: "'variants' must be a list of lists of requirement strings, but variant 0 is a str ('python-3.9')",
  },
  {
    what: "variant item not a string",
    source: "name = 'pkg'\nvariants = [['python-3.9'], [None]]\n",
    line: 2,
    message: "'variants' item 1 must be a list of requirement strings, but its item 0 is a NoneType (None)",
  },
  {
    what: "late-bound variants",
    source: "name = 'pkg'\n@late()\ndef variants():\n    return []\n",
    line: 3,
    message: "'variants' cannot be a @late() function",
  },
  {
    what: "hashed_variants not a bool",
    source: "name = 'pkg'\nhashed_variants = 'yes'\n",
    line: 2,
    message: "'hashed_variants' must be True or False, not a str ('yes')",
  },
  {
    what: "timestamp not an int",
    source: "name = 'pkg'\ntimestamp = '1600000000'\n",
    line: 2,
    message: "'timestamp' must be an int, not a str ('1600000000')",
  },
  {
    what: "tools not a list",
    source: "name = 'pkg'\ntools = 'mytool'\n",
    line: 2,
    message: "'tools' must be a list of strings, not a str ('mytool')",
  },
  {
    what: "relocatable not a bool",
    source: "name = 'pkg'\nrelocatable = 'no'\n",
    line: 2,
    message: "'relocatable' must be True, False or None, not a str ('no')",
  },
  {
    what: "authors not a list",
    source: "name = 'pkg'\nauthors = 'me'\n",
    line: 2,
    message: "'authors' must be a list of strings, not a str ('me')",
  },
  {
    what: "old-style commands",
    source: "name = 'pkg'\ncommands = ['export FOO=1']\n",
    line: 2,
    message: "old-style (rez-1) commands are not supported",
  },
  {
    what: "commands string with a syntax error",
    source: "name = 'pkg'\ncommands = 'env.A = (1'\n",
    line: 2,
    message: "SyntaxError: '(' was never closed",
  },
  {
    what: "tantalus not a dict",
    source: "name = 'pkg'\ntantalus = ['image']\n",
    line: 2,
    message: "'tantalus' must be a dict, not a list (['image'])",
  },
  {
    what: "tantalus with a non-data value",
    source: "name = 'pkg'\ntantalus = {'n': {1: 'a'}}\n",
    line: 2,
    message: "'tantalus' must hold plain data",
  },
];

for (const c of CASES) {
  test(`broken package.py: ${c.what}`, () => {
    const err = py(c.source);
    assert.equal(err.location?.file, FILE);
    assert.equal(err.location?.line, c.line, err.message);
    assert.ok(err.detail.includes(c.message), `expected "${c.message}" in "${err.detail}"`);
    assert.ok(err.message.startsWith(c.line === undefined ? `${FILE}: ` : `${FILE}:${c.line}: `), err.message);
  });
}

test("Python errors keep the Python exception type for callers", () => {
  const err = py("name = 'pkg'\nx = {}['k']\n");
  assert.ok(err instanceof PythonError);
  assert.equal(err.pyType, "KeyError");
  assert.equal(err.detail, "KeyError: 'k'");
});

test("files that are not valid UTF-8 are refused with the line; a coding declaration is honoured", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "tantalus-def-"));
  try {
    const bad = path.join(dir, "package.py");
    writeFileSync(
      bad,
      Buffer.concat([Buffer.from("name = 'pkg'\n# caf"), Buffer.from([0xe9]), Buffer.from("\nversion = '1'\n")]),
    );
    const err = errorOf(() => readPackageFile(bad));
    assert.equal(err.location?.line, 2);
    assert.match(err.detail, /not valid UTF-8 \(byte 0xe9\)/);

    const body = Buffer.concat([
      Buffer.from("# -*- coding: latin-1 -*-\nname = 'pkg'\ndescription = 'caf"),
      Buffer.from([0xe9]),
      Buffer.from("'\n"),
    ]);
    const latinFile = path.join(dir, "package-latin.py");
    writeFileSync(latinFile, body);
    assert.equal(readPackageFile(latinFile).description, "café");

    const utf8 = path.join(dir, "package-bom.py");
    writeFileSync(
      utf8,
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from("name = 'pkg'\ndescription = 'café'\n")]),
    );
    assert.equal(readPackageFile(utf8).description, "café");

    const weird = path.join(dir, "package-ebcdic.py");
    writeFileSync(weird, "# -*- coding: cp500 -*-\nname = 'pkg'\n");
    assert.match(errorOf(() => readPackageFile(weird)).detail, /unsupported source encoding 'cp500'/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a missing file is an InputError naming it", () => {
  const err = errorOf(() => readPackageFile("/nonexistent/pkg/1.0/package.py"));
  assert.equal(err.location?.file, "/nonexistent/pkg/1.0/package.py");
  assert.match(err.detail, /cannot read package definition/);
});

test("broken package.yaml files", () => {
  const yaml = (source: string) => errorOf(() => readPackageSource(source, "repo/y/1.0/package.yaml", "yaml"));
  let err = yaml("name: y\nrequires: [a, b\nversion: '1'\n");
  assert.match(err.message, /^repo\/y\/1\.0\/package\.yaml:\d+: invalid YAML/);
  err = yaml("name: y\nversion: 1.0\n");
  assert.equal(
    err.message,
    "repo/y/1.0/package.yaml:2: 'version' must be a string, not a float (1.0) (quote it in YAML: version: '1.0')",
  );
  err = yaml("- a\n- b\n");
  assert.match(err.detail, /must be a mapping/);
  err = yaml("name: y\nrequires: python\n");
  assert.equal(err.location?.line, 2);
  err = yaml("name: y\ncommands:\n  - setenv A 1\n");
  assert.match(err.detail, /old-style \(rez-1\) commands/);
});
