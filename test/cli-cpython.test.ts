/**
 * `python: cpython` through the CLI: with it in tantalus.yaml, the packages
 * of test/fixtures/cpython (subprocess, open(), a site module, exec_command)
 * load, resolve and give the environment real Rez gives
 * (test/fixtures/cpython/rez-recorded.json, scripts/rez-oracle/cpython_packages.py);
 * without it, `repo check` names each refused construct and the setting.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import test from "node:test";
import { projectRoot, runCli, tempDir } from "./helpers.js";

const FIXTURE = path.join(projectRoot, "test", "fixtures", "cpython");
const REPO = path.join(FIXTURE, "packages");
const rez = JSON.parse(fs.readFileSync(path.join(FIXTURE, "rez-recorded.json"), "utf8")) as {
  contexts: Record<string, { resolve: string[]; environ: Record<string, string> }>;
};

function project(python: string | undefined): { dir: string; env: NodeJS.ProcessEnv } {
  const dir = tempDir("tantalus-cli-cpython-");
  fs.writeFileSync(
    path.join(dir, "tantalus.yaml"),
    `packages_path: [${REPO}]\nimplicit_packages: []\n${python !== undefined ? `python: ${python}\n` : ""}`,
  );
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(REZ_|TANTALUS_)/.test(k)) env[k] = v;
  Object.assign(env, {
    TANTALUS_SITE_CONFIG: "",
    TANTALUS_NO_REZ_CONFIG: "1",
    TANTALUS_CACHE_DIR: path.join(dir, "cache"),
    PYTHONPATH: path.join(FIXTURE, "site"),
  });
  return { dir, env };
}

test("tantalus resolve and env with python: cpython give Rez's resolve and environment", () => {
  const { dir, env } = project("cpython");
  for (const [request, expected] of Object.entries(rez.contexts)) {
    const r = runCli(["resolve", request, "--json"], { cwd: dir, env });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((JSON.parse(r.stdout) as { resolved: string[] }).resolved, expected.resolve);
    const e = runCli(["env", request, "--format", "json"], { cwd: dir, env });
    assert.equal(e.code, 0, e.stderr);
    const environ = JSON.parse(e.stdout) as Record<string, string>;
    for (const [k, v] of Object.entries(expected.environ)) {
      if (k === "PATH") continue; // the recording host's system paths
      assert.equal(environ[k], v.replaceAll("@ROOT@", FIXTURE), `${request}: ${k}`);
    }
  }
  // A second run reads the summaries from the index cache written by the first: same answer.
  const again = runCli(["resolve", "subproc==1.0", "--json"], { cwd: dir, env });
  assert.equal(again.code, 0, again.stderr);
  // A saved context is interpreted again later: its CPython-loaded packages need CPython again.
  const saved = runCli(["resolve", "subproc==1.0", "-o", "ctx.json"], { cwd: dir, env });
  assert.equal(saved.code, 0, saved.stderr);
  const fromContext = runCli(["env", "--context", "ctx.json", "--format", "json"], { cwd: dir, env });
  assert.equal(fromContext.code, 0, fromContext.stderr);
  assert.equal((JSON.parse(fromContext.stdout) as Record<string, string>).SUBPROC_OUT, "from-commands");
});

test("tantalus repo check: every fixture loads with python: cpython; without it each refusal names the setting", () => {
  const on = project("cpython");
  const ok = runCli(["repo", "check"], { cwd: on.dir, env: on.env });
  assert.equal(ok.code, 0, ok.stderr + ok.stdout);
  assert.match(ok.stdout, /8 packages.* 0 errors/);

  // --verbose names the files CPython loaded, the same when they are read and when the index cache serves them.
  for (const args of [["--no-cache"], []]) {
    const verbose = runCli(["repo", "check", "--verbose", ...args], { cwd: on.dir, env: on.env });
    const loaded = verbose.stdout
      .split("\n")
      .filter((l) => l.endsWith(": loaded by CPython (python: cpython)"))
      .map((l) => path.relative(REPO, l.slice(0, l.indexOf(": "))));
    assert.deepEqual(loaded.sort(), [
      "execcmd/1.0/package.py",
      "laterequires/1.0/package.py",
      "readfile/2.1/package.py",
      "scoped/1.0/package.py",
      "sitemod/1.0/package.py",
      "subproc/1.0/package.py",
    ]);
  }

  const off = project(undefined);
  const refused = runCli(["repo", "check"], { cwd: off.dir, env: off.env });
  assert.equal(refused.code, 1);
  const lines = (refused.stdout + refused.stderr).split("\n").filter((l) => l.includes(": error: "));
  assert.equal(lines.length, 6, lines.join("\n"));
  for (const l of lines)
    assert.match(l, /with the setting 'python: cpython' \(in tantalus.yaml, or TANTALUS_PYTHON=cpython\)$/);

  // TANTALUS_PYTHON turns it on over the file, and `tantalus config` says where the value comes from.
  const viaEnv = runCli(["repo", "check"], { cwd: off.dir, env: { ...off.env, TANTALUS_PYTHON: "cpython" } });
  assert.equal(viaEnv.code, 0, viaEnv.stderr);
  const config = runCli(["config"], { cwd: off.dir, env: { ...off.env, TANTALUS_PYTHON: "cpython" } });
  assert.match(config.stdout, /^env:TANTALUS_PYTHON +python=cpython$/m);
  const fromFile = runCli(["config"], { cwd: on.dir, env: on.env });
  assert.match(fromFile.stdout, /^file:tantalus\.yaml:3 +python=cpython$/m);
  const dflt = runCli(["config"], { cwd: off.dir, env: off.env });
  assert.match(dflt.stdout, /^default +python=builtin$/m);
});

test("a wrong python: value is one sentence naming the file and line", () => {
  const { dir, env } = project("jython");
  const r = runCli(["resolve", "subproc==1.0"], { cwd: dir, env });
  assert.notEqual(r.code, 0);
  assert.match(
    r.stderr,
    /^tantalus: error: tantalus\.yaml:3:9: python: expected builtin, cpython, or \{evaluator: cpython, interpreter: \/usr\/bin\/python3\}, not 'jython' \(did you mean cpython\?\)\n$/,
  );
});
