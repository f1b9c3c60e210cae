import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { runCli, tempDir } from "./helpers.js";

test("studio generate writes the studio and its tantalus.yaml, and refuses a non-empty directory without --force", () => {
  const dir = path.join(tempDir(), "studio");
  const r = runCli(["studio", "generate", dir, "--scale", "small", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout) as { dir: string; scale: string; workflows: unknown[]; defects: unknown[] };
  assert.equal(s.dir, dir);
  assert.equal(s.scale, "small");
  assert.ok(s.workflows.length >= 8);
  assert.equal(s.defects.length, 3);
  assert.ok(fs.existsSync(path.join(dir, "tantalus.yaml")));
  assert.ok(fs.existsSync(path.join(dir, "packages", "launch_app", "1.4.0", "bin", "launch_app")));

  const again = runCli(["studio", "generate", dir, "--scale", "small"]);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /exists and is not empty \(use --force to replace it\)/);

  const forced = runCli(["studio", "generate", dir, "--scale", "small", "--force"]);
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(forced.stdout, /^sample studio written to .* \(scale small\)/);
  assert.match(forced.stdout, /undeclared +layout_tools in rough_layout/);

  const bad = runCli(["studio", "generate", path.join(tempDir(), "x"), "--scale", "huge"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /invalid --scale "huge"/);
});

test("commands read the generated tantalus.yaml: a bad edit is reported at its line", () => {
  const dir = tempDir();
  fs.writeFileSync(
    path.join(dir, "tantalus.yaml"),
    "packages_path: [packages]\nworkflows:\n  comp:\n    request: nuke\n",
  );
  const r = runCli(["resolve", "--workflow", "comp"], { cwd: dir });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /tantalus\.yaml:4:14: workflows\.comp\.request: expected a list, got string "nuke"/);
});
