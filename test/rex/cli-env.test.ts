/**
 * `tantalus env` and `tantalus shell` through the real CLI, resolving the rex
 * corpus with Tantalus's solver.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { runCli, tempDir } from "../helpers.js";
import { VERSION } from "../../src/version.js";
import { CORPUS_REPO, loadVectors } from "./vectors.js";

const data = loadVectors();
const byName = (name: string) => data.vectors.find((v) => v.name === name)!;

/** REZ_USED and REZ_USED_TIMESTAMP are Tantalus's own (no Rez, the time of the resolve); the rest must be Rez's. */
function withoutRezUsed(env: Record<string, string>): Record<string, string> {
  const { REZ_USED: _u, REZ_USED_TIMESTAMP: _t, ...rest } = env;
  return rest;
}

test("env --json resolves with Tantalus's solver and prints Rez's environ", () => {
  const vec = byName("no-implicit-packages");
  const r = runCli(["env", "--paths", CORPUS_REPO, "--no-implicit", ...vec.request, "--json"], {
    env: { HOME: data.home },
  });
  assert.equal(r.code, 0, r.stderr);
  const environ = JSON.parse(r.stdout) as Record<string, string>;
  assert.deepEqual(withoutRezUsed(environ), withoutRezUsed(vec.environ!));
  assert.equal(environ.REZ_USED, `tantalus ${VERSION}`);
  assert.match(environ.REZ_USED_TIMESTAMP!, /^\d{10}$/);
  // Rez's formatting: sorted keys, 4 spaces.
  assert.match(r.stdout, /^\{\n {4}"CMAKE_MODULE_PATH": /);
});

test("env writes the script for each shell, and --format dotenv an env-file", () => {
  const dir = tempDir();
  for (const shell of ["bash", "sh", "zsh", "tcsh", "csh", "pwsh"]) {
    const out = path.join(dir, `ctx.${shell}`);
    const r = runCli(["env", "--paths", CORPUS_REPO, "--no-implicit", "python", "--shell", shell, "-o", out]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "");
    const text = fs.readFileSync(out, "utf8");
    assert.match(text, /PYTHONHOME/);
    if (shell !== "pwsh") assert.ok(text.startsWith(`#!/bin/${shell}\n`), text.slice(0, 40));
  }
  const dotenv = runCli(["env", "--paths", CORPUS_REPO, "--no-implicit", "python", "--format", "dotenv"]);
  assert.equal(dotenv.code, 0, dotenv.stderr);
  assert.match(dotenv.stdout, new RegExp(`^PYTHONHOME=${CORPUS_REPO}/python/3.11.4/platform-linux/arch-x86_64$`, "m"));
  const refused = runCli(["env", "--paths", CORPUS_REPO, "--no-implicit", "setters", "--format", "dotenv"]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /SET_NEWLINE has a line break/);
});

test("the bash script, sourced in env -i, gives the same environment as --json", () => {
  const dir = tempDir();
  const script = path.join(dir, "ctx.sh");
  const args = ["env", "--paths", CORPUS_REPO, "--no-implicit", "setters", "python"];
  assert.equal(runCli([...args, "-o", script]).code, 0);
  const json = JSON.parse(runCli([...args, "--json"]).stdout) as Record<string, string>;
  const p = spawnSync("/usr/bin/env", ["-i", "bash", "--norc", "--noprofile", "-c", `. ${script}; /usr/bin/env -0`], {
    encoding: "utf8",
  });
  const sourced = Object.fromEntries(
    p.stdout
      .split("\0")
      .filter((e) => e && !/^(PWD|SHLVL|_|OLDPWD)=/.test(e))
      .map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]),
  );
  // The two runs resolve at different times: only the timestamp may differ.
  delete sourced.REZ_USED_TIMESTAMP;
  delete json.REZ_USED_TIMESTAMP;
  assert.deepEqual(sourced, json);
});

test("env --root-map moves the repository in every value; --system-paths replaces the PATH tail", () => {
  const r = runCli([
    "env",
    "--paths",
    CORPUS_REPO,
    "--no-implicit",
    "python",
    "--json",
    "--root-map",
    `${CORPUS_REPO}=/opt/pkgs`,
    "--system-paths",
    "/usr/bin:/bin",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const env = JSON.parse(r.stdout) as Record<string, string>;
  assert.equal(env.PATH, "/opt/pkgs/python/3.11.4/platform-linux/arch-x86_64/bin:/usr/bin:/bin");
  assert.equal(env.REZ_USED_PACKAGES_PATH, "/opt/pkgs");
  assert.ok(!r.stdout.includes(CORPUS_REPO));
});

test("a context written by resolve gives the same script every time; a Rez .rxt sets REZ_RXT_FILE", () => {
  const dir = tempDir();
  const lock = path.join(dir, "ctx.json");
  const rxt = path.join(dir, "ctx.rxt");
  const res = runCli([
    "resolve",
    "--paths",
    CORPUS_REPO,
    "--no-implicit",
    "phases_b",
    "python-3.9",
    "-o",
    lock,
    "--rxt",
    rxt,
  ]);
  assert.equal(res.code, 0, res.stderr);
  const a = runCli(["env", "--context", lock]);
  const b = runCli(["env", "--context", lock]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(a.stdout, b.stdout);
  assert.ok(!a.stdout.includes("REZ_RXT_FILE"));
  const fromRxt = runCli(["env", "--context", rxt]);
  assert.equal(fromRxt.code, 0, fromRxt.stderr);
  assert.match(fromRxt.stdout, new RegExp(`^export REZ_RXT_FILE="${rxt}"$`, "m"));
  const vec = byName("phases-3.9");
  const env = JSON.parse(runCli(["env", "--context", lock, "--json"]).stdout) as Record<string, string>;
  assert.equal(env.ORDER, vec.environ!.ORDER);
  assert.equal(env.PATH, vec.environ!.PATH);
});

test("a failing package command exits 1 naming the file, line and Rez's reason", () => {
  const r = runCli(["env", "--paths", CORPUS_REPO, "--no-implicit", "fail_stop"]);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    new RegExp(
      `${CORPUS_REPO}/fail_stop/1.0/package.py:8: Error in commands in package fail_stop-1.0\\[\\]: fail_stop 1.0 cannot run on linux`,
    ),
  );
  const usage = runCli(["env", "--paths", CORPUS_REPO, "python", "--shell", "fish"]);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--shell fish/);
});

test("shell -c runs a command in the environment, with aliases, and exits with its status", () => {
  for (const shell of ["bash", "sh", "zsh", "tcsh"]) {
    const r = runCli([
      "shell",
      "--paths",
      CORPUS_REPO,
      "--no-implicit",
      "messages",
      "--shell",
      shell,
      "-c",
      "msgtool x\nprintenv MSG_DONE\nexit 3",
    ]);
    assert.equal(r.code, 3, `${shell}: ${r.stderr}`);
    assert.match(r.stdout, /^msgtool --flag x\nyes\n/m, shell);
  }
});
