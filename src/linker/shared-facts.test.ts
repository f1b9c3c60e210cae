import { after, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { ByteSource } from "./bytesource.js";
import { buildElf } from "./elfwrite.js";
import { HostDirLayer, LayeredImageFs, MemoryLayer } from "./imagefs.js";
import { Linker, type FileFacts } from "./linker.js";
import { DEBIAN_X86_64 } from "./profile.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tantalus-shared-facts-"));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A package directory on the host, counting the files opened through it. */
class CountingLayer extends HostDirLayer {
  opened = 0;
  override open(rel: string): ByteSource {
    this.opened++;
    return super.open(rel);
  }
}

test("linkers of two images stacked from the same host files read each file's headers once; in-memory files are not shared", () => {
  const pkg = path.join(dir, "usd");
  fs.mkdirSync(path.join(pkg, "lib"), { recursive: true });
  fs.writeFileSync(path.join(pkg, "lib", "libusd.so"), buildElf({ soname: "libusd.so", needed: ["libc.so.6"] }));
  const sharedFacts = new Map<string, FileFacts>();
  const image = (layer: HostDirLayer, memory: Uint8Array) =>
    new Linker(
      new LayeredImageFs([layer, new MemoryLayer("decoys").set("opt/decoy/libx.so", { type: "file", data: memory })]),
      { profile: DEBIAN_X86_64, sharedFacts },
    );
  const first = new CountingLayer(pkg, "/opt/usd");
  const second = new CountingLayer(pkg, "/studio/usd");
  // The same package at two image paths (two workflows' root maps, or two images of one studio).
  const a = image(first, buildElf({ soname: "libx.so.1" }));
  const b = image(second, buildElf({ soname: "libx.so.2" }));

  const fa = a.fileFacts("/opt/usd/lib/libusd.so");
  const fb = b.fileFacts("/studio/usd/lib/libusd.so");
  assert.equal(fa.elf.ok && fa.elf.dynamic?.soname, "libusd.so");
  assert.equal(fb, fa);
  assert.equal(first.opened, 1);
  assert.equal(second.opened, 0, "the second image read the host file again");
  // Same image path, different bytes in memory: each image reads its own.
  const xa = a.fileFacts("/opt/decoy/libx.so");
  const xb = b.fileFacts("/opt/decoy/libx.so");
  assert.equal(xa.elf.ok && xa.elf.dynamic?.soname, "libx.so.1");
  assert.equal(xb.elf.ok && xb.elf.dynamic?.soname, "libx.so.2");
  assert.deepEqual([...sharedFacts.keys()], [path.join(pkg, "lib", "libusd.so")]);
});
