import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { compareCase, type OracleFile } from "./solver/oracle-cases.js";

// Cases recorded from real Rez 3.4 by scripts/rez-oracle/solver_random.py:
// random repositories (tricky versions, weak/conflict/ephemeral requirements,
// duplicate variants, cycles, missing families and versions, filters,
// orderers, build requirements) and hand-written ones. Each must give Rez's
// exact answer: status, steps, ordered resolve, ephemerals, failure text.
const file = path.join(import.meta.dirname, "data/solver-cases.json");
const data = JSON.parse(fs.readFileSync(file, "utf8")) as OracleFile;

test("the recorded cases cover every kind of outcome", () => {
  const kindOf = (e: (typeof data.cases)[number]["expected"]) => {
    if (e.status === "error") return e.errorType;
    if (e.cyclic) return "cycle";
    if (e.failureDescription?.startsWith("fail limit reached")) return "max-fails";
    if (e.failureDescription?.startsWith("A package was completely reduced")) return "total-reduction";
    return e.status;
  };
  const kinds = new Set(data.cases.map((c) => kindOf(c.expected)));
  for (const k of [
    "solved",
    "failed",
    "cycle",
    "max-fails",
    "total-reduction",
    "PackageFamilyNotFoundError",
    "PackageNotFoundError",
    "ResolveError",
    "TypeError",
  ]) {
    assert.ok(kinds.has(k), `no recorded case ends in ${k}`);
  }
});

for (const c of data.cases) {
  test(`solves ${c.id} as Rez does: ${c.request.join(" ")}`, () => {
    assert.deepEqual(compareCase(c), []);
  });
}
