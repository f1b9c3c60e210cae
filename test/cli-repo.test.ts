import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { benchmarkRepository, runCli, tempDir } from "./helpers.js";

test("repo check loads the whole Rez benchmark repository with no errors", () => {
  const r = runCli(["repo", "check", "--paths", benchmarkRepository()]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^1266 families, 18226 packages, 25200 variants, 0 errors/);
});

test("repo check --json reports counts and exits non-zero with file:line errors", () => {
  const repo = tempDir();
  fs.mkdirSync(path.join(repo, "ok", "1"), { recursive: true });
  fs.writeFileSync(path.join(repo, "ok", "1", "package.py"), "name = 'ok'\nversion = '1'\n");
  fs.mkdirSync(path.join(repo, "broken", "2"), { recursive: true });
  fs.writeFileSync(
    path.join(repo, "broken", "2", "package.py"),
    "name = 'broken'\nversion = '2'\nrequires = [\n  'foo-1',\n  3,\n]\n",
  );
  const human = runCli(["repo", "check", "--paths", repo]);
  assert.equal(human.code, 1);
  assert.match(human.stdout, /^1 families, 1 packages, 1 variants, 1 error/);
  assert.match(human.stderr, new RegExp(`${path.join(repo, "broken", "2", "package.py")}:\\d+: error: .*requires`));
  const json = runCli(["repo", "check", "--json", "--paths", repo]);
  assert.equal(json.code, 1);
  const data = JSON.parse(json.stdout) as { packages: number; errors: { file: string; line: number }[] };
  assert.equal(data.packages, 1);
  assert.equal(data.errors.length, 1);
  assert.equal(data.errors[0]!.file, path.join(repo, "broken", "2", "package.py"));
  assert.equal(typeof data.errors[0]!.line, "number");
});

test("info shows versions, requirements and variant roots; search finds families and versions", () => {
  const repo = benchmarkRepository();
  const info = runCli(["info", "cope", "--json", "--paths", repo]);
  assert.equal(info.code, 0, info.stderr);
  const d = JSON.parse(info.stdout) as { name: string; versions: string[]; variants: { root: string }[] };
  assert.equal(d.name, "cope");
  assert.ok(d.versions.includes("3.79.3"));
  assert.ok(d.variants.length >= 1);
  assert.ok(d.variants.every((v) => v.root.startsWith(path.join(repo, "cope"))));
  const human = runCli(["info", "cope-3.79.3", "--paths", repo]);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /cope-3\.79\.3\n/);
  assert.match(human.stdout, /requires: +bonus-18\.2\.0\+<19/);
  assert.match(human.stdout, /\[0\] wave-2\.7 cartload-1\.1\.6 /);

  const search = runCli(["search", "cop*", "--paths", repo]);
  assert.equal(search.code, 0, search.stderr);
  assert.ok(search.stdout.split("\n").includes("cope"));
  const ranged = runCli(["search", "cope-3.79+<3.80", "--paths", repo]);
  assert.ok(ranged.stdout.split("\n").includes("cope-3.79.3"));
  const none = runCli(["search", "no_such_family*", "--paths", repo]);
  assert.equal(none.code, 1);
});

test("unknown packages and bad usage give clear errors and exit codes", () => {
  const repo = benchmarkRepository();
  const missing = runCli(["info", "no_such_family", "--paths", repo]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /package family 'no_such_family' not found/);
  const usage = runCli(["info"]);
  assert.equal(usage.code, 2);
  const noPaths = runCli(["repo", "check"], { cwd: tempDir(), env: { TANTALUS_PACKAGES_PATH: "" } });
  assert.equal(noPaths.code, 2);
  assert.match(noPaths.stderr, /no package search path/);
  const version = runCli(["--version"]);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^\d+\.\d+\.\d+/);
});

test("repo check --verbose lists the packages whose definition asked the host, with the line and the answer; they are never served from the index cache", () => {
  const repo = tempDir();
  fs.mkdirSync(path.join(repo, "plain", "1"), { recursive: true });
  fs.writeFileSync(path.join(repo, "plain", "1", "package.py"), "name = 'plain'\nversion = '1'\n");
  fs.mkdirSync(path.join(repo, "asks", "2"), { recursive: true });
  fs.writeFileSync(
    path.join(repo, "asks", "2", "package.py"),
    "import platform, os\nname = 'asks'\nversion = '2'\n\n@early()\ndef requires():\n    return ['linux-dep'] if platform.system() == 'Linux' else []\n\nhas_root = os.path.isdir('/')\n",
  );
  const cache = tempDir();
  for (let run = 0; run < 2; run++) {
    // The second run has a warm index cache: the package that asked must still be evaluated (and listed).
    const r = runCli(["repo", "check", "--verbose", "--paths", repo], { env: { TANTALUS_CACHE_DIR: cache } });
    assert.equal(r.code, 0, r.stderr);
    const file = path.join(repo, "asks", "2", "package.py");
    assert.ok(r.stdout.includes(`${file}: asks the host (2 questions):\n`), r.stdout);
    assert.match(r.stdout, / {2}line 7: platform\.system\(\) -> "\w+" \(platform\)\n/);
    assert.match(r.stdout, / {2}line 9: os\.path\.isdir\("\/"\) -> "directory" \(filesystem\)\n/);
    assert.ok(!r.stdout.includes("plain"), r.stdout);
  }
  const json = JSON.parse(runCli(["repo", "check", "--verbose", "--json", "--paths", repo]).stdout) as {
    hostQueries: { queries: { query: string; line: number }[] }[];
  };
  assert.deepEqual(
    json.hostQueries[0]!.queries.map((q) => [q.query, q.line]),
    // In evaluation order: the module body first, then its @early functions.
    [
      ['os.path.isdir("/")', 9],
      ["platform.system()", 7],
    ],
  );
  const quiet = runCli(["repo", "check", "--paths", repo]);
  assert.ok(!quiet.stdout.includes("asks the host"), quiet.stdout);
});
