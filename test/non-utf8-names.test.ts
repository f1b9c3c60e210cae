/**
 * A package payload holding a file whose name is not UTF-8 (a Latin-1 "café"
 * from an old tool): every walk a build makes over it (the plan's measure,
 * the layer cache key, the layer itself) stops with one sentence naming the
 * file, instead of an internal ENOENT on the U+FFFD name Node made of it.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { fingerprintPath } from "../src/builder/fingerprint.js";
import { TantalusError } from "../src/errors.js";
import { OciStore, writeLayer } from "../src/image/index.js";
import { fingerprintTree } from "../src/image/layer/fingerprint.js";
import { RootMeasurer } from "../src/plan/measure.js";

function payload(t: { after: (fn: () => void) => void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tantalus-non-utf8-"));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const root = path.join(dir, "show_config", "2024.03.1");
  fs.mkdirSync(path.join(root, "shows"), { recursive: true });
  fs.writeFileSync(path.join(root, "shows", "dragon.yaml"), "fps: 24\n");
  fs.writeFileSync(path.join(root, "shows", "scène_été.yaml"), "fps: 25\n"); // UTF-8: fine
  fs.writeFileSync(Buffer.from(path.join(root, "shows", "caf\xe9.yaml"), "latin1"), "fps: 30\n");
  return root;
}

const namesTheFile = (root: string) => (e: unknown) =>
  e instanceof TantalusError &&
  e.message.includes(
    `${path.join(root, "shows", "caf\\xe9.yaml")}: the file name is not valid UTF-8; image layers store names as UTF-8, so rename it`,
  );

test("a non-UTF-8 file name in a payload is one error naming the file, in each walk of the build", async (t) => {
  const root = payload(t);
  assert.throws(() => new RootMeasurer().measure(root), namesTheFile(root));
  assert.throws(() => fingerprintPath(root), namesTheFile(root));
  await assert.rejects(fingerprintTree(root), namesTheFile(root));
  const store = await OciStore.open(path.join(path.dirname(path.dirname(root)), "store"));
  await assert.rejects(
    writeLayer(store, { entries: [{ type: "tree", source: root, path: "/packages/show_config/2024.03.1" }] }),
    namesTheFile(root),
  );
});

test("UTF-8 names, including U+FFFD itself, are packed as they are", async (t) => {
  const root = payload(t);
  fs.rmSync(Buffer.from(path.join(root, "shows", "caf\xe9.yaml"), "latin1"));
  fs.writeFileSync(path.join(root, "shows", "odd\uFFFD.yaml"), "fps: 1\n");
  fingerprintPath(root);
  const store = await OciStore.open(path.join(path.dirname(path.dirname(root)), "store"));
  const layer = await writeLayer(store, { entries: [{ type: "tree", source: root, path: "/p" }] });
  assert.equal(layer.entries, 5, "p, p/shows and its three files");
});
