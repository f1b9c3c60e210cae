// integration: `python: cpython` starts the host's python3
/**
 * `python: cpython` checked against real Rez: each package of
 * test/fixtures/cpython (subprocess in @early, open() of a file next to the
 * package, a site module on PYTHONPATH, exec_command/exec_python, commands()
 * using subprocess or a site module, @late requires and tools run there) loads to
 * the attributes Rez loads, `name==version` gives the environment Rez gives,
 * and a file that fails in Rez fails with the file, line and Python error.
 * Recorded by scripts/rez-oracle/cpython_packages.py.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { readPackageFile } from "./index.js";
import { HostObject, Interpreter, PyDict, PyFunction, PyTuple, type PyValue } from "../python/index.js";
import { Repositories } from "../repository/index.js";
import { interpretContext } from "../../rex/index.js";
import { CPythonSession } from "../cpython/session.js";
import type { PythonSettings } from "./cpython.js";
import type { PackageDefinition } from "./types.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../test/fixtures/cpython");
const REPO = path.join(ROOT, "packages");
// The studio's own module is where Rez runs: on PYTHONPATH (the CPython child inherits the environment).
process.env.PYTHONPATH = path.join(ROOT, "site");

interface Recorded {
  packages: Record<string, { attributes: [string, unknown][] }>;
  contexts: Record<string, { resolve: string[]; environ: Record<string, string> }>;
  broken: Record<string, { rez: string }>;
}

const rez = JSON.parse(fs.readFileSync(path.join(ROOT, "rez-recorded.json"), "utf8")) as Recorded;
const unscrub = (s: string) => s.replaceAll("@ROOT@", ROOT);
const python: PythonSettings = { evaluator: "cpython" };
const read = (file: string): PackageDefinition => readPackageFile(file, { python });
const REPR = new Interpreter().context;

after(() => CPythonSession.closeAll());

/** The oracle's JSON encoding of Rez's values (package_definitions.py). */
function encode(v: PyValue): unknown {
  if (v instanceof PyFunction) return { $function: v.name, late: v.hasMark("late") };
  if (v instanceof PyTuple) return { $tuple: v.items.map(encode) };
  if (Array.isArray(v)) return v.map(encode);
  if (v instanceof PyDict) return { $dict: [...v.entries()].map(([k, x]) => [encode(k), encode(x)]) };
  if (v instanceof HostObject) return { $repr: REPR.repr(v).replaceAll(ROOT, "@ROOT@") };
  if (typeof v === "string") return v.replaceAll(ROOT, "@ROOT@");
  return v;
}

for (const [rel, expected] of Object.entries(rez.packages)) {
  test(`${rel} loads with python: cpython as Rez loads it`, () => {
    const def = read(path.join(REPO, rel));
    const ours = Object.entries(def.attributes).map(([k, v]) => [k, encode(v)]);
    assert.deepEqual(ours, expected.attributes);
  });
}

test("without python: cpython, each file CPython is needed for is refused with the construct and the setting", () => {
  for (const rel of ["subproc/1.0/package.py", "readfile/2.1/package.py", "sitemod/1.0/package.py"]) {
    assert.throws(
      () => readPackageFile(path.join(REPO, rel)),
      (err: Error) => {
        assert.match(err.message, /^.*package\.py:\d+: .* is not (evaluated|allowed)/);
        assert.match(
          err.message,
          /with the setting 'python: cpython' \(in tantalus.yaml, or TANTALUS_PYTHON=cpython\)$/,
        );
        return true;
      },
    );
  }
});

test("a file the built-in evaluator loads stays with it; CPython takes one whose commands() import what it lacks", () => {
  assert.equal(read(path.join(REPO, "tools_base/1.0/package.py")).evaluator, undefined);
  const def = readPackageFile(path.join(REPO, "subproc/1.0/package.py"), { python });
  assert.equal(def.evaluator, "cpython");
  // The builtin evaluator loads commands-only users of subprocess: the static check sends them to CPython.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tantalus-cpython-"));
  const file = path.join(dir, "package.py");
  fs.writeFileSync(file, "name = 'x'\nversion = '1'\ndef commands():\n    import subprocess\n    env.X = 'y'\n");
  assert.equal(readPackageFile(file, {}).evaluator, undefined);
  assert.equal(readPackageFile(file, { python }).evaluator, "cpython");
});

for (const [request, expected] of Object.entries(rez.contexts)) {
  test(`${request}: commands() run in CPython give the environment Rez gives`, () => {
    const repos = new Repositories([REPO], { cache: false, python });
    const variants = expected.resolve.map((q) => {
      const m = /^(.+?)-(.+)\[(\d*)\]$/.exec(q)!;
      const pkg = repos.family(m[1]!)!.find((p) => p.version.toString() === m[2])!;
      return pkg.variants[m[3] === "" ? 0 : Number(m[3])]!;
    });
    const { environ, messages } = interpretContext(variants, {
      request: [request],
      implicitPackages: [],
      packagePaths: repos.paths,
      system: { platform: "linux", arch: "x86_64", os: "debian-12" },
      timestamp: 1700000000,
      shell: "bash",
    });
    const ours = Object.fromEntries(
      Object.entries(environ)
        .filter(([k]) => !k.startsWith("REZ_"))
        .sort(([a], [b]) => (a < b ? -1 : 1)),
    );
    assert.deepEqual(ours, Object.fromEntries(Object.entries(expected.environ).map(([k, v]) => [k, unscrub(v)])));
    if (request === "runtime_refusal==1.0") {
      // Loaded by the built-in evaluator, which refuses a construct half-way through commands():
      // CPython runs them afresh, and what the first attempt did is not kept twice.
      assert.equal(variants[0]!.package.definition.evaluator, undefined);
      assert.equal(messages.filter((m) => m.text === "said before the refusal").length, 1);
    }
    if (request === "subproc==1.0") {
      // info() from CPython is rex's own action, with the line of the package file that called it.
      const info = messages.find((m) => m.text === "subproc says hello");
      assert.equal(info?.line, 31);
      assert.equal(info?.file, path.join(REPO, "subproc/1.0/package.py"));
    }
  });
}

test("a failing definition is one error with the file, the line and Python's exception, as Rez fails", () => {
  for (const [file, expected] of Object.entries(rez.broken)) {
    const full = path.join(ROOT, "broken", file);
    // Rez: "ResourceError: Problem loading FILE: REASON" or the exception of the failing @early itself.
    const m = /^(?:ResourceError: Problem loading [^:]+: (.*?):?$|(\w+): (.*)$)/.exec(unscrub(expected.rez))!;
    const reason = m[1] ?? `${m[2]}: ${m[3]}`;
    assert.throws(
      () => read(full),
      (err: Error & { location?: { file?: string; line?: number } }) => {
        assert.ok(err.message.includes(reason), `expected "${reason}" in "${err.message}"`);
        assert.equal(err.location?.file, full);
        assert.equal(err.location?.line, file === "nameerror.py" ? 5 : 9);
        return true;
      },
    );
  }
});

test("an exception in commands() run by CPython names the package, the file and the line", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tantalus-cpython-"));
  fs.mkdirSync(path.join(dir, "boom", "1.0"), { recursive: true });
  fs.writeFileSync(
    path.join(dir, "boom", "1.0", "package.py"),
    "import subprocess\nname = 'boom'\nversion = '1.0'\n\ndef commands():\n    env.A = 'a'\n    raise KeyError('nope')\n",
  );
  const repos = new Repositories([dir], { cache: false, python });
  const variant = repos.family("boom")![0]!.variants[0]!;
  assert.throws(
    () =>
      interpretContext([variant], {
        request: ["boom"],
        implicitPackages: [],
        packagePaths: [dir],
        system: { platform: "linux", arch: "x86_64", os: "debian-12" },
        timestamp: 0,
      }),
    (err: Error & { location?: { line?: number } }) => {
      assert.match(err.message, /Error in commands in package boom-1\.0\[\]: 'nope'/);
      assert.equal(err.location?.line, 7);
      return true;
    },
  );
});

test("the index cache keeps a CPython-loaded summary: a second load of the repository asks CPython nothing", () => {
  const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), "tantalus-cpython-cache-"));
  const first = new Repositories([REPO], { cache: cacheDir, python });
  assert.deepEqual(first.family("subproc")![0]!.requires.map(String), ["tools_base-1"]);
  first.saveCaches();
  const before = CPythonSession.loads;
  const second = new Repositories([REPO], { cache: cacheDir, python });
  assert.deepEqual(second.family("subproc")![0]!.requires.map(String), ["tools_base-1"]);
  assert.equal(CPythonSession.loads, before);
  // The built-in evaluator's cache is another file: there the refused file is still refused.
  const builtin = new Repositories([REPO], { cache: cacheDir });
  assert.equal(builtin.family("subproc")![0]!.broken?.message.includes("python: cpython"), true);
});

test("a missing interpreter is one sentence", () => {
  assert.throws(
    () =>
      readPackageFile(path.join(REPO, "subproc/1.0/package.py"), {
        python: { evaluator: "cpython", interpreter: "no-such-python3" },
      }),
    /^Error: the setting 'python: cpython' needs a Python 3 interpreter, and 'no-such-python3' was not found on PATH$|needs a Python 3 interpreter, and 'no-such-python3' was not found on PATH/,
  );
});

test("rez.system.system answers for the configured target in CPython, as in the built-in evaluator", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tantalus-cpython-"));
  const file = path.join(dir, "package.py");
  fs.writeFileSync(
    file,
    [
      "import subprocess",
      "from rez.system import system",
      "name = 'targeted'",
      "version = '1.0'",
      "@early()",
      "def requires():",
      "    return ['~os==' + system.os, '~arch==' + system.arch, 'platform-' + system.platform]",
      "",
    ].join("\n"),
  );
  const system = { platform: "linux", arch: "aarch64", os: "Rocky-9.3" };
  const def = readPackageFile(file, { python, system });
  assert.equal(def.evaluator, "cpython");
  assert.deepEqual(def.requires, ["~os==Rocky-9.3", "~arch==aarch64", "platform-linux"]);
});

test("under a target, platform and sys answer for it in CPython too, and for the host again after", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tantalus-cpython-"));
  const file = path.join(dir, "package.py");
  fs.writeFileSync(
    file,
    [
      "import platform, subprocess, sys",
      "name = 'seen'",
      "version = '1.0'",
      "seen = [platform.system(), platform.machine(), sys.platform, platform.release()]",
      "@early()",
      "def requires():",
      "    return ['winlib'] if platform.system() == 'Windows' else ['unixlib']",
      "",
    ].join("\n"),
  );
  const target = readPackageFile(file, { python, system: { platform: "windows", arch: "AMD64", os: "windows-10" } });
  assert.equal(target.evaluator, "cpython");
  // The same answers the built-in evaluator's target host gives (src/rez/python/host-target.test.ts).
  assert.deepEqual(target.attributes.seen, ["Windows", "AMD64", "win32", os.release()]);
  assert.deepEqual(target.requires, ["winlib"]);
  const host = readPackageFile(file, { python });
  assert.deepEqual(host.attributes.seen, [os.type(), os.machine(), os.platform(), os.release()]);
  assert.deepEqual(host.requires, ["unixlib"]);
});

test("kept code is sent to CPython only for what the built-in evaluator would refuse when it runs", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tantalus-cpython-"));
  const file = path.join(dir, "package.py");
  const cases: [string, "builtin" | "cpython"][] = [
    ["import os\nenv.A = os.path.join('a', 'b')", "builtin"],
    ["import os\nenv.A = ' '.join(os.listdir('/'))", "cpython"],
    ["import os.path as p\nenv.A = p.join('/', 'x')", "builtin"],
    ["from os import path\nenv.A = path.join('/', 'x')", "builtin"],
    ["from os import listdir\nenv.A = 'x'", "cpython"],
    ["env.A = open('/etc/hostname').read()", "cpython"],
    ["import platform\nenv.A = platform.system()", "builtin"],
    ["import maya_packaging\nenv.A = 'x'", "cpython"],
  ];
  for (const [body, want] of cases) {
    const indented = body.replaceAll(/^/gm, "    ");
    fs.writeFileSync(file, `name = 'c'\nversion = '1'\ndef commands():\n${indented}\n`);
    assert.equal(readPackageFile(file, { python }).evaluator ?? "builtin", want, body);
  }
});

test("what the package prints, and what a process it starts writes, never mixes with the answers", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tantalus-cpython-"));
  const file = path.join(dir, "package.py");
  fs.writeFileSync(
    file,
    [
      "import os, subprocess, sys",
      'print(\'{"ok": {"values": []}}\')',
      "sys.stdout.flush()",
      "os.write(1, b'{\"ok\": 1}\\n')",
      "subprocess.call(['echo', '{\"error\": 1}'])",
      "subprocess.call(['cat'])  # reads stdin: it must not get the requests",
      "name = 'noisy'",
      "version = '1.0'",
      "",
    ].join("\n"),
  );
  const def = readPackageFile(file, { python });
  assert.equal(def.name, "noisy");
  assert.equal(def.version, "1.0");
});

test("a definition that runs too long is stopped, in one sentence naming the file; the next load starts afresh", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tantalus-cpython-"));
  const file = path.join(dir, "package.py");
  fs.writeFileSync(file, "import time\nname = 'slow'\nversion = '1.0'\ntime.sleep(60)\n");
  CPythonSession.closeAll();
  process.env.TANTALUS_CPYTHON_TIMEOUT = "1";
  try {
    assert.throws(
      () => readPackageFile(file, { python }),
      new RegExp(`^TantalusError: CPython \\(python3\\) took longer than 1 s loading ${file}, and was stopped$`),
    );
  } finally {
    delete process.env.TANTALUS_CPYTHON_TIMEOUT;
  }
  assert.equal(read(path.join(REPO, "subproc/1.0/package.py")).description, "described by a process");
});

test("a rez module the shim does not give, and find_site_python, are refused in one sentence with the line", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tantalus-cpython-"));
  const file = path.join(dir, "package.py");
  const cases: [string, RegExp][] = [
    [
      "try:\n    from rez.config import config\nexcept ImportError:\n    config = None\n",
      /:5: the module 'rez\.config' is not one Tantalus's CPython loader gives package code \(/,
    ],
    [
      "from rez.package_py_utils import find_site_python\nsite = find_site_python('maya')\n",
      /:5: find_site_python\('maya'\) searches the package repositories while the file loads/,
    ],
    [
      "from rez.package_py_utils import expand_requires\nrequires = expand_requires('maya-2024.*')\n",
      /:5: expand_requires\('maya-2024\.\*'\) with a wildcard/,
    ],
  ];
  for (const [body, message] of cases) {
    fs.writeFileSync(file, `import subprocess\nname = 'r'\nversion = '1'\n${body}`);
    assert.throws(() => readPackageFile(file, { python }), message);
  }
});

test("an interpreter that cannot run the loader, or is too old, is one sentence, and is not tried again", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tantalus-cpython-"));
  const crashes = path.join(dir, "crashes");
  fs.writeFileSync(crashes, "#!/bin/sh\nexit 5\n", { mode: 0o755 });
  const old = path.join(dir, "old");
  fs.writeFileSync(old, "#!/bin/sh\necho '{\"ready\": [3, 6, 9]}' >&3\ncat >/dev/null\n", { mode: 0o755 });
  const file = path.join(REPO, "subproc/1.0/package.py");
  const load = (interpreter: string) => () => readPackageFile(file, { python: { evaluator: "cpython", interpreter } });
  assert.throws(
    load(crashes),
    new RegExp(
      `^InputError: the setting 'python: cpython' could not run Tantalus's loader in '${crashes}' \\(it exited with 5 before the loader answered: is it a Python 3\\?`,
    ),
  );
  const starts = CPythonSession.starts;
  assert.throws(load(crashes), /could not run Tantalus's loader/);
  assert.equal(CPythonSession.starts, starts, "the second file does not start the interpreter again");
  assert.throws(load(old), new RegExp(`needs Python 3\\.7 or newer, and '${old}' is 3\\.6\\.9$`));
  CPythonSession.closeAll();
});
