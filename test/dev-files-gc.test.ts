/**
 * `run --dev` writes the environment files it mounts over /etc/tantalus into
 * <run cache>/dev/files/<hash>, one folder per distinct environment: every
 * edit of a dev package.py adds one. `gc` removes the folders no kept dev
 * launch mounts and no launch used within dev.retention (the same age after
 * which it untags dev images); a launch refreshes the folder's last use, so a
 * folder a container may have just mounted is never taken.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import { looksLikeStackTrace, oneToolWorkflow, runCliBounded, tempDir } from "./helpers.js";
import { missingTools } from "./builder/fixture.js";

const missing = missingTools("podman");
let dir: string;
let studio: string;
let store: string;
let devRepo: string;
let env: NodeJS.ProcessEnv;

const DAY = 86_400_000;
const filesRoot = () => path.join(dir, "cache", "run", "dev", "files");
const folders = () => fs.readdirSync(filesRoot()).sort();
const lastUse = (name: string) => fs.statSync(path.join(filesRoot(), name, ".complete")).mtimeMs;

function devPackage(channel: string): void {
  const root = path.join(devRepo, "tool", "2.0");
  fs.mkdirSync(path.join(root, "bin"), { recursive: true });
  fs.writeFileSync(
    path.join(root, "package.py"),
    `name = 'tool'\nversion = '2.0'\ndef commands():\n    env.PATH.prepend('{root}/bin')\n    env.TOOL_CHANNEL = '${channel}'\n`,
  );
}

/** As if the folder was last used `days` ago. */
function age(name: string, days: number): void {
  const then = new Date(Date.now() - days * DAY);
  fs.utimesSync(path.join(filesRoot(), name, ".complete"), then, then);
  fs.utimesSync(path.join(filesRoot(), name), then, then);
}

function cli(...args: string[]) {
  const r = runCliBounded([...args, "--store", store], { cwd: studio, env, timeoutMs: 180_000 });
  assert.ok(!looksLikeStackTrace(r.stderr), r.stderr);
  assert.equal(r.code, 0, r.stderr);
  return r;
}
const devLaunch = () => cli("run", "one", "--dev", devRepo, "--dry-run", "-c", "true");
const gc = (...args: string[]) =>
  (JSON.parse(cli("gc", "--json", "--dev-retention", "7d", ...args).stdout) as { devFiles: string[] }).devFiles.map(
    (d) => path.basename(d),
  );

before(() => {
  dir = tempDir("tantalus-devfiles-gc-");
  studio = path.join(dir, "studio");
  store = path.join(dir, "store");
  devRepo = path.join(dir, "dev");
  const released = path.join(studio, "packages", "tool", "1.0");
  fs.mkdirSync(path.join(released, "bin"), { recursive: true });
  fs.writeFileSync(
    path.join(released, "package.py"),
    "name = 'tool'\nversion = '1.0'\ndef commands():\n    env.PATH.prepend('{root}/bin')\n",
  );
  env = oneToolWorkflow(dir, studio);
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test(
  "gc removes the dev environment folders no kept launch mounts and none used within dev.retention; a launch refreshes what it mounts",
  { skip: missing },
  () => {
    devPackage("dev");
    devLaunch();
    const [first] = folders();
    devPackage("dev, edited");
    assert.match(devLaunch().stderr, /dev: resolving one again/);
    const second = folders().find((f) => f !== first)!;
    assert.deepEqual(folders(), [first, second].sort());

    // Both used just now: nothing goes, whether the kept launch mounts it or not.
    assert.deepEqual(gc(), []);

    // Unused for 30 days: the folder of the edit before goes; the one the kept launch mounts stays.
    age(first!, 30);
    age(second, 30);
    fs.mkdirSync(path.join(filesRoot(), ".tmp-0123-99999", "etc"), { recursive: true }); // a launch killed mid-write
    const then = new Date(Date.now() - 30 * DAY);
    fs.utimesSync(path.join(filesRoot(), ".tmp-0123-99999"), then, then);
    assert.deepEqual(gc("--dry-run"), [".tmp-0123-99999", first].sort());
    assert.deepEqual(folders(), [".tmp-0123-99999", first, second].sort(), "--dry-run removes nothing");
    const text = cli("gc", "--dev-retention", "7d").stdout;
    assert.match(
      text,
      /removed 2 file\(s\) of dev launches \(kept resolves, environment folders\) unused for the dev retention/,
    );
    assert.deepEqual(folders(), [second]);

    // The kept launch mounts it again without resolving, and marks it used.
    const relaunch = devLaunch();
    assert.doesNotMatch(relaunch.stderr, /resolving one again/);
    assert.ok(Date.now() - lastUse(second) < 60_000, "the launch refreshed the folder's last use");

    // Back to the first environment: the second is no longer kept, but was used within the retention.
    devPackage("dev");
    devLaunch();
    assert.equal(folders().length, 2);
    assert.deepEqual(gc(), [], "used within the retention: a container may have it mounted");
    age(second, 8);
    assert.deepEqual(gc(), [second]);
    assert.equal(folders().length, 1);
    assert.doesNotMatch(devLaunch().stderr, /resolving one again/, "the kept launch's folder is still there");

    // The kept launch itself is marked used on every reuse; unused for the retention, it goes with its folder,
    // and the next launch resolves as a first one does.
    const state = fs.readdirSync(path.join(dir, "cache", "run", "dev")).find((f) => f.endsWith(".json"))!;
    const statePath = path.join(dir, "cache", "run", "dev", state);
    assert.ok(Date.now() - fs.statSync(statePath).mtimeMs < 60_000, "the kept launch was marked used");
    const [last] = folders();
    age(last!, 8);
    const old = new Date(Date.now() - 8 * DAY);
    fs.utimesSync(statePath, old, old);
    // gc names the kept launch before the folders it mounted: compare as sets, the names are random hex.
    assert.deepEqual(gc().sort(), [last, state].sort());
    assert.deepEqual(folders(), []);
    assert.ok(!fs.existsSync(statePath));
    const fresh = devLaunch();
    assert.match(fresh.stderr, /dev: tool-2\.0 from /);
    assert.doesNotMatch(fresh.stderr, /again/);
    assert.equal(folders().length, 1);
  },
);
