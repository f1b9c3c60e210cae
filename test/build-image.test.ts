/**
 * `tantalus build` on the sample studio (scale small), checked with the real
 * tools: skopeo and umoci accept the image, its labels and /etc/tantalus say
 * what it is, podman runs the workflow's programs in its environment, two
 * checkouts of the studio give the same digests, a changed package rewrites
 * only its own layer, and images / diff / gc work on the result.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createGunzip } from "node:zlib";
import { createReadStream } from "node:fs";
import tar from "tar-stream";
import { buildWorkflows, type BuildEvent } from "../src/builder/index.js";
import { loadConfig } from "../src/config/index.js";
import type { ImageConfig } from "../src/image/index.js";
import {
  PODMAN_RUN_FLAGS,
  copyStudio,
  missingTools,
  podman,
  removeDir,
  run,
  sampleStudio,
  scratchDir,
  setImageOption,
  tantalus,
  tantalusOk,
  type Studio,
} from "./builder/fixture.js";

interface BuildJson {
  store: string;
  images: {
    workflow: string;
    tags: string[];
    digest: string;
    resolve: string[];
    audit?: { errors: string[]; warnings: string[] };
    layers: { kind: string; digest: string; cached: boolean; variants?: string[] }[];
  }[];
  stats: { layersWritten: number; layersReused: number };
}

let scratch: string;
let studio: Studio;
let store: string;
let built: BuildJson;

before(async () => {
  scratch = scratchDir("build-image");
  studio = await sampleStudio(scratch);
  store = join(scratch, "store");
  built = JSON.parse(
    tantalusOk([
      "build",
      "--allow-audit-errors",
      "rough_layout",
      "--config",
      studio.config,
      "--store",
      store,
      "--json",
      "--no-progress",
    ]).stdout,
  ) as BuildJson;
});

after(() => removeDir(scratch));

describe("a built workflow image", () => {
  it("is refused when the library audit finds errors, unless they are allowed", () => {
    const fresh = join(scratch, "store-refused");
    const refused = tantalus(["build", "rough_layout", "--config", studio.config, "--store", fresh, "--no-progress"]);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /audit found errors, so no image was written[\s\S]*rough_layout:\n {2}layout_tools-2\.3\.1: undeclared: libAlembic\.so\.1\.8/,
    );
    const listed = JSON.parse(tantalusOk(["images", "--json", "--store", fresh]).stdout) as unknown[];
    assert.deepEqual(listed, [], "nothing was tagged");
    assert.deepEqual(
      built.images[0]!.audit?.errors.length,
      1,
      "with --allow-audit-errors the image is built and the finding reported",
    );
  });

  it(
    "is accepted by skopeo, names its workflow and resolve in its labels, and records each layer's variants",
    { skip: missingTools("skopeo") },
    () => {
      const image = built.images[0]!;
      assert.equal(image.workflow, "rough_layout");
      assert.deepEqual(image.tags.sort(), ["rough_layout", `rough_layout:${image.digest.slice(7, 19)}`].sort());
      const inspect = JSON.parse(run("skopeo", ["inspect", `oci:${store}:rough_layout`])) as {
        Digest: string;
        Labels: Record<string, string>;
        Layers: string[];
        Env: string[];
      };
      assert.equal(inspect.Digest, image.digest);
      assert.equal(inspect.Labels["io.tantalus.workflow"], "rough_layout");
      assert.equal(
        inspect.Labels["io.tantalus.request"],
        "launch_app layout_tools maya-2025 studio_assets show_config",
      );
      assert.equal(inspect.Labels["io.tantalus.resolve"], image.resolve.join(" "));
      assert.ok(
        image.resolve.some((q) => q.startsWith("maya-2025")),
        "maya 2025 is in the resolve",
      );
      assert.equal(inspect.Labels["io.tantalus.base"], "demo");
      assert.ok(inspect.Env.includes("STUDIO_DEPARTMENT=layout"), "the workflow's own variables are in the config");
      assert.deepEqual(
        inspect.Layers,
        image.layers.map((l) => l.digest),
      );

      const config = JSON.parse(run("skopeo", ["inspect", "--config", `oci:${store}:rough_layout`])) as ImageConfig;
      assert.deepEqual(config.config?.Entrypoint, ["/etc/tantalus/entrypoint.sh"]);
      const manifest = JSON.parse(run("skopeo", ["inspect", "--raw", `oci:${store}:rough_layout`])) as {
        layers: { annotations?: Record<string, string> }[];
        annotations: Record<string, string>;
      };
      assert.equal(manifest.annotations["io.tantalus.workflow"], "rough_layout");
      const packageLayers = manifest.layers.filter((l) => l.annotations?.["io.tantalus.layer.kind"] === "packages");
      const inLayers = packageLayers.flatMap((l) => l.annotations!["io.tantalus.layer.variants"]!.split(" ")).sort();
      assert.deepEqual(inLayers, [...image.resolve].sort(), "every resolved variant is in exactly one package layer");
      assert.equal(manifest.layers.at(-1)?.annotations?.["io.tantalus.layer.kind"], "top");
    },
  );

  it(
    "unpacks with umoci into the variants' files at their install paths, with /etc/tantalus holding the environment and the context",
    { skip: missingTools("umoci") },
    () => {
      const bundle = join(scratch, "bundle");
      run("umoci", ["unpack", "--rootless", "--image", `${store}:rough_layout`, bundle]);
      const rootfs = join(bundle, "rootfs");
      const env = readFileSync(join(rootfs, "etc/tantalus/environment.sh"), "utf8");
      assert.match(env, /^#!\/bin\/sh\n/);
      assert.match(env, /export STUDIO_ASSET_RESOLVER=/);
      const context = JSON.parse(readFileSync(join(rootfs, "etc/tantalus/context.json"), "utf8")) as {
        resolved: { name: string; version: string; index: number | null; root: string }[];
        created: string;
      };
      assert.deepEqual(
        context.resolved.map((v) => `${v.name}-${v.version}[${v.index ?? ""}]`),
        built.images[0]!.resolve,
      );
      assert.equal(
        context.created,
        "1970-01-01T00:00:01Z",
        "the image's context carries the image epoch, not the build time",
      );
      assert.match(readFileSync(join(rootfs, "etc/tantalus/workflow.yaml"), "utf8"), /name: rough_layout/);
      assert.ok(statSync(join(rootfs, "etc/tantalus/entrypoint.sh")).mode & 0o100, "the entrypoint is executable");
      // Every variant root is where the context says, with the executables still executable.
      for (const v of context.resolved) assert.ok(existsSync(join(rootfs, v.root)), `${v.root} is in the image`);
      const launch = context.resolved.find((v) => v.name === "launch_app")!;
      assert.equal(
        statSync(join(rootfs, launch.root, "bin/launch_app")).mode & 0o777,
        statSync(join(launch.root, "bin/launch_app")).mode & 0o777,
      );
      assert.deepEqual(readdirSync(join(rootfs, launch.root)).sort(), readdirSync(launch.root).sort());
    },
  );

  it("stores layers with owner 0:0 and the fixed time on every member", async () => {
    const image = built.images[0]!;
    const layer = image.layers.find((l) => l.kind === "packages")!;
    const extract = tar.extract();
    const seen: { uid: number; gid: number; mtime: number }[] = [];
    extract.on("entry", (header, stream, next) => {
      seen.push({ uid: header.uid ?? -1, gid: header.gid ?? -1, mtime: header.mtime?.getTime() ?? -1 });
      stream.resume();
      stream.on("end", next);
    });
    const done = new Promise<void>((resolve, reject) => {
      extract.on("finish", () => resolve());
      extract.on("error", reject);
    });
    createReadStream(join(store, "blobs/sha256", layer.digest.slice(7)))
      .pipe(createGunzip())
      .pipe(extract);
    await done;
    assert.ok(seen.length > 0);
    assert.ok(
      seen.every((e) => e.uid === 0 && e.gid === 0 && e.mtime === 1000),
      "uid/gid 0 and mtime 1970-01-01T00:00:01Z everywhere",
    );
  });

  it(
    "runs the workflow's programs with podman through the entrypoint, in the workflow's environment",
    { skip: missingTools("podman", "runc") },
    () => {
      const root = join(scratch, "podman");
      // Through the oci-archive export: podman names images from the ref in the archive.
      const archive = join(scratch, "rough_layout.oci.tar");
      tantalusOk([
        "build",
        "--allow-audit-errors",
        "rough_layout",
        "--config",
        studio.config,
        "--store",
        store,
        "--output",
        `oci-archive:${archive}`,
        "--no-progress",
      ]);
      podman(root, ["load", "-q", "-i", archive]);
      const image = "localhost/rough_layout:latest";
      const launched = podman(root, ["run", ...PODMAN_RUN_FLAGS, image, "launch_app", "-show=dragon"]);
      assert.match(launched, /launch_app: show=dragon workflow=rough_layout/);
      const vars = podman(root, [
        "run",
        ...PODMAN_RUN_FLAGS,
        image,
        "-c",
        "printenv STUDIO_ASSET_RESOLVER; printenv STUDIO_DEPARTMENT; printenv REZ_USED_RESOLVE",
      ]);
      const lines = vars.trim().split("\n");
      assert.equal(lines.at(-3), "studioAssetResolver", "a variable a package sets");
      assert.equal(lines.at(-2), "layout", "a variable the workflow sets");
      assert.match(lines.at(-1)!, /^platform-linux .*maya-2025/);
    },
  );
});

describe("reproducibility and the layer cache", () => {
  it("gives the same manifest digests for two checkouts of the studio in different directories and stores", async () => {
    const a = copyStudio(studio, join(scratch, "checkout-a"));
    const b = copyStudio(studio, join(scratch, "checkout-b"));
    setImageOption(a, "root_map", JSON.stringify({ [a.packages]: "/studio/packages" }));
    setImageOption(b, "root_map", JSON.stringify({ [b.packages]: "/studio/packages" }));
    const ra = await buildWorkflows(loadConfig(a.config), [], { store: join(scratch, "store-a") });
    const rb = await buildWorkflows(loadConfig(b.config), [], { store: join(scratch, "store-b") });
    assert.equal(ra.results.length, 10);
    assert.deepEqual(
      rb.results.map((r) => [r.workflow, r.digest]),
      ra.results.map((r) => [r.workflow, r.digest]),
    );
    assert.ok(!ra.results[0]!.environment.includes(a.dir), "no path of the checkout is left in the environment");
    assert.ok(ra.results[0]!.environment.includes("/studio/packages/"));
  });

  it("rewrites only the changed package's layer when one package changes, and diff shows that layer", async () => {
    const c = copyStudio(studio, join(scratch, "checkout-c"));
    const cstore = join(scratch, "store-c");
    const config = loadConfig(c.config);
    const first = await buildWorkflows(config, ["rough_layout"], { store: cstore });
    const layout = first.results[0]!.context.resolved.find((v) => v.name === "layout_tools")!;
    // A hotfix released in place: one more file in the variant.
    writeFileSync(join(layout.root, "python", "layout_tools", "hotfix.py"), "PATCHED = True\n");

    const events: BuildEvent[] = [];
    const second = await buildWorkflows(loadConfig(c.config), ["rough_layout"], {
      store: cstore,
      onEvent: (e) => events.push(e),
    });
    const writtenPackages = events.filter(
      (e): e is Extract<BuildEvent, { type: "layer-done" }> =>
        e.type === "layer-done" && !e.cached && e.kind === "packages",
    );
    assert.equal(writtenPackages.length, 1, "one package layer archived again");
    assert.match(writtenPackages[0]!.label, /layout_tools/);
    const rewritten = events.filter((e) => e.type === "layer-done" && !e.cached).length;
    assert.ok(rewritten <= 2, `at most the package's layer and the top layer are written (${rewritten})`);
    assert.notEqual(second.results[0]!.digest, first.results[0]!.digest);

    const compared = tantalus([
      "diff",
      first.results[0]!.digest,
      second.results[0]!.digest,
      "--store",
      cstore,
      "--json",
    ]);
    assert.equal(compared.code, 1, "diff exits 1 when the images differ");
    const diff = JSON.parse(compared.stdout) as {
      packages: { added: string[]; removed: string[]; changed: unknown[] };
      layers: { onlyA: { variants: string[] }[]; onlyB: { variants: string[] }[]; shared: unknown[] };
    };
    assert.deepEqual([diff.packages.added, diff.packages.removed, diff.packages.changed], [[], [], []], "same resolve");
    assert.equal(
      diff.layers.onlyB.filter((l) => l.variants.some((v) => v.startsWith("layout_tools"))).length,
      1,
      "the new layer holds layout_tools",
    );
    assert.equal(diff.layers.shared.length, first.results[0]!.layers.length - diff.layers.onlyA.length);

    // gc --keep 1 untags the first image and frees its own layer; the current image survives.
    const dry = JSON.parse(
      tantalusOk(["gc", "--keep", "1", "--min-age", "0", "--dry-run", "--json", "--store", cstore]).stdout,
    ) as { removedTags: string[]; removedBlobs: string[] };
    assert.deepEqual(dry.removedTags, [`rough_layout:${first.results[0]!.digest.slice(7, 19)}`]);
    assert.ok(dry.removedBlobs.includes(first.results[0]!.digest));
    assert.ok(existsSync(join(cstore, "blobs/sha256", first.results[0]!.digest.slice(7))), "a dry run removes nothing");
    const gc = JSON.parse(tantalusOk(["gc", "--keep", "1", "--min-age", "0", "--json", "--store", cstore]).stdout) as {
      removedTags: string[];
      removedBlobs: string[];
    };
    assert.deepEqual(gc.removedTags, dry.removedTags);
    assert.deepEqual(gc.removedBlobs, dry.removedBlobs);
    const images = JSON.parse(tantalusOk(["images", "--json", "--store", cstore]).stdout) as {
      tag: string;
      digest: string;
      workflow: string;
      resolve: string[];
    }[];
    assert.deepEqual(images.map((i) => i.tag).sort(), [
      "rough_layout",
      `rough_layout:${second.results[0]!.digest.slice(7, 19)}`,
    ]);
    assert.ok(
      images.every(
        (i) =>
          i.workflow === "rough_layout" &&
          i.digest === second.results[0]!.digest &&
          i.resolve.length === second.results[0]!.resolve.length,
      ),
    );
    if (missingTools("skopeo") === false)
      assert.equal(
        (JSON.parse(run("skopeo", ["inspect", `oci:${cstore}:rough_layout`])) as { Digest: string }).Digest,
        second.results[0]!.digest,
      );
  });

  it("keeps pinned tags through gc", () => {
    const pinned = built.images[0]!.tags.find((t) => t.includes(":"))!;
    const gc = JSON.parse(
      tantalusOk(["gc", "--keep", "1", "--pin", pinned, "--min-age", "0", "--json", "--store", store]).stdout,
    ) as { removedTags: string[]; pinned: string[] };
    assert.deepEqual(gc.removedTags, []);
    assert.ok(gc.pinned.includes(pinned) && gc.pinned.includes("rough_layout"));
  });
});
