/**
 * Issue 17: a resolve that differs from the workflow's configured one
 * (`--paths`, `--time`) never moves the workflow's tag. Before, `build
 * --paths` (or a dev folder in the search path) tagged the developer's image
 * as the workflow, so in a shared store every artist ran it until someone
 * rebuilt. Now it is tagged WORKFLOW:dev-<user>-<hash>, the workflow's tag and
 * stamp stay, and `run` without --paths still starts the released image.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import { looksLikeStackTrace, runCliBounded, tempDir } from "./helpers.js";
import { missingTools } from "./builder/fixture.js";
import { currentIdentity } from "../src/run/index.js";

let dir: string;
let studio: string;
let store: string;
let devRepo: string;

function pkg(repo: string, version: string, channel: string, timestamp: number): void {
  const root = path.join(repo, "tool", version);
  fs.mkdirSync(path.join(root, "bin"), { recursive: true });
  fs.writeFileSync(
    path.join(root, "package.py"),
    `name = 'tool'\nversion = '${version}'\ntimestamp = ${timestamp}\ndef commands():\n    env.PATH.prepend('{root}/bin')\n    env.TOOL_CHANNEL = '${channel}'\n`,
  );
  fs.writeFileSync(path.join(root, "bin", "tool"), `#!/bin/sh\necho tool ${version} ${channel}\n`, { mode: 0o755 });
}

before(() => {
  dir = tempDir("tantalus-devpaths-");
  studio = path.join(dir, "studio");
  store = path.join(dir, "store");
  devRepo = path.join(dir, "dev");
  pkg(path.join(studio, "packages"), "1.0", "released", 1_600_000_000);
  pkg(path.join(studio, "packages"), "1.1", "released-later", 1_700_000_000);
  pkg(devRepo, "2.0", "dev", 1_700_000_000);
  fs.writeFileSync(
    path.join(studio, "tantalus.yaml"),
    `packages_path: [packages]\nimplicit_packages: []\nbase:\n  image: demo\nimage:\n  compression: none\n  root_map: {}\nrun:\n  mounts: []\nworkflows:\n  one:\n    request: [tool]\n`,
  );
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function cli(...args: string[]) {
  const r = runCliBounded([...args, "--store", store], {
    cwd: studio,
    timeoutMs: 180_000,
    env: { TANTALUS_PACKAGES_PATH: undefined },
  });
  assert.ok(!looksLikeStackTrace(r.stderr), r.stderr);
  return r;
}

interface IndexEntry {
  digest: string;
  annotations?: Record<string, string>;
}
function tags(): Map<string, IndexEntry> {
  const index = JSON.parse(fs.readFileSync(path.join(store, "index.json"), "utf8")) as { manifests: IndexEntry[] };
  return new Map(index.manifests.map((m) => [m.annotations?.["org.opencontainers.image.ref.name"] ?? "", m]));
}
const stampFile = () => path.join(store, ".tantalus", "stamps", "one.json");

test("build --paths and --time tag WORKFLOW:dev-<user>-<hash> only; the workflow's tag, its stamp and `images` for it stay", () => {
  const built = cli("build", "one", "--no-progress");
  assert.equal(built.code, 0, built.stderr);
  const released = tags().get("one")!.digest;
  const stamp = fs.readFileSync(stampFile(), "utf8");
  const imagesBefore = cli("images").stdout;
  assert.match(imagesBefore, /^one\s+one\s/m);

  const dev = cli("build", "one", "--no-progress", "--paths", `${devRepo}:packages`);
  assert.equal(dev.code, 0, dev.stderr);
  assert.match(
    dev.stdout,
    /one: tagged one:dev-[A-Za-z0-9_.-]+-[0-9a-f]{12} only \(a resolve other than the configured one never moves the tag one\)/,
  );
  const after1 = tags();
  assert.equal(after1.get("one")!.digest, released, "the workflow's tag did not move");
  assert.equal(fs.readFileSync(stampFile(), "utf8"), stamp, "the workflow's stamp is untouched");
  const devTags = [...after1.keys()].filter((t) => /^one:dev-/.test(t));
  assert.equal(devTags.length, 1, [...after1.keys()].join(" "));
  const devEntry = after1.get(devTags[0]!)!;
  assert.notEqual(devEntry.digest, released, "the dev image is another image");
  assert.ok(devEntry.annotations?.["io.tantalus.dev"], "marked as a developer's image");
  // No digest tag for the dev image: `images` lists the released ones as before, plus the dev tag.
  assert.ok(![...after1.keys()].includes(`one:${devEntry.digest.slice(7, 19)}`));
  const imagesAfter = cli("images").stdout;
  // Rows compared as words: the columns widen for the longer dev tag.
  const rows = (text: string) =>
    text
      .split("\n")
      .slice(1)
      .filter(Boolean)
      .map((l) => l.split(/\s+/).join(" "));
  const after = rows(imagesAfter);
  for (const row of rows(imagesBefore))
    assert.ok(after.includes(row), `still listed unchanged: ${row}\n${imagesAfter}`);
  assert.match(imagesAfter, new RegExp(`^one\\s+${devTags[0]!.replace(/[.]/g, "\\.")}\\s`, "m"));

  // --time: the same rule (an older resolve is not the configured one either).
  const old = cli("build", "one", "--no-progress", "--time", "1650000000");
  assert.equal(old.code, 0, old.stderr);
  assert.equal(tags().get("one")!.digest, released);
  assert.equal([...tags().keys()].filter((t) => /^one:dev-/.test(t)).length, 2, "another resolve, another dev tag");
});

test("run --paths runs the dev resolve's image; plain run still the released one; the workflow's tag stays", (t) => {
  const missing = missingTools("podman");
  if (missing) return t.skip(missing);
  if (!fs.existsSync(stampFile())) assert.equal(cli("build", "one", "--no-progress").code, 0);
  const released = tags().get("one")!.digest;
  const dev = cli(
    "run",
    "one",
    "--runtime",
    "podman",
    "--paths",
    `${devRepo}:packages`,
    "-c",
    "tool; echo $TOOL_CHANNEL",
  );
  assert.equal(dev.code, 0, dev.stderr);
  assert.equal(dev.stdout, "tool 2.0 dev\ndev\n");
  const plain = cli("run", "one", "--runtime", "podman", "-c", "tool; echo $TOOL_CHANNEL");
  assert.equal(plain.code, 0, plain.stderr);
  assert.equal(plain.stdout, "tool 1.1 released-later\nreleased-later\n");
  assert.doesNotMatch(plain.stderr, /building/, "the dev build did not make the released image stale");
  assert.equal(tags().get("one")!.digest, released);
});

test("run --time runs the image of the older resolve under a dev tag; plain run still the current one", (t) => {
  const missing = missingTools("podman");
  if (missing) return t.skip(missing);
  if (!fs.existsSync(stampFile())) assert.equal(cli("build", "one", "--no-progress").code, 0);
  const released = tags().get("one")!.digest;
  // 1650000000 is after tool-1.0 (1600000000) and before tool-1.1 (1700000000).
  const old = cli("run", "one", "--runtime", "podman", "--time", "1650000000", "-c", "tool; echo $TOOL_CHANNEL");
  assert.equal(old.code, 0, old.stderr);
  assert.equal(old.stdout, "tool 1.0 released\nreleased\n");
  const plain = cli("run", "one", "--runtime", "podman", "-c", "tool");
  assert.equal(plain.code, 0, plain.stderr);
  assert.equal(plain.stdout, "tool 1.1 released-later\n");
  assert.equal(tags().get("one")!.digest, released, "the workflow's tag did not move");
  const both = cli("run", "one", "--time", "1650000000", "--tag", "one", "-c", "true");
  assert.equal(both.code, 2, both.stderr);
  assert.match(both.stderr, /give either --tag or --paths\/--time, not both/);
});

test("plan, audit and env take --paths as resolve does: the dev repository's version is the one planned, audited and set", () => {
  const paths = `${devRepo}:packages`;
  // These read the store of the configuration (no --store): TANTALUS_STORE names this one.
  const bare = (...args: string[]) =>
    runCliBounded(args, {
      cwd: studio,
      timeoutMs: 120_000,
      env: { TANTALUS_PACKAGES_PATH: undefined, TANTALUS_STORE: store },
    });
  const plan = bare("plan", "one", "--paths", paths);
  assert.equal(plan.code, 0, plan.stderr);
  assert.match(plan.stdout, /tool-2\.0\[\]/);
  assert.doesNotMatch(bare("plan", "one").stdout, /tool-2\.0/);
  const audit = bare("audit", "one", "--json", "--paths", paths);
  assert.equal(audit.code, 0, audit.stderr);
  assert.match(audit.stdout, /tool-2\.0/);
  const env = bare("env", "-w", "one", "--paths", paths, "--format", "json");
  assert.equal(env.code, 0, env.stderr);
  assert.equal((JSON.parse(env.stdout) as Record<string, string>).TOOL_CHANNEL, "dev");
});

test("under sudo, build --paths tags the dev image with the user run names (the invoking user, from SUDO_UID), not root", (t) => {
  if (process.getuid?.() !== 0) return t.skip("sudo's environment means something only to root");
  // nobody (65534) is in every passwd file. The second case is what the build's own lookup used to miss:
  // it read SUDO_USER alone, run reads SUDO_UID, so without SUDO_USER the build said "root".
  const cases: NodeJS.ProcessEnv[] = [
    { SUDO_UID: "65534", SUDO_GID: "65534", SUDO_USER: "nobody" },
    { SUDO_UID: "65534", SUDO_GID: "65534", SUDO_USER: undefined },
  ];
  for (const sudo of cases) {
    const runUser = currentIdentity({ ...process.env, ...sudo }).user;
    assert.equal(runUser, "nobody");
    const r = runCliBounded(["build", "one", "--no-progress", "--paths", `${devRepo}:packages`, "--store", store], {
      cwd: studio,
      timeoutMs: 180_000,
      env: { TANTALUS_PACKAGES_PATH: undefined, ...sudo },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`tagged one:dev-${runUser}-[0-9a-f]{12} only`), JSON.stringify(sudo));
  }
});
