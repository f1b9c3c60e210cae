import { test } from "node:test";
import assert from "node:assert/strict";
import { InputError } from "../src/errors.js";
import { solve } from "../src/solver/index.js";
import { MemorySource, type PackageData } from "../src/solver/memory-source.js";

const repo = (pkgs: PackageData[]) => new MemorySource(pkgs, ["/repo"]);

const nails = repo([
  { name: "nail", version: "1.2" },
  { name: "nail", version: "1.5" },
  { name: "nail", version: "2.1" },
  { name: "foo", version: "1.2", requires: ["nail-2.1+<3"] },
  { name: "bar", version: "3", requires: ["foo-1.2"] },
  { name: "app", version: "1", requires: ["ghost-1"] },
  { name: "cyca", version: "1", requires: ["cycb"] },
  { name: "cycb", version: "1", requires: ["cyca"] },
]);

test("an unknown requested package fails with Rez's message and names the family", () => {
  const r = solve(["nosuch"], nails);
  assert.equal(r.status, "failed");
  assert.equal(r.failure?.kind, "missing-family");
  assert.equal(r.failure?.description, "package family not found: nosuch (searched: /repo)");
  assert.equal(r.failure?.explanation, "no package family 'nosuch' exists in /repo (requested)");
});

test("an unknown package required by another names who required it", () => {
  const r = solve(["app"], nails);
  assert.equal(r.failure?.kind, "missing-family");
  assert.equal(r.failure?.description, "package family not found: ghost, was required by: app (searched: /repo)");
  assert.equal(r.failure?.explanation, "no package family 'ghost' exists in /repo (required by app)");
});

test("a range no version satisfies fails as missing-version", () => {
  const r = solve(["nail-9"], nails);
  assert.equal(r.failure?.kind, "missing-version");
  assert.equal(r.failure?.description, "Package could not be found: nail-9");
  assert.equal(r.failure?.explanation, "no version of nail satisfies nail-9 (requested)");
});

test("a dependency cycle fails and lists the cycle", () => {
  const r = solve(["cyca"], nails);
  assert.equal(r.status, "failed");
  assert.equal(r.failure?.kind, "cycle");
  assert.equal(r.failure?.description, "A cyclic dependency was detected: cyca-1 --> cycb-1 --> cyca-1");
  assert.equal(
    r.failure?.explanation,
    "the packages depend on each other in a cycle: cyca-1 requires cycb-1, cycb-1 requires cyca-1",
  );
  assert.deepEqual(r.failure?.cycle, ["cyca-1", "cycb-1"]);
});

test("conflicting requests fail before solving", () => {
  const r = solve(["nail-1", "nail-2"], nails);
  assert.equal(r.failure?.kind, "conflict");
  assert.equal(r.failure?.description, "The following package conflicts occurred: (nail-1 <--!--> nail-2)");
  assert.equal(r.failure?.explanation, "nail-1 (requested) conflicts with nail-2 (requested)");
  assert.equal(r.steps, 0);
});

test("a conflict deep in the graph is explained through the chain of packages", () => {
  const r = solve(["bar", "nail-1.2+<2"], nails);
  assert.equal(r.failure?.kind, "conflict");
  assert.equal(
    r.failure?.description,
    "The following package conflicts occurred: (nail-2.1+<3 <--!--> nail==1.2|==1.5)",
  );
  assert.equal(
    r.failure?.explanation,
    "nail-2.1+<3 (required by foo-1.2 via bar-3) conflicts with nail-1.2+<2 (requested), which leaves nail==1.2|==1.5",
  );
  assert.deepEqual(r.failure?.conflicts, [
    {
      dependency: { requirement: "nail-2.1+<3", requiredBy: [["foo-1.2", "bar-3"]] },
      conflicting: { requirement: "nail-1.2+<2", requiredBy: [] },
    },
  ]);
});

test("a malformed requirement string is an InputError naming the text", () => {
  assert.throws(
    () => solve(["nail-3+<2"], nails),
    (e: unknown) => e instanceof InputError && /invalid requirement 'nail-3\+<2'/.test(e.message),
  );
  assert.throws(
    () => solve(["nail-1..==2"], nails),
    (e: unknown) => e instanceof InputError && /nail-1\.\.==2/.test(e.message),
  );
});

test("a variant whose own requirements conflict fails with Rez's ResolveError text", () => {
  const r = solve(
    ["bad"],
    repo([
      { name: "bad", version: "1", requires: ["nail-1"], variants: [["nail-2"]] },
      { name: "nail", version: "1" },
    ]),
  );
  assert.equal(r.failure?.kind, "internal-conflict");
  assert.equal(
    r.failure?.description,
    "The package bad-1[0] has an internal requirements conflict: nail-1 <--!--> nail-2",
  );
});

test("when every variant is reduced away, each removal is named", () => {
  const r = solve(
    ["baz", "qux"],
    repo([
      { name: "baz", version: "2.0", requires: ["!qux"] },
      { name: "qux", version: "1.5" },
    ]),
  );
  assert.equal(r.failure?.kind, "total-reduction");
  assert.equal(r.failure?.description, "A package was completely reduced: (baz-2.0[] (dep(!qux) <--!--> qux==1.5))");
  assert.match(
    r.failure.explanation,
    /^no variant of baz-2\.0 \(requested\) fits: baz-2\.0\[\] requires !qux, which conflicts with qux==1\.5 \(requested\)$/,
  );
});
