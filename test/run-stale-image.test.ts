/**
 * `tantalus run` never starts a stale image quietly (issue 16, items 10, 12
 * and 14): a payload file edited in place in a released package (no
 * definition touched) is seen by run's stamp as it is by build's layer
 * cache; `run --no-build` fails when tantalus.yaml or a package changed,
 * saying which; a run that rebuilds says why in one line; and `--dry-run`
 * prints the command of the image a real run would start, not the stale one.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import { looksLikeStackTrace, runCliBounded, tempDir, tinyRepository } from "./helpers.js";
import { missingTools } from "./builder/fixture.js";

let dir: string;
let studio: string;
let store: string;
let payload: string;

before(() => {
  dir = tempDir("tantalus-stale-");
  studio = path.join(dir, "studio");
  store = path.join(dir, "store");
  tinyRepository(path.join(studio, "packages"), 1);
  payload = path.join(studio, "packages", "fam0000", "1.0", "shows", "dragon.yaml");
  fs.mkdirSync(path.dirname(payload));
  fs.writeFileSync(payload, "fps: 24\n");
  fs.writeFileSync(
    path.join(studio, "tantalus.yaml"),
    `packages_path: [packages]\nimplicit_packages: []\nbase:\n  image: demo\nimage:\n  compression: none\n  root_map: {}\nworkflows:\n  one:\n    request: [fam0000]\n    env: { DEPARTMENT: layout }\n`,
  );
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The image ID (config digest, as podman names it) of the image the store's tag `one` points at. */
function taggedShort(): string {
  const index = JSON.parse(fs.readFileSync(path.join(store, "index.json"), "utf8")) as {
    manifests: { digest: string; annotations?: Record<string, string> }[];
  };
  const manifest = index.manifests.find((m) => m.annotations?.["org.opencontainers.image.ref.name"] === "one")!.digest;
  const config = (
    JSON.parse(fs.readFileSync(path.join(store, "blobs", "sha256", manifest.slice(7)), "utf8")) as {
      config: { digest: string };
    }
  ).config.digest;
  return config.slice(7);
}

function run(...args: string[]) {
  const r = runCliBounded(["run", "one", "--runtime", "podman", "--store", store, ...args, "-c", "true"], {
    cwd: studio,
    timeoutMs: 120_000,
  });
  assert.ok(!looksLikeStackTrace(r.stderr), r.stderr);
  return r;
}

test("a payload edited in place, then tantalus.yaml: --no-build refuses with the reason, run and --dry-run rebuild and say why", (t) => {
  const missing = missingTools("podman");
  if (missing) return t.skip(missing);
  const built = runCliBounded(["build", "one", "--store", store, "--no-progress"], { cwd: studio, timeoutMs: 120_000 });
  assert.equal(built.code, 0, built.stderr);
  const first = taggedShort();

  const current = run("--dry-run");
  assert.equal(current.code, 0, current.stderr);
  assert.doesNotMatch(current.stderr, /building/, "a current image is not rebuilt");
  assert.match(current.stdout, new RegExp(`podman run .* ${first} -c true`));

  // A released package's payload file edited in place: no definition and no folder listing changes.
  fs.appendFileSync(payload, "# tweaked by a TD\n");
  const refused = run("--no-build", "--dry-run");
  assert.equal(refused.code, 1, refused.stderr);
  assert.match(
    refused.stderr,
    /^tantalus: error: the image of workflow one is out of date \(fam0000-1\.0\[\] changed \(files under \S+fam0000\/1\.0\)\), and --no-build forbids building it/m,
  );

  const dry = run("--dry-run");
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stderr, /^tantalus: building one: fam0000-1\.0\[\] changed \(files under /m, "one line says why");
  const second = taggedShort();
  assert.notEqual(second, first, "the edited payload makes a new image");
  assert.match(
    dry.stdout,
    new RegExp(`podman run .* ${second} -c true`),
    "the dry run prints the command of the image a real run would start",
  );
  assert.doesNotMatch(dry.stdout, new RegExp(first));

  // tantalus.yaml changed in a way the resolve does not see (the environment): still out of date.
  const config = path.join(studio, "tantalus.yaml");
  fs.writeFileSync(config, fs.readFileSync(config, "utf8").replace("DEPARTMENT: layout", "DEPARTMENT: animation"));
  const stale = run("--no-build", "--dry-run");
  assert.equal(stale.code, 1, stale.stderr);
  assert.match(stale.stderr, /out of date \(tantalus\.yaml changed\), and --no-build forbids building it/);
  const rebuilt = run("--dry-run");
  assert.equal(rebuilt.code, 0, rebuilt.stderr);
  assert.equal(rebuilt.stderr.split("\n").filter((l) => /building one/.test(l)).length, 1);
  assert.match(rebuilt.stderr, /^tantalus: building one: tantalus\.yaml changed$/m);
  assert.notEqual(taggedShort(), second);
  assert.doesNotMatch(run("--dry-run").stderr, /building/, "stamped again: the next run starts at once");
});
