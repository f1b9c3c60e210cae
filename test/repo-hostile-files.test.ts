/**
 * A package.py that is not a regular file: a symbolic link loop, a FIFO, a
 * folder, a dangling link. Each is one problem naming the file; the rest of
 * the studio still loads, and nothing blocks on a FIFO.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { InputError } from "../src/errors.js";
import { readPackageFile } from "../src/rez/definition/index.js";
import { Repositories } from "../src/rez/repository/index.js";
import { projectRoot } from "./helpers.js";

function hostileRepository(t: { after: (fn: () => void) => void }): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "tantalus-hostile-repo-"));
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  const put = (rel: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), text);
  };
  put("good/1.0/package.py", "name = 'good'\nversion = '1.0'\n");
  put("linked/1.0/real.py", "name = 'linked'\nversion = '1.0'\n");
  fs.symlinkSync("real.py", path.join(root, "linked/1.0/package.py"));
  for (const d of ["loop/1.0", "fifo/1.0", "folder/1.0/package.py", "dangling/1.0", "uloop"])
    fs.mkdirSync(path.join(root, d), { recursive: true });
  fs.symlinkSync("package.py", path.join(root, "loop/1.0/package.py"));
  fs.symlinkSync("package.py", path.join(root, "uloop/package.py"));
  fs.symlinkSync("nowhere.py", path.join(root, "dangling/1.0/package.py"));
  spawnSync("mkfifo", [path.join(root, "fifo/1.0/package.py")]);
  assert.ok(fs.lstatSync(path.join(root, "fifo/1.0/package.py")).isFIFO());
  return root;
}

/** The CLI from source (no build needed), killed after a minute: the FIFO used to block it forever. */
function cli(args: string[], cache: string) {
  const script = `import(${JSON.stringify(path.join(projectRoot, "src/cli/main.ts"))}).then((m) => m.main(["node", "tantalus", ...${JSON.stringify(args)}])).then((c) => { process.exitCode = c; })`;
  return spawnSync(process.execPath, ["--import", "tsx", "-e", script], {
    cwd: projectRoot,
    env: { ...process.env, XDG_CACHE_HOME: cache },
    encoding: "utf8",
    timeout: 60_000,
  });
}

test("search '*' over a studio with a package.py loop, FIFO, folder and dangling link lists the good packages; repo check names each broken file", (t) => {
  const root = hostileRepository(t);
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), "tantalus-hostile-cache-"));
  t.after(() => fs.rmSync(cache, { recursive: true, force: true }));
  for (let round = 0; round < 2; round++) {
    // Twice: the second run has the repository index cache, which stats before reading.
    const search = cli(["search", "*", "--paths", root], cache);
    assert.equal(search.signal, null, `search finished (it blocked on the FIFO before): ${search.stderr}`);
    assert.doesNotMatch(search.stderr, /internal error| {4}at /, "no stack trace");
    // A broken definition is never skipped silently (as rez-search): the good families are listed, each broken file is named, exit 1.
    assert.equal(search.status, 1, search.stderr);
    // Families are listed by name, as rez-search lists them; a package.py that links to a file is read, as Rez reads it.
    assert.deepEqual(search.stdout.trim().split("\n"), [
      "dangling",
      "fifo",
      "folder",
      "good",
      "linked",
      "loop",
      "uloop",
    ]);
    assert.doesNotMatch(search.stderr, new RegExp(`^${path.join(root, "(good|linked)")}`, "m"));
    for (const rel of [
      "loop/1.0/package.py",
      "fifo/1.0/package.py",
      "folder/1.0/package.py",
      "dangling/1.0/package.py",
      "uloop/package.py",
    ]) {
      assert.match(search.stderr, new RegExp(`^${path.join(root, rel)}: `, "m"), rel);
    }
  }
  const check = cli(["repo", "check", "--paths", root], cache);
  assert.equal(check.signal, null);
  assert.equal(check.status, 1);
  assert.doesNotMatch(check.stderr, /internal error| {4}at /, "no stack trace");
  const problem = (rel: string, what: string) =>
    assert.match(check.stderr, new RegExp(`^${path.join(root, rel)}: error: (\\S+ cannot be loaded: )?${what}$`, "m"));
  problem("loop/1.0/package.py", "the package definition is a symbolic link loop");
  problem("uloop/package.py", "the package definition is a symbolic link loop");
  problem("fifo/1.0/package.py", "the package definition is a FIFO, not a regular file");
  problem("folder/1.0/package.py", "the package definition is a folder, not a regular file");
  problem("dangling/1.0/package.py", "the package definition is a link to nowhere\\.py, which does not exist");
});

test("readPackageFile refuses a FIFO at once instead of waiting for a writer", (t) => {
  const root = hostileRepository(t);
  assert.throws(
    () => readPackageFile(path.join(root, "fifo/1.0/package.py")),
    (e: unknown) => e instanceof InputError && /is a FIFO, not a regular file/.test(e.message),
  );
  assert.throws(
    () => readPackageFile(path.join(root, "loop/1.0/package.py")),
    (e: unknown) => e instanceof InputError && /symbolic link loop/.test(e.message),
  );
  // The repository reports them as problems with the cache on, too (it stats before reading).
  const repos = new Repositories([root], { cache: false });
  assert.deepEqual(
    repos.family("good")!.map((p) => p.qualifiedName),
    ["good-1.0"],
  );
  // A broken version stays in its family (so a resolve that reaches it fails, as in Rez), carrying why.
  const loop = repos.family("loop")!;
  assert.equal(loop.length, 1);
  assert.match(loop[0]!.summary.broken?.message ?? "", /symbolic link loop/);
});
