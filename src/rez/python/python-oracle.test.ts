/**
 * Runs every snippet of testdata/cases.py with Tantalus's interpreter and
 * compares with what CPython produced (testdata/oracle.json, written by
 * testdata/generate-oracle.py): repr(result), or the exception type and message.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Interpreter, PyException, PythonError, parseModule, pyRepr, type PyValue } from "./index.js";

interface OracleCase {
  name: string;
  code: string;
  repr?: string;
  error?: { type: string; message: string };
}

const oracle = JSON.parse(readFileSync(new URL("./testdata/oracle.json", import.meta.url), "utf8")) as {
  cases: OracleCase[];
};

for (const c of oracle.cases) {
  test(`matches CPython: ${c.name}`, () => {
    const globals = new Map<string, PyValue>();
    let outcome: { repr: string } | { error: { type: string; message: string } };
    try {
      new Interpreter().execModule(parseModule(c.code, "case.py"), globals);
      outcome = { repr: pyRepr(globals.get("result") ?? null) };
    } catch (err) {
      if (!(err instanceof PythonError) || !(err.original instanceof PyException)) throw err;
      outcome = { error: { type: err.pyType!, message: err.original.pyMessage } };
    }
    assert.deepEqual(outcome, c.error ? { error: c.error } : { repr: c.repr });
  });
}
