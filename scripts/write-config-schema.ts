/**
 * Writes schema/tantalus.schema.json from the zod schema in src/config.
 * Run: node --import tsx scripts/write-config-schema.ts  (a test checks the file is current)
 */
import { renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { configJsonSchema } from "../src/config/index.js";

export const SCHEMA_FILE = join(dirname(fileURLToPath(import.meta.url)), "..", "schema", "tantalus.schema.json");

export function renderConfigSchema(): string {
  return JSON.stringify(configJsonSchema(), null, 2) + "\n";
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const tmp = `${SCHEMA_FILE}.tmp-${process.pid}`;
  writeFileSync(tmp, renderConfigSchema());
  renameSync(tmp, SCHEMA_FILE);
  console.log(`wrote ${SCHEMA_FILE}`);
}
