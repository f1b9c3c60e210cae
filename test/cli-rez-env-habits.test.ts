import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { projectRoot, runCli } from "./helpers.js";

// rez-env's habits through the CLI, checked against real Rez 3.4's outcomes
// recorded by scripts/rez-oracle/rez_env_habits.py over test/fixtures/rez-env-habits.

const ROOT = path.join(projectRoot, "test", "fixtures", "rez-env-habits");
const rez = JSON.parse(fs.readFileSync(path.join(projectRoot, "test", "data", "rez-env-habits.json"), "utf8"));

interface JsonVariant {
  name: string;
  version: string;
  index: number | null;
  root: string;
}

test("an empty request resolves to an empty context, as rez-env with no packages", () => {
  for (const [label, flags] of [["no_implicit", ["--no-implicit"]], ["implicit", []]] as const) {
    const want = rez.empty[label];
    const r = runCli(["resolve", "--json", "--paths", ROOT, ...flags]);
    assert.equal(r.code, 0, r.stderr);
    const d = JSON.parse(r.stdout);
    assert.equal(d.status, want.status);
    assert.deepEqual(d.resolved, want.resolved);
    assert.deepEqual(d.variants, []);
    const env = runCli(["env", "--json", "--paths", ROOT, ...flags]);
    assert.equal(env.code, 0, env.stderr);
    const environ = JSON.parse(env.stdout);
    for (const [k, v] of Object.entries(want.environ)) assert.equal(environ[k], v, k);
  }
});

test("resolve --json gives structured variants (name, version, index, root) with Rez's roots, hashed shortlinks included", () => {
  assert.equal(rez.use_variant_shortlinks, true);
  for (const c of rez.variants as { request: string[]; variants: JsonVariant[] }[]) {
    const r = runCli(["resolve", "--json", "--no-implicit", "--paths", ROOT, ...c.request]);
    assert.equal(r.code, 0, r.stderr);
    const d = JSON.parse(r.stdout);
    const got = (d.variants as JsonVariant[]).map((v) => ({ name: v.name, version: v.version, index: v.index, root: path.relative(ROOT, v.root) }));
    assert.deepEqual(got, c.variants, c.request.join(" "));
    // the old string form stays for the scripts that read it
    assert.deepEqual(d.resolved, c.variants.map((v) => `${v.name}-${v.version}[${v.index ?? ""}]`));
  }
});
