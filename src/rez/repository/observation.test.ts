import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { Repositories, observationHolds, type RepositoryObservation } from "./index.js";

function writePackage(root: string, name: string, version: string, body = ""): string {
  const dir = join(root, name, version);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "package.py");
  writeFileSync(file, `name = '${name}'\nversion = '${version}'\n${body}`);
  return file;
}

/** A fresh load of `families`, as a resolve would read them, and its observation. */
function observe(paths: string[], families: string[]): RepositoryObservation {
  const repos = new Repositories(paths, { cache: false, observe: true });
  for (const f of families) repos.family(f);
  return repos.observation(families);
}

/** Directory times move on creation; a fixed past time makes every later change visible on coarse clocks too. */
function settle(...paths: string[]): void {
  for (const p of paths) utimesSync(p, 1_000_000, 1_000_000);
}

test("an observation holds while the repositories are untouched and fails on every change a resolve would see", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "tantalus-observation-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const studio = join(dir, "studio");
  const site = join(dir, "site");
  const maya = writePackage(studio, "maya", "2024.1", "requires = ['python-3.10']\n");
  writePackage(studio, "python", "3.10.4");
  mkdirSync(site);
  settle(maya, join(studio, "maya"), join(studio, "python"), studio, site);
  const paths = [site, studio];
  const fams = ["maya", "python", "usd"];

  const fresh = () => observe(paths, fams);
  const before = fresh();
  assert.equal(observationHolds(before), true);
  assert.deepEqual(Object.keys(before.families), ["maya", "python", "usd"]);
  assert.equal(
    before.families.usd![1]!.dir,
    null,
    "a family the resolve asked for and did not find is observed as absent",
  );

  // A definition edited in place (same size, new time).
  writeFileSync(maya, `name = 'maya'\nversion = '2024.1'\nrequires = ['python-3.11']\n`);
  assert.equal(observationHolds(before), false);
  const edited = fresh();
  assert.equal(observationHolds(edited), true);

  // A new version of an observed family.
  settle(join(studio, "python"));
  const v2 = fresh();
  writePackage(studio, "python", "3.11.2");
  assert.equal(observationHolds(v2), false);

  // A version hidden by a .ignore file.
  settle(join(studio, "python"));
  const v3 = fresh();
  writeFileSync(join(studio, "python", ".ignore3.11.2"), "");
  assert.equal(observationHolds(v3), false);

  // The family appearing in an earlier repository of the search path.
  const v4 = fresh();
  writePackage(site, "maya", "2025.0");
  assert.equal(observationHolds(v4), false);

  // A family that did not exist appears.
  const v5 = fresh();
  writePackage(studio, "usd", "24.5");
  assert.equal(observationHolds(v5), false);

  // A version directory whose definition was missing gets one (package.yaml here).
  mkdirSync(join(studio, "usd", "25.0"));
  settle(join(studio, "usd"));
  const v6 = fresh();
  writeFileSync(join(studio, "usd", "25.0", "package.yaml"), "name: usd\nversion: '25.0'\n");
  assert.equal(observationHolds(v6), false);

  // Families the resolve never asked for are not part of it.
  const v7 = fresh();
  writePackage(studio, "nuke", "15.1");
  assert.equal(observationHolds(v7), true);
  assert.equal(observationHolds({ ...v7, roots: [studio] }), false, "a different search path never matches");
});

test("observation() needs repositories opened to observe", () => {
  const repos = new Repositories([tmpdir()], { cache: false });
  assert.equal(repos.observing, false);
  assert.throws(() => repos.observation(["maya"]), /without observe/);
});
