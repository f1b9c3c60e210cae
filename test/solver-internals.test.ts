import { test } from "node:test";
import assert from "node:assert/strict";
import { Version } from "../src/rez/version/index.js";
import { Fallback, PyCompareError, Reversed, pyLt, pySortInPlace } from "../src/solver/pycompare.js";
import { parseFilterRule, PackageFilterList } from "../src/solver/filter.js";
import { dependencyOrder, findCycle } from "../src/solver/graph.js";
import { MemorySource } from "../src/solver/memory-source.js";

const v = (s: string) => Version.parse(s);

test("sort keys compare with Python's rules, including its TypeError", () => {
  assert.equal(pyLt([1, v("2")], [1, v("10")]), true);
  assert.equal(pyLt([v("1")], [v("1"), 0]), true, "a prefix is smaller");
  assert.equal(pyLt(new Reversed(v("1")), new Reversed(v("2"))), false);
  // keys of different orderers: the version decides
  assert.equal(pyLt(new Fallback([1, v("3")], v("3")), new Fallback(v("2"), v("2"))), false);
  assert.equal(pyLt(new Fallback(0, v("1")), new Fallback(v("2"), v("2"))), true);
  assert.throws(
    () => pyLt([[-0, [1]]], [[-0, 0]]),
    (e: unknown) =>
      e instanceof PyCompareError && e.message === "'<' not supported between instances of 'tuple' and 'int'",
  );
});

test("reverse sorting keeps equal keys in their order, as Python's does", () => {
  const items = ["a", "b", "c", "d"];
  pySortInPlace(items, [1, 2, 1, 2], true);
  assert.deepEqual(items, ["b", "d", "a", "c"]);
});

test("filter rules match `name-version` as Rez does", () => {
  const pkgs = new MemorySource([
    { name: "foo", version: "1.2" },
    { name: "foo", version: "10" },
    { name: "foo", version: "2.0.beta", timestamp: 50 },
    { name: "bar", version: "1.0", timestamp: 200 },
  ]);
  const [foo12, foo10, fooBeta] = pkgs.family("foo")!;
  const [bar] = pkgs.family("bar")!;
  const glob = parseFilterRule("glob(foo-1.*)");
  assert.equal(glob.family, "foo");
  assert.equal(glob.match(foo12!), true);
  assert.equal(glob.match(foo10!), false);
  assert.equal(parseFilterRule("*.beta").match(fooBeta!), true);
  assert.equal(parseFilterRule("regex(foo-1)").match(foo10!), true, "anchored at the start only");
  assert.equal(parseFilterRule("foo-2+").match(fooBeta!), true);
  assert.equal(parseFilterRule("before(100)").match(fooBeta!), true);
  assert.equal(parseFilterRule("after(100)").match(bar!), true);
  assert.equal(parseFilterRule("after(100)").match(foo12!), false, "a package without timestamp never matches");
  const f = PackageFilterList.fromPod([{ excludes: ["foo-2+", "after(100)"], includes: ["bar"] }]);
  assert.equal(f.excludes(fooBeta!)?.toString(), "range(foo-2+)");
  assert.equal(f.excludes(foo12!), null);
  assert.equal(f.excludes(bar!), null, "an inclusion overrides the exclusion");
  assert.throws(() => parseFilterRule("bogus(x)"), /'bogus' is not a valid package filter type/);
});

test("resolve order: dependencies first, then request order, then alphabetical", () => {
  const g = {
    nodes: ["bar", "baz", "python", "foo", "platform", "arch"],
    edges: new Map([
      ["bar", ["python", "foo"]],
      ["baz", ["python"]],
      ["foo", ["python"]],
      ["python", ["platform", "arch"]],
    ]),
  };
  assert.deepEqual(dependencyOrder(g, ["bar", "baz", "platform", "arch"]), [
    "platform",
    "arch",
    "python",
    "foo",
    "bar",
    "baz",
  ]);
  assert.equal(findCycle(g), null);
  assert.deepEqual(
    findCycle({
      nodes: ["a", "b"],
      edges: new Map([
        ["a", ["b"]],
        ["b", ["a"]],
      ]),
    }),
    ["a", "b"],
  );
  assert.deepEqual(findCycle({ nodes: ["a"], edges: new Map([["a", ["a"]]]) }), ["a"]);
});
