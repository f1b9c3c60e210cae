import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { Repositories } from "../src/rez/repository/index.js";
import { solve } from "../src/solver/index.js";
import { PackageFilterList } from "../src/solver/filter.js";
import { projectRoot, runCli } from "./helpers.js";

// A definition that fails to load must fail every resolve that reaches it, as
// in Rez, never be resolved around. The expected outcomes are real Rez 3.4's,
// recorded by scripts/rez-oracle/broken_packages.py over test/fixtures/broken-packages.

const ROOT = path.join(projectRoot, "test", "fixtures", "broken-packages");

interface OracleCase {
  request: string[];
  excludes?: string[];
  outcome: "solved" | "failed" | "error";
  resolved?: string[];
  description?: string;
  exception?: string;
  message?: string;
  loading?: string;
}

/** The part of a failed `resolve --json` these tests read. */
interface FailedResolveJson {
  failure: { kind: string; description: string; broken: { file: string; line: number; message: string } };
}

const oracle = JSON.parse(
  fs.readFileSync(path.join(projectRoot, "test", "data", "rez-broken-packages.json"), "utf8"),
) as { cases: OracleCase[] };

/** Every definition Rez failed to load in some case. */
const brokenByRez = new Set(oracle.cases.filter((c) => c.outcome === "error").map((c) => c.loading!));

function repositories(): Repositories {
  return new Repositories([ROOT], { cache: false });
}

for (const c of oracle.cases) {
  const label = `${c.request.join(" ")}${c.excludes ? ` (excluding ${c.excludes.join(", ")})` : ""}`;
  test(`broken packages: '${label}' ends as Rez's does (${c.outcome}${c.exception ? `, ${c.exception}` : ""})`, () => {
    const r = solve(c.request, repositories(), {
      packageFilter: c.excludes ? PackageFilterList.fromPod([{ excludes: c.excludes }]) : null,
    });
    if (c.outcome === "solved") {
      assert.equal(r.status, "solved", r.failure?.explanation);
      assert.deepEqual(
        r.resolved.map((v) => v.qualifiedName),
        c.resolved,
      );
      return;
    }
    assert.equal(r.status, "failed");
    if (c.outcome === "failed") {
      assert.equal(r.failure!.description, c.description);
      return;
    }
    // Rez raised while loading `loading`. When several versions in the range are broken, Rez reports
    // the first in os.listdir order (not reproducible across file systems), Tantalus the first in
    // name order: then any definition Rez fails on in that family will do.
    assert.equal(r.failure!.kind, "broken-package", r.failure!.description);
    const ours = path.relative(ROOT, r.failure!.broken!.file);
    if (ours !== c.loading) {
      assert.ok(
        brokenByRez.has(ours) && ours.split("/")[0] === c.loading!.split("/")[0],
        `${ours} instead of ${c.loading}`,
      );
      return;
    }
    assert.ok(
      r.failure!.description.startsWith(`Problem loading ${path.join(ROOT, c.loading)}: `),
      r.failure!.description,
    );
    // Where Rez names the line (a ResourceError over a syntax error), the line is the same.
    const line = /\(package\.py, line (\d+)\)$/.exec(c.message ?? "");
    if (line) assert.equal(r.failure!.broken!.line, Number(line[1]));
  });
}

test("a family whose every version fails is reported by its load errors, not as a missing family", () => {
  const r = solve(["maya"], repositories());
  assert.equal(r.failure?.kind, "broken-package");
  assert.doesNotMatch(r.failure.explanation, /not found|no package family/);
  assert.match(r.failure.explanation, /maya-2024 \(in the range maya, requested\) does not load/);
});

test("a broken package reached through a dependency names who required it", () => {
  const r = solve(["usesfooany"], repositories());
  assert.equal(r.failure?.kind, "broken-package");
  assert.deepEqual(r.failure.missing!.requiredBy, [["usesfooany-1"]]);
  assert.match(r.failure.explanation, /required by usesfooany-1/);
});

test("resolve through the CLI fails with the file, line and reason, and exits 1", () => {
  const r = runCli(["resolve", "foo", "--paths", ROOT]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const out = r.stdout + r.stderr;
  const file = path.join(ROOT, "foo", "2.0.0", "package.py").replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  // The terminal gets the failure once, standing alone (file:line, reason, how to hide the version); --json keeps Rez's wording.
  assert.match(out, new RegExp(`foo-2\\.0\\.0 .*does not load: ${file}:3: `));
  const fooJson = JSON.parse(runCli(["resolve", "foo", "--json", "--paths", ROOT]).stdout) as FailedResolveJson;
  assert.match(fooJson.failure.description, new RegExp(`Problem loading ${file}: .*\\(package\\.py, line 3\\)`));
  const json = runCli(["resolve", "bar", "--json", "--paths", ROOT]);
  assert.equal(json.code, 1);
  const d = JSON.parse(json.stdout) as FailedResolveJson;
  assert.equal(d.failure.kind, "broken-package");
  assert.equal(d.failure.broken.file, path.join(ROOT, "bar", "2.0", "package.py"));
  assert.equal(d.failure.broken.line, 3);
  assert.match(d.failure.broken.message, /variants/);
  const ok = runCli(["resolve", "foo-1", "--paths", ROOT]);
  assert.equal(ok.code, 0, ok.stderr);
  // a `name` that disagrees with its directory is loaded, as in Rez, under the directory's name
  const misnamed = runCli(["env", "--json", "--no-implicit", "misname", "--paths", ROOT]);
  assert.equal(misnamed.code, 0, misnamed.stderr);
  assert.equal((JSON.parse(misnamed.stdout) as Record<string, string>).MISNAME_NAME, "misname");
});

test("repo check lists every broken definition; search and info name them", () => {
  const check = runCli(["repo", "check", "--json", "--paths", ROOT]);
  assert.equal(check.code, 1);
  const d = JSON.parse(check.stdout) as { errors: { file: string }[] };
  assert.deepEqual(d.errors.map((e) => path.relative(ROOT, e.file)).sort(), [
    "badreq/1/package.py",
    "bar/2.0/package.py",
    "foo/2.0.0/package.py",
    "maya/2024/package.py",
    "maya/2025/package.py",
  ]);
  const search = runCli(["search", "maya*", "--paths", ROOT]);
  assert.equal(search.code, 1);
  assert.match(search.stderr, /maya\/2024\/package\.py:3: error: maya-2024 cannot be loaded/);
  assert.match(
    search.stderr,
    /maya\/2025\/package\.py:\d+: error: maya-2025 cannot be loaded: ValueError: no licence server/,
  );
  const info = runCli(["info", "foo", "--paths", ROOT]);
  assert.equal(info.code, 1);
  assert.match(info.stderr, /foo\/2\.0\.0\/package\.py:3: .*foo-2\.0\.0 cannot be loaded/);
  const older = runCli(["info", "foo-1", "--json", "--paths", ROOT]);
  assert.equal(older.code, 0, older.stderr);
  assert.deepEqual(
    (JSON.parse(older.stdout) as { broken: { version: string }[] }).broken.map((b) => b.version),
    ["2.0.0"],
  );
});

test("the advice works: an .ignore<version> file hides the broken version, and the resolve goes on without it", () => {
  const repo = fs.mkdtempSync(path.join(process.env.TMPDIR ?? "/tmp", "tantalus-broken-"));
  fs.cpSync(ROOT, repo, { recursive: true });
  const before = solve(["foo"], new Repositories([repo], { cache: false }));
  assert.match(before.failure!.explanation, /hide the version with an \.ignore2\.0\.0 file in .*\/foo$/);
  fs.writeFileSync(path.join(repo, "foo", ".ignore2.0.0"), "");
  const after = solve(["foo"], new Repositories([repo], { cache: false }));
  assert.equal(after.status, "solved");
  assert.deepEqual(
    after.resolved.map((v) => v.qualifiedName),
    ["foo-1.0.0[]"],
  );
  fs.rmSync(repo, { recursive: true, force: true });
});
