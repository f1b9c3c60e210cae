/**
 * The rez.* helpers that cannot be evaluated without running something (a
 * process, a repository search while the file loads) are refused with a sentence
 * naming them and the CPython way out; lint_helper names are None as in Rez.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readPackageSource } from "./index.js";
import { PythonError } from "../python/index.js";

function refusal(source: string): PythonError {
  try {
    readPackageSource(source, "/p/1.0/package.py", "py");
  } catch (err) {
    assert.ok(err instanceof PythonError, String(err));
    return err;
  }
  assert.fail("the package loaded");
}

test("exec_command and exec_python in @early are refused at their line, naming the attribute and the CPython option", () => {
  const err = refusal(
    "from rez.package_py_utils import exec_command, exec_python\nname = 'p'\n\n@early()\ndef version():\n    return exec_command('version', ['git', 'describe'])[0]\n",
  );
  assert.equal(err.location?.line, 6);
  assert.match(
    err.detail,
    /^exec_command\(\) for 'version' \(it runs a process\) is not evaluated by Tantalus's Python evaluator; .*'python: cpython'/,
  );
  const py = refusal("from rez.package_py_utils import exec_python\nname = 'p'\nx = exec_python('x', ['print(1)'])\n");
  assert.equal(py.location?.line, 3);
  assert.match(py.detail, /^exec_python\(\) for 'x' \(it runs a process\)/);
});

test("expand_requires passes plain requests through and refuses wildcards, which search the repositories", () => {
  const def = readPackageSource(
    "from rez.package_py_utils import expand_requires\nname = 'p'\nrequires = expand_requires('a-1.2', 'b')\n",
    "/p/package.py",
    "py",
  )!;
  assert.deepEqual(def.requires, ["a-1.2", "b"]);
  const err = refusal(
    "from rez.package_py_utils import expand_requires\nname = 'p'\nrequires = expand_requires('a-1.*')\n",
  );
  assert.equal(err.location?.line, 3);
  assert.match(err.detail, /expand_requires\('a-1\.\*'\) with a wildcard/);
});

test("a module Tantalus does not provide, and open(), name the construct and the CPython option", () => {
  for (const [src, what] of [
    ["import maya_packaging\n", "'import maya_packaging' (the module 'maya_packaging')"],
    ["import subprocess\n", "'import subprocess' (the module 'subprocess')"],
    ["x = open('/etc/hostname').read()\n", "'open()' is not allowed"],
    ["import os\nx = os.listdir('/')\n", "'os.listdir'"],
    ["from rez.config import config\n", "'from rez.config import config' (the module 'rez.config')"],
  ] as const) {
    const err = refusal(`name = 'p'\n${src}`);
    assert.ok(err.detail.startsWith(what), `${err.detail} should start with ${what}`);
    assert.match(err.detail, /with the setting 'python: cpython' \(in tantalus.yaml, or TANTALUS_PYTHON=cpython\)$/);
  }
});

test("system.hostname describes the machine running Rez, not the platform resolved for: refused", () => {
  const err = refusal("from rez.system import system\nname = 'p'\nh = system.hostname\n");
  assert.equal(err.location?.line, 3);
  assert.match(err.detail, /^'system\.hostname' \(from rez\.system\)/);
});
