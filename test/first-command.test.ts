// Every command may be the first one a new user runs: on an empty home it must leave
// only valid folders behind (the store an OCI layout or absent, caches in the cache),
// and `build` then `run` must work after it. Issue 13: the audit wrote its caches into
// a store that had no layout yet, and the build refused that folder.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { parseDocument } from "yaml";
import { runCli, tempDir, type CliResult } from "./helpers.js";

const hasPodman = spawnSync("sh", ["-c", "command -v podman"]).status === 0;
const ROOT = (process.getuid?.() ?? 1) === 0;

let studio: string;
let config: string;
const made: string[] = [];

/** The environment of a user who has never run Tantalus: an empty home, no cache or store variables. */
function newUser(): NodeJS.ProcessEnv & { HOME: string } {
  const home = tempDir("tantalus-newuser-");
  made.push(home);
  return {
    HOME: home,
    XDG_CACHE_HOME: undefined,
    TANTALUS_CACHE_DIR: undefined,
    TANTALUS_STORE: undefined,
    TANTALUS_CONFIG: undefined,
    TANTALUS_PACKAGES_PATH: undefined,
  };
}

function files(dir: string, rel = ""): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const r = path.join(rel, e.name);
    out.push(r);
    if (e.isDirectory()) out.push(...files(dir, r));
  }
  return out;
}

function show(r: CliResult): string {
  return `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
}

before(() => {
  studio = path.join(tempDir("tantalus-first-"), "studio");
  made.push(path.dirname(studio));
  const r = runCli(["studio", "generate", studio], { env: newUser() });
  assert.equal(r.code, 0, show(r));
  config = path.join(studio, "tantalus.yaml");
  // The repair `npm run demo` applies: without it the build's audit refuses rough_layout.
  const doc = parseDocument(fs.readFileSync(config, "utf8"));
  doc.setIn(["packages", "layout_tools", "add_requires"], ["alembic-1.8"]);
  fs.writeFileSync(config, doc.toString());
});

after(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

// Each first command, with the exit statuses it may end with on an empty home
// (nothing built yet: some of them have nothing to work on and say so).
const FIRST: { name: string; args: () => string[]; codes: number[] }[] = [
  // --suggest writes the soname index; the whole audit may report the studio's deliberate defects (exit 1).
  { name: "audit", args: () => ["audit", "--all", "--suggest", "--config", config], codes: [0, 1] },
  { name: "plan", args: () => ["plan", "--all", "--summary", "--config", config], codes: [0] },
  { name: "build", args: () => ["build", "rough_layout", "--config", config], codes: [0] },
  { name: "run", args: () => ["run", "rough_layout", "--config", config, "-c", "true"], codes: [0, 1, 2] },
  { name: "images", args: () => ["images", "--config", config], codes: [0] },
  { name: "gc", args: () => ["gc", "--config", config], codes: [0] },
  // No registry listens on port 9: the pull fails after it opened the store.
  {
    name: "pull",
    args: () => ["pull", "127.0.0.1:9/tantalus/rough_layout:latest", "--insecure", "--config", config],
    codes: [1, 2],
  },
  {
    name: "diff",
    args: () => ["diff", "rough_layout:latest", "layout_review:latest", "--config", config],
    codes: [1, 2],
  },
  { name: "doctor", args: () => ["doctor", "--config", config], codes: [0, 1] },
];

describe(
  "the first command on an empty home",
  { skip: !hasPodman ? "podman is not installed" : !ROOT ? "rootful podman needs root" : false },
  () => {
    for (const first of FIRST) {
      test(`${first.name} first, then build and run`, { timeout: 300_000 }, () => {
        const env = newUser();
        const r = runCli(first.args(), { env, cwd: studio });
        assert.ok(first.codes.includes(r.code), `tantalus ${first.name} first: ${show(r)}`);
        assert.doesNotMatch(r.stderr, /^\s+at /m, "a user error, never a stack trace");

        // Only the cache (with the store inside it by default) was written in the home.
        for (const f of files(env.HOME))
          assert.ok(
            f === ".cache" || f.startsWith(path.join(".cache", "tantalus")),
            `${first.name} wrote ${f} outside ~/.cache/tantalus`,
          );
        const store = path.join(env.HOME, ".cache", "tantalus", "store");
        if (fs.existsSync(store)) {
          assert.ok(
            fs.existsSync(path.join(store, "oci-layout")),
            `${first.name} left ${store} without an oci-layout: ${files(store).join(", ")}`,
          );
          for (const f of fs.readdirSync(store))
            assert.ok(
              ["oci-layout", "index.json", "blobs", ".tantalus"].includes(f),
              `${first.name} wrote ${f} into the store`,
            );
        }

        const build = runCli(["build", "rough_layout", "--config", config], { env, cwd: studio });
        assert.equal(build.code, 0, `build after ${first.name}: ${show(build)}`);
        const run = runCli(
          ["run", "rough_layout", "--config", config, "--runtime", "podman", "-c", "launch_app -show=dragon"],
          { env, cwd: studio },
        );
        assert.equal(run.code, 0, `run after ${first.name}: ${show(run)}`);
        assert.match(run.stdout, /launch_app: show=dragon/);
      });
    }
  },
);

describe(
  "notes at launch",
  { skip: !hasPodman ? "podman is not installed" : !ROOT ? "rootful podman needs root" : false },
  () => {
    test("the working folder's note shows on a workflow's first run only", { timeout: 300_000 }, () => {
      const env = newUser();
      const note = /note: the working directory .* is not mounted in the container/;
      const launch = (workflow: string) => {
        const r = runCli(["run", workflow, "--config", config, "--runtime", "podman", "-c", "true"], {
          env,
          cwd: studio,
        });
        assert.equal(r.code, 0, show(r));
        return r.stderr;
      };
      assert.match(
        launch("rough_layout"),
        note,
        "the studio folder is outside the home: the first run says it is not mounted",
      );
      assert.doesNotMatch(launch("rough_layout"), note, "not again for the same workflow");
      assert.match(launch("modeling"), note, "another workflow's first run says it again");
    });
  },
);
