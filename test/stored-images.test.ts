/**
 * Images that already exist: `tantalus push`, `export`, `tag` and `inspect`
 * work from the store alone (the packages are moved away first, so any
 * resolve or rebuild would fail), and what they write is read back by skopeo
 * with the digest the build gave. A push to a registry nobody serves fails at
 * once with the reason.
 */
import assert from "node:assert/strict";
import { readFileSync, renameSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { freePort, startRegistry, type RunningRegistry } from "./image-remote/harness.js";
import { missingTools, removeDir, run, studioWithImage, tantalus, tantalusOk, type Studio } from "./builder/fixture.js";

const skip = missingTools("docker-registry", "skopeo");
let scratch: string;
let studio: Studio;
let store: string;
let reg: RunningRegistry;
let digest: string;

before(async () => {
  if (skip) return;
  ({ scratch, studio, store, digest } = await studioWithImage("stored-images"));
  reg = await startRegistry();
  // Nothing below may resolve or build: without the packages it could not.
  renameSync(studio.packages, `${studio.packages}.gone`);
});

after(async () => {
  await reg?.stop();
  if (scratch) removeDir(scratch);
});

const cli = (...args: string[]) => tantalusOk([...args, "--config", studio.config, "--store", store]);

describe("images that already exist", { skip }, () => {
  it("pushes a workflow's image as built and prints the reference by digest", () => {
    const target = `${reg.host}/studio/rough_layout:v1`;
    const out = cli("push", "rough_layout", target, "--insecure").stdout;
    assert.match(out, new RegExp(`^pushed rough_layout -> ${target.replace(/\./g, "\\.")}: \\d+ blob\\(s\\) uploaded`));
    assert.equal(out.trim().split("\n")[1], `${reg.host}/studio/rough_layout@${digest}`);
    const inspect = JSON.parse(
      run("skopeo", ["inspect", "--tls-verify=false", `docker://${reg.host}/studio/rough_layout@${digest}`]),
    ) as { Digest: string; Labels: Record<string, string> };
    assert.equal(inspect.Digest, digest);
    assert.equal(inspect.Labels["io.tantalus.workflow"], "rough_layout");
    // By digest too, to another repository: the blobs are already there or mounted, the manifest is the same.
    const again = JSON.parse(cli("push", digest, `${reg.host}/other/rl`, "--insecure", "--json").stdout) as {
      digest: string;
      reference: string;
      blobs: { outcome: string }[];
    };
    assert.equal(again.digest, digest);
    assert.equal(again.reference, `${reg.host}/other/rl:latest`);
  });

  it("fails at once, with the reason, when nothing listens at the registry or its name does not resolve", async () => {
    const port = await freePort();
    const started = process.hrtime.bigint();
    const r = tantalus([
      "push",
      "rough_layout",
      `127.0.0.1:${port}/x/y:1`,
      "--insecure",
      "--store",
      store,
      "--config",
      studio.config,
    ]);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      new RegExp(
        `cannot reach registry 127\\.0\\.0\\.1:${port} \\(https: .*; http: nothing listens there \\(connection refused\\)`,
      ),
    );
    assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    // Retrying a refused connection took ~10 s; this is a guard against sleeping again, not a benchmark.
    assert.ok(seconds < 5, `took ${seconds.toFixed(1)} s`);
    const dns = tantalus([
      "push",
      "rough_layout",
      "registry.invalid/x/y:1",
      "--store",
      store,
      "--config",
      studio.config,
    ]);
    assert.equal(dns.code, 1);
    assert.match(dns.stderr, /cannot reach registry registry\.invalid \(https: the host name does not resolve/);
  });

  it("exports to an OCI layout, an oci-archive and a docker-archive that skopeo reads with the built digest", () => {
    const layout = join(scratch, "out-layout");
    cli("export", "rough_layout", `oci:${layout}`);
    assert.equal(
      (JSON.parse(run("skopeo", ["inspect", `oci:${layout}:rough_layout`])) as { Digest: string }).Digest,
      digest,
    );
    const archive = join(scratch, "rl.oci.tar");
    cli("export", digest, `oci-archive:${archive}:rl`);
    assert.equal(
      (JSON.parse(run("skopeo", ["inspect", `oci-archive:${archive}:rl`])) as { Digest: string }).Digest,
      digest,
    );
    const docker = join(scratch, "rl.docker.tar");
    cli("export", "rough_layout", `docker-archive:${docker}:studio/rl:v2`);
    const d = JSON.parse(run("skopeo", ["inspect", `docker-archive:${docker}`])) as {
      RepoTags: string[];
      Labels: Record<string, string>;
    };
    assert.equal(d.Labels["io.tantalus.workflow"], "rough_layout");
    const manifest = JSON.parse(run("tar", ["-xOf", docker, "manifest.json"])) as { RepoTags: string[] }[];
    assert.deepEqual(manifest[0]!.RepoTags, ["studio/rl:v2"]);
  });

  it("tags an image under a new name that keeps its workflow, and refuses a bad name", () => {
    assert.match(
      cli("tag", "rough_layout", "rough_layout:approved").stdout,
      new RegExp(`tagged ${digest} \\(rough_layout\\) as rough_layout:approved`),
    );
    const listed = JSON.parse(cli("images", "--json").stdout) as { tag: string; workflow: string; digest: string }[];
    const approved = listed.find((i) => i.tag === "rough_layout:approved");
    assert.deepEqual([approved?.workflow, approved?.digest], ["rough_layout", digest]);
    const bad = tantalus(["tag", "rough_layout", "has space", "--store", store, "--config", studio.config]);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /invalid tag "has space"/);
    const missing = tantalus(["tag", "no_such_workflow", "x", "--store", store, "--config", studio.config]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no image "no_such_workflow" in the store/);
  });

  it("inspects labels, packages, the packages of each layer, environment, base and created", () => {
    const i = JSON.parse(cli("inspect", "rough_layout", "--json").stdout) as {
      digest: string;
      workflow: string;
      created: string;
      packages: string[];
      layers: { digest: string; kind?: string; packages: string[] }[];
      env: string[];
      labels: Record<string, string>;
      tags: string[];
    };
    assert.equal(i.digest, digest);
    assert.equal(i.workflow, "rough_layout");
    assert.deepEqual(i.packages, i.labels["io.tantalus.resolve"]!.split(" "));
    assert.ok(i.packages.length > 0);
    // Every resolved package is in exactly one layer, as skopeo sees the layer annotations.
    const raw = JSON.parse(run("skopeo", ["inspect", "--raw", `oci:${store}:rough_layout`])) as {
      layers: { digest: string; annotations?: Record<string, string> }[];
    };
    assert.deepEqual(
      i.layers.map((l) => l.digest),
      raw.layers.map((l) => l.digest),
    );
    const inLayers = i.layers.flatMap((l) => l.packages).sort();
    assert.deepEqual(inLayers, [...i.packages].sort());
    assert.ok(i.env.some((e) => e.startsWith("PATH=")));
    assert.ok(!Number.isNaN(Date.parse(i.created)));
    assert.ok(i.tags.includes("rough_layout"));
    const text = cli("inspect", digest).stdout;
    assert.match(text, new RegExp(`^digest    ${digest}$`, "m"));
    assert.match(text, /^layers:$/m);
    assert.equal(readFileSync(join(store, "oci-layout"), "utf8").includes("imageLayoutVersion"), true);
  });
});
