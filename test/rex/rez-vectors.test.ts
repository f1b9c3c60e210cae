/**
 * Tantalus's rex against real Rez: every vector of test/data/rex-vectors.json
 * (a corpus of packages whose commands use every rex call, resolved and
 * interpreted by Rez 3.4) must give Rez's environ, Rez's action list, Rez's
 * JSON text and Rez's shell code, and fail where Rez fails, for the same reason.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import {
  interpretContext,
  renderEnvironJson,
  renderShell,
  hostHomeResolver,
  REZ_SYSTEM_PATHS,
  RexCommandError,
  SHELL_KINDS,
} from "../../src/rex/index.js";
import type { Action, ShellKind } from "../../src/rex/index.js";
import { EscapedString } from "../../src/rex/escaped.js";
import {
  CORPUS_REPO,
  corpusRepositories,
  loadVectors,
  markedLine,
  optionsFor,
  variantsOf,
  type ActionJson,
  type Vector,
} from "./vectors.js";

const data = loadVectors();
const repos = corpusRepositories();
const ok = data.vectors.filter((v) => v.environ);
const failing = data.vectors.filter((v) => v.error);

function interpret(vec: Vector, shell?: ShellKind, extra: Record<string, unknown> = {}) {
  return interpretContext(variantsOf(vec, repos), {
    ...optionsFor(data, vec),
    ...(shell ? { shell, systemPaths: data.systemPaths[shell] } : {}),
    ...extra,
  });
}

test("the corpus has vectors for every kind of rex call, and failures", () => {
  const calls = new Set(ok.flatMap((v) => v.actions!.map((a) => a[0])));
  for (const c of [
    "shebang",
    "setenv",
    "resetenv",
    "unsetenv",
    "prependenv",
    "appendenv",
    "alias",
    "info",
    "error",
    "command",
    "comment",
    "source",
  ]) {
    assert.ok(calls.has(c), `no vector records a ${c} action`);
  }
  assert.ok(failing.length >= 8);
});

test("every vector interprets to the environ Rez computed, in Rez's order", () => {
  for (const vec of ok) {
    const { environ } = interpret(vec);
    assert.deepEqual(environ, vec.environ, vec.name);
    assert.deepEqual(Object.keys(environ), Object.keys(vec.environ!), `${vec.name}: variable order`);
  }
});

test("the environ prints byte for byte as rez context --interpret -f json --no-env", () => {
  const printed = ok.filter((v) => v.cliJson);
  assert.ok(printed.length >= 10);
  for (const vec of printed) assert.equal(renderEnvironJson(interpret(vec).environ), vec.cliJson, vec.name);
});

function partsOf(v: unknown): unknown {
  if (v instanceof EscapedString) return v.parts.map(([l, t]) => [l, t]);
  if (typeof v === "string") return [[false, v]];
  if (v && typeof v === "object" && "escaped" in v) return v.escaped;
  return v;
}

/** Rez's Action list, as recorded by the oracle, in our vocabulary. */
function rezActions(actions: ActionJson[]): unknown[] {
  return actions.map(([name, ...args]) => {
    switch (name) {
      case "setenv":
      case "prependenv":
      case "appendenv":
        return [name, args[0], partsOf(args[1])];
      case "resetenv":
        return [name, args[0], partsOf(args[1])];
      case "info":
      case "error":
        return [name, partsOf(args[0])];
      case "command":
        return [name, Array.isArray(args[0]) ? args[0].map(partsOf) : args[0]];
      default:
        return [name, ...args];
    }
  });
}

function ourActions(actions: Action[]): unknown[] {
  return actions
    .filter((a) => a.kind !== "saferefenv")
    .map((a) => {
      switch (a.kind) {
        case "setenv":
        case "resetenv":
        case "prependenv":
        case "appendenv":
          return [a.kind, a.key, partsOf(a.value)];
        case "unsetenv":
          return [a.kind, a.key];
        case "alias":
          return [a.kind, a.name, a.command];
        case "info":
        case "error":
          return [a.kind, partsOf(a.message)];
        case "command":
          return [a.kind, typeof a.command === "string" ? a.command : a.command.map(partsOf)];
        case "comment":
          return [a.kind, a.text];
        case "source":
          return [a.kind, a.path];
        default:
          return [a.kind];
      }
    });
}

test("the actions are Rez's rex actions: same calls, keys and literal/expandable values, in order", () => {
  for (const vec of ok) {
    assert.deepEqual(ourActions(interpret(vec).actions), rezActions(vec.actions!), vec.name);
  }
});

test("actions carry the package, phase, file and line that made them", () => {
  const vec = ok.find((v) => v.name === "messages")!;
  const { actions } = interpret(vec);
  const alias = actions.find((a) => a.kind === "alias")!;
  const file = path.join(CORPUS_REPO, "messages/1.0/package.py");
  const line =
    fs
      .readFileSync(file, "utf8")
      .split("\n")
      .findIndex((l) => l.includes("alias(")) + 1;
  assert.deepEqual(alias.origin, { variant: "messages-1.0[]", phase: "commands", file, line });
  const used = actions.find((a) => a.kind === "setenv" && a.key === "REZ_USED")!;
  assert.deepEqual(used.origin, { phase: "system" });
});

/**
 * Rez's text with the fixes Tantalus applies where Rez's own text does not give
 * Rez's environment (see src/rex/shells.ts).
 */
function expectedText(rez: string, shell: ShellKind, environ: Record<string, string>): string {
  let t = rez;
  if (shell === "zsh") t = t.replaceAll("%%", "%");
  if (shell === "csh" || shell === "tcsh") {
    t = t.replace(/^echo (.*) 1>&2$/gm, (_, msg: string) => `/bin/sh -c 'printf "%s\\n" "$1" 1>&2' rez-error ${msg}`);
    for (const v of Object.values(environ)) if (v.includes("\n")) t = t.replaceAll(v, v.replaceAll("\n", "\\\n"));
  }
  return t;
}

for (const shell of SHELL_KINDS) {
  test(`${shell} code is Rez's, line for line (apart from the documented fixes)`, () => {
    let compared = 0;
    for (const vec of ok) {
      const rez = vec.shells[shell];
      if (typeof rez !== "string") continue;
      const result = interpret(vec, shell);
      const ours = renderShell(result.actions, shell, {
        executable: data.shellExecutables[shell] ?? undefined,
        home: hostHomeResolver(data.home),
      });
      assert.equal(ours, expectedText(rez, shell, vec.environ!), `${vec.name} (${shell})`);
      compared++;
    }
    // Rez's text exists for every vector but those its plugins fail on (resetenv; command lists in pwsh).
    assert.equal(compared, ok.length - (shell === "pwsh" ? 2 : 1));
  });
}

test("resetenv: Rez's shell plugins fail on it; Tantalus writes the setenv line", () => {
  const vec = ok.find((v) => v.name === "resetenv")!;
  for (const shell of SHELL_KINDS) {
    const rez = vec.shells[shell];
    assert.ok(
      typeof rez === "object" && rez.error.type === "TypeError",
      `Rez ${shell} no longer fails on resetenv: drop the fix`,
    );
  }
  const bash = renderShell(interpret(vec, "bash").actions, "bash", { home: hostHomeResolver(data.home) });
  assert.match(bash, new RegExp(`^export RESET_FUNC="${CORPUS_REPO}/resetter/1.0/reset"$`, "m"));
  assert.match(bash, /^export RESET_METHOD="method"$/m);
  const tcsh = renderShell(interpret(vec, "tcsh").actions, "tcsh", { home: hostHomeResolver(data.home) });
  assert.match(tcsh, /^setenv RESET_METHOD "method"$/m);
});

test("command() with arguments: Rez's pwsh plugin fails on it; Tantalus quotes the arguments", () => {
  const vec = ok.find((v) => v.name === "command-list")!;
  const rez = vec.shells.pwsh;
  assert.ok(
    typeof rez === "object" && rez.error.type === "TypeError",
    "Rez's pwsh no longer fails on command lists: drop the fix",
  );
  const pwsh = renderShell(interpret(vec, "pwsh").actions, "pwsh", { home: hostHomeResolver(data.home) });
  assert.match(pwsh, /^echo "list form" "`\$LIT" "\$REZ_COMMAND_LIST_VERSION"$/m);
});

test("a failing command gives Rez's reason, with the package, phase, file and line", () => {
  for (const vec of failing) {
    const m = /^Error in (\w+) in package '(.*)\[(\d*)\]':\n([\s\S]*)$/.exec(vec.error!.message);
    assert.ok(m, vec.error!.message);
    const [, phase, file, , reason] = m;
    for (const shell of [undefined, "bash", "tcsh"] as const) {
      let caught: unknown;
      try {
        interpret(vec, shell);
      } catch (err) {
        caught = err;
      }
      assert.ok(caught instanceof RexCommandError, `${vec.name}: expected a RexCommandError, got ${String(caught)}`);
      assert.equal(caught.phase, phase, vec.name);
      assert.equal(caught.reason, reason, vec.name);
      assert.equal(caught.location?.file, file, vec.name);
      assert.equal(caught.location?.line, markedLine(file!), vec.name);
      assert.ok(
        vec.resolved.some((q) => q === caught.variant),
        `${vec.name}: ${caught.variant}`,
      );
      assert.ok(caught.message.startsWith(`${file}:${markedLine(file!)}: `), caught.message);
    }
    // Rez fails the same way for every shell.
    for (const s of SHELL_KINDS)
      assert.equal((vec.shells[s] as { error: { message: string } }).error.message, vec.error!.message);
  }
});

test("the system paths appended to PATH are the ones Rez detects for each shell", () => {
  for (const shell of SHELL_KINDS) assert.deepEqual(REZ_SYSTEM_PATHS[shell], data.systemPaths[shell], shell);
  // Without explicit paths, the passive interpretation (JSON) uses bash's, like Rez's default shell.
  const vec = ok.find((v) => v.name === "python")!;
  const environ = interpretContext(variantsOf(vec, repos), { ...optionsFor(data, vec) }).environ;
  assert.equal(environ.PATH, vec.environ!.PATH);
  const none = interpretContext(variantsOf(vec, repos), { ...optionsFor(data, vec), appendSystemPaths: false }).environ;
  assert.equal(none.PATH, `${CORPUS_REPO}/python/3.11.4/platform-linux/arch-x86_64/bin`);
  const image = interpretContext(variantsOf(vec, repos), {
    ...optionsFor(data, vec),
    systemPaths: ["/usr/bin", "/bin"],
  }).environ;
  assert.equal(image.PATH, `${CORPUS_REPO}/python/3.11.4/platform-linux/arch-x86_64/bin:/usr/bin:/bin`);
});

test("a root map moves every value derived from the repository, consistently", () => {
  const image = "/opt/studio/packages";
  for (const vec of ok) {
    const { environ, actions } = interpret(vec, undefined, { rootMap: { [CORPUS_REPO]: image } });
    const expected = Object.fromEntries(
      Object.entries(vec.environ!).map(([k, v]) => [k, v.replaceAll(CORPUS_REPO, image)]),
    );
    assert.deepEqual(environ, expected, vec.name);
    const script = renderShell(interpret(vec, "bash", { rootMap: { [CORPUS_REPO]: image } }).actions, "bash", {
      home: hostHomeResolver(data.home),
    });
    assert.ok(!script.includes(CORPUS_REPO), `${vec.name}: the script still names ${CORPUS_REPO}`);
    assert.ok(actions.length > 0);
  }
});
