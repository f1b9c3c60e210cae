/**
 * Rebasing a studio: `tantalus build --all --base B` after a build on A
 * writes no package layer again (the build's own counts: nothing written,
 * nothing archived), keeps the layer plan (same package layers, same order,
 * same digests), and `tantalus diff` of the two images of a workflow shows
 * only the base changing. The rebased image runs on the older OS: modeling's
 * programs start in podman on Debian 11.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { missingTools, podmanRunPrivate, removeDir, sampleStudio, tantalus, type Studio } from "../builder/fixture.js";
import { debianBase, osBasesUnavailable } from "./os-bases.js";

const skip = osBasesUnavailable();
let scratch: string;
let studio: Studio;

before(async () => {
  if (skip) return;
  scratch = path.join(os.tmpdir(), `trb-${process.pid.toString(36)}${Date.now().toString(36)}`);
  fs.mkdirSync(scratch);
  studio = await sampleStudio(scratch);
});
after(() => {
  if (scratch) removeDir(scratch);
});

interface BuildJson {
  base: { name: string; digest: string };
  images: {
    workflow: string;
    tags: string[];
    digest: string;
    layers: { kind: string; digest: string; cached: boolean }[];
  }[];
  stats: { layersWritten: number; bytesArchived: number; layersReused: number };
}

function build(store: string, base: string): BuildJson {
  const r = tantalus(
    ["build", "--all", "--base", base, "--allow-audit-errors", "--json", "--no-progress", "--store", store],
    {
      cwd: studio.dir,
    },
  );
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as BuildJson;
}

const packageLayers = (img: BuildJson["images"][number]) => img.layers.filter((l) => l.kind === "packages");

test(
  "a rebuild on another base writes no package layer and changes only the base",
  { skip, timeout: 10 * 60_000 },
  () => {
    const store = path.join(scratch, "store");
    const debian12 = `rootfs:${debianBase("bookworm")}`;
    const debian11 = `rootfs:${debianBase("bullseye")}`;
    const onA = build(store, debian12);
    assert.ok(onA.stats.layersWritten > 10);
    const onB = build(store, debian11);
    assert.notEqual(onA.base.digest, onB.base.digest);
    assert.equal(onB.stats.layersWritten, 0, "no layer written again");
    assert.equal(onB.stats.bytesArchived, 0, "nothing archived again");
    assert.equal(onB.images.length, onA.images.length);

    for (const b of onB.images) {
      const a = onA.images.find((i) => i.workflow === b.workflow)!;
      assert.notEqual(a.digest, b.digest, `${b.workflow}: a new image`);
      // The layer plan does not move: the same package layers, in the same order, every one reused.
      assert.deepEqual(
        packageLayers(b).map((l) => l.digest),
        packageLayers(a).map((l) => l.digest),
        b.workflow,
      );
      assert.ok(packageLayers(b).length > 3);
      assert.ok(packageLayers(b).every((l) => l.cached));

      const d = tantalus(["diff", a.tags.at(-1)!, b.tags.at(-1)!, "--store", store, "--json"], { cwd: studio.dir });
      assert.equal(d.code, 1, d.stderr);
      const diff = JSON.parse(d.stdout) as {
        packages: { added: unknown[]; removed: unknown[]; changed: unknown[] };
        layers: { onlyA: { kind?: string }[]; onlyB: { kind?: string }[] };
        base: { same: boolean };
      };
      assert.deepEqual(diff.packages.added, []);
      assert.deepEqual(diff.packages.removed, []);
      assert.deepEqual(diff.packages.changed, []);
      assert.equal(diff.base.same, false);
      for (const l of [...diff.layers.onlyA, ...diff.layers.onlyB])
        assert.notEqual(l.kind, "packages", `${b.workflow}: only base, repair and top layers may differ`);
    }

    // The rebased modeling image runs on Debian 11's loader.
    const noPodman = missingTools("podman", "runc");
    if (noPodman) return;
    const p = podmanRunPrivate(path.join(scratch, "p"), store, "modeling", [
      "sh",
      "-c",
      "cat /etc/debian_version && python --version && mayapy --version",
    ]);
    assert.equal(p.status, 0, p.stderr);
    assert.match(p.stdout, /^11\.\d+$/m);
    assert.match(p.stdout, /Python 3\.10/);
  },
);
