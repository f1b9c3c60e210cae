// Rez's own configuration (rezconfig files, REZ_* variables) decides `tantalus resolve` as it decides
// rez-env: every case of test/data/rez-config.json, recorded from real Rez by
// scripts/rez-oracle/rez_config.py over test/fixtures/rez-config, run again through the CLI.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import test from "node:test";
import { hostSystem } from "../src/rez/system.js";
import { projectRoot, tempDir } from "./helpers.js";

const FIXTURE = path.join(projectRoot, "test", "fixtures", "rez-config");

interface RezCase {
  name: string;
  request: string[];
  args?: string[];
  files?: string[];
  env?: Record<string, string>;
  home?: string;
  rez: {
    exit: number;
    status?: string;
    resolved?: { name: string; root: string }[];
    implicit_packages?: string[];
    failure?: string;
    environ?: Record<string, string>;
    stderr: string;
  };
}

const data = JSON.parse(fs.readFileSync(path.join(projectRoot, "test", "data", "rez-config.json"), "utf8")) as {
  host: { platform: string; arch: string; os: string };
  cases: RezCase[];
};

/** The environment of a case: nothing of the caller's Rez or Tantalus configuration, only the case's. */
function caseEnv(c: RezCase, home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(REZ_|TANTALUS_)/.test(k)) env[k] = v;
  Object.assign(env, {
    HOME: c.home !== undefined ? path.join(FIXTURE, c.home) : home,
    FIXTURE,
    TANTALUS_SITE_CONFIG: "",
    TANTALUS_NO_CACHE: "1",
    REZ_CONFIG_FILE:
      (c.files ?? []).map((f) => path.join(FIXTURE, "configs", f)).join(":") || path.join(FIXTURE, "no-rezconfig"),
  });
  for (const [k, v] of Object.entries(c.env ?? {})) env[k] = v.replaceAll("$FIXTURE", FIXTURE);
  return env;
}

/** Rez's implicit packages on the recording host, with this host's values where they were the recording host's. */
function onThisHost(implicit: string[]): string[] {
  const here = hostSystem();
  return implicit.map((r) => {
    const m = /^~(platform|arch|os)==(.*)$/.exec(r);
    if (!m) return r;
    const field = m[1] as "platform" | "arch" | "os";
    return m[2] === data.host[field] ? `~${field}==${here[field]}` : r;
  });
}

const home = tempDir("tantalus-rezconfig-home-");
const cwd = tempDir("tantalus-rezconfig-cwd-");

for (const c of data.cases) {
  test(`rezconfig: ${c.name}: the resolve and its environment are Rez's`, () => {
    const lock = path.join(cwd, `${c.name.replace(/\W+/g, "_")}.json`);
    const p = spawnSync(
      process.execPath,
      [path.join(projectRoot, "bin", "tantalus.js"), "resolve", "--json", "-o", lock, ...c.request, ...(c.args ?? [])],
      { cwd, env: caseEnv(c, home), encoding: "utf8" },
    );
    const out = JSON.parse(p.stdout) as {
      status: string;
      variants: { qualifiedName: string; root: string }[];
      failure?: { kind: string; description: string };
      warnings?: string[];
    };
    if (c.rez.status === "solved") {
      assert.equal(out.status, "solved", `${c.name}: ${p.stderr}`);
      assert.deepEqual(
        out.variants.map((v) => ({ name: v.qualifiedName, root: path.relative(FIXTURE, v.root) })),
        c.rez.resolved,
      );
      const ctx = JSON.parse(fs.readFileSync(lock, "utf8")) as { implicitPackages: string[] };
      assert.deepEqual(ctx.implicitPackages, onThisHost(c.rez.implicit_packages!));

      // The environment: each package's root, base and version, and the search path Rez records.
      const env = caseEnv(c, home);
      const e = spawnSync(
        process.execPath,
        [path.join(projectRoot, "bin", "tantalus.js"), "env", "--format", "json", ...c.request, ...(c.args ?? [])],
        { cwd, env, encoding: "utf8" },
      );
      assert.equal(e.status, 0, e.stderr);
      const environ = JSON.parse(e.stdout) as Record<string, string>;
      const decided = Object.fromEntries(
        Object.entries(environ)
          .filter(([k]) => /^REZ_\w+_(ROOT|BASE|VERSION)$/.test(k) || k === "REZ_USED_PACKAGES_PATH")
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .map(([k, v]) => [k, v.replaceAll(FIXTURE, "$FIXTURE").replaceAll(env.HOME!, "$HOME")]),
      );
      assert.deepEqual(decided, c.rez.environ);
    } else if (c.rez.status === "failed") {
      assert.equal(out.status, "failed");
      assert.equal(p.status, 1);
      assert.equal(out.failure?.description, c.rez.failure);
    } else {
      // Rez raises (PackageFamilyNotFoundError): no context, exit 1, its message on stderr.
      assert.equal(c.rez.exit, 1);
      assert.equal(out.status, "failed");
      assert.equal(p.status, 1);
      const message = c.rez.stderr.replace(/^ERROR\s+\w+: /, "").replaceAll("$FIXTURE", FIXTURE);
      assert.equal(out.failure?.description, message);
    }
    // What Rez printed while solving (a variant skipped for its missing family), Tantalus prints too.
    const rezWarnings =
      c.rez.status === undefined
        ? []
        : c.rez.stderr
            .replaceAll("$FIXTURE", FIXTURE)
            .split("\n")
            .filter((l) => l.startsWith("package family not found"));
    assert.deepEqual(out.warnings ?? [], rezWarnings);
    for (const w of rezWarnings) assert.ok(p.stderr.includes(w), p.stderr);
  });
}

test("rezconfig: tantalus config names the Rez file and line, or the REZ_ variable, each value comes from", () => {
  const c = data.cases.find((x) => x.name === "intersection_priority")!;
  const env = { ...caseEnv(c, home), REZ_USE_VARIANT_SHORTLINKS: "off" };
  const p = spawnSync(process.execPath, [path.join(projectRoot, "bin", "tantalus.js"), "config"], {
    cwd,
    env,
    encoding: "utf8",
  });
  assert.equal(p.status, 0, p.stderr);
  const file = path.join(FIXTURE, "configs", "intersection.py");
  assert.match(p.stdout, new RegExp(`^rezconfig:${file}:2 +variant_select_mode=intersection_priority$`, "m"));
  assert.match(p.stdout, new RegExp(`^rezconfig:${file}:1 +packages_path=\\["${FIXTURE}/main"\\]$`, "m"));
  assert.match(p.stdout, /^env:REZ_USE_VARIANT_SHORTLINKS +use_variant_shortlinks=false$/m);
  assert.match(
    p.stdout,
    /^# layers, lowest first: default < rez .*intersection\.py < rez REZ_USE_VARIANT_SHORTLINKS$/m,
  );
});

/** `tantalus ARGS` in `dir` (holding a tantalus.yaml), with nothing of the caller's Rez or Tantalus configuration. */
function tantalusIn(dir: string, args: string[]) {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(REZ_|TANTALUS_)/.test(k)) env[k] = v;
  Object.assign(env, { HOME: home, TANTALUS_SITE_CONFIG: "", TANTALUS_NO_CACHE: "1" });
  return spawnSync(process.execPath, [path.join(projectRoot, "bin", "tantalus.js"), ...args], {
    cwd: dir,
    env,
    encoding: "utf8",
  });
}

for (const [arch, lib] of [
  ["aarch64", "armlib"],
  ["x86_64", "x86lib"],
] as const) {
  test(`target: a package.py asking platform.machine() is loaded for the configured target (${arch})`, () => {
    const dir = tempDir("tantalus-target-");
    fs.writeFileSync(
      path.join(dir, "tantalus.yaml"),
      `packages_path: [${path.join(FIXTURE, "target")}]\ntarget: { platform: linux, arch: ${arch}, os: Rocky-9.3 }\n`,
    );
    const lock = path.join(dir, "lock.json");
    const r = tantalusIn(dir, ["resolve", "--json", "-o", lock, "tool"]);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { variants: { qualifiedName: string }[] };
    assert.deepEqual(
      out.variants.map((v) => v.qualifiedName),
      [`${lib}-1.0[]`, "tool-1.0[]"],
    );
    const ctx = JSON.parse(fs.readFileSync(lock, "utf8")) as { implicitPackages: string[] };
    assert.deepEqual(ctx.implicitPackages, ["~platform==linux", `~arch==${arch}`, "~os==Rocky-9.3"]);

    // repo check --verbose says which package asked, what, and the target's answer.
    const check = tantalusIn(dir, ["repo", "check", "--verbose"]);
    assert.equal(check.status, 0, check.stderr);
    const file = path.join(FIXTURE, "target", "tool", "1.0", "package.py");
    assert.match(check.stdout, new RegExp(`^${file}: asks the host \\(1 question\\):$`, "m"));
    assert.match(check.stdout, new RegExp(`^  line 10: platform\\.machine\\(\\) -> "${arch}" \\(platform\\)$`, "m"));
  });
}

test("target: @late() requires and commands() answer platform queries for the configured target, and the lock keeps it", () => {
  const dir = tempDir("tantalus-target-late-");
  // A target that is not this host on any CI machine: an Apple-silicon Mac.
  fs.writeFileSync(
    path.join(dir, "tantalus.yaml"),
    `packages_path: [${path.join(FIXTURE, "target")}]\ntarget: { platform: osx, arch: aarch64, os: osx-14.4 }\n`,
  );
  const lock = path.join(dir, "lock.json");
  const r = tantalusIn(dir, ["resolve", "--json", "-o", lock, "latetool"]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(
    (JSON.parse(r.stdout) as { variants: { qualifiedName: string }[] }).variants.map((v) => v.qualifiedName),
    ["armlib-1.0[]", "latetool-1.0[]"],
  );
  const env = tantalusIn(dir, ["env", "--json", "--context", lock]);
  assert.equal(env.status, 0, env.stderr);
  const environ = JSON.parse(env.stdout) as Record<string, string>;
  assert.equal(environ.LATETOOL_MACHINE, "aarch64");
  assert.equal(environ.LATETOOL_SYSTEM, "Darwin/darwin");

  // Implicit packages that do not name the platform: the lock records the target, and commands still answer for it.
  fs.writeFileSync(
    path.join(dir, "tantalus.yaml"),
    `packages_path: [${path.join(FIXTURE, "target")}]\nimplicit_packages: []\ntarget: { platform: osx, arch: aarch64, os: osx-14.4 }\n`,
  );
  const bare = path.join(dir, "bare.json");
  const r2 = tantalusIn(dir, ["resolve", "-o", bare, "latetool"]);
  assert.equal(r2.status, 0, r2.stderr);
  assert.deepEqual((JSON.parse(fs.readFileSync(bare, "utf8")) as { system: unknown }).system, {
    platform: "osx",
    arch: "aarch64",
    os: "osx-14.4",
  });
  const env2 = tantalusIn(dir, ["env", "--json", "--context", bare]);
  assert.equal(env2.status, 0, env2.stderr);
  assert.equal((JSON.parse(env2.stdout) as Record<string, string>).LATETOOL_SYSTEM, "Darwin/darwin");
});
