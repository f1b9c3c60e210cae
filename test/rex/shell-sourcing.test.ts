/**
 * The scripts Tantalus writes, sourced by the real shells (bash, dash as sh,
 * zsh, tcsh, csh) in a clean `env -i` environment, give the environment real
 * Rez computed for the same context (test/data/rex-vectors.json).
 *
 * Where Rez's environ and a shell legitimately differ, the expectation says so:
 * a reference to a variable nobody defined stays as `${X}` in Rez's environ
 * but is empty in sh-like shells, and is an error in csh/tcsh (those vectors
 * are not sourced there). Variables of the parent environment that the context
 * does not touch are inherited by the shell, minus those the context unsets.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { interpretContext, renderShell, hostHomeResolver, type ShellKind } from "../../src/rex/index.js";
import { corpusRepositories, loadVectors, optionsFor, variantsOf, type Vector } from "./vectors.js";

const data = loadVectors();
const repos = corpusRepositories();
const vectors = data.vectors.filter((v) => v.environ);

interface ShellUnderTest {
  kind: ShellKind;
  program: string;
  args: string[];
  source: string;
}

const SHELLS: ShellUnderTest[] = [
  { kind: "bash", program: "bash", args: ["--norc", "--noprofile"], source: "." },
  { kind: "sh", program: "dash", args: [], source: "." },
  { kind: "zsh", program: "zsh", args: ["-f"], source: "." },
  { kind: "tcsh", program: "tcsh", args: ["-f"], source: "source" },
  { kind: "csh", program: "csh", args: ["-f"], source: "source" },
];

const UNRESOLVED = /\$\{[^}]*\}/g;

function run(sh: ShellUnderTest, script: string, env: Record<string, string>, dir: string): Record<string, string> {
  const file = path.join(dir, `context.${sh.kind}`);
  const out = path.join(dir, "environ");
  fs.writeFileSync(file, script);
  fs.rmSync(out, { force: true });
  const envArgs = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  const p = spawnSync(
    "/usr/bin/env",
    ["-i", ...envArgs, sh.program, ...sh.args, "-c", `${sh.source} ${file}; /usr/bin/env -0 > ${out}`],
    {
      cwd: dir,
      encoding: "utf8",
    },
  );
  if (p.error) throw p.error;
  assert.ok(fs.existsSync(out), `${sh.kind} did not get to the end of the script:\n${p.stderr}`);
  const environ: Record<string, string> = {};
  for (const entry of fs.readFileSync(out, "utf8").split("\0")) {
    if (!entry) continue;
    const i = entry.indexOf("=");
    environ[entry.slice(0, i)] = entry.slice(i + 1);
  }
  return environ;
}

function expectedEnviron(vec: Vector, unset: string[], csh: boolean): Record<string, string> {
  const expected: Record<string, string> = {};
  for (const [k, v] of Object.entries(vec.parentEnv)) if (!unset.includes(k)) expected[k] = v;
  for (const [k, v] of Object.entries(vec.environ!)) expected[k] = csh ? v : v.replace(UNRESOLVED, "");
  return expected;
}

test("Rez's environ keeps ${X} only for references to undefined variables (never from literal())", () => {
  // The expectation above relies on it: a literal part containing ${ would be kept by the shell too.
  for (const vec of vectors) {
    for (const a of vec.actions!) {
      for (const arg of a.slice(1)) {
        const parts = (arg as { escaped?: [boolean, string][] })?.escaped ?? [];
        for (const [lit, text] of parts) assert.ok(!(lit && text.includes("${")), `${vec.name}: literal ${text}`);
      }
    }
  }
});

for (const sh of SHELLS) {
  test(`${sh.kind} scripts, sourced by ${sh.program} in env -i, give Rez's environment`, () => {
    const csh = sh.kind === "csh" || sh.kind === "tcsh";
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `tantalus-rex-${sh.kind}-`));
    try {
      const baseline = run(sh, "", {}, dir);
      let sourced = 0;
      for (const vec of vectors) {
        // csh and tcsh stop at a reference to an undefined variable, as they do with Rez's scripts.
        if (csh && Object.values(vec.environ!).some((v) => UNRESOLVED.test(v))) continue;
        const result = interpretContext(variantsOf(vec, repos), {
          ...optionsFor(data, vec),
          shell: sh.kind,
          // PATH's tail is the shell's system paths; use the JSON's (bash's) to compare whole values.
          systemPaths: data.systemPaths.bash,
        });
        const script = renderShell(result.actions, sh.kind, { home: hostHomeResolver(data.home) });
        const actual = run(sh, script, vec.parentEnv, dir);
        const expected = expectedEnviron(vec, result.unset, csh);
        for (const k of Object.keys(actual)) {
          const shellOwn = k in baseline && !(k in expected);
          if (shellOwn || k.startsWith("BASH_FUNC_")) delete actual[k];
        }
        assert.deepEqual(actual, expected, `${vec.name} in ${sh.program}`);
        sourced++;
      }
      assert.ok(sourced >= (csh ? 15 : vectors.length), `${sh.kind}: only ${sourced} vectors sourced`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}

test("aliases, source() and info() run in every shell", () => {
  const vec = vectors.find((v) => v.name === "messages")!;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tantalus-rex-alias-"));
  try {
    for (const sh of SHELLS) {
      const result = interpretContext(variantsOf(vec, repos), { ...optionsFor(data, vec), shell: sh.kind });
      const file = path.join(dir, `context.${sh.kind}`);
      fs.writeFileSync(file, renderShell(result.actions, sh.kind, { home: hostHomeResolver(data.home) }));
      // On a line of its own: csh expands aliases when it reads a line, before the line runs.
      const runner = path.join(dir, `run.${sh.kind}`);
      fs.writeFileSync(runner, `${sh.source} ${file}\nmsgtool a b\n`);
      const p = spawnSync("/usr/bin/env", ["-i", sh.program, ...sh.args, runner], { cwd: dir, encoding: "utf8" });
      const lines = p.stdout.trim().split("\n");
      assert.deepEqual(lines.slice(0, 4), ["loading messages 1.0", "two", "lines", ""], `${sh.kind} info()`);
      assert.ok(lines.includes("init-sourced"), `${sh.kind} source(): ${p.stdout}`);
      assert.equal(lines.at(-1), "msgtool --flag a b", `${sh.kind} alias: ${p.stdout} ${p.stderr}`);
      assert.match(p.stderr, /problem in messages 1\.0/, `${sh.kind} error()`);
      assert.ok(!fs.existsSync(path.join(dir, "2")), `${sh.kind}: error() wrote a file named 2`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
