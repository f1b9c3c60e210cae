// Rez's configuration variables are inputs of a workflow's image: changing REZ_PACKAGES_PATH (or any
// variable of the Rez layer) makes the stamped image out of date and says which variable changed.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import test from "node:test";
import { stampKeyOf, stampedManifestVerdict, writeWorkflowStamp } from "../src/builder/stamp.js";
import { tempDir } from "./helpers.js";

test("a stamp made under REZ_PACKAGES_PATH is out of date when it changes, and says so", () => {
  const dir = tempDir("tantalus-stamp-rez-");
  const config = path.join(dir, "tantalus.yaml");
  fs.writeFileSync(config, "workflows: {}\n");
  const before = { REZ_PACKAGES_PATH: "/studio/a" };
  const key = stampKeyOf([config], before)!;
  writeWorkflowStamp(dir, "comp", {
    ...key,
    manifest: "sha256:" + "0".repeat(64),
    observation: { roots: [], families: {} },
    payloads: [],
  });
  assert.equal(stampedManifestVerdict(dir, "comp", [config], before).current, true);
  assert.deepEqual(stampedManifestVerdict(dir, "comp", [config], { REZ_PACKAGES_PATH: "/studio/b" }), {
    current: false,
    reason: "REZ_PACKAGES_PATH changed",
  });
  assert.deepEqual(stampedManifestVerdict(dir, "comp", [config], { ...before, REZ_CONFIG_FILE: "/etc/rez.py" }), {
    current: false,
    reason: "REZ_CONFIG_FILE changed",
  });
  // Variables Rez's configuration layer does not read (a rez-env shell's own) change nothing.
  assert.equal(stampedManifestVerdict(dir, "comp", [config], { ...before, REZ_USED_REQUEST: "foo" }).current, true);
  // Without any such variable, the key is what it was before they counted.
  assert.equal(stampKeyOf([config], {})!.inputs.rez, undefined);
});

test("a stamp made without TANTALUS_PYTHON is out of date once it says cpython, and says so", () => {
  const dir = tempDir("tantalus-stamp-python-");
  const config = path.join(dir, "tantalus.yaml");
  fs.writeFileSync(config, "workflows: {}\n");
  const key = stampKeyOf([config], {})!;
  assert.equal(key.inputs.python, undefined);
  writeWorkflowStamp(dir, "comp", {
    ...key,
    manifest: "sha256:" + "0".repeat(64),
    observation: { roots: [], families: {} },
    payloads: [],
  });
  assert.equal(stampedManifestVerdict(dir, "comp", [config], {}).current, true);
  assert.deepEqual(stampedManifestVerdict(dir, "comp", [config], { TANTALUS_PYTHON: "cpython" }), {
    current: false,
    reason: "TANTALUS_PYTHON changed",
  });
});
