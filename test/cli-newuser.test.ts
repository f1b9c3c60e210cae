/**
 * What a pipeline TD meets on a first day with the features of this session,
 * the wrong ways included: each mistake is one sentence with the right exit
 * status, never a stack trace, and the right thing is named.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import test from "node:test";
import { looksLikeStackTrace, runCli, tempDir, tinyRepository } from "./helpers.js";

/** A project of trivial packages, with no REZ_* / TANTALUS_* variable of the host leaking in. */
function project(extraYaml = ""): { dir: string; env: NodeJS.ProcessEnv } {
  const dir = tempDir("tantalus-newuser-");
  tinyRepository(path.join(dir, "packages"));
  fs.writeFileSync(
    path.join(dir, "tantalus.yaml"),
    `packages_path: [packages]\nimplicit_packages: []\n` +
      `workflows:\n  rough_layout: { request: [fam0000] }\n  modeling: { request: [fam0001] }\n${extraYaml}`,
  );
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(REZ_|TANTALUS_|XDG_)/.test(k)) env[k] = v;
  Object.assign(env, {
    HOME: path.join(dir, "home"),
    TANTALUS_SITE_CONFIG: "",
    TANTALUS_NO_REZ_CONFIG: "1",
    TANTALUS_CACHE_DIR: path.join(dir, "cache"),
  });
  fs.mkdirSync(env.HOME!);
  return { dir, env };
}

test("tantalus diff of references the store lacks exits 2, not 1 (which says the images differ)", () => {
  const { dir, env } = project();
  const store = path.join(dir, "store");
  // An empty OCI image layout: a store that holds no image yet.
  fs.mkdirSync(path.join(store, "blobs", "sha256"), { recursive: true });
  fs.writeFileSync(path.join(store, "oci-layout"), `{"imageLayoutVersion":"1.0.0"}`);
  fs.writeFileSync(path.join(store, "index.json"), `{"schemaVersion":2,"manifests":[]}`);
  for (const args of [
    ["diff", "rough_layout", "modeling"],
    ["diff", "nope", "nope2"],
  ]) {
    const r = runCli([...args, "--store", store], { cwd: dir, env });
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, /^tantalus: error: no image "(rough_layout|nope)" in the store /);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.ok(!looksLikeStackTrace(r.stderr), r.stderr);
  }
});

test("run --request that does not resolve names the request, not an unnamed workflow at a line of tantalus.yaml", () => {
  const { dir, env } = project();
  for (const [request, why] of [
    ["fam0000 nosuchfam", /no package family 'nosuchfam' exists/],
    ["fam0000-1 fam0000-2", /conflicts with/],
  ] as const) {
    const r = runCli(["run", "--request", request, "--store", path.join(dir, "store"), "--", "true"], {
      cwd: dir,
      env,
    });
    assert.equal(r.code, 1, r.stderr);
    const error = r.stderr.split("\n").find((l) => l.startsWith("tantalus: error:")) ?? "";
    assert.match(error, new RegExp(`^tantalus: error: the request "${request}" does not resolve: `));
    assert.match(error, why);
    assert.doesNotMatch(r.stderr, /tantalus\.yaml:\d|workflow request-/);
    assert.ok(!looksLikeStackTrace(r.stderr), r.stderr);
  }
});

test("a mistyped family in a workflow still gets its 'did you mean' when tantalus.yaml has add_requires", () => {
  const { dir, env } = project(`  typo: { request: [fam00001] }\npackages:\n  fam0000: { add_requires: [fam0001] }\n`);
  for (const args of [
    ["resolve", "-w", "typo"],
    ["run", "--request", "fam00002", "--store", path.join(dir, "store"), "--", "true"],
  ]) {
    const r = runCli(args, { cwd: dir, env });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout + r.stderr, /no package family 'fam0000\d' exists .*; did you mean fam000\d\?/);
  }
});

test("plan and report of a mistyped workflow name it with the nearest one, before anything is resolved", () => {
  const { dir, env } = project();
  for (const args of [
    ["plan", "rough_layot"],
    ["report", "rough_layot", "--html", "site"],
  ]) {
    const r = runCli(args, { cwd: dir, env });
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /^tantalus: error: no workflow 'rough_layot' in .*tantalus\.yaml \(did you mean rough_layout\?\)/,
    );
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  }
  assert.ok(!fs.existsSync(path.join(dir, "site")), "the report wrote nothing");
});

test("a misspelt python: setting or variable, and a timeout CPython cannot use, are one sentence each", () => {
  const { dir, env } = project();
  const cases: [NodeJS.ProcessEnv, RegExp][] = [
    [
      { TANTALUS_PYTHON: "cpyton" },
      /^tantalus: error: TANTALUS_PYTHON: expected builtin or cpython, not 'cpyton' \(did you mean cpython\?\)\n$/,
    ],
    [
      { TANTALUS_CPYTHON_TIMEOUT: "abc" },
      /^tantalus: error: TANTALUS_CPYTHON_TIMEOUT: expected a number of seconds above 0, not 'abc'\n$/,
    ],
  ];
  for (const [vars, expected] of cases) {
    const r = runCli(["repo", "check"], { cwd: dir, env: { ...env, ...vars } });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, expected);
  }
  fs.appendFileSync(path.join(dir, "tantalus.yaml"), "python: cpyton\n");
  for (const args of [
    ["repo", "check"],
    ["config", "--check", "tantalus.yaml"],
  ]) {
    const r = runCli(args, { cwd: dir, env });
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      /tantalus\.yaml:6:9: python: expected builtin, cpython, .*, not 'cpyton' \(did you mean cpython\?\)/,
    );
  }
});

test("python: cpython with an interpreter that is not there says where it looked", () => {
  const { dir, env } = project();
  fs.mkdirSync(path.join(dir, "packages", "proc", "1.0"), { recursive: true });
  fs.writeFileSync(
    path.join(dir, "packages", "proc", "1.0", "package.py"),
    `name = "proc"\nversion = "1.0"\nimport subprocess\ndescription = subprocess.check_output(["echo", "x"]).decode()\n`,
  );
  fs.appendFileSync(path.join(dir, "tantalus.yaml"), "python: { evaluator: cpython, interpreter: /no/such/python3 }\n");
  const absolute = runCli(["repo", "check"], { cwd: dir, env });
  assert.equal(absolute.code, 1, absolute.stderr);
  assert.match(absolute.stderr, /package\.py: error: .*'\/no\/such\/python3' does not exist \(python\.interpreter\)\n/);
  assert.doesNotMatch(absolute.stderr, /on PATH/);
  // python3 looked up on a PATH that has no python3 (only node): PATH is named.
  const bin = path.join(dir, "bin");
  fs.mkdirSync(bin);
  fs.symlinkSync(process.execPath, path.join(bin, "node"));
  fs.writeFileSync(
    path.join(dir, "tantalus.yaml"),
    fs.readFileSync(path.join(dir, "tantalus.yaml"), "utf8").replace(/^python: .*$/m, "python: cpython"),
  );
  const onPath = runCli(["repo", "check"], { cwd: dir, env: { ...env, PATH: bin, TANTALUS_NO_CACHE: "1" } });
  assert.equal(onPath.code, 1, onPath.stderr);
  assert.match(onPath.stderr, /package\.py: error: .*'python3' was not found on PATH\n/);
  assert.ok(!looksLikeStackTrace(absolute.stderr + onPath.stderr));
});

test("run --request refused by the audit says what a request can do, not `build --allow-audit-errors`", () => {
  const { dir, env } = project();
  fs.mkdirSync(path.join(dir, "packages", "leaky", "1.0"), { recursive: true });
  fs.writeFileSync(
    path.join(dir, "packages", "leaky", "1.0", "package.py"),
    `name = "leaky"\nversion = "1.0"\ndef commands():\n    env.LEAKY_PROJECTS = "/studio/projects"\n`,
  );
  const r = runCli(["run", "--request", "leaky", "--store", path.join(dir, "store"), "--dry-run", "--", "true"], {
    cwd: dir,
    env,
  });
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.stderr,
    /tantalus: error: the audit found errors in the image of the request "leaky", so it was not written \(a request gets the mounts of run\.mounts only.*\):\n {2}leaky-1\.0: host-leak: LEAKY_PROJECTS contains \/studio\/projects/,
  );
  assert.doesNotMatch(r.stderr, /request-[0-9a-f]+:/);
  assert.ok(!looksLikeStackTrace(r.stderr), r.stderr);
});

test("gc --dev-retention --dry-run lists run --request's image as would-be untagged, and its help names request tags", () => {
  const { dir, env } = project();
  const store = path.join(dir, "store");
  const built = runCli(["run", "--request", "fam0000", "--store", store, "--dry-run", "--", "true"], { cwd: dir, env });
  assert.equal(built.code, 0, built.stderr);
  const dry = runCli(["gc", "--store", store, "--dev-retention", "0s", "--dry-run"], { cwd: dir, env });
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /^would remove 1 tag\(s\)/);
  assert.match(dry.stdout, /^ {2}would untag request:[0-9a-f]{12}$/m);
  assert.doesNotMatch(dry.stdout, /untagged/);
  const images = runCli(["images", "--store", store], { cwd: dir, env });
  assert.match(images.stdout, /request:[0-9a-f]{12}/, "the dry run untagged nothing");
  const help = runCli(["gc", "--help"], { cwd: dir, env });
  assert.match(help.stdout.replace(/\s+/g, " "), /WORKFLOW:dev-<user>-<hash>, and run --request's request:<hash>/);
});

test("shell --shell NAME on a host without that shell says so in words, not spawnSync's", () => {
  const { dir, env } = project();
  const bin = path.join(dir, "bin");
  fs.mkdirSync(bin);
  fs.symlinkSync(process.execPath, path.join(bin, "node"));
  const r = runCli(["shell", "fam0000", "--shell", "tcsh", "-c", "true"], { cwd: dir, env: { ...env, PATH: bin } });
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.stderr,
    /^tantalus: error: cannot start the shell tcsh: it is not installed on this host \(not found on PATH\); --shell chooses another/,
  );
  assert.doesNotMatch(r.stderr, /spawnSync|ENOENT/);
});

test("a context file that is missing or a folder is named with the errno's words, not Node's message", () => {
  const { dir, env } = project();
  const cases: [string[], RegExp][] = [
    [
      ["context", "verify", "nope.json"],
      /^tantalus: error: nope\.json: cannot read context: no such file or directory \(ENOENT\)\n$/,
    ],
    [["context", "show", "."], /^tantalus: error: \.: cannot read context: is a directory \(EISDIR\)\n$/],
    [
      ["env", "--context", "nope.json"],
      /^tantalus: error: .*nope\.json: cannot read the context: no such file or directory \(ENOENT\)\n$/,
    ],
  ];
  for (const [args, expected] of cases) {
    const r = runCli(args, { cwd: dir, env });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, expected);
  }
});

test("report --migration of a file that is not there is named with the errno's words, before anything is written", () => {
  const { dir, env } = project();
  const r = runCli(["report", "--html", "site", "--migration", "nope.json"], { cwd: dir, env });
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.stderr,
    /^tantalus: error: cannot read the migration report nope\.json: no such file or directory \(ENOENT\)\n$/,
  );
  assert.ok(!fs.existsSync(path.join(dir, "site")));
});

test("run --request with a workflow name before -- is a usage error, not a program that exits 127 in the container", () => {
  const { dir, env } = project();
  const store = path.join(dir, "store");
  const r = runCli(["run", "--request", "fam0000", "rough_layout", "--store", store, "--dry-run", "--", "true"], {
    cwd: dir,
    env,
  });
  assert.equal(r.code, 2, r.stderr);
  assert.match(
    r.stderr,
    /^tantalus: error: --request runs an ad-hoc request, not a workflow: 'rough_layout' is given before --/,
  );
  assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  assert.ok(!fs.existsSync(store), "nothing was built");
  // The program after -- is still the program: the dry run prints the command it would start.
  const ok = runCli(["run", "--request", "fam0000", "--store", store, "--dry-run", "--", "true", "x"], {
    cwd: dir,
    env,
  });
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, / true x$/m);
});
