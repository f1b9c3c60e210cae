import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { checkLateValue, includedModules, readPackageFile, readPackageSource } from "./index.js";
import {
  HostObject,
  Interpreter,
  PyDict,
  PyFloat,
  PyFunction,
  PyTuple,
  pyStr,
  type CallContext,
  type PyValue,
} from "../python/index.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../test/fixtures/packages");
const fixture = (rel: string) => path.join(ROOT, rel);

/** Records rex calls: `env.X = v`, `env.X.prepend(v)`, `alias(a, b)`. */
class RecordingEnv extends HostObject {
  readonly pyTypeName = "EnvironmentDict";
  readonly log: string[] = [];
  override getAttr(name: string): PyValue {
    const log = this.log;
    return new (class extends HostObject {
      readonly pyTypeName = "EnvironmentVariable";
      override getAttr(method: string): PyValue {
        return new RecordingCall(`${method} ${name}`, log);
      }
    })();
  }
  override setAttr(name: string, value: PyValue, ctx: CallContext): void {
    this.log.push(`setenv ${name} ${ctx.str(value)}`);
  }
}

class RecordingCall extends HostObject {
  readonly pyTypeName = "builtin_function_or_method";
  constructor(
    private readonly what: string,
    private readonly log: string[],
  ) {
    super();
  }
  override call(args: PyValue[], _kwargs: Map<string, PyValue>, ctx: CallContext): PyValue {
    this.log.push(`${this.what} ${args.map((a) => ctx.str(a)).join(" ")}`);
    return null;
  }
}

class VariantThis extends HostObject {
  readonly pyTypeName = "VariantBinding";
  constructor(private readonly attrs: Record<string, PyValue>) {
    super();
  }
  override getAttr(name: string): PyValue | undefined {
    return this.attrs[name];
  }
}

test("a literal package.py: every literal kind, comments, coding line, continuation, triple-quoted text", () => {
  const def = readPackageFile(fixture("literal/1.0.0/package.py"));
  assert.equal(def.format, "py");
  assert.equal(def.name, "literal");
  assert.equal(def.version, "1.0.0");
  assert.equal(def.lines.version, 60, "the last assignment wins");
  assert.equal(
    def.description,
    "A package whose definition is made of literals only.\nSecond line, indented like the first.",
  );
  assert.deepEqual(def.authors, ["Jane Doe", "John O'Brien"]);
  assert.deepEqual(def.requires, ["python-3.9+<4", "~numpy-1.2", "!badpkg"]);
  assert.deepEqual(def.build_requires, ["cmake-3.20+"]);
  assert.deepEqual(def.private_build_requires, []);
  assert.deepEqual(def.variants, [
    ["platform-linux", "arch-x86_64"],
    ["platform-linux", "arch-aarch64"],
  ]);
  assert.equal(def.lines.variants, 25, "the line the statement starts on");
  assert.equal(def.hashed_variants, false);
  assert.deepEqual(def.tools, ["literal-tool", "literal-helper"]);
  assert.equal(def.relocatable, null);
  assert.equal(def.cachable, true);
  assert.equal(def.timestamp, 1600129484);
  assert.equal(def.format_version, 2);
  assert.equal(def.uuid, "6a0b7f3e-2c4d-4b1e-9f55-0c5e1e2f3a4b");
  assert.equal(def.help, "https://example.com/literal");
  const a = def.attributes;
  assert.deepEqual(a.ratio, new PyFloat(0.5));
  assert.equal(a.big_number, 123456789012345678901234567890n);
  assert.equal(a.negative, -3);
  assert.deepEqual(a.exponent, new PyFloat(1000));
  assert.deepEqual(a.empty_tuple, new PyTuple([]));
  assert.deepEqual(a.one_tuple, new PyTuple(["only"]));
  assert.equal(a.grouped, "not a tuple");
  assert.equal(
    pyStr(a.nested!),
    "{'key': [1, 2.0, {'deep': None}], 'flag': True, 'tuple': (1, 'a')}",
    "__ keys dropped in nested dicts too",
  );
  assert.equal(a.unicode_text, "café ☕");
  assert.deepEqual(def.tantalus, {
    image: { base: "debian:12-slim", layers: ["python", "literal"] },
    workflows: ["lit", "lit-batch"],
    gpu: false,
  });
});

test("a full package.py: expressions, f-strings, % and .format, @early, @late, rex functions, helpers, config scope", () => {
  const def = readPackageFile(fixture("full/2.1.0/package.py"));
  assert.equal(def.description, "Full-featured package, major version 2");
  assert.deepEqual(def.authors, ["Studio TD <td@example.com>", "Pipeline <pipe@example.com>"]);
  assert.deepEqual(def.requires, ["python-3.9+<3.12", "foo-1.2+", "bar", "baz-1"]);
  assert.deepEqual(def.build_requires, ["cmake-3"]);
  assert.deepEqual(def.private_build_requires, ["gcc-11"]);
  assert.deepEqual(def.variants, [["platform-linux", "arch-x86_64"], ["python-3.9"], ["python-3.11"]]);
  assert.equal(def.hashed_variants, true);
  assert.deepEqual(def.tools, ["full", "full-batch", "full-render"]);
  assert.equal(def.timestamp, 1700000003);
  assert.deepEqual(def.help, [
    ["Docs", "https://example.com/full/2.1.0"],
    ["Wiki", "https://wiki"],
  ]);
  const a = def.attributes;
  assert.equal(pyStr(a.numbers!), "{'total': 21, 'ratio': 2.5, 'floor': -4, 'mod': 2, 'power': 1099511627776}");
  assert.equal(
    pyStr(a.strings!),
    `['x-full', 'ratio=002.5', "    'full'|3.14|002", 'tab\\tand\\\\backslash', 'quote \\' and "double"']`,
  );
  assert.equal(a.conditional, "big");
  assert.equal(a.joined, "0, 1, 2");
  assert.equal(a.doubled, 42);
  assert.equal(a._major, 2, "single-underscore names are attributes");
  assert.ok(!("__private_note" in a), "__ names are dropped");
  assert.ok(!("_helper" in a), "plain functions are dropped");
  assert.ok(!("release_packages_path" in a) && !("c" in a), "names bound in a scope block belong to the scope");
  assert.equal(pyStr(a.config!), "{'build_thread_count': 4, 'release_packages_path': '/studio/release'}");
  assert.equal(def.lines.config, 60, "the line of the with statement");
  assert.equal(a.early_tools_count, 5, "@early() ran at load with `this` = the package so far");
  assert.deepEqual(def.tantalus, {
    image: { base: "debian:12-slim", env: { FULL_MAJOR: "2" } },
    workflows: [{ name: "render", command: ["full-render", "--batch"] }],
  });

  // @late(): kept as a function, evaluated later with `this` bound.
  const late = a.resolved_label;
  assert.ok(late instanceof PyFunction && late.hasMark("late"));
  assert.equal(def.lines.resolved_label, 79);
  const value = new Interpreter().callFunction(late, [], new Map(), {
    globals: new Map([["this", new VariantThis({ version: "2.1.0" })]]),
  });
  assert.equal(value, "full-2.1.0");

  // Rex functions: kept with their source, run later in a rex namespace.
  for (const key of ["pre_commands", "commands", "post_commands"] as const) {
    const fn = def[key];
    assert.ok(fn instanceof PyFunction && fn.kind === "def" && fn.name === key, key);
    assert.equal(a[key], fn);
  }
  assert.equal(def.commands!.line, 87);
  assert.ok(def.commands!.source.startsWith('def commands():\n    env.PATH.prepend("{root}/bin")'));
  const env = new RecordingEnv();
  const log = env.log;
  const ns = new Map<string, PyValue>([
    ["env", env],
    ["this", new VariantThis({ tools: ["full", "full-batch"] })],
    ["building", false],
    ["alias", new RecordingCall("alias", log)],
  ]);
  new Interpreter().runBody(def.commands!, ns);
  assert.deepEqual(log, [
    "prepend PATH {root}/bin",
    "setenv FULL_ROOT {root}",
    "alias full {root}/bin/full",
    "alias full-batch {root}/bin/full-batch",
  ]);
});

test("@early() functions see `this`, `building` and Rez's other early objects; @late() ones are kept", () => {
  const def = readPackageFile(fixture("earlylate/3.0/package.py"));
  assert.equal(def.description, "built for earlylate");
  assert.deepEqual(def.requires, ["python-3"]);
  assert.equal(pyStr(def.attributes.build_info!), "{'keys': ['build_info', 'commands', 'description'], 'variant': 0}");
  assert.ok(def.tools instanceof PyFunction && def.tools.hasMark("late"));
  assert.ok(def.private_build_requires instanceof PyFunction);
  assert.equal(pyStr(def.attributes.nested!), "{'made_early': 'early functions in a dict run too, with earlylate'}");
  const building = readPackageFile(fixture("earlylate/3.0/package.py"), {
    earlyObjects: new Map([["building", true]]),
  });
  assert.deepEqual(building.requires, ["python-3", "cmake"]);
});

test("with scope(...): nested scopes, re-entered scopes, recursive attributes and ModifyList", () => {
  const def = readPackageFile(fixture("scoped/1.0/package.py"));
  assert.deepEqual(Object.keys(def.attributes), ["name", "version", "outer_value", "config", "extras"]);
  assert.equal(
    pyStr(def.attributes.config!),
    "{'package_filter': {'excludes': [{'glob': '*.beta'}]}, 'plugins': {'enabled': True}, 'build_thread_count': 16, 'plugin_path': ModifyList(append=['/extra/plugins'], prepend=None)}",
  );
  assert.equal(pyStr(def.attributes.extras!), "{'deep': {'er': {'value': 1}}, 'shadow': 'only inside the scope'}");
});

test("commands given as a string of code are parsed, with lines pointing into the file", () => {
  const def = readPackageFile(fixture("rexstring/1.0/package.py"));
  assert.equal(typeof def.attributes.commands, "string", "the attribute keeps the string, as in Rez");
  assert.equal(def.commands!.kind, "code");
  assert.deepEqual(
    def.commands!.body.map((s) => s.lineno),
    [5, 6],
  );
  const env = new RecordingEnv();
  new Interpreter().runBody(def.post_commands!, new Map([["env", env]]));
  assert.deepEqual(env.log, ["setenv REXSTRING_POST done"]);
});

test("package.yaml: YAML 1.1 scalars as PyYAML reads them, and a `commands: |` block", () => {
  const def = readPackageFile(fixture("yamlpkg/0.3/package.yaml"));
  assert.equal(def.format, "yaml");
  assert.equal(def.version, "0.3");
  assert.equal(def.description, "A YAML package: folded text on two lines.");
  assert.deepEqual(def.requires, ["python-3", "foo-1.2+"]);
  assert.deepEqual(def.variants, [["platform-linux"]]);
  assert.equal(def.relocatable, true);
  assert.equal(def.hashed_variants, false);
  assert.equal(def.timestamp, 1600000000);
  const a = def.attributes;
  assert.equal(a.octal_looking, 8);
  assert.equal(a.sexagesimal, 90);
  assert.equal(a.not_a_float, "1e10");
  assert.deepEqual(a.float_value, new PyFloat(1.5));
  assert.equal(a.nothing, null);
  assert.ok(a.merged instanceof PyDict);
  assert.equal(pyStr(a.merged), "{'a': 1, 'b': 3}");
  assert.deepEqual(def.tantalus, { image: { base: "debian:12-slim" } });
  assert.equal(def.lines.commands, 26);
  assert.deepEqual(
    def.commands!.body.map((s) => s.lineno),
    [27, 28],
    "code lines are file lines",
  );
  const env = new RecordingEnv();
  new Interpreter().runBody(
    def.commands!,
    new Map<string, PyValue>([
      ["env", env],
      ["building", true],
    ]),
  );
  assert.deepEqual(env.log, ["setenv YAMLPKG_ROOT {root}", "setenv YAMLPKG_BUILD 1"]);
});

test("an error in YAML rex code is reported at the line of the YAML file", () => {
  const yaml = "name: y\ncommands: |\n  env.A = 1\n  env.B = (2\n";
  assert.throws(
    () => readPackageSource(yaml, "y/package.yaml", "yaml"),
    (err: Error) => err.message === "y/package.yaml:4: SyntaxError: '(' was never closed",
  );
  const def = readPackageSource(
    "name: y\ncommands: |\n  env.A = 1\n  env.B = undefined_name\n",
    "y/package.yaml",
    "yaml",
  )!;
  assert.throws(
    () => new Interpreter().runBody(def.commands!, new Map([["env", new RecordingEnv()]])),
    (err: Error) => err.message === "y/package.yaml:4: NameError: name 'undefined_name' is not defined (in commands())",
  );
});

test("rex code with forbidden constructs still loads; it fails when run, at its line", () => {
  const src = "name = 'x'\n\ndef commands():\n    env.A = 'fine'\n    import subprocess\n";
  const def = readPackageSource(src, "x/package.py", "py")!;
  const env = new RecordingEnv();
  assert.throws(
    () => new Interpreter().runBody(def.commands!, new Map([["env", env]])),
    (err: Error) =>
      err.message.startsWith("x/package.py:5: 'import subprocess' (the module 'subprocess') is not evaluated"),
  );
  assert.deepEqual(env.log, ["setenv A fine"]);
});

test("@include(...) functions load; the included module is reported as unavailable when used", () => {
  const src =
    "name = 'x'\n\n@late()\n@include('studio_utils')\ndef tools():\n    return studio_utils.tools_for(this)\n";
  const def = readPackageSource(src, "x/package.py", "py")!;
  const fn = def.tools as PyFunction;
  assert.deepEqual(
    fn.marks.map((m) => m.name),
    ["include", "late"],
  );
  const globals = new Map<string, PyValue>([["this", new VariantThis({})], ...includedModules(fn)]);
  assert.throws(
    () => new Interpreter().callFunction(fn, [], new Map(), { globals }),
    (err: Error & { kind?: string }) =>
      err.message.startsWith(
        "x/package.py:6: 'studio_utils.tools_for': the module 'studio_utils' comes from @include('studio_utils')",
      ) && err.kind === "not-allowed",
  );
});

test("the value of a @late() function is checked against Rez's schema for its attribute", () => {
  const def = readPackageSource(
    "name = 'x'\n\n@late()\ndef requires():\n    return 'python' if building else ['python']\n",
    "x/package.py",
    "py",
  )!;
  const fn = def.requires as PyFunction;
  const interp = new Interpreter();
  const ok = interp.callFunction(fn, [], new Map(), { globals: new Map<string, PyValue>([["building", false]]) });
  assert.deepEqual(checkLateValue(def, "requires", ok), ["python"]);
  const bad = interp.callFunction(fn, [], new Map(), { globals: new Map<string, PyValue>([["building", true]]) });
  assert.throws(
    () => checkLateValue(def, "requires", bad),
    (err: Error) =>
      err.message === "x/package.py:4: 'requires' must be a list of requirement strings, not a str ('python')",
  );
});
