/**
 * The pieces of a build's layer writing: worker threads write the same
 * bytes as the main thread, the planning walk measures roots as the planner
 * does and fingerprints them as the image core does, and the progress
 * display draws live lines on a terminal and plain lines elsewhere.
 */
import assert from "node:assert/strict";
import { chmodSync, linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { FingerprintingMeasurer, LayerWorkerPool, ProgressDisplay, fingerprintPath } from "../src/builder/index.js";
import { OciStore, fingerprintTree, writeLayer } from "../src/image/index.js";
import { withoutModuleHooks } from "../src/builder/worker-pool.js";
import { RootMeasurer } from "../src/plan/measure.js";

const scratch = mkdtempSync(join(tmpdir(), "tantalus-build-layers-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

function makeRoot(dir: string): string {
  mkdirSync(join(dir, "bin"), { recursive: true });
  mkdirSync(join(dir, "lib", "python"), { recursive: true });
  writeFileSync(join(dir, "bin", "tool"), "#!/bin/sh\necho tool\n");
  chmodSync(join(dir, "bin", "tool"), 0o755);
  writeFileSync(join(dir, "lib", "libx.so.1.0"), Buffer.alloc(300_000, 3));
  symlinkSync("libx.so.1.0", join(dir, "lib", "libx.so.1"));
  writeFileSync(join(dir, "lib", "python", "mod.py"), "x = 1\n");
  linkSync(join(dir, "lib", "python", "mod.py"), join(dir, "lib", "python", "alias.py"));
  for (let i = 0; i < 200; i++) writeFileSync(join(dir, "lib", "python", `m${i}.py`), `value = ${i}\n`);
  return dir;
}

describe("layer writing pieces", () => {
  it("writes the same layer on a worker thread as on the main thread", async () => {
    const root = makeRoot(join(scratch, "root-a"));
    const spec = { entries: [{ type: "tree" as const, source: root, path: "/studio/packages/x/1.0" }] };
    const mainStore = await OciStore.open(join(scratch, "store-main"));
    const workerStore = await OciStore.open(join(scratch, "store-worker"));
    const mtime = new Date(1000);
    const onMain = await writeLayer(mainStore, spec, { compression: "zstd", level: 3, mtime });
    const pool = new LayerWorkerPool(2);
    const progress: number[] = [];
    try {
      const [onWorker, again] = await Promise.all([
        pool.run(
          {
            storeDir: workerStore.dir,
            spec,
            compression: "zstd",
            level: 3,
            mtimeMs: 1000,
            cacheKey: "k1",
            annotations: { a: "b" },
          },
          (b) => progress.push(b),
          () => undefined,
        ),
        pool.run(
          {
            storeDir: workerStore.dir,
            spec,
            compression: "gzip",
            level: 1,
            mtimeMs: 1000,
            cacheKey: "k2",
            annotations: {},
          },
          () => undefined,
          () => undefined,
        ),
      ]);
      assert.equal(onWorker.descriptor.digest, onMain.descriptor.digest);
      assert.equal(onWorker.descriptor.diffId, onMain.descriptor.diffId);
      assert.deepEqual(onWorker.descriptor.annotations, { a: "b" });
      assert.equal(again.descriptor.diffId, onMain.descriptor.diffId, "the same tar whatever the compression");
      assert.ok(await workerStore.hasBlob(onWorker.descriptor.digest, onWorker.descriptor.size));
      assert.ok(progress.length > 0);
      const cached = await pool.run(
        {
          storeDir: workerStore.dir,
          spec,
          compression: "zstd",
          level: 3,
          mtimeMs: 1000,
          cacheKey: "k1",
          annotations: {},
        },
        () => undefined,
        () => undefined,
      );
      assert.equal(cached.cached, true);
    } finally {
      await pool.close();
    }
  });

  it("starts workers without the parent's module hooks (a TypeScript loader), keeping its other flags", () => {
    assert.deepEqual(
      withoutModuleHooks([
        "--import",
        "tsx",
        "--cpu-prof",
        "--require=./x.cjs",
        "-r",
        "y",
        "--loader",
        "ts-node/esm",
        "--experimental-loader=z",
        "--max-old-space-size=512",
      ]),
      ["--cpu-prof", "--max-old-space-size=512"],
    );
  });

  it("reports a worker's failure as an error of the layer", async () => {
    const pool = new LayerWorkerPool(1);
    try {
      await assert.rejects(
        pool.run(
          {
            storeDir: join(scratch, "no-such-store"),
            spec: { entries: [] },
            compression: "gzip",
            mtimeMs: 1000,
            cacheKey: "k",
            annotations: {},
          },
          () => undefined,
          () => undefined,
        ),
        /not an OCI image layout/,
      );
    } finally {
      await pool.close();
    }
  });

  it("measures roots as the planner does and fingerprints them as the image core does, in one walk", async () => {
    const root = makeRoot(join(scratch, "root-b"));
    const m = new FingerprintingMeasurer();
    assert.deepEqual(m.measure(root), new RootMeasurer().measure(root));
    assert.equal(m.fingerprint(root), await fingerprintTree(root));
    assert.equal(fingerprintPath(root), await fingerprintTree(root));
    assert.deepEqual(m.measure(join(scratch, "missing")), { bytes: 0, files: 0, exists: false });
    const before = m.fingerprint(root);
    writeFileSync(join(root, "lib", "python", "m7.py"), "value = 'changed'\n");
    assert.notEqual(fingerprintPath(root), before, "a rewritten file changes the fingerprint");
  });
});

describe("the progress display", () => {
  const events = [
    { type: "step", message: "writing 2 package layer(s)" },
    { type: "layer-start", id: "a", label: "apps: maya-2025.1[]", kind: "packages", bytes: 30e6 },
    { type: "layer-progress", id: "a", bytes: 12e6 },
    {
      type: "layer-done",
      id: "a",
      label: "apps: maya-2025.1[]",
      kind: "packages",
      cached: false,
      digest: `sha256:${"a".repeat(64)}`,
      uncompressedSize: 30e6,
      size: 12e6,
      seconds: 1.5,
    },
    {
      type: "layer-done",
      id: "b",
      label: "studio: launch_app-1.4.0[]",
      kind: "packages",
      cached: true,
      digest: `sha256:${"b".repeat(64)}`,
      uncompressedSize: 1e5,
      size: 2e4,
      seconds: 0,
    },
  ] as const;

  it("prints one plain line per finished piece of work when not on a terminal", () => {
    let out = "";
    const d = new ProgressDisplay({ write: (s) => ((out += s), true), isTTY: false });
    for (const e of events) d.event(e);
    d.close();
    assert.equal(
      out,
      [
        "writing 2 package layer(s)",
        "  written  apps: maya-2025.1[]  30.0 MB -> 12.0 MB in 1.5 s",
        "  reused   studio: launch_app-1.4.0[]  20.0 kB",
        "",
      ].join("\n"),
    );
  });

  it("keeps layers being archived in a live block on a terminal and erases it when done", async () => {
    let out = "";
    const d = new ProgressDisplay({ write: (s) => ((out += s), true), isTTY: true, columns: 80 });
    d.event(events[0]);
    d.event(events[1]);
    d.event(events[2]);
    await new Promise((r) => setTimeout(r, 150));
    assert.match(out, /archiving +apps: maya-2025\.1\[\] {2}12\.0 MB \/ 30\.0 MB\n$/);
    d.event(events[3]);
    assert.match(
      out,
      // eslint-disable-next-line no-control-regex -- the terminal's escape sequences are what is checked
      /\x1b\[1A\r\x1b\[0J {2}written {2}apps: maya-2025\.1\[\]/,
      "the live line is erased before the finished line",
    );
    d.close();
  });
});
