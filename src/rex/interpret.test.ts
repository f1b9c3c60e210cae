import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Repositories } from "../rez/repository/index.js";
import { makeContext } from "../context/context.js";
import { VERSION } from "../version.js";
import {
  interpretContext,
  interpretResolvedContext,
  renderDotenv,
  renderEnvironJson,
  renderShell,
  hostHomeResolver,
  systemFromImplicits,
  RexCommandError,
  type InterpretOptions,
} from "./index.js";

// integration: one test lets the host answer platform questions, through lsb_release

const SYSTEM = { platform: "linux", arch: "x86_64", os: "Rocky-9.3" };

/** A repository of package.py files written for one test. */
function repository(packages: Record<string, string>): Repositories {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "tantalus-rex-"));
  for (const [dir, text] of Object.entries(packages)) {
    fs.mkdirSync(path.join(root, dir), { recursive: true });
    fs.writeFileSync(path.join(root, dir, "package.py"), text);
  }
  return new Repositories([root]);
}

function variants(repos: Repositories, ...names: string[]) {
  return names.map((n) => repos.family(n)![0]!.variants[0]!);
}

function options(repos: Repositories, extra: Partial<InterpretOptions> = {}): InterpretOptions {
  return {
    request: [],
    implicitPackages: [],
    packagePaths: repos.paths,
    system: SYSTEM,
    timestamp: 1700000000,
    home: "/home/artist",
    ...extra,
  };
}

test("without Rez, REZ_USED names Tantalus, REZ_USED_VERSION the Rez semantics reproduced, and the timestamp is the given one", () => {
  const repos = repository({ "tool/1.0": "name = 'tool'\nversion = '1.0'\n" });
  const { environ } = interpretContext(variants(repos, "tool"), options(repos, { request: ["tool"] }));
  assert.equal(environ.REZ_USED, `tantalus ${VERSION}`);
  assert.equal(environ.REZ_USED_VERSION, "3.4.0");
  assert.equal(environ.REZ_USED_TIMESTAMP, "1700000000");
  assert.equal(environ.REZ_USED_REQUESTED_TIMESTAMP, "0");
  assert.equal(environ.REZ_USED_REQUEST, "tool");
});

test("a construct outside the safe subset fails with the package, phase, file, line and reason", () => {
  const repos = repository({
    "bad/2.0":
      "name = 'bad'\nversion = '2.0'\n\ndef commands():\n    env.A = 'fine'\n    import subprocess\n    env.B = subprocess.check_output(['id'])\n",
  });
  assert.throws(
    () => interpretContext(variants(repos, "bad"), options(repos)),
    (err: unknown) => {
      assert.ok(err instanceof RexCommandError);
      assert.equal(err.variant, "bad-2.0[]");
      assert.equal(err.phase, "commands");
      assert.equal(err.location?.file, path.join(repos.paths[0]!, "bad/2.0/package.py"));
      assert.equal(err.location?.line, 6);
      assert.match(
        err.reason,
        /'import subprocess' \(the module 'subprocess'\) is not evaluated by Tantalus's Python evaluator; .* 'python: cpython'/,
      );
      return true;
    },
  );
});

test("info() and error() are reported as messages with the package and line; error() does not stop the context", () => {
  const repos = repository({
    "loud/1.0":
      "name = 'loud'\nversion = '1.0'\n\ndef commands():\n    info('hello {this.name}')\n    error('careful: $HOME')\n    env.AFTER = 'set'\n",
  });
  const r = interpretContext(variants(repos, "loud"), options(repos));
  assert.equal(r.environ.AFTER, "set");
  const file = path.join(repos.paths[0]!, "loud/1.0/package.py");
  assert.deepEqual(r.messages, [
    { kind: "info", text: "hello loud", variant: "loud-1.0[]", file, line: 5 },
    { kind: "error", text: "careful: ${HOME}", variant: "loud-1.0[]", file, line: 6 },
  ]);
  const bash = renderShell(r.actions, "bash", { home: hostHomeResolver("/home/artist") });
  assert.match(bash, /^echo "hello loud"$/m);
  assert.match(bash, /^echo "careful: \$\{HOME\}" 1>&2$/m);
});

test("system gives platform, arch and os; other facts of the building machine are refused", () => {
  const repos = repository({
    "sys/1.0":
      "name = 'sys'\nversion = '1.0'\n\ndef commands():\n    env.S = '{system.platform}-{system.arch}-{system.os}'\n",
    "host/1.0": "name = 'host'\nversion = '1.0'\n\ndef commands():\n    env.H = system.hostname\n",
  });
  assert.equal(interpretContext(variants(repos, "sys"), options(repos)).environ.S, "linux-x86_64-Rocky-9.3");
  assert.throws(() => interpretContext(variants(repos, "host"), options(repos)), /system\.hostname is not available/);
});

test("unset() of a parent variable is listed, so a sourcing shell loses it too", () => {
  const repos = repository({
    "clean/1.0":
      "name = 'clean'\nversion = '1.0'\n\ndef commands():\n    env.DROP.unset()\n    unsetenv('NEVER')\n    env.TEMP = 'x'\n    env.TEMP.unset()\n    env.BACK = 'a'\n    unsetenv('BACK')\n    env.BACK = 'b'\n",
  });
  const r = interpretContext(variants(repos, "clean"), options(repos, { parentEnv: { DROP: "1", KEEP: "2" } }));
  assert.deepEqual(r.unset, ["DROP", "NEVER", "TEMP"]);
  assert.equal(r.environ.BACK, "b");
  assert.ok(!("KEEP" in r.environ));
});

test("a lock interprets to the same script every time: the timestamp is the context's creation time", () => {
  const repos = repository({
    "tool/1.0": "name = 'tool'\nversion = '1.0'\n\ndef commands():\n    env.PATH.prepend('{root}/bin')\n",
  });
  const ctx = makeContext({
    request: ["tool-1.0"],
    implicitPackages: ["~platform==linux", "~arch==aarch64", "~os==Rocky-9.3"],
    packagePaths: repos.paths,
    status: "solved",
    resolved: variants(repos, "tool"),
  });
  const a = interpretResolvedContext(ctx, repos, { shell: "bash" });
  const b = interpretResolvedContext(ctx, repos, { shell: "bash" });
  const render = (r: typeof a) => renderShell(r.actions, "bash", { home: hostHomeResolver("/h") });
  assert.equal(render(a), render(b));
  assert.equal(a.environ.REZ_USED_TIMESTAMP, String(Math.floor(Date.parse(ctx.created) / 1000)));
  assert.equal(a.environ.REZ_USED_IMPLICIT_PACKAGES, "~platform==linux ~arch==aarch64 ~os==Rocky-9.3");
});

test("the target system is read from the context's implicit packages", () => {
  assert.deepEqual(systemFromImplicits(["~platform==linux", "~arch==aarch64", "~os==Rocky-9.3"]), {
    platform: "linux",
    arch: "aarch64",
    os: "Rocky-9.3",
  });
  assert.equal(systemFromImplicits(["~os==Alma-9"]).os, "Alma-9");
});

test("an env-file carries the environ literally and refuses a value with a line break", () => {
  assert.equal(renderDotenv({ A: "1", B: "x y=$Z", EMPTY: "" }), "A=1\nB=x y=$Z\nEMPTY=\n");
  assert.throws(() => renderDotenv({ M: "a\nb" }), /M has a line break/);
});

test("JSON output is Python's json.dumps(sort_keys=True, indent=4): sorted by code point, non-ASCII escaped", () => {
  assert.equal(
    renderEnvironJson({ b: "é", a: "😀", B: "x" }),
    '{\n    "B": "x",\n    "a": "\\ud83d\\ude00",\n    "b": "\\u00e9"\n}\n',
  );
});
