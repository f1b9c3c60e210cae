/**
 * The store under a build: a corrupted blob is detected, reported and never
 * shipped; a build killed half-way leaves the store consistent and the next
 * one succeeds; a saved context rebuilds the same image and is refused once
 * its packages moved; exports; the audit seam refuses or repairs images.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  closeSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { buildWorkflows, type AuditGate, type BuildEvent } from "../src/builder/index.js";
import { loadConfig } from "../src/config/index.js";
import { OciStore, writeImage, writeLayer, type Digest } from "../src/image/index.js";
import { projectRoot } from "./helpers.js";
import {
  blobIntegrity,
  buildArgs,
  buildJson,
  copyStudio,
  missingTools,
  removeDir,
  run,
  sampleStudio,
  scratchDir,
  setBaseImage,
  tantalus,
  tantalusOk,
  type BuildJson,
  type Studio,
} from "./builder/fixture.js";
import { makeBusyboxRootfs } from "./image/helpers.js";

let scratch: string;
let studio: Studio;

before(async () => {
  scratch = scratchDir("build-store");
  studio = await sampleStudio(scratch);
});

after(() => removeDir(scratch));

function flipByte(file: string, at: number): void {
  const fd = openSync(file, "r+");
  const b = Buffer.alloc(1);
  readSync(fd, b, 0, 1, at);
  b[0] = b[0]! ^ 0xff;
  writeSync(fd, b, 0, 1, at);
  closeSync(fd);
}

describe("store integrity", () => {
  it("reports a corrupted layer instead of exporting or pushing it, and the next build writes it again", () => {
    const store = join(scratch, "store-corrupt");
    const args = buildArgs(studio.config, store, ["rough_layout"]);
    const built = JSON.parse(tantalusOk([...args, "--json"]).stdout) as BuildJson;
    const image = built.images[0]!;
    const victim = image.layers.filter((l) => l.kind === "packages").sort((a, b) => b.size - a.size)[0]!;
    const blob = join(store, "blobs/sha256", victim.digest.slice(7));
    flipByte(blob, Math.floor(statSync(blob).size / 2));

    const exported = tantalus([...args, "--output", `oci-archive:${join(scratch, "corrupt.tar")}`]);
    assert.equal(exported.code, 1);
    assert.match(exported.stderr, new RegExp(`${victim.digest.slice(7)}[\\s\\S]*corrupted`));
    assert.ok(!existsSync(join(scratch, "corrupt.tar")), "no archive is left behind");
    assert.ok(!existsSync(blob), "the corrupted blob is moved out of blobs/");
    assert.equal(readdirSync(join(store, ".tantalus/corrupt")).length, 1);

    const again = JSON.parse(
      tantalusOk([...args, "--json", "--output", `oci-archive:${join(scratch, "ok.tar")}`]).stdout,
    ) as BuildJson;
    assert.equal(again.images[0]!.digest, image.digest, "the layer written again is the same bytes");
    assert.equal(again.images[0]!.layers.find((l) => l.digest === victim.digest)!.cached, false);
    assert.ok(blobIntegrity(store).every((b) => b.ok));
  });

  it("--verify finds a corrupted blob the cache would reuse, moves it aside and rebuilds the layer", async () => {
    const store = join(scratch, "store-verify");
    const config = loadConfig(studio.config);
    const first = await buildWorkflows(config, ["comp"], { store });
    const victim = first.results[0]!.layers.filter((l) => l.kind === "packages")[0]!;
    flipByte(join(store, "blobs/sha256", victim.digest.slice(7)), 40);
    const events: BuildEvent[] = [];
    const second = await buildWorkflows(config, ["comp"], { store, verify: true, onEvent: (e) => events.push(e) });
    assert.equal(second.results[0]!.digest, first.results[0]!.digest);
    assert.ok(
      events.some((e) => e.type === "warning" && e.message.includes(victim.digest) && /corrupted/.test(e.message)),
    );
    assert.ok(blobIntegrity(store).every((b) => b.ok));
  });

  it(
    "leaves a consistent store when a build is killed half-way, and the next build succeeds",
    { skip: missingTools("skopeo") },
    async () => {
      const store = join(scratch, "store-killed");
      // Slow on purpose (gzip -9, one layer at a time) so the kill lands mid-build.
      const child = spawn(
        process.execPath,
        [
          join(projectRoot, "bin/tantalus.js"),
          "build",
          "--allow-audit-errors",
          "--all",
          "--config",
          studio.config,
          "--store",
          store,
          "--level",
          "9",
          "--jobs",
          "1",
        ],
        {
          stdio: ["ignore", "ignore", "pipe"],
        },
      );
      let stderr = "";
      const killed = new Promise<NodeJS.Signals | null>((resolve) => {
        child.stderr.on("data", (c: Buffer) => {
          stderr += c.toString();
          // After the first package layer, with dozens still to go.
          if (/written +(platform|apps|studio):/.test(stderr)) child.kill("SIGKILL");
        });
        child.on("exit", (_code, signal) => resolve(signal));
      });
      assert.equal(await killed, "SIGKILL", `the build was killed before it finished:\n${stderr}`);

      assert.doesNotThrow(() => JSON.parse(readFileSync(join(store, "index.json"), "utf8")));
      assert.ok(
        blobIntegrity(store).every((b) => b.ok),
        "every blob in blobs/ is complete",
      );
      await OciStore.open(store); // removes the dead build's temporary files
      assert.deepEqual(readdirSync(join(store, ".tantalus/tmp")), []);

      const done = buildJson(studio.config, store, ["--all"], "--level", "9");
      assert.equal(done.images.length, 10);
      for (const img of done.images) {
        assert.equal(
          (JSON.parse(run("skopeo", ["inspect", `oci:${store}:${img.workflow}`])) as { Digest: string }).Digest,
          img.digest,
        );
      }
    },
  );
});

describe("saved contexts and exports", () => {
  it("rebuilds exactly a saved resolve, and refuses it once a package definition changed", () => {
    const copy = copyStudio(studio, join(scratch, "studio-context"));
    const store = join(scratch, "store-context");
    const ctx = join(scratch, "rough_layout.context.json");
    tantalusOk(["resolve", "--workflow", "rough_layout", "-o", ctx], { cwd: copy.dir });
    const fresh = buildJson(copy.config, store, ["rough_layout"]);
    const locked = buildJson(copy.config, store, ["rough_layout"], "--context", ctx);
    assert.equal(locked.images[0]!.digest, fresh.images[0]!.digest, "the same resolve gives the same image");

    const saved = JSON.parse(readFileSync(ctx, "utf8")) as { resolved: { name: string; file: string }[] };
    const layout = saved.resolved.find((v) => v.name === "layout_tools")!;
    appendFileSync(layout.file, "\n# edited after the context was saved\n");
    const refused = tantalus(buildArgs(copy.config, store, ["rough_layout"], "--context", ctx));
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /packages moved since this context was saved/);
    assert.match(refused.stderr, /layout_tools-2\.3\.1\[1\]: package definition .* changed/);

    const twoNames = tantalus(buildArgs(copy.config, store, ["rough_layout", "comp"], "--context", ctx));
    assert.equal(twoNames.code, 2, "a context is one workflow's resolve");
  });

  it(
    "exports OCI layouts and docker archives that skopeo reads with the store's digest",
    { skip: missingTools("skopeo") },
    () => {
      const store = join(scratch, "store-export");
      const layout = join(scratch, "exported-layout");
      const docker = join(scratch, "comp.docker.tar");
      const both = buildJson(studio.config, store, ["comp", "review"], "--output", `oci:${layout}`);
      for (const img of both.images) {
        assert.equal(
          (JSON.parse(run("skopeo", ["inspect", `oci:${layout}:${img.workflow}`])) as { Digest: string }).Digest,
          img.digest,
        );
      }
      buildJson(studio.config, store, ["comp"], "--output", `docker-archive:${docker}`);
      const inspected = JSON.parse(run("skopeo", ["inspect", `docker-archive:${docker}:comp:latest`])) as {
        Labels: Record<string, string>;
      };
      assert.equal(inspected.Labels["io.tantalus.workflow"], "comp");
      const dockerManifest = JSON.parse(run("tar", ["-xOf", docker, "manifest.json"])) as { RepoTags: string[] }[];
      assert.deepEqual(dockerManifest[0]!.RepoTags, ["comp:latest"], "docker load names it comp:latest");
      const oneArchive = tantalus(
        buildArgs(
          studio.config,
          store,
          ["comp", "review"],
          "--output",
          `oci-archive:${join(scratch, "two.tar")}`,
          "--json",
        ),
      );
      assert.equal(oneArchive.code, 2, "two images do not fit one archive");
    },
  );
});

describe("local base images", () => {
  it(
    "layers workflow images on a root file system tarball, its layer reused as imported",
    { skip: missingTools("skopeo", "busybox") },
    async () => {
      const copy = copyStudio(studio, join(scratch, "studio-rootfs"));
      const tarball = await makeBusyboxRootfs(scratch);
      setBaseImage(copy, `rootfs:${tarball}`);
      const store = join(scratch, "store-rootfs");
      const built = buildJson(copy.config, store, ["comp"]);
      assert.equal(built.base.name, `rootfs:${tarball}`);
      const layers = built.images[0]!.layers;
      assert.equal(layers.filter((l) => l.kind === "base").length, 1);
      const inspect = JSON.parse(run("skopeo", ["inspect", `oci:${store}:comp`])) as {
        Labels: Record<string, string>;
        Layers: string[];
      };
      assert.equal(inspect.Labels["io.tantalus.base"], undefined, "not the demo base");
      assert.equal(inspect.Layers[0], layers[0]!.digest);
      const again = buildJson(copy.config, store, ["comp"]);
      assert.equal(again.images[0]!.digest, built.images[0]!.digest);
    },
  );
});

describe("a base whose layer count changed since the last build", () => {
  it("is planned for its real count: the same image as a build into a fresh store", async () => {
    // The build plans package layers with the base's layer count from the last build and writes them
    // while it obtains the base; here the tag behind the same base reference grows from 1 to 3 layers.
    const copy = copyStudio(studio, join(scratch, "studio-growing-base"));
    const layout = await OciStore.open(join(scratch, "growing-base"));
    const baseImage = async (layers: number) => {
      const written = [];
      for (let i = 0; i < layers; i++)
        written.push({
          layer: (
            await writeLayer(layout, { entries: [{ type: "file", path: `/etc/base-${i}`, content: `layer ${i}\n` }] })
          ).descriptor,
        });
      const img = await writeImage(layout, { layers: written, config: { Cmd: ["/bin/sh"] } });
      await layout.tag("base", img.descriptor);
    };
    await baseImage(1);
    setBaseImage(copy, `oci:${layout.dir}:base`);
    // A budget small enough that two more base layers change the plan.
    writeFileSync(copy.config, readFileSync(copy.config, "utf8").replace(/^( {2}budget: )\d+$/m, "$112"));
    const store = join(scratch, "store-growing-base");
    const targets = ["comp", "rough_layout"];
    const first = await buildWorkflows(loadConfig(copy.config), targets, { store });
    assert.equal(first.base.image.manifest.layers.length, 1);

    await baseImage(3);
    const events: BuildEvent[] = [];
    const second = await buildWorkflows(loadConfig(copy.config), targets, { store, onEvent: (e) => events.push(e) });
    assert.equal(second.base.image.manifest.layers.length, 3);
    assert.equal(
      events.filter((e) => e.type === "step" && e.message.startsWith("planning layers")).length,
      2,
      "planned again for three base layers",
    );
    const fresh = await buildWorkflows(loadConfig(copy.config), targets, {
      store: join(scratch, "store-growing-base-fresh"),
    });
    for (const r of second.results) {
      assert.ok(r.layers.length <= 12, `${r.workflow}: ${r.layers.length} layers within the budget of 12`);
      assert.equal(
        r.digest,
        fresh.results.find((f) => f.workflow === r.workflow)!.digest,
        `${r.workflow}: the image a fresh store builds`,
      );
    }
    assert.notEqual(
      second.plan.plan.layers.length,
      first.plan.plan.layers.length,
      "fewer package layers fit beside three base layers",
    );

    const events3: BuildEvent[] = [];
    await buildWorkflows(loadConfig(copy.config), targets, { store, onEvent: (e) => events3.push(e) });
    assert.equal(
      events3.filter((e) => e.type === "step" && e.message.startsWith("planning layers")).length,
      1,
      "the new count is remembered",
    );
  });
});

describe("the audit seam", () => {
  const repairDir = () => {
    const dir = join(scratch, "repair-payload");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "libmissing.so.1"), "not really a library\n");
    return dir;
  };

  it("refuses every image when the audit reports errors, unless they are allowed; a repair layer goes under the top layer", async () => {
    const config = loadConfig(studio.config);
    const store = join(scratch, "store-audit");
    const seen: string[] = [];
    // The audit runs while the package layers are written: this one answers once a layer is done.
    const writtenMeanwhile: Digest[] = [];
    let layerDone!: () => void;
    const aLayerIsDone = new Promise<void>((resolve) => (layerDone = resolve));
    const onEvent = (e: BuildEvent) => {
      if (e.type !== "layer-done" || e.kind !== "packages" || e.cached) return;
      writtenMeanwhile.push(e.digest);
      layerDone();
    };
    const audit: AuditGate = async (input) => {
      seen.push(input.workflow);
      await aLayerIsDone;
      assert.ok(input.resolve.variants.length > 0);
      assert.equal(
        input.imagePath(input.resolve.variants[0]!.root),
        input.resolve.variants[0]!.root,
        "no root_map: image paths are host paths",
      );
      return input.workflow === "review"
        ? { errors: ["flipbook: libGL.so.1 is provided by no layer"], warnings: [] }
        : {
            errors: [],
            warnings: ["comp: fine"],
            repair: {
              spec: {
                entries: [
                  {
                    type: "hostFile",
                    source: join(repairDir(), "libmissing.so.1"),
                    path: "/opt/repairs/lib/libmissing.so.1",
                  },
                ],
              },
              comment: "libmissing.so.1 from the host",
            },
          };
    };
    await assert.rejects(
      buildWorkflows(config, ["comp", "review"], { store, audit, onEvent }),
      /audit found errors[\s\S]*review:\n {2}flipbook: libGL\.so\.1/,
    );
    assert.deepEqual(seen, ["comp", "review"]);
    assert.ok(
      !existsSync(join(store, "index.json")) || (await (await OciStore.open(store)).tags()).length === 0,
      "no image was tagged",
    );

    const allowed = await buildWorkflows(config, ["comp", "review"], { store, audit, allowAuditErrors: true });
    // The layers the refused build wrote stay in the layer cache: the build after it reuses them.
    assert.ok(writtenMeanwhile.length > 0);
    const reused = new Map(allowed.results.flatMap((r) => r.layers).map((l) => [l.digest, l.cached]));
    for (const digest of writtenMeanwhile) assert.equal(reused.get(digest), true, `${digest} reused`);
    const comp = allowed.results.find((r) => r.workflow === "comp")!;
    assert.deepEqual(
      comp.layers.slice(-2).map((l) => l.kind),
      ["repair", "top"],
    );
    assert.deepEqual(allowed.results.find((r) => r.workflow === "review")!.audit?.errors, [
      "flipbook: libGL.so.1 is provided by no layer",
    ]);
  });
});
