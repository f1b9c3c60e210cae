/**
 * Built images through a real registry (Debian's docker-registry on a free
 * loopback port): `tantalus build --push`, read back by skopeo and by
 * `tantalus pull` with equal digests; a second push uploads nothing; several
 * workflows pushed at once mount the layers they share.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startRegistry, type RunningRegistry } from "./image-remote/harness.js";
import { missingTools, removeDir, run, sampleStudio, scratchDir, tantalusOk, type Studio } from "./build/fixture.js";

interface PushJson {
  images: { workflow: string; digest: string }[];
  pushed: { workflow: string; reference: string; digest: string; blobs: { digest: string; outcome: string }[] }[];
}

const skip = missingTools("docker-registry", "skopeo");
let scratch: string;
let studio: Studio;
let store: string;
let reg: RunningRegistry;

before(async () => {
  if (skip) return;
  scratch = scratchDir("build-registry");
  studio = await sampleStudio(scratch);
  store = join(scratch, "store");
  reg = await startRegistry();
});

after(async () => {
  await reg?.stop();
  if (scratch) removeDir(scratch);
});

const build = (...args: string[]) => JSON.parse(tantalusOk(["build", "--allow-audit-errors", ...args, "--config", studio.config, "--store", store, "--json", "--no-progress"]).stdout) as PushJson;

describe("pushing built images", { skip }, () => {
  it("pushes an image that skopeo copy and tantalus pull read back with the same digest; a second push uploads no blob", () => {
    const target = `${reg.host}/studio/rough_layout:v1`;
    const first = build("rough_layout", "--push", target, "--insecure");
    const digest = first.images[0]!.digest;
    assert.equal(first.pushed[0]!.digest, digest);
    assert.ok(first.pushed[0]!.blobs.every((b) => b.outcome === "uploaded"), "a fresh registry gets every blob");

    const copied = join(scratch, "skopeo-copy");
    run("skopeo", ["copy", "--quiet", "--src-tls-verify=false", `docker://${target}`, `oci:${copied}:v1`]);
    const index = JSON.parse(readFileSync(join(copied, "index.json"), "utf8")) as { manifests: { digest: string }[] };
    assert.equal(index.manifests[0]!.digest, digest);
    assert.equal((JSON.parse(run("skopeo", ["inspect", "--tls-verify=false", `docker://${target}`])) as { Digest: string }).Digest, digest);

    const pullStore = join(scratch, "pulled");
    const pulled = JSON.parse(tantalusOk(["pull", target, "--insecure", "--store", pullStore, "--json"]).stdout) as { tag: string; digest: string; fetched: string[] };
    assert.equal(pulled.digest, digest);
    assert.equal(pulled.tag, target);
    assert.equal(pulled.fetched.length, first.pushed[0]!.blobs.length, "every blob fetched into an empty store");
    const again = JSON.parse(tantalusOk(["pull", target, "--insecure", "--store", pullStore, "--json"]).stdout) as { fetched: string[] };
    assert.deepEqual(again.fetched, [], "a second pull fetches nothing");
    const listed = JSON.parse(tantalusOk(["images", "--json", "--store", pullStore]).stdout) as { tag: string; workflow: string; digest: string }[];
    assert.deepEqual(listed.map((i) => [i.tag, i.workflow, i.digest]), [[target, "rough_layout", digest]], "a pulled image keeps its workflow");

    const second = build("rough_layout", "--push", target, "--insecure");
    assert.equal(second.pushed[0]!.digest, digest);
    assert.deepEqual([...new Set(second.pushed[0]!.blobs.map((b) => b.outcome))], ["exists"], "nothing uploaded the second time");
  });

  it("pushes several workflows under a prefix, mounting shared layers instead of uploading them again", () => {
    const pushed = build("rough_layout", "animation", "--push", `${reg.host}/team`, "--insecure").pushed;
    assert.deepEqual(pushed.map((p) => p.reference), [`${reg.host}/team/rough_layout:latest`, `${reg.host}/team/animation:latest`]);
    const anim = pushed[1]!;
    const shared = new Set(pushed[0]!.blobs.map((b) => b.digest));
    const mounted = anim.blobs.filter((b) => b.outcome === "mounted");
    assert.ok(mounted.length > 0, "shared layers were mounted from team/rough_layout");
    assert.ok(mounted.every((b) => shared.has(b.digest)));
    assert.ok(anim.blobs.filter((b) => b.outcome === "uploaded").every((b) => !shared.has(b.digest)), "only animation's own blobs were uploaded");
    const inspect = JSON.parse(run("skopeo", ["inspect", "--tls-verify=false", `docker://${reg.host}/team/animation:latest`])) as { Digest: string; Labels: Record<string, string> };
    assert.equal(inspect.Digest, anim.digest);
    assert.equal(inspect.Labels["io.tantalus.workflow"], "animation");
  });
});
