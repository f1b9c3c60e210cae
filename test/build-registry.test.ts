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
import { MemoryStore, makeImage, startRegistry, type RunningRegistry } from "./image-remote/harness.js";
import { pushImage } from "../src/image/remote/index.js";
import {
  copyStudio,
  missingTools,
  removeDir,
  run,
  sampleStudio,
  scratchDir,
  setBaseImage,
  tantalus,
  tantalusOk,
  type Studio,
} from "./builder/fixture.js";

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

const build = (...args: string[]) =>
  JSON.parse(
    tantalusOk([
      "build",
      "--allow-audit-errors",
      ...args,
      "--config",
      studio.config,
      "--store",
      store,
      "--json",
      "--no-progress",
    ]).stdout,
  ) as PushJson;

describe("pushing built images", { skip }, () => {
  it("pushes an image that skopeo copy and tantalus pull read back with the same digest; a second push uploads no blob", () => {
    const target = `${reg.host}/studio/rough_layout:v1`;
    const first = build("rough_layout", "--push", target, "--insecure");
    const digest = first.images[0]!.digest;
    assert.equal(first.pushed[0]!.digest, digest);
    assert.ok(
      first.pushed[0]!.blobs.every((b) => b.outcome === "uploaded"),
      "a fresh registry gets every blob",
    );

    const copied = join(scratch, "skopeo-copy");
    run("skopeo", ["copy", "--quiet", "--src-tls-verify=false", `docker://${target}`, `oci:${copied}:v1`]);
    const index = JSON.parse(readFileSync(join(copied, "index.json"), "utf8")) as { manifests: { digest: string }[] };
    assert.equal(index.manifests[0]!.digest, digest);
    assert.equal(
      (JSON.parse(run("skopeo", ["inspect", "--tls-verify=false", `docker://${target}`])) as { Digest: string }).Digest,
      digest,
    );

    const pullStore = join(scratch, "pulled");
    const pulled = JSON.parse(tantalusOk(["pull", target, "--insecure", "--store", pullStore, "--json"]).stdout) as {
      tag: string;
      digest: string;
      fetched: string[];
    };
    assert.equal(pulled.digest, digest);
    assert.equal(pulled.tag, target);
    assert.equal(pulled.fetched.length, first.pushed[0]!.blobs.length, "every blob fetched into an empty store");
    const again = JSON.parse(tantalusOk(["pull", target, "--insecure", "--store", pullStore, "--json"]).stdout) as {
      fetched: string[];
    };
    assert.deepEqual(again.fetched, [], "a second pull fetches nothing");
    const listed = JSON.parse(tantalusOk(["images", "--json", "--store", pullStore]).stdout) as {
      tag: string;
      workflow: string;
      digest: string;
    }[];
    assert.deepEqual(
      listed.map((i) => [i.tag, i.workflow, i.digest]),
      [[target, "rough_layout", digest]],
      "a pulled image keeps its workflow",
    );

    const second = build("rough_layout", "--push", target, "--insecure");
    assert.equal(second.pushed[0]!.digest, digest);
    assert.deepEqual(
      [...new Set(second.pushed[0]!.blobs.map((b) => b.outcome))],
      ["exists"],
      "nothing uploaded the second time",
    );
  });

  it("pushes several workflows under a prefix, mounting shared layers instead of uploading them again", () => {
    const pushed = build("rough_layout", "animation", "--push", `${reg.host}/team`, "--insecure").pushed;
    assert.deepEqual(
      pushed.map((p) => p.reference),
      [`${reg.host}/team/rough_layout:latest`, `${reg.host}/team/animation:latest`],
    );
    const anim = pushed[1]!;
    const shared = new Set(pushed[0]!.blobs.map((b) => b.digest));
    const mounted = anim.blobs.filter((b) => b.outcome === "mounted");
    assert.ok(mounted.length > 0, "shared layers were mounted from team/rough_layout");
    assert.ok(mounted.every((b) => shared.has(b.digest)));
    assert.ok(
      anim.blobs.filter((b) => b.outcome === "uploaded").every((b) => !shared.has(b.digest)),
      "only animation's own blobs were uploaded",
    );
    const inspect = JSON.parse(
      run("skopeo", ["inspect", "--tls-verify=false", `docker://${reg.host}/team/animation:latest`]),
    ) as { Digest: string; Labels: Record<string, string> };
    assert.equal(inspect.Digest, anim.digest);
    assert.equal(inspect.Labels["io.tantalus.workflow"], "animation");
  });

  it("layers images on a base pulled from a registry, and builds from the stored copy when the registry is down", async () => {
    const base = await makeImage(
      [{ "etc/os-release": "ID=studio-base\nVERSION_ID=2024\n" }, { "opt/site/README": "site tools\n" }],
      "studio-base",
    );
    const baseRegistry = await startRegistry();
    const copy = copyStudio(studio, join(scratch, "studio-registry-base"));
    const ref = `${baseRegistry.host}/vfx/base:2024`;
    setBaseImage(copy, ref);
    const args = [
      "build",
      "--allow-audit-errors",
      "comp",
      "--insecure",
      "--config",
      copy.config,
      "--store",
      join(scratch, "store-base"),
      "--json",
      "--no-progress",
    ];
    let first: PushJson & {
      images: { layers: { kind: string; digest: string }[] }[];
      base: { name: string; digest: string };
    };
    try {
      await pushImage(
        ref,
        { manifest: base.manifest, mediaType: base.mediaType, blobs: new MemoryStore(base.blobs) },
        { insecure: true, retry: { baseDelayMs: 10 } },
      );
      first = JSON.parse(tantalusOk(args).stdout) as typeof first;
    } finally {
      await baseRegistry.stop();
    }
    assert.equal(first.base.digest, base.manifestDigest);
    assert.deepEqual(
      first.images[0]!.layers.filter((l) => l.kind === "base").map((l) => l.digest),
      base.layerDigests,
      "the base's layers, reused as they are",
    );
    const inspect = JSON.parse(run("skopeo", ["inspect", "--raw", `oci:${join(scratch, "store-base")}:comp`])) as {
      annotations: Record<string, string>;
    };
    assert.equal(inspect.annotations["org.opencontainers.image.base.name"], ref);
    assert.equal(inspect.annotations["org.opencontainers.image.base.digest"], base.manifestDigest);

    const offline = tantalus(args);
    assert.equal(offline.code, 0, offline.stderr);
    assert.match(offline.stderr, new RegExp(`using the copy of ${ref.replace(/[.]/g, "\\.")} already in the store`));
    assert.equal((JSON.parse(offline.stdout) as PushJson).images[0]!.digest, first.images[0]!.digest);
  });
});
