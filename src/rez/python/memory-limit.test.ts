/**
 * A memory bomb in a package (issue 16 item 9) ends as a Python-style
 * MemoryError at its file and line, within the evaluation's memory budget,
 * instead of V8's heap-out-of-memory abort. Each case finishes in well under a
 * second with the default budget (16 Mi items: at most a few hundred MB).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { readPackageSource } from "../definition/index.js";
import { Interpreter, PythonError, parseModule } from "./index.js";
import { Repositories } from "../repository/index.js";
import { interpretContext, RexCommandError } from "../../rex/index.js";

function loadError(text: string): PythonError {
  try {
    readPackageSource(text, "/studio/bomb/1.0/package.py", "py");
  } catch (err) {
    assert.ok(err instanceof PythonError, String(err));
    return err;
  }
  assert.fail("the package loaded");
}

test("a list-of-lists bomb at top level is a MemoryError at its line", () => {
  const err = loadError("name = 'bomb'\nversion = '1.0'\nx = [[0] * 10000000 for i in range(100)]\n");
  assert.equal(err.location?.line, 3);
  assert.equal(err.kind, "memory-limit");
  assert.match(err.message, /^\/studio\/bomb\/1\.0\/package\.py:3: MemoryError: /);
});

test("copying a big list over and over is charged too (list(), slices, sorted, join)", () => {
  for (const copy of ["list(big)", "big[:]", "sorted(big)", "''.join(s)", "s.upper()", "str(big)", "big + big"]) {
    const err = loadError(`big = [0] * 5000000\ns = 'x' * 5000000\nout = [${copy} for i in range(100)]\n`);
    assert.equal(err.location?.line, 3, copy);
    assert.equal(err.kind, "memory-limit", copy);
  }
});

test("padding to a huge width is refused before the string is built", () => {
  for (const expr of ["'x'.ljust(10**9)", "f'{1:>999999999}'", "'{:^999999999}'.format(2)"]) {
    const err = loadError(`name = 'p'\nv = ${expr}\n`);
    assert.equal(err.location?.line, 2, expr);
    assert.equal(err.kind, "memory-limit", expr);
  }
});

test("the MemoryError cannot be caught by the package (it would just loop around it)", () => {
  const err = loadError(
    "try:\n    x = [[0] * 10000000 for i in range(100)]\nexcept MemoryError:\n    x = []\nname = 'p'\n",
  );
  assert.equal(err.location?.line, 2);
});

test("the budget is per evaluation: a fresh evaluation starts from zero", () => {
  const python = new Interpreter();
  const mod = parseModule("x = [0] * 9000000\n", "/a.py");
  python.execModule(mod, new Map());
  python.execModule(mod, new Map()); // 18 Mi in total across the two, but 9 Mi each
});

test("a bomb in commands() fails the context with a MemoryError at its line", () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "tantalus-bomb-"));
  fs.mkdirSync(path.join(root, "bomb", "1.0"), { recursive: true });
  fs.writeFileSync(
    path.join(root, "bomb", "1.0", "package.py"),
    "name = 'bomb'\nversion = '1.0'\n\ndef commands():\n    env.A = 'x'\n    x = [[0] * 10000000 for i in range(100)]\n",
  );
  const repos = new Repositories([root], { cache: false });
  const variant = repos.family("bomb")![0]!.variants[0]!;
  assert.throws(
    () =>
      interpretContext([variant], {
        request: ["bomb"],
        implicitPackages: [],
        packagePaths: repos.paths,
        system: { platform: "linux", arch: "x86_64", os: "Rocky-9.3" },
        timestamp: 1700000000,
        home: "/home/a",
      }),
    (err: unknown) => {
      assert.ok(err instanceof RexCommandError, String(err));
      assert.equal(err.location?.line, 6);
      assert.match(err.message, /MemoryError/);
      return true;
    },
  );
});
