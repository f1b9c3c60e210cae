/**
 * Missing install roots (issue 16, item 11): on a build host where the
 * packages' payloads are not mounted, the variant roots a resolve names do
 * not exist. `audit` must not call that clean and `build` must not write an
 * image with empty package layers: both fail naming every missing root, as
 * `build --context` does for a lock.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import { looksLikeStackTrace, runCliBounded, tempDir } from "./helpers.js";

let dir: string;
let studio: string;

function pkg(repo: string, name: string, body: string): void {
  fs.mkdirSync(path.join(repo, name, "1.0"), { recursive: true });
  fs.writeFileSync(path.join(repo, name, "1.0", "package.py"), `name = '${name}'\nversion = '1.0'\n${body}`);
}

before(() => {
  dir = tempDir("tantalus-roots-");
  studio = path.join(dir, "studio");
  const repo = path.join(studio, "packages");
  pkg(repo, "dep", "");
  // Variant roots are <family>/1.0/dep: the payload folders a release would have made.
  pkg(repo, "tool", "variants = [['dep']]\n");
  pkg(repo, "app", "variants = [['dep']]\nrequires = ['tool']\n");
  fs.mkdirSync(path.join(repo, "app", "1.0", "dep", "bin"), { recursive: true });
  fs.writeFileSync(path.join(repo, "app", "1.0", "dep", "bin", "app"), "#!/bin/sh\n", { mode: 0o755 });
  fs.writeFileSync(
    path.join(studio, "tantalus.yaml"),
    "packages_path: [packages]\nimplicit_packages: []\nbase:\n  image: demo\nworkflows:\n  work:\n    request: [app]\n",
  );
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const missing = () =>
  new RegExp(
    `workflow '?work'?: 1 of 3 install roots are missing \\(are the package payloads mounted on this machine\\?\\):\\n  tool-1\\.0\\[0\\]: install root ${path.join(studio, "packages", "tool", "1.0", "dep")} is gone`,
  );

test("audit fails naming the missing install roots instead of reporting a clean image", () => {
  const r = runCliBounded(["audit", "work"], { cwd: studio, timeoutMs: 120_000 });
  assert.ok(!looksLikeStackTrace(r.stderr), r.stderr);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stderr, missing());
});

test("build fails naming the missing install roots and writes no image", () => {
  const store = path.join(dir, "store");
  const r = runCliBounded(["build", "work", "--store", store, "--no-progress"], { cwd: studio, timeoutMs: 120_000 });
  assert.ok(!looksLikeStackTrace(r.stderr), r.stderr);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stderr, missing());
  const index = fs.existsSync(path.join(store, "index.json"))
    ? (JSON.parse(fs.readFileSync(path.join(store, "index.json"), "utf8")) as { manifests: unknown[] })
    : { manifests: [] };
  assert.equal(index.manifests.length, 0, "no image is tagged");

  // Once the payload is there (mounted), the same build succeeds.
  fs.mkdirSync(path.join(studio, "packages", "tool", "1.0", "dep"));
  const ok = runCliBounded(["build", "work", "--store", store, "--no-progress"], { cwd: studio, timeoutMs: 120_000 });
  assert.equal(ok.code, 0, ok.stderr);
  fs.rmdirSync(path.join(studio, "packages", "tool", "1.0", "dep"));
});
