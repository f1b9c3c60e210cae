/**
 * Fuzz pass over the parsers users feed text to: Rez versions, ranges and
 * requirements (src/rez/version) and tantalus.yaml (src/config). No input may
 * crash: only the documented error types (VersionError / RequirementError,
 * ConfigError; all TantalusErrors) may come out.
 */
import fc from "fast-check";
import { test } from "node:test";
import { ConfigError, parseConfig } from "../../src/config/index.js";
import assert from "node:assert/strict";
import {
  Requirement,
  RequirementList,
  Version,
  VersionRange,
  parsePackageRequest,
} from "../../src/rez/version/index.js";
import { onlyExpected, params } from "./fuzz-kit.js";

/** Characters Rez's grammars give meaning to, so random strings reach deep into the parsers. */
const REZ_CHARS = [
  ..."0123456789abcxyzAZ._-+<>=|~!@,*[]() \t^$#%/\\:'\"",
  "..",
  "==",
  "<=",
  ">=",
  "|",
  "~",
  "!",
  "+<",
  "-",
  ".",
];
const rezText = fc.oneof(
  fc.array(fc.constantFrom(...REZ_CHARS), { maxLength: 40 }).map((a) => a.join("")),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 20 }),
);

function tryParse(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    onlyExpected(e);
  }
}

test("fuzz: Version, VersionRange, Requirement and request parsing never crash", () => {
  fc.assert(
    fc.property(rezText, (s) => {
      tryParse(() => Version.parse(s));
      tryParse(() => VersionRange.parse(s).toString());
      tryParse(() => Requirement.parse(s).toString());
      tryParse(() => parsePackageRequest(s));
      tryParse(() =>
        new RequirementList(
          s
            .split(/\s+/)
            .filter(Boolean)
            .map((r) => Requirement.parse(r)),
        ).toString(),
      );
    }),
    params(4000),
  );
});

test("fuzz: operations on parsed versions and ranges never crash", () => {
  fc.assert(
    fc.property(rezText, rezText, (a, b) => {
      let ra: VersionRange | undefined;
      let rb: VersionRange | undefined;
      try {
        ra = VersionRange.parse(a);
        rb = VersionRange.parse(b);
      } catch (e) {
        onlyExpected(e);
        return;
      }
      ra.intersection(rb);
      ra.union(rb);
      ra.subtract(rb);
      ra.inverse();
      ra.intersects(rb);
      ra.issuperset(rb);
      ra.issubset(rb);
      ra.span();
      ra.split();
      ra.compare(rb);
      ra.toVersions();
      try {
        ra.contains(Version.parse(b));
      } catch (e) {
        onlyExpected(e);
      }
    }),
    params(2000),
  );
});

const GOOD = `packages_path: [packages, /opt/rez/release]
implicit_packages: ["~platform==linux", "~os==Rocky-9.3"]
base: { image: "docker.io/library/rockylinux:9" }
image: { compression: zstd, root_map: { /mnt/rez: /studio/packages } }
layers:
  budget: 60
  tiers:
    - { name: platform, packages: [python, "py*"] }
audit: { allow_system: [libc.so.6] }
packages:
  layout_tools:
    add_requires: [alembic-1.8]
    ignore: [{ soname: libGL.so.1, reason: "driver" }]
run:
  runtime: podman
  env: [DISPLAY, "LC_*"]
  mounts: [{ source: "~", target: "~" }]
workflows:
  rough_layout:
    request: [launch_app, maya-2025, "python-3.10+<3.12"]
    env: { STUDIO_DEPARTMENT: layout }
    mounts:
      - { source: projects, target: /studio/projects, readonly: true }
`;

const YAML_TOKENS = [
  ": ",
  "- ",
  "\n",
  "\n  ",
  "{",
  "}",
  "[",
  "]",
  ",",
  "&a ",
  "*a",
  "!!str ",
  "!!int ",
  "? ",
  "|",
  ">",
  "'",
  '"',
  "#",
  "~",
  "null",
  "1e999",
  "0x1",
  "<<: ",
  "---\n",
  "...\n",
  "workflows",
  "request",
  "packages",
  "layers",
  "budget",
  "run",
  "mounts",
];
const yamlText = fc.oneof(
  fc.array(fc.constantFrom(...YAML_TOKENS), { maxLength: 60 }).map((a) => a.join("")),
  fc.string({ maxLength: 200 }),
  fc
    .array(fc.record({ at: fc.nat(GOOD.length - 1), text: fc.constantFrom(...YAML_TOKENS, "", "x") }), {
      minLength: 1,
      maxLength: 6,
    })
    .map((edits) => {
      let s = GOOD;
      for (const e of edits) s = s.slice(0, e.at % (s.length || 1)) + e.text + s.slice((e.at % (s.length || 1)) + 1);
      return s;
    }),
);

test("fuzz: tantalus.yaml loading never crashes, whatever the text", () => {
  fc.assert(
    fc.property(yamlText, (text) => {
      tryParse(() => parseConfig(text, "/studio/tantalus.yaml", "tantalus.yaml"));
    }),
    params(1000),
  );
});

test("found by the fuzz pass: an alias without its anchor is a ConfigError at the alias's line, not a ReferenceError", () => {
  const text = "packages_path: [packages]\nworkflows:\n  comp: { request: [*missing] }\n";
  assert.throws(
    () => parseConfig(text, "/studio/tantalus.yaml", "tantalus.yaml"),
    (e: unknown) =>
      e instanceof ConfigError && /^tantalus\.yaml:3:\d+: invalid YAML: Unresolved alias/.test((e as Error).message),
  );
});
