import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { projectRoot, runCli } from "./helpers.js";

// rez-env's habits through the CLI, checked against real Rez 3.4's outcomes
// recorded by scripts/rez-oracle/rez_env_habits.py over test/fixtures/rez-env-habits.

const ROOT = path.join(projectRoot, "test", "fixtures", "rez-env-habits");

interface JsonVariant {
  name: string;
  version: string;
  index: number | null;
  root: string;
}

/** What scripts/rez-oracle/rez_env_habits.py recorded from real Rez. */
interface RezHabits {
  empty: Record<"no_implicit" | "implicit", { status: string; resolved: string[]; environ: Record<string, string> }>;
  use_variant_shortlinks: boolean;
  variants: { request: string[]; variants: JsonVariant[] }[];
  exclude: { request: string[]; exclude: string[]; status: string; resolved?: string[] | null; message?: string }[];
  patch: {
    request: string[];
    patch: string[];
    strict?: boolean;
    rank?: number;
    original: string[];
    resolved: string[] | null;
  }[];
  prompt: Record<"once" | "nested" | "norc", { REZ_ENV_PROMPT: string; PS1: string }>;
  late: { request: string[]; LATE_FACTS: string; LATE_SHOUT: string }[];
  info: { request: string; attributes: Record<string, unknown>; tools: string[] | null }[];
}

/** The part of `resolve --json` these tests read. */
interface ResolveJson {
  status: string;
  resolved: string[];
  variants: JsonVariant[];
  failure?: { description: string };
}

const rez = JSON.parse(
  fs.readFileSync(path.join(projectRoot, "test", "data", "rez-env-habits.json"), "utf8"),
) as RezHabits;

test("an empty request resolves to an empty context, as rez-env with no packages", () => {
  for (const [label, flags] of [
    ["no_implicit", ["--no-implicit"]],
    ["implicit", []],
  ] as const) {
    const want = rez.empty[label];
    const r = runCli(["resolve", "--json", "--paths", ROOT, ...flags]);
    assert.equal(r.code, 0, r.stderr);
    const d = JSON.parse(r.stdout) as ResolveJson;
    assert.equal(d.status, want.status);
    assert.deepEqual(d.resolved, want.resolved);
    assert.deepEqual(d.variants, []);
    const env = runCli(["env", "--json", "--paths", ROOT, ...flags]);
    assert.equal(env.code, 0, env.stderr);
    const environ = JSON.parse(env.stdout) as Record<string, string>;
    for (const [k, v] of Object.entries(want.environ)) assert.equal(environ[k], v, k);
  }
});

test("resolve --json gives structured variants (name, version, index, root) with Rez's roots, hashed shortlinks included", () => {
  assert.equal(rez.use_variant_shortlinks, true);
  for (const c of rez.variants) {
    const r = runCli(["resolve", "--json", "--no-implicit", "--paths", ROOT, ...c.request]);
    assert.equal(r.code, 0, r.stderr);
    const d = JSON.parse(r.stdout) as ResolveJson;
    const got = d.variants.map((v) => ({
      name: v.name,
      version: v.version,
      index: v.index,
      root: path.relative(ROOT, v.root),
    }));
    assert.deepEqual(got, c.variants, c.request.join(" "));
    // the old string form stays for the scripts that read it
    assert.deepEqual(
      d.resolved,
      c.variants.map((v) => `${v.name}-${v.version}[${v.index ?? ""}]`),
    );
  }
});

test("shell REQ -- cmd args runs the command in the environment, each argument kept whole, and returns its status", () => {
  const r = runCli([
    "shell",
    "--no-implicit",
    "--paths",
    ROOT,
    "foo-1.2",
    "--",
    "sh",
    "-c",
    'printf "%s|%s\\n" "$1" "$FOO_VERSION"; exit 7',
    "x",
    "a b'c $HOME",
  ]);
  assert.equal(r.code, 7, r.stderr);
  assert.equal(r.stdout, "a b'c $HOME|1.2.3\n");
  const both = runCli(["shell", "--paths", ROOT, "foo", "-c", "true", "--", "true"]);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /either -c COMMAND or a command after --/);
});

test("--exclude hides packages from the resolve as rez-env --exclude does", () => {
  for (const c of rez.exclude) {
    const r = runCli(["resolve", "--json", "--no-implicit", "--paths", ROOT, ...c.request, "--exclude", ...c.exclude]);
    const d = JSON.parse(r.stdout) as ResolveJson;
    const label = `${c.request.join(" ")} --exclude ${c.exclude.join(" ")}`;
    if (c.status === "solved") {
      assert.equal(r.code, 0, `${label}: ${r.stderr}`);
      assert.deepEqual(d.resolved, c.resolved, label);
    } else {
      // Rez raises PackageNotFoundError: the same words, and a failed resolve
      assert.equal(r.code, 1, label);
      assert.equal(d.failure?.description, c.message, label);
    }
  }
  const sh = runCli([
    "shell",
    "--no-implicit",
    "--paths",
    ROOT,
    "foo",
    "--exclude",
    "*.beta",
    "--",
    "printenv",
    "FOO_VERSION",
  ]);
  assert.equal(sh.code, 0, sh.stderr);
  assert.equal(sh.stdout, "2.0.0\n");
});

test("--patch resolves the current context's request patched as rez-env --patch does", () => {
  const dir = fs.mkdtempSync(path.join(process.env.TMPDIR ?? "/tmp", "tantalus-patch-"));
  for (const c of rez.patch) {
    const label = `${c.request.join(" ")} --patch ${c.patch.join(" ")}${c.strict ? " --strict" : ""}${c.rank ? ` --patch-rank ${c.rank}` : ""}`;
    const rxt = path.join(dir, "base.rxt");
    const base = runCli(["resolve", "--json", "--no-implicit", "--paths", ROOT, "--rxt", rxt, ...c.request]);
    assert.deepEqual((JSON.parse(base.stdout) as ResolveJson).resolved, c.original, label);
    const flags = [...(c.strict ? ["--strict"] : []), ...(c.rank ? ["--patch-rank", String(c.rank)] : [])];
    const r = runCli(["resolve", "--json", "--no-implicit", "--paths", ROOT, "--patch", ...flags, ...c.patch], {
      env: { REZ_RXT_FILE: rxt },
    });
    const d = JSON.parse(r.stdout) as ResolveJson;
    if (c.resolved === null) {
      assert.equal(r.code, 1, label);
      assert.equal(d.status, "failed", label);
    } else {
      assert.equal(r.code, 0, `${label}: ${r.stderr}`);
      assert.deepEqual(d.resolved, c.resolved, label);
    }
  }
  const outside = runCli(["resolve", "--patch", "foo", "--paths", ROOT], { env: { REZ_RXT_FILE: "" } });
  assert.equal(outside.code, 2);
  assert.match(outside.stderr, /cannot patch: not in a context/);
  // inside `tantalus shell`, as inside rez-env, the shell's own context is the one patched
  const nested = runCli([
    "shell",
    "--no-implicit",
    "--paths",
    ROOT,
    "bar",
    "python-3.9",
    "--",
    process.execPath,
    path.join(projectRoot, "bin", "tantalus.js"),
    "resolve",
    "--json",
    "--no-implicit",
    "--paths",
    ROOT,
    "--patch",
    "python-3.11",
  ]);
  assert.equal(nested.code, 0, nested.stderr);
  assert.deepEqual((JSON.parse(nested.stdout) as ResolveJson).resolved, [
    "python-3.11.4[]",
    "foo-1.2.3[]",
    "bar-1.1[]",
  ]);
});

const hasScript = spawnSync("script", ["--version"]).status === 0;

/** REZ_ENV_PROMPT and PS1 in an interactive `tantalus shell` under a pseudo-terminal (as the oracle reads Rez's). */
function interactivePrompt(args: string[], env: Record<string, string>): { prompt?: string; ps1?: string } {
  const home = fs.mkdtempSync(path.join(process.env.TMPDIR ?? "/tmp", "tantalus-home-"));
  fs.writeFileSync(path.join(home, ".bashrc"), 'PS1="user$ "\n');
  const cmd = [
    process.execPath,
    path.join(projectRoot, "bin", "tantalus.js"),
    "shell",
    "--shell",
    "bash",
    "--no-implicit",
    "--paths",
    ROOT,
    ...args,
  ]
    .map((w) => `'${w.replace(/'/g, `'"'"'`)}'`)
    .join(" ");
  const base: NodeJS.ProcessEnv = { ...process.env, HOME: home, ...env };
  delete base.PS1;
  const p = spawnSync("script", ["-qfc", cmd, "/dev/null"], {
    input: 'echo "@@P=[$REZ_ENV_PROMPT]"; echo "@@PS1=[$PS1]"\nexit\n',
    env: base,
    encoding: "utf8",
    timeout: 60_000,
  });
  const prompt = /@@P=\[(.*?)\]\r?\n/.exec(p.stdout)?.[1];
  const ps1 = /@@PS1=\[(.*?)\]\r?\n/.exec(p.stdout)?.[1];
  return { prompt, ps1 };
}

test(
  "the interactive shell marks its prompt as rez-env does, once per nesting level; --norc skips ~/.bashrc",
  { skip: hasScript ? false : "script(1) is not installed" },
  () => {
    const once = interactivePrompt(["foo-1"], {});
    assert.deepEqual(once, { prompt: rez.prompt.once.REZ_ENV_PROMPT, ps1: rez.prompt.once.PS1 });
    // a shell started from inside one: what the outer one exported
    const nested = interactivePrompt(["foo-1"], { REZ_ENV_PROMPT: ">", REZ_STORED_PROMPT_SH: "user$ " });
    assert.deepEqual(nested, { prompt: rez.prompt.nested.REZ_ENV_PROMPT, ps1: rez.prompt.nested.PS1 });
    const norc = interactivePrompt(["foo-1", "--norc"], {});
    assert.equal(norc.prompt, rez.prompt.norc.REZ_ENV_PROMPT);
    // without ~/.bashrc the stored prompt is the system's (the same as Rez's on the machine that recorded it)
    assert.ok(norc.ps1?.startsWith("\\[\\e[1m\\]>\\[\\e[0m\\] "), norc.ps1);
    assert.doesNotMatch(norc.ps1!, /user\$/);
  },
);

/** What Rez sets in an interactive csh, tcsh and zsh (scripts/rez-oracle/rez_env_prompts.py). */
const rezPrompts = JSON.parse(
  fs.readFileSync(path.join(projectRoot, "test", "data", "rez-env-prompts.json"), "utf8"),
) as Record<"tcsh" | "csh" | "zsh", Record<"once" | "nested" | "norc", Record<string, string | undefined>>>;

/** $prompt, REZ_ENV_PROMPT and REZ_STORED_PROMPT_CSH in an interactive `tantalus shell --shell SHELL` under a pty. */
function interactiveCshPrompt(shell: "tcsh" | "csh", args: string[], env: Record<string, string>) {
  const home = fs.mkdtempSync(path.join(process.env.TMPDIR ?? "/tmp", "tantalus-home-"));
  // The user's own prompt, which Rez's csh binding does not keep.
  for (const rc of [".tcshrc", ".cshrc"]) fs.writeFileSync(path.join(home, rc), 'set prompt="user% "\n');
  const cmd = [process.execPath, path.join(projectRoot, "bin", "tantalus.js"), "shell", "--shell", shell]
    .concat(["--no-implicit", "--paths", ROOT, ...args])
    .map((w) => `'${w.replace(/'/g, `'"'"'`)}'`)
    .join(" ");
  const base: NodeJS.ProcessEnv = { ...process.env, HOME: home, ...env };
  for (const k of ["prompt", "REZ_ENV_PROMPT", "REZ_STORED_PROMPT_CSH"]) if (!(k in env)) delete base[k];
  const p = spawnSync("script", ["-qfc", cmd, "/dev/null"], {
    input: 'echo "@@P=[$REZ_ENV_PROMPT]"; echo "@@PROMPT=[$prompt]"; echo "@@S=[$REZ_STORED_PROMPT_CSH]"\nexit\n',
    env: base,
    encoding: "utf8",
    timeout: 60_000,
  });
  const found = (k: string) => new RegExp(`@@${k}=\\[(.*?)\\]\\r?\\n`).exec(p.stdout)?.[1];
  return { REZ_ENV_PROMPT: found("P"), prompt: found("PROMPT"), REZ_STORED_PROMPT_CSH: found("S") };
}

for (const shell of ["tcsh", "csh"] as const) {
  const missing = spawnSync(shell, ["-f", "-c", "exit 0"]).status !== 0;
  test(
    `an interactive ${shell} marks its prompt as rez-env sets it: once, nested, and with --norc`,
    { skip: !hasScript ? "script(1) is not installed" : missing ? `${shell} is not installed` : false },
    () => {
      const want = rezPrompts[shell];
      assert.deepEqual(interactiveCshPrompt(shell, ["foo-1"], {}), want.once);
      // Started from inside one: what the outer shell exported.
      const outer = { REZ_ENV_PROMPT: ">", REZ_STORED_PROMPT_CSH: want.once.REZ_STORED_PROMPT_CSH ?? "" };
      assert.deepEqual(interactiveCshPrompt(shell, ["foo-1"], outer), want.nested);
      assert.deepEqual(interactiveCshPrompt(shell, ["foo-1", "--norc"], {}), want.norc);
    },
  );
}

test(
  "an interactive zsh marks its prompt as rez-env sets it: zsh's mark, once, nested, and with --norc",
  {
    skip: !hasScript
      ? "script(1) is not installed"
      : spawnSync("zsh", ["-f", "-c", "exit 0"]).status !== 0
        ? "zsh is not installed"
        : false,
  },
  () => {
    const run = (args: string[], env: Record<string, string>) => {
      const home = fs.mkdtempSync(path.join(process.env.TMPDIR ?? "/tmp", "tantalus-home-"));
      fs.writeFileSync(path.join(home, ".zshrc"), 'PS1="user%% "\n');
      const cmd = [process.execPath, path.join(projectRoot, "bin", "tantalus.js"), "shell", "--shell", "zsh"]
        .concat(["--no-implicit", "--paths", ROOT, ...args])
        .map((w) => `'${w.replace(/'/g, `'"'"'`)}'`)
        .join(" ");
      const base: NodeJS.ProcessEnv = { ...process.env, HOME: home, ...env };
      for (const k of ["PS1", "ZDOTDIR", "REZ_ENV_PROMPT", "REZ_STORED_PROMPT_SH"]) if (!(k in env)) delete base[k];
      const p = spawnSync("script", ["-qfc", cmd, "/dev/null"], {
        input: 'echo "@@P=[$REZ_ENV_PROMPT]"; echo "@@PS1=[$PS1]"\nexit\n',
        env: base,
        encoding: "utf8",
        timeout: 60_000,
      });
      const found = (k: string) => new RegExp(`@@${k}=\\[(.*?)\\]\\r?\\n`).exec(p.stdout)?.[1];
      return { REZ_ENV_PROMPT: found("P"), PS1: found("PS1") };
    };
    const want = rezPrompts.zsh;
    assert.deepEqual(run(["foo-1"], {}), want.once);
    assert.deepEqual(run(["foo-1"], { REZ_ENV_PROMPT: "%%", REZ_STORED_PROMPT_SH: "user%% " }), want.nested);
    assert.deepEqual(run(["foo-1", "--norc"], {}), want.norc);
  },
);

test("`this` in a @late function that commands read is the Package, as Rez binds it", () => {
  for (const c of rez.late) {
    const r = runCli(["env", "--json", "--no-implicit", "--paths", ROOT, ...c.request]);
    assert.equal(r.code, 0, r.stderr);
    const environ = JSON.parse(r.stdout) as Record<string, string>;
    assert.equal(environ.LATE_FACTS, c.LATE_FACTS.replace("<root>", ROOT), c.request.join(" "));
    assert.equal(environ.LATE_SHOUT, c.LATE_SHOUT);
  }
});

test("info --json shows every attribute Rez shows and evaluates @late tools as Rez reads them", () => {
  for (const c of rez.info) {
    const r = runCli(["info", c.request, "--json", "--paths", ROOT]);
    assert.equal(r.code, 0, r.stderr);
    const d = JSON.parse(r.stdout) as { attributes: Record<string, unknown> & { base: string }; tools: string[] };
    const attributes = { ...d.attributes, base: path.relative(ROOT, d.attributes.base) };
    assert.deepEqual(attributes, c.attributes, c.request);
    assert.deepEqual(d.tools, c.tools ?? [], c.request);
  }
});
