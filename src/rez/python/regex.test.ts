/**
 * What the `re` translation refuses rather than approximates (the exact cases
 * are checked against Rez/CPython in src/rez/definition/python-constructs.test.ts).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readPackageSource } from "../definition/index.js";
import { PythonError } from "./index.js";

function refusal(line: string): string {
  try {
    readPackageSource(`import re\nname = 'r'\nx = ${line}\n`, "/r/package.py", "py");
  } catch (err) {
    assert.ok(err instanceof PythonError, String(err));
    assert.equal(err.location?.line, 3);
    assert.equal(err.kind, "not-allowed", err.message);
    return err.detail;
  }
  assert.fail(`${line} was evaluated`);
}

test("constructs JavaScript cannot match exactly are refused with the construct named", () => {
  assert.match(refusal(`re.match(r"a  b", "ab", re.X)`), /verbose regular expression/);
  assert.match(refusal(`re.match(r"(?i:a)b", "Ab")`), /regular-expression group '\(\?i:/);
  assert.match(refusal(`re.match(r"(?>a)", "a")`), /atomic groups/);
  assert.match(refusal(`re.match(r"a++", "aa")`), /possessive quantifier/);
  assert.match(refusal(`re.match(r"\\w+", "caf\\u00e9")`), /on non-ASCII text/);
  assert.match(refusal(`re.match(r"e", "\\u00c9", re.I)`), /on non-ASCII text/);
});

test("re.ASCII makes \\w exact on any text, as it is ASCII-only in both", () => {
  const def = readPackageSource(
    `import re\nname = 'r'\nx = re.findall(r"\\w+", "caf\\u00e9 ok", re.A)\n`,
    "/r/package.py",
    "py",
  )!;
  assert.deepEqual(def.attributes.x, ["caf", "ok"]);
});

test("a bad pattern is re.error, catchable as in Python", () => {
  const def = readPackageSource(
    `import re\nname = 'r'\ntry:\n    re.compile("(")\n    x = 'no'\nexcept re.error:\n    x = 'yes'\n`,
    "/r/package.py",
    "py",
  )!;
  assert.equal(def.attributes.x, "yes");
});
