import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Repositories } from "./index.js";
import { readPackageFile } from "../definition/index.js";

/** Writes `files` (relative path → content) under a fresh temp dir and returns it. */
function tree(files: Record<string, string>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "tantalus-repo-"));
  for (const [rel, content] of Object.entries(files)) {
    const p = path.join(root, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content);
  }
  return root;
}

const pkg = (name: string, version: string, extra = "") => `name = '${name}'\nversion = '${version}'\n${extra}`;

test("variants get roots named from their requirements", () => {
  const root = tree({
    "bar/1.0/package.py": pkg(
      "bar",
      "1.0",
      "requires = ['foo-1']\nvariants = [['python-3.9'], ['python-3.11', 'arch-x86_64']]\n",
    ),
  });
  const repos = new Repositories([root], { cache: false });
  const [bar] = repos.family("bar")!;
  assert.equal(bar!.variants.length, 2);
  assert.equal(bar!.variants[0]!.root, path.join(root, "bar/1.0/python-3.9"));
  assert.equal(bar!.variants[1]!.root, path.join(root, "bar/1.0/python-3.11/arch-x86_64"));
  assert.deepEqual(bar!.variants[1]!.requires.map(String), ["foo-1", "python-3.11", "arch-x86_64"]);
  assert.equal(bar!.variants[1]!.qualifiedName, "bar-1.0[1]");
});

test("a package without variants has one null variant rooted at its base", () => {
  const root = tree({ "foo/1.2/package.py": pkg("foo", "1.2") });
  const [foo] = new Repositories([root], { cache: false }).family("foo")!;
  assert.equal(foo!.variants.length, 1);
  assert.equal(foo!.variants[0]!.index, null);
  assert.equal(foo!.variants[0]!.qualifiedName, "foo-1.2[]");
  assert.equal(foo!.variants[0]!.root, path.join(root, "foo/1.2"));
});

test("hashed variants live in the sha1 of the requirement list's Python repr", () => {
  const root = tree({
    "baz/2.0/package.py": pkg("baz", "2.0", "hashed_variants = True\nvariants = [['python-3.11']]\n"),
  });
  const [baz] = new Repositories([root], { cache: false }).family("baz")!;
  // The directory rez-build made for this variant (rez.md §1.1, checked with real Rez).
  assert.equal(baz!.variants[0]!.root, path.join(root, "baz/2.0/b99a49e4ec48ad4d9833734782ee775813473768"));
});

test(".ignore files hide a version and dot-directories are skipped", () => {
  const root = tree({
    "foo/1.0/package.py": pkg("foo", "1.0"),
    "foo/2.0/package.py": pkg("foo", "2.0"),
    "foo/.ignore2.0": "",
    "foo/.hidden/package.py": pkg("foo", "9"),
  });
  const versions = new Repositories([root], { cache: false }).family("foo")!.map((p) => p.version.toString());
  assert.deepEqual(versions, ["1.0"]);
});

test("an earlier search path wins for the same version, compared as versions", () => {
  const a = tree({ "foo/1.0/package.py": pkg("foo", "1.0", "description = 'from a'\n") });
  const b = tree({
    "foo/1-0/package.py": pkg("foo", "1-0", "description = 'from b'\n"),
    "foo/3/package.py": pkg("foo", "3"),
  });
  const family = new Repositories([a, b], { cache: false }).family("foo")!;
  assert.deepEqual(family.map((p) => p.version.toString()).sort(), ["1.0", "3"]);
  assert.equal(family.find((p) => p.version.toString() === "1.0")!.definition.description, "from a");
});

test("an unversioned package is found at the family root", () => {
  const root = tree({ "tools/package.py": "name = 'tools'\n" });
  const family = new Repositories([root], { cache: false }).family("tools")!;
  assert.equal(family.length, 1);
  assert.equal(family[0]!.version.toString(), "");
  assert.equal(family[0]!.variants[0]!.qualifiedName, "tools[]");
});

test("package.yaml is read when there is no package.py", () => {
  const root = tree({ "qux/1.5/package.yaml": "name: qux\nversion: '1.5'\nrequires: [foo-1]\n" });
  const [qux] = new Repositories([root], { cache: false }).family("qux")!;
  assert.deepEqual(qux!.requires.map(String), ["foo-1"]);
});

test("broken packages are reported with file and line and loading goes on", () => {
  const root = tree({
    "good/1/package.py": pkg("good", "1"),
    "bad/1/package.py": "name = 'bad'\nversion = '1'\nrequires = ['foo-1', 'foo--']\n",
    "bad/2/package.py": "name = 'bad'\nversion = '2'\nimport subprocess\n",
    "ugly/not..a..version/package.py": pkg("ugly", "x"),
    "empty/1/README": "no definition here",
  });
  const repos = new Repositories([root], { cache: false });
  const counts = repos.loadAll();
  assert.deepEqual(counts, { families: 1, packages: 1, variants: 1 });
  const problems = repos.problems.map((p) => `${path.relative(root, p.file)}:${p.line ?? ""}: ${p.message}`).sort();
  assert.equal(problems.length, 4, problems.join("\n"));
  assert.match(problems[0]!, /^bad\/1\/package\.py:3: requires: .*foo--/);
  assert.match(problems[1]!, /^bad\/2\/package\.py:3: .*import/);
  assert.match(problems[2]!, /^empty\/1:: version directory has no package\.py/);
  assert.match(problems[3]!, /^ugly\/not\.\.a\.\.version:: directory name is not a valid Rez version/);
});

test("a version being installed (.building) without a definition is skipped silently", () => {
  const root = tree({ "foo/1/package.py": pkg("foo", "1"), "foo/2/payload": "", "foo/.building2": "" });
  const repos = new Repositories([root], { cache: false });
  assert.deepEqual(
    repos.family("foo")!.map((p) => p.version.toString()),
    ["1"],
  );
  assert.equal(repos.problems.length, 0);
});

test("a missing family is undefined and a missing repository is empty", () => {
  const repos = new Repositories([path.join(os.tmpdir(), "tantalus-no-such-repo")], { cache: false });
  assert.equal(repos.family("nothing"), undefined);
  assert.deepEqual(repos.loadAll(), { families: 0, packages: 0, variants: 0 });
});

test("a hashed variant with a shortlink is rooted at the shortlink, as rez-build installs it", () => {
  const hash = "b99a49e4ec48ad4d9833734782ee775813473768";
  const root = tree({
    "baz/2.0/package.py": pkg("baz", "2.0", "hashed_variants = True\nvariants = [['python-3.11']]\n"),
    [`baz/2.0/${hash}/bin/baz`]: "",
  });
  fs.mkdirSync(path.join(root, "baz/2.0/_v"));
  fs.symlinkSync(`../${hash}`, path.join(root, "baz/2.0/_v/a"));
  const [baz] = new Repositories([root], { cache: false }).family("baz")!;
  assert.equal(baz!.variants[0]!.root, path.join(root, "baz/2.0/_v/a"));
});

test("the index cache serves unchanged packages without reading them and re-reads changed ones", () => {
  const root = tree({
    "foo/1.0/package.py": pkg("foo", "1.0", "requires = ['bar-1']\n"),
    "foo/2.0/package.py": pkg("foo", "2.0", "requires = ['bar-2']\ntantalus = {'layer': 'platform'}\n"),
  });
  const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), "tantalus-cache-"));
  const reads: string[] = [];
  const counting = (file: string) => {
    reads.push(path.relative(root, file));
    return readPackageFile(file);
  };
  const first = new Repositories([root], { read: counting, cache: cacheDir });
  assert.equal(first.loadAll().packages, 2);
  assert.equal(reads.length, 2);

  reads.length = 0;
  const second = new Repositories([root], { read: counting, cache: cacheDir });
  const fam = second.family("foo")!;
  assert.equal(reads.length, 0, "unchanged packages come from the cache");
  assert.deepEqual(fam.map((p) => p.requires.map(String)).sort(), [["bar-1"], ["bar-2"]]);
  assert.deepEqual(fam.find((p) => p.version.toString() === "2.0")!.tantalus, { layer: "platform" });
  // The full definition is still there on demand.
  assert.equal(fam[0]!.definition.name, "foo");
  assert.equal(reads.length, 1);

  reads.length = 0;
  fs.writeFileSync(path.join(root, "foo/1.0/package.py"), pkg("foo", "1.0", "requires = ['bar-1.5']\n"));
  fs.mkdirSync(path.join(root, "foo/3.0"));
  fs.writeFileSync(path.join(root, "foo/3.0/package.py"), pkg("foo", "3.0"));
  const third = new Repositories([root], { read: counting, cache: cacheDir });
  const fam3 = third.family("foo")!;
  assert.deepEqual(reads.sort(), ["foo/1.0/package.py", "foo/3.0/package.py"]);
  assert.deepEqual(fam3.find((p) => p.version.toString() === "1.0")!.requires.map(String), ["bar-1.5"]);
  assert.equal(fam3.length, 3);
});
