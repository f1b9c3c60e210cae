/**
 * `run --request "..."` runs an ad-hoc request in an image tagged
 * request:<hash>. Like `run WORKFLOW`, a repeated launch must not resolve:
 * the build stamps the request under its unnamed workflow (request-<hash>),
 * and the next launch of the same request checks that stamp with stat calls,
 * building again only when the configuration or a repository it read changed,
 * with one line saying why.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import { looksLikeStackTrace, oneToolWorkflow, runCliBounded, tempDir } from "./helpers.js";
import { missingTools } from "./builder/fixture.js";

let dir: string;
let studio: string;
let store: string;
let env: NodeJS.ProcessEnv;

function tool(version: string): void {
  const root = path.join(studio, "packages", "tool", version);
  fs.mkdirSync(path.join(root, "bin"), { recursive: true });
  fs.writeFileSync(
    path.join(root, "package.py"),
    `name = 'tool'\nversion = '${version}'\ndef commands():\n    env.PATH.prepend('{root}/bin')\n`,
  );
}

before(() => {
  dir = tempDir("tantalus-request-stamp-");
  studio = path.join(dir, "studio");
  store = path.join(dir, "store");
  tool("1.0");
  env = oneToolWorkflow(dir, studio);
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function launch(request: string) {
  const r = runCliBounded(["run", "--request", request, "--dry-run", "--store", store, "-c", "true"], {
    cwd: studio,
    env,
    timeoutMs: 180_000,
  });
  assert.ok(!looksLikeStackTrace(r.stderr), r.stderr);
  assert.equal(r.code, 0, r.stderr);
  return r;
}

function requestTags(): Map<string, string> {
  const index = JSON.parse(fs.readFileSync(path.join(store, "index.json"), "utf8")) as {
    manifests: { digest: string; annotations?: Record<string, string> }[];
  };
  return new Map(
    index.manifests
      .map((m) => [m.annotations?.["org.opencontainers.image.ref.name"] ?? "", m.digest] as const)
      .filter(([t]) => t.startsWith("request:")),
  );
}

test(
  "a repeated run --request skips the resolve while nothing it read changed; a new package version or a configuration edit builds again, saying why",
  { skip: missingTools("podman") },
  () => {
    const first = launch("tool");
    assert.match(first.stderr, /resolving/);
    assert.doesNotMatch(first.stderr, /again/, "a first build has nothing to explain");
    const [[tag, digest]] = [...requestTags()] as [[string, string]];

    const second = launch("tool");
    assert.doesNotMatch(second.stderr, /resolving|planning|auditing|building/, second.stderr);
    assert.deepEqual([...requestTags()], [[tag, digest]]);

    tool("1.1");
    const third = launch("tool");
    assert.match(third.stderr, /^tantalus: building the request "tool" again: .*tool/m);
    assert.match(third.stderr, /resolving/);
    assert.notEqual(requestTags().get(tag), digest, "the image of the newer tool");
    assert.doesNotMatch(launch("tool").stderr, /resolving/);

    fs.appendFileSync(path.join(studio, "tantalus.yaml"), "# edited\n");
    assert.match(launch("tool").stderr, /^tantalus: building the request "tool" again: tantalus\.yaml changed$/m);

    // Another request is another image and another stamp; the first request's stamp still holds.
    assert.match(launch("tool-1.0").stderr, /resolving/);
    assert.equal(requestTags().size, 2);
    assert.doesNotMatch(launch("tool").stderr, /resolving/);

    // gc untags requests after dev.retention, and their stamps go with them; the next launch builds afresh.
    const stamps = () =>
      fs.readdirSync(path.join(store, ".tantalus", "stamps")).filter((f) => f.startsWith("request-"));
    assert.equal(stamps().length, 2);
    const gc = runCliBounded(["gc", "--dev-retention", "0", "--store", store], { cwd: studio, env });
    assert.equal(gc.code, 0, gc.stderr);
    assert.equal(requestTags().size, 0);
    assert.deepEqual(stamps(), []);
    const afresh = launch("tool");
    assert.match(afresh.stderr, /resolving/);
    assert.doesNotMatch(afresh.stderr, /again/);
  },
);
