import { test } from "node:test";
import assert from "node:assert/strict";
import { Repositories } from "../src/rez/repository/index.js";
import { solve } from "../src/solver/index.js";
import { extractBenchmarkRepo, readReference, referenceName } from "./solver/benchmark-repo.js";

// Rez's own solver benchmark: 188 requests against an 18226-package repository,
// with the resolves Rez committed (rez 2.112.0; rez 3.4.0 gives the same).
// Every status and every ordered variant list must be identical.
test("resolves all 188 Rez benchmark requests exactly as Rez does", () => {
  const repos = new Repositories([extractBenchmarkRepo()], { cache: false });
  const reference = readReference();
  assert.equal(reference.length, 188);
  const wrong: string[] = [];
  let failed = 0;
  for (let i = 0; i < reference.length; i++) {
    const ref = reference[i]!;
    const r = solve(ref.request, repos);
    const got = r.resolved.map((v) => v.qualifiedName);
    const want = (ref.resolved_packages ?? []).map(referenceName);
    if (r.status === "failed") failed++;
    if ((r.status === "solved") !== (ref.status === "success") || JSON.stringify(got) !== JSON.stringify(want)) {
      wrong.push(`#${i} ${ref.request.join(" ")}: got ${r.status} ${got.join(" ")}`);
    }
  }
  assert.deepEqual(wrong, []);
  assert.equal(failed, 1);
});

test("the one benchmark request Rez cannot solve fails with Rez's description", () => {
  const repos = new Repositories([extractBenchmarkRepo()], { cache: false });
  const ref = readReference()[2]!;
  const r = solve(ref.request, repos);
  assert.equal(r.status, "failed");
  assert.equal(r.failure?.description, "The following package conflicts occurred: (nail-2.1+<3 <--!--> nail-1.2+<2)");
  assert.match(
    r.failure.explanation,
    /^nail-2\.1\+<3 \(required by .+\) conflicts with nail-1\.2\+<2 \(required by .+\)$/,
  );
});
