/**
 * The store lock against real processes: a holder that is alive (even
 * suspended with SIGSTOP, as Ctrl-Z does) is never robbed of its lock, and
 * index.json updates are compare-and-swap, so a writer never drops a tag that
 * was set after it read the index.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { OciStore, writeImage, writeLayer } from "../../src/image/index.js";
import { tempDir } from "./helpers.js";

const CHILD = fileURLToPath(new URL("./store-child.ts", import.meta.url));

async function tinyImage(store: OciStore, content: string) {
  const layer = await writeLayer(store, { entries: [{ type: "file", path: "/content", content }] });
  return writeImage(store, { layers: [{ layer: layer.descriptor }] });
}

test("a suspended holder keeps the store lock: a waiter times out naming it as stopped, and tags once it resumes and releases", async (t) => {
  const dir = await tempDir(t);
  const storeDir = join(dir, "s");
  // Waiters and holder both treat an untouched lock as stale after 300 ms: the
  // old rule broke a live holder's lock once it stopped touching it.
  const store = await OciStore.open(storeDir, { lock: { timeoutMs: 2000, staleMs: 300 } });
  const img = await tinyImage(store, "x");
  const holder = spawn(process.execPath, ["--import", "tsx", CHILD, "hold-lock", storeDir, "300"], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  t.after(() => {
    if (holder.exitCode === null) {
      holder.kill("SIGCONT");
      holder.kill("SIGKILL");
    }
  });
  await new Promise<void>((resolve, reject) => {
    holder.stdout.on("data", (c: Buffer) => c.toString().includes("locked") && resolve());
    holder.once("exit", (code) => reject(new Error(`holder exited early with ${code}`)));
  });
  holder.kill("SIGSTOP");
  await new Promise((r) => setTimeout(r, 1000)); // well past staleMs without a touch

  await assert.rejects(
    store.tag("while-stopped", img.descriptor),
    new RegExp(`locked by pid ${holder.pid} .*which is stopped`),
  );
  assert.deepEqual(await store.tags(), [], "nothing tagged while the holder owns the lock");

  holder.kill("SIGCONT");
  const exited = new Promise((resolve) => holder.once("exit", resolve));
  holder.stdin.end();
  await exited;
  await store.tag("after-release", img.descriptor);
  assert.deepEqual(await store.tags(), ["after-release"]);
});

test("gc's untagging is compare-and-swap: a tag set by another process after gc read the index survives", async (t) => {
  const dir = await tempDir(t);
  const storeDir = join(dir, "s");
  const store = await OciStore.open(storeDir);
  for (const n of ["1", "2", "3"]) {
    await store.tag(`comp:${n}`, (await tinyImage(store, n)).descriptor);
    await new Promise((r) => setTimeout(r, 5)); // distinct tag times
  }
  let interfered = false;
  const report = await store.gc({
    keepPerWorkflow: 1,
    workflowOf: (tag) => {
      if (!interfered) {
        interfered = true;
        // gc has read index.json. Another process now tags an image, as a
        // build would after its lock had been broken from another host.
        rmSync(join(store.metaDir, "lock"), { force: true });
        const r = spawnSync(process.execPath, ["--import", "tsx", CHILD, "tag-many", storeDir, "layout", "1"], {
          encoding: "utf8",
        });
        assert.equal(r.status, 0, r.stderr);
      }
      return tag.slice(0, tag.indexOf(":"));
    },
  });
  assert.ok(interfered);
  assert.deepEqual(report.removedTags, ["comp:1", "comp:2"]);
  assert.deepEqual(await store.tags(), ["comp:3", "layout:0"], "the tag set during gc is still there");
});
