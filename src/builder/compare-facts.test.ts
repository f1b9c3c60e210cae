import { test } from "node:test";
import assert from "node:assert/strict";
import vm from "node:vm";
import { compareImageFacts, type ImageFacts, type LayerSummary } from "./inventory.js";

const digest = (c: string): ImageFacts["digest"] => `sha256:${c.repeat(64)}`;
const layer = (c: string, kind: string | undefined, variants: string[], size = 100): LayerSummary => ({
  digest: digest(c),
  size,
  variants,
  ...(kind ? { kind } : {}),
});

const a: ImageFacts = {
  ref: "anim:old",
  digest: digest("a"),
  workflow: "anim",
  packages: [
    ["python", "python-3.11.13[0]"],
    ["usd", "usd-24.08[0]"],
    ["alembic", "alembic-1.8.8[]"],
  ],
  layers: [
    layer("0", undefined, [], 3000),
    layer("1", "packages", ["python-3.11.13[0]"]),
    layer("2", "packages", ["usd-24.08[0]"]),
    layer("3", "packages", ["alembic-1.8.8[]"]),
    layer("4", "top", [], 10),
  ],
  env: ["PATH=/usr/bin", "DEPT=anim", "OLD=1"],
};
const b: ImageFacts = {
  ref: "anim",
  digest: digest("b"),
  workflow: "anim",
  packages: [
    ["python", "python-3.11.13[0]"],
    ["usd", "usd-25.02[0]"],
    ["libpng", "libpng-1.6.40[]"],
  ],
  layers: [
    layer("0", undefined, [], 3000),
    layer("1", "packages", ["python-3.11.13[0]"]),
    layer("5", "packages", ["usd-25.02[0]"], 120),
    layer("6", "packages", ["libpng-1.6.40[]"], 50),
    layer("7", "top", [], 12),
  ],
  env: ["PATH=/usr/bin", "DEPT=animation", "NEW=1"],
};

test("two images' facts: packages added, removed and changed; layers shared, only in one, and changed by kind and families", () => {
  const d = compareImageFacts(a, b);
  assert.deepEqual(d.packages, {
    added: ["libpng-1.6.40[]"],
    removed: ["alembic-1.8.8[]"],
    changed: [{ name: "usd", from: "usd-24.08[0]", to: "usd-25.02[0]" }],
    unchanged: 1,
  });
  assert.deepEqual(
    d.layers.shared.map((l) => l.digest),
    [digest("0"), digest("1")],
  );
  assert.deepEqual(
    d.layers.onlyB.map((l) => l.digest),
    [digest("5"), digest("6"), digest("7")],
  );
  // usd's layer holds the same family in another version, and the top layer is the top layer: changed.
  // alembic's and libpng's layers hold different families: removed and added.
  assert.deepEqual(
    d.layers.changed.map((c) => [c.from.digest, c.to.digest]),
    [
      [digest("2"), digest("5")],
      [digest("4"), digest("7")],
    ],
  );
  assert.equal(d.layers.bytesToFetch, 120 + 50 + 12);
  assert.deepEqual(d.env, { added: ["NEW"], removed: ["OLD"], changed: ["DEPT"] });
  assert.equal(d.identical, false);
});

test("compareImageFacts runs from its own source alone, as the report's history page runs it", () => {
  // The page evaluates the function's source with nothing else in scope (but the __name shim the page defines).
  const context = vm.createContext({ __name: (f: unknown) => f });
  const standalone = vm.runInContext(`(${compareImageFacts.toString()})`, context) as typeof compareImageFacts;
  // Through JSON, as the page's embedded data is.
  const viaPage = JSON.parse(JSON.stringify(standalone(a, b))) as unknown;
  assert.deepEqual(viaPage, JSON.parse(JSON.stringify(compareImageFacts(a, b))));
});
