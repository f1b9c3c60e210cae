import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { PACKAGE_SCHEMA_KEYS, VARIANT_SCHEMA_KEYS } from "./schema-keys.js";

const rez = JSON.parse(
  readFileSync(new URL("../../test/data/rez-package-schema-keys.json", import.meta.url), "utf8"),
) as Record<"package_schema" | "variant_schema", string[]>;

test("the package and variant attribute names that read as None are Rez's package_schema and variant_schema keys", () => {
  assert.deepEqual([...PACKAGE_SCHEMA_KEYS].sort(), rez.package_schema);
  assert.deepEqual([...VARIANT_SCHEMA_KEYS].sort(), rez.variant_schema);
});
