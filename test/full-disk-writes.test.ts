// A nearly full file system makes write(2) write fewer bytes than asked; every
// output must then fail with a sentence and leave the previous file as it was.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { runCli, tempDir } from "./helpers.js";
import { writeFileAtomic, writeFileAtomicAsync } from "../src/util/atomic.js";
import { OciStore } from "../src/image/layout/store.js";
import { sampleStudio } from "./builder/fixture.js";

const isRoot = process.getuid?.() === 0;
const skip = isRoot ? false : "mounting a small tmpfs needs root";

let mnt = "";
let repo = "";

before(() => {
  if (!isRoot) return;
  mnt = tempDir("tantalus-tmpfs-");
  const m = spawnSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", mnt], { encoding: "utf8" });
  if (m.status !== 0) throw new Error(`mount tmpfs on ${mnt}: ${m.stderr}`);
  // A repository whose resolve and environment are each several pages long,
  // so that one free page makes the write short rather than refused at once.
  repo = tempDir();
  const names: string[] = [];
  for (let i = 0; i < 30; i++) {
    const name = `tool${String(i).padStart(2, "0")}`;
    names.push(name);
    fs.mkdirSync(path.join(repo, name, "1.0.0"), { recursive: true });
    fs.writeFileSync(
      path.join(repo, name, "1.0.0", "package.py"),
      `name = '${name}'\nversion = '1.0.0'\ndef commands():\n    env.${name.toUpperCase()}_SETTINGS = '${"/studio/config/".repeat(20)}${name}'\n`,
    );
  }
  fs.writeFileSync(path.join(repo, "request.txt"), names.join(" "));
});

after(() => {
  if (!mnt) return;
  // Lazily, should a failed test have left a file open on it.
  if (spawnSync("umount", [mnt]).status !== 0) spawnSync("umount", ["-l", mnt]);
  fs.rmSync(mnt, { recursive: true, force: true });
});

/** Fill the tmpfs with page-sized files, then free `pages` of them: the next big write gets that much and no more. */
function fillLeaving(pages: number): void {
  const fill = path.join(mnt, "fill");
  fs.mkdirSync(fill, { recursive: true });
  const page = Buffer.alloc(4096, 0x61);
  const made: string[] = [];
  for (let i = 0; i < 1000; i++) {
    const f = path.join(fill, String(i));
    try {
      fs.writeFileSync(f, page);
      made.push(f);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOSPC") throw e;
      fs.rmSync(f, { force: true });
      break;
    }
  }
  for (const f of made.slice(-pages)) fs.rmSync(f);
}

function unfill(): void {
  fs.rmSync(path.join(mnt, "fill"), { recursive: true, force: true });
}

function leftovers(dir: string, keep: string[]): string[] {
  return fs.readdirSync(dir).filter((n) => !keep.includes(n));
}

test(
  "resolve -o and env -o on a full file system fail with a sentence and keep the previous file byte for byte",
  { skip },
  () => {
    const request = fs.readFileSync(path.join(repo, "request.txt"), "utf8").split(" ");
    const out = path.join(mnt, "out");
    fs.mkdirSync(out);
    const ctx = path.join(out, "ctx.json");
    const envFile = path.join(out, "env.sh");
    const first = runCli(["resolve", "--no-implicit", "--paths", repo, "-o", ctx, ...request]);
    assert.equal(first.code, 0, first.stderr);
    const env1 = runCli(["env", "--no-implicit", "--paths", repo, "-o", envFile, ...request]);
    assert.equal(env1.code, 0, env1.stderr);
    const oldCtx = fs.readFileSync(ctx);
    const oldEnv = fs.readFileSync(envFile);
    assert.ok(
      oldCtx.length > 8192 && oldEnv.length > 8192,
      `outputs must span several pages (${oldCtx.length}, ${oldEnv.length})`,
    );

    // The request in another order gives other bytes, so a file that matches is really the old one.
    fillLeaving(1);
    try {
      const r = runCli(["resolve", "--no-implicit", "--paths", repo, "-o", ctx, ...request.reverse()]);
      assert.equal(r.code, 1, r.stdout);
      assert.match(
        r.stderr,
        new RegExp(
          `^tantalus: error: cannot write ${ctx.replace(/[.]/g, "\\.")}: no space left on device \\(ENOSPC\\)\\n$`,
        ),
      );
      assert.ok(fs.readFileSync(ctx).equals(oldCtx), "ctx.json must be the old file, byte for byte");

      const e = runCli(["env", "--no-implicit", "--paths", repo, "--shell", "sh", "-o", envFile, ...request]);
      assert.equal(e.code, 1, e.stdout);
      assert.match(
        e.stderr,
        new RegExp(
          `^tantalus: error: cannot write ${envFile.replace(/[.]/g, "\\.")}: no space left on device \\(ENOSPC\\)\\n$`,
        ),
      );
      assert.ok(fs.readFileSync(envFile).equals(oldEnv), "env.sh must be the old file, byte for byte");
      assert.deepEqual(leftovers(out, ["ctx.json", "env.sh"]), [], "no temporary file is left behind");
    } finally {
      unfill();
    }
  },
);

test(
  "both atomic writers refuse a short write and leave neither a truncated target nor a temporary file",
  { skip },
  async () => {
    const dir = path.join(mnt, "unit");
    fs.mkdirSync(dir);
    const target = path.join(dir, "stamp.json");
    fs.writeFileSync(target, "old");
    fillLeaving(1);
    try {
      const big = Buffer.alloc(3 * 4096, 0x62);
      assert.throws(() => writeFileAtomic(target, big), /cannot write .*stamp\.json: no space left on device/);
      await assert.rejects(writeFileAtomicAsync(target, big), /cannot write .*stamp\.json: no space left on device/);
      assert.equal(fs.readFileSync(target, "utf8"), "old");
      assert.deepEqual(leftovers(dir, ["stamp.json"]), []);
    } finally {
      unfill();
    }
  },
);

test(
  "a blob written into a store on a full file system fails naming the file, and the store holds no partial blob",
  { skip },
  async () => {
    const store = await OciStore.open(path.join(mnt, "store"));
    fillLeaving(2);
    try {
      const big = Buffer.alloc(5 * 4096, 0x63);
      await assert.rejects(store.putBlob(big), /cannot write .*: no space left on device/);
      const writer = await store.createBlobWriter();
      try {
        assert.throws(
          () => writer.stream.writeSync(big),
          new RegExp(`cannot write a blob into the store ${store.dir}: no space left on device \\(ENOSPC\\)$`),
        );
      } finally {
        await writer.abort();
      }
      assert.deepEqual(fs.readdirSync(store.blobsDir), []);
      assert.deepEqual(fs.readdirSync(store.tmpDir), []);
    } finally {
      unfill();
    }
  },
);

test(
  "a build into a store on a full file system fails with one sentence and leaves the store valid",
  { skip },
  async () => {
    const studio = await sampleStudio(tempDir(), "studio");
    const small = tempDir("tantalus-tmpfs-");
    const m = spawnSync("mount", ["-t", "tmpfs", "-o", "size=3m", "tmpfs", small], { encoding: "utf8" });
    assert.equal(m.status, 0, m.stderr);
    try {
      const storeDir = path.join(small, "store");
      const r = runCli([
        "build",
        "rough_layout",
        "--allow-audit-errors",
        "--config",
        studio.config,
        "--store",
        storeDir,
        "--no-progress",
      ]);
      assert.equal(r.code, 1, r.stdout);
      assert.match(
        r.stderr,
        new RegExp(
          `^tantalus: error: cannot write (a blob into the store ${storeDir}|${storeDir}/\\S+): no space left on device \\(ENOSPC\\)\\n$`,
        ),
      );
      const store = await OciStore.open(storeDir, { readOnly: true });
      assert.deepEqual(await store.tags(), [], "nothing tagged");
      assert.deepEqual(fs.readdirSync(store.tmpDir), [], "no temporary file left");
      for (const hex of fs.readdirSync(store.blobsDir)) await store.readBlob(`sha256:${hex}`); // every blob there is whole
    } finally {
      if (spawnSync("umount", [small]).status !== 0) spawnSync("umount", ["-l", small]);
      fs.rmSync(small, { recursive: true, force: true });
    }
  },
);
