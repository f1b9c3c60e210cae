// The store's seams hold: outside the layout itself, only the modules that
// open a store name the concrete OciStore as a type; every other function
// takes the narrow interfaces of src/image/layout/interfaces.ts. Without this
// check a new parameter typed OciStore would quietly widen a reader into
// something that may write, tag or collect.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import ts from "typescript";

const root = join(import.meta.dirname, "..");

/**
 * The openers: they open the store, and hand it (or its directory, to worker
 * threads that open it again) to what they run. The build's options and
 * report carry the opened store; run's ImageBuilder seam passes it to the build.
 */
const OPENERS = new Set([
  "src/builder/build.ts",
  "src/builder/builder.ts",
  "src/builder/layer-worker.ts",
  "src/image/workflow-image.ts",
  // Builds the throwaway image of a dev resolve: hands the store to the build, which writes it.
  "src/builder/dev-resolve.ts",
  "src/run/image.ts",
]);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith(".ts") && !e.name.endsWith(".test.ts") ? [path] : [];
  });
}

/** Lines where `file` uses OciStore as a type (a parameter, field, return or generic), found by the TypeScript parser. */
function typeUses(file: string): number[] {
  const text = readFileSync(file, "utf8");
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const lines: number[] = [];
  const visit = (node: ts.Node): void => {
    const named =
      (ts.isTypeReferenceNode(node) && node.typeName.getText(sf).endsWith("OciStore")) ||
      (ts.isImportTypeNode(node) && node.qualifier?.getText(sf) === "OciStore");
    if (named) lines.push(sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1);
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return lines;
}

test("only the openers type anything as the concrete OciStore; the rest take store interfaces", () => {
  const offenders: string[] = [];
  for (const file of sourceFiles(join(root, "src"))) {
    const rel = relative(root, file);
    if (rel.startsWith("src/image/layout/") || OPENERS.has(rel)) continue;
    for (const line of typeUses(file)) offenders.push(`${rel}:${line}`);
  }
  assert.deepEqual(
    offenders,
    [],
    "take BlobReader, BlobIngester, ImageReader, Tagger, StoreMaintenance or PrivateArea",
  );
});

test("the openers still exist and still name OciStore (an allow-list entry that is no longer needed goes)", () => {
  for (const rel of OPENERS) assert.ok(typeUses(join(root, rel)).length > 0, `${rel} no longer types OciStore`);
});
