/**
 * Tantalus reads every fixture in test/fixtures/packages to the same attributes
 * Rez's own loader produces (recorded in rez-loaded.json by
 * scripts/rez-oracle/package_definitions.py), through both the fast path and
 * the full evaluator.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { readPackageFile } from "./index.js";
import { HostObject, PyDict, PyFloat, PyFunction, PyTuple, floatRepr, type PyValue } from "../python/index.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../test/fixtures/packages");
const rez = JSON.parse(readFileSync(path.join(ROOT, "rez-loaded.json"), "utf8")) as Record<
  string,
  { attributes: [string, unknown][]; schema: string }
>;

/** The JSON encoding the oracle script uses for Rez's values. */
function encode(v: PyValue): unknown {
  if (v instanceof PyFunction) return { $function: v.name, late: v.hasMark("late") };
  if (typeof v === "bigint") return { $int: v.toString() };
  if (v instanceof PyFloat) return { $float: floatRepr(v.value) };
  if (v instanceof PyTuple) return { $tuple: v.items.map(encode) };
  if (Array.isArray(v)) return v.map(encode);
  if (v instanceof PyDict) return { $dict: [...v.entries()].map(([k, x]) => [encode(k), encode(x)]) };
  if (v instanceof HostObject && v.pyTypeName === "ModifyList") {
    const get = (n: string) => encode((v.getAttr as (n: string) => PyValue)(n));
    return { $ModifyList: { append: get("append"), prepend: get("prepend") } };
  }
  if (v instanceof HostObject) return { $repr: v.pyTypeName };
  return v;
}

for (const [rel, expected] of Object.entries(rez)) {
  const file = path.join(ROOT, rel);
  const modes = rel.endsWith(".py") ? (["auto", "full"] as const) : (["auto"] as const);
  for (const mode of modes) {
    test(`${rel} (${mode}) loads to the attributes Rez loads`, () => {
      assert.equal(expected.schema, "ok", "the fixture must be valid for Rez");
      const def = readPackageFile(file, { mode });
      const ours = Object.entries(def.attributes).map(([k, v]) => [k, encode(v)]);
      assert.deepEqual(ours, expected.attributes);
    });
  }
}
