import { test } from "node:test";
import assert from "node:assert/strict";
import {
  solve,
  PackageFilterList,
  SortedOrder,
  VersionSplitOrder,
  TimestampOrder,
  orderersFromPod,
  type SolveResult,
} from "../src/solver/index.js";
import { MemorySource } from "../src/solver/memory-source.js";
import { Version } from "../src/rez/version/index.js";
import { Package } from "../src/rez/package.js";

const names = (r: SolveResult) => r.resolved.map((v) => v.qualifiedName);

const pythons = new MemorySource(
  [
    { name: "python", version: "2.7.18", timestamp: 100 },
    { name: "python", version: "3.9.7", timestamp: 200 },
    { name: "python", version: "3.10.2", timestamp: 300 },
    { name: "python", version: "3.11.4", timestamp: 400 },
    { name: "tool", version: "1.0", requires: ["python-3"], build_requires: ["cmake"], timestamp: 150 },
    { name: "cmake", version: "3.20", timestamp: 100 },
  ],
  ["/repo"],
);

test("the latest version wins by default, dependencies first in the resolve", () => {
  assert.deepEqual(names(solve(["tool"], pythons)), ["python-3.11.4[]", "tool-1.0[]"]);
});

test("implicit packages are appended to the request", () => {
  const r = solve(["tool"], pythons, { implicitPackages: ["~python<3.10"] });
  assert.deepEqual(names(r), ["python-3.9.7[]", "tool-1.0[]"]);
  assert.deepEqual(r.request.map(String), ["tool", "~python<3.10"]);
});

test("a timestamp hides packages released after it, even from exact requests", () => {
  assert.deepEqual(names(solve(["python"], pythons, { timestamp: 250 })), ["python-3.9.7[]"]);
  const r = solve(["python==3.11.4"], pythons, { timestamp: 250 });
  assert.equal(r.failure?.kind, "missing-version");
  assert.match(r.failure.explanation, /2 of its 4 versions are hidden/);
});

test("package filters exclude by glob, and inclusions override exclusions", () => {
  const filter = PackageFilterList.fromPod([{ excludes: ["glob(python-3.1*)"] }]);
  assert.deepEqual(names(solve(["python"], pythons, { packageFilter: filter })), ["python-3.9.7[]"]);
  const withInclude = PackageFilterList.fromPod([{ excludes: ["glob(python-3.1*)"], includes: ["python-3.10"] }]);
  assert.deepEqual(names(solve(["python"], pythons, { packageFilter: withInclude })), ["python-3.10.2[]"]);
});

test("orderers change which version is tried first", () => {
  assert.deepEqual(names(solve(["python"], pythons, { orderers: [new SortedOrder(false)] })), ["python-2.7.18[]"]);
  assert.deepEqual(
    names(solve(["python"], pythons, { orderers: [new VersionSplitOrder(Version.parse("3.10"), ["python"])] })),
    ["python-3.9.7[]"],
  );
  assert.deepEqual(names(solve(["python"], pythons, { orderers: [new TimestampOrder(250)] })), ["python-3.9.7[]"]);
  const pod = orderersFromPod([
    { type: "per_family", orderers: [{ packages: ["python"], type: "sorted", descending: false }] },
  ]);
  assert.deepEqual(names(solve(["python-3"], pythons, { orderers: pod })), ["python-3.9.7[]"]);
});

test("building adds every package's build requirements", () => {
  assert.deepEqual(names(solve(["tool"], pythons)), ["python-3.11.4[]", "tool-1.0[]"]);
  assert.deepEqual(names(solve(["tool"], pythons, { building: true })), [
    "cmake-3.20[]",
    "python-3.11.4[]",
    "tool-1.0[]",
  ]);
});

test("@late requires are evaluated through the hook, with the request", () => {
  const src = new MemorySource(
    [
      { name: "python", version: "3.9.7" },
      { name: "python", version: "3.11.4" },
    ],
    ["/repo"],
  );
  // a package whose requires is a @late() function
  const lateTool = new Package(
    {
      file: "/repo/latetool/1/package.py",
      requires: "late",
      buildRequires: [],
      variants: [],
      hashedVariants: false,
      lines: {},
    },
    "latetool",
    Version.parse("1"),
    "/repo",
    "/repo/latetool/1",
  );
  const source = { family: (n: string) => (n === "latetool" ? [lateTool] : src.family(n)), paths: ["/repo"] };
  const seen: string[] = [];
  const r = solve(["latetool"], source, {
    lateRequires: (pkg, ctx) => {
      seen.push(`${pkg.name} ${ctx.request.map(String).join(" ")} ${ctx.building}`);
      return ["python-3.9"];
    },
  });
  assert.deepEqual(names(r), ["python-3.9.7[]", "latetool-1[]"]);
  assert.deepEqual(seen, ["latetool latetool false"]);
  assert.throws(() => solve(["latetool"], source), /@late\(\) function and no evaluator/);
});

test("maxFails stops after that many failed steps with Rez's wording", () => {
  const src = new MemorySource(
    [
      { name: "a", version: "1" },
      { name: "a", version: "2", requires: ["b-2"] },
      { name: "a", version: "3", requires: ["b-2"] },
      { name: "b", version: "1" },
      { name: "b", version: "2", requires: ["c-9"] },
      { name: "c", version: "1" },
    ],
    ["/repo"],
  );
  assert.deepEqual(names(solve(["a", "c"], src)), ["a-1[]", "c-1[]"]);
  const r = solve(["a", "c"], src, { maxFails: 1 });
  assert.equal(r.status, "failed");
  assert.equal(r.failure?.kind, "max-fails");
  assert.match(r.failure.description, /^fail limit reached: aborted after 1 failures:\n/);
});

test("ephemeral requests are resolved as ranges", () => {
  const src = new MemorySource([{ name: "tool", version: "1", requires: [".mode-1.5"] }], ["/repo"]);
  const r = solve([".mode-1", "tool"], src);
  assert.deepEqual(names(r), ["tool-1[]"]);
  assert.deepEqual(r.ephemerals.map(String), [".mode-1.5"]);
});

test("a time limit aborts an unfinished solve", () => {
  const src = new MemorySource(
    [
      { name: "a", version: "1" },
      { name: "a", version: "2", requires: ["b-2"] },
      { name: "b", version: "1" },
      { name: "b", version: "2", requires: ["c-9"] },
      { name: "c", version: "1" },
    ],
    ["/repo"],
  );
  const r = solve(["a", "c"], src, { timeLimit: 0 });
  assert.equal(r.status, "aborted");
  assert.equal(r.failure?.kind, "time-limit");
  assert.equal(r.failure?.description, "time limit exceeded");
  assert.equal(r.steps, 1);
});

test("a result names every family the solve asked for, found or not, each solve its own over a shared source", () => {
  assert.deepEqual(solve(["tool"], pythons).families, ["python", "tool"]);
  assert.deepEqual(
    solve(["tool"], pythons, { building: true }).families,
    ["cmake", "python", "tool"],
    "build requires are asked for when building",
  );
  const missing = solve(["tool", "houdini"], pythons);
  assert.equal(missing.status, "failed");
  assert.ok(missing.families.includes("houdini"), missing.families.join(","));
  assert.deepEqual(
    solve(["python"], pythons).families,
    ["python"],
    "families loaded by earlier solves are not counted",
  );
});
