/**
 * Usage errors are found before any work starts and exit 2 (issue 16, item
 * 16): a malformed request on the command line, a malformed `--push` or
 * `pull` reference, an `--output` with an unknown transport or an archive
 * onto a folder. "Before any work" is checked by the store: the build would
 * create it, so it must not exist afterwards. `run --gpu all` on a machine
 * without a GPU fails before any image is looked for, built or copied.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import { looksLikeStackTrace, runCliBounded, tempDir, tinyRepository } from "./helpers.js";

let dir: string;
let studio: string;
before(() => {
  dir = tempDir("tantalus-usage-");
  studio = path.join(dir, "studio");
  tinyRepository(path.join(studio, "packages"), 2);
  fs.writeFileSync(
    path.join(studio, "tantalus.yaml"),
    "packages_path: [packages]\nimplicit_packages: []\nbase:\n  image: demo\nworkflows:\n  one:\n    request: [fam0000]\n  two:\n    request: [fam0001]\n",
  );
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function usage(args: string[], message: RegExp): void {
  const r = runCliBounded(args, { cwd: studio, timeoutMs: 120_000 });
  assert.equal(r.timedOut, false, `${args.join(" ")} hung`);
  assert.ok(!looksLikeStackTrace(r.stderr), r.stderr);
  assert.equal(r.code, 2, `${args.join(" ")}: exit ${r.code}\n${r.stderr}`);
  assert.match(r.stderr, message);
}

test("a malformed request on the command line is a usage error", () => {
  usage(["resolve", "fam0000-==1.."], /^tantalus: error: invalid requirement 'fam0000-==1\.\.'/);
  usage(["env", "fam0000", "bad name"], /invalid requirement 'bad name'/);
  usage(["info", "fam0000-==1.."], /^tantalus: error: invalid requirement 'fam0000-==1\.\.'/);
  usage(["search", "fam*-==1.."], /^tantalus: error: invalid search pattern 'fam\*-==1\.\.': /);
});

test("a malformed registry reference is a usage error, and `build --push` finds it before building", () => {
  const store = path.join(dir, "push-store");
  usage(
    ["build", "one", "--store", store, "--push", "Registry.example/UPPER::x", "--no-progress"],
    /--push: invalid image reference/,
  );
  assert.equal(fs.existsSync(store), false, "nothing was built");
  usage(
    ["build", "--all", "--store", store, "--push", "registry.example/prefix:tag", "--no-progress"],
    /with 2 images, give a repository prefix/,
  );
  assert.equal(fs.existsSync(store), false, "nothing was built");
  usage(
    ["pull", "UPPER/bad::ref", "--store", store],
    /^tantalus: error: pull: invalid image reference "UPPER\/bad::ref"/,
  );
  assert.equal(fs.existsSync(store), false, "the store is not even opened");
});

test("`build --output` with an unknown transport, or an archive onto a folder, is refused before building", () => {
  const store = path.join(dir, "output-store");
  usage(
    ["build", "one", "--store", store, "--output", "foo:bar", "--no-progress"],
    /--output foo:bar: expected oci:DIR/,
  );
  const folder = path.join(dir, "a-folder");
  fs.mkdirSync(folder);
  usage(
    ["build", "one", "--store", store, "--output", `docker-archive:${folder}`, "--no-progress"],
    /is a directory; an archive is a file/,
  );
  usage(
    ["build", "--all", "--store", store, "--output", `oci-archive:${path.join(dir, "x.tar")}`, "--no-progress"],
    /2 images cannot go into one archive/,
  );
  assert.equal(fs.existsSync(store), false, "nothing was built");
});

test("`run --gpu all` without a GPU fails before the image is looked for or copied into the runtime", (t) => {
  if (fs.existsSync("/dev/nvidia0")) return t.skip("this machine has an NVIDIA GPU");
  const store = path.join(dir, "run-store");
  const r = runCliBounded(["run", "one", "--gpu", "all", "--runtime", "podman", "--store", store, "-c", "true"], {
    cwd: dir,
    timeoutMs: 120_000,
  });
  if (/podman.*(not found|not installed)/i.test(r.stderr)) return t.skip("needs podman (scripts/setup-host.sh)");
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stderr, "tantalus: error: --gpu all: this machine has no NVIDIA GPU (/dev/nvidia0 is missing)\n");
  assert.equal(fs.existsSync(store), false);
});
