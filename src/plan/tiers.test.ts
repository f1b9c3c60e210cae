import { test } from "node:test";
import assert from "node:assert/strict";
import { TierAssigner, globRegex } from "./tiers.js";
import type { Package } from "../rez/package.js";

const pkg = (name: string, layer?: unknown): Package =>
  ({
    name,
    file: `/repo/${name}/1/package.py`,
    tantalus: layer === undefined ? undefined : { layer },
  }) as unknown as Package;

test("tier globs match whole package names as fnmatch does", () => {
  assert.ok(globRegex("pyside*").test("pyside2"));
  assert.ok(!globRegex("pyside*").test("xpyside"));
  assert.ok(globRegex("lib?").test("libz"));
  assert.ok(!globRegex("lib?").test("libzz"));
  assert.ok(globRegex("[mn]aya").test("naya"));
  assert.ok(!globRegex("[!m]aya").test("maya"));
  assert.ok(globRegex("open.exr").test("open.exr") && !globRegex("open.exr").test("openXexr"));
});

test("tier precedence: tantalus.yaml override, then the package's hint, then globs, then the last tier", () => {
  const tiers = new TierAssigner(
    [
      { name: "platform", packages: ["python", "usd*"] },
      { name: "apps", packages: ["maya"] },
      { name: "rest", packages: [] },
    ],
    new Map([["usd_tools", "rest"]]),
  );
  assert.deepEqual(tiers.assign(pkg("usd_tools", "apps")), { tier: "rest", source: "config" });
  assert.deepEqual(tiers.assign(pkg("maya", "platform")), { tier: "platform", source: "package" });
  assert.deepEqual(tiers.assign(pkg("usd")), { tier: "platform", source: "pattern" });
  assert.deepEqual(tiers.assign(pkg("launcher")), { tier: "rest", source: "default" });
  const odd = tiers.assign(pkg("python", "os"));
  assert.equal(odd.tier, "platform");
  assert.match(
    odd.warning!,
    /\/repo\/python\/1\/package.py: tantalus.layer 'os' is not a configured tier \(platform, apps, rest\)/,
  );
});

test("without configured tiers: platform, apps and rest, from packages' hints", () => {
  const tiers = new TierAssigner([]);
  assert.deepEqual(tiers.tiers, ["platform", "apps", "rest"]);
  assert.equal(tiers.assign(pkg("maya", "apps")).tier, "apps");
  assert.equal(tiers.assign(pkg("tool")).tier, "rest");
});
