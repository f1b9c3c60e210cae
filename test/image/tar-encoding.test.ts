/**
 * The layer writer's tar encoder (src/image/layer/tar.ts) writes the bytes
 * tar-stream's packer writes for the same members, so layers keep their
 * digests whatever encoder made them. tar-stream is the reference here: the
 * headers below are what the writer used to hand it.
 */
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { test } from "node:test";
import tar, { type Header } from "tar-stream";
import { planLayer, type LayerPlan, type PlannedEntry } from "../../src/image/index.js";
import { ChunkPool, tarChunks } from "../../src/image/layer/tar.js";
import { makeTree, tempDir } from "./helpers.js";
import { join } from "node:path";
import { readFileSync } from "node:fs";

function referenceHeader(e: PlannedEntry, mtime: Date): Partial<Header> & { name: string } {
  const base = { uid: 0, gid: 0, uname: "", gname: "", mtime };
  switch (e.kind) {
    case "directory":
      return { ...base, name: `${e.name}/`, type: "directory", mode: 0o040000 | e.mode };
    case "file":
      return { ...base, name: e.name, type: "file", mode: 0o100000 | e.mode, size: e.size };
    case "symlink":
      return { ...base, name: e.name, type: "symlink", mode: 0o120000 | 0o777, linkname: e.linkTarget! };
    case "link":
      return { ...base, name: e.name, type: "link", mode: 0o100000 | e.mode, linkname: e.linkTarget! };
  }
}

async function referenceTar(plan: LayerPlan, mtime: Date): Promise<Buffer> {
  const pack = tar.pack();
  const collected = (async () => {
    const parts: Buffer[] = [];
    for await (const c of Readable.from(pack)) parts.push(c as Buffer);
    return Buffer.concat(parts);
  })();
  for (const e of plan.entries) {
    const body = e.kind === "file" ? (e.content ?? readFileSync(e.hostPath!)) : undefined;
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      if (body) pack.entry(referenceHeader(e, mtime), body, cb);
      else pack.entry(referenceHeader(e, mtime), cb);
    });
  }
  pack.finalize();
  return collected;
}

function encoded(plan: LayerPlan, mtime: Date, pool?: ChunkPool): { bytes: Buffer; chunks: number[] } {
  const parts: Buffer[] = [];
  const chunks: number[] = [];
  for (const c of tarChunks(plan, { mtime, ...(pool ? { pool } : {}) })) {
    parts.push(Buffer.from(c)); // a copy: the chunk goes back to the pool
    chunks.push(c.length);
    pool?.give(c);
  }
  return { bytes: Buffer.concat(parts), chunks };
}

const file = (name: string, content: string | Buffer, mode = 0o644): PlannedEntry => {
  const buf = typeof content === "string" ? Buffer.from(content) : content;
  return { name, kind: "file", mode, size: buf.length, content: buf };
};

/** Members whose headers take every path of the encoder: ustar with and without prefix, PAX for names and link targets. */
function edgePlan(): LayerPlan {
  const entries: PlannedEntry[] = [
    { name: "opt", kind: "directory", mode: 0o755, size: 0 },
    { name: "opt/sticky", kind: "directory", mode: 0o1777, size: 0 },
    file("opt/empty", ""),
    file("opt/one", "x"),
    file("opt/block-511", Buffer.alloc(511, 1)),
    file("opt/block-512", Buffer.alloc(512, 2)),
    file("opt/block-513", Buffer.alloc(513, 3)),
    file("opt/setuid", "s", 0o4755),
    file("opt/no-permissions", "0", 0),
    file(`opt/${"p".repeat(90)}/${"n".repeat(99)}`, "ustar prefix and name"),
    file(`opt/${"n".repeat(101)}`, "a component longer than 100 bytes: PAX"),
    file(`opt/${"q".repeat(80)}/${"r".repeat(80)}/${"s".repeat(80)}/x`, "a prefix longer than 155 bytes: PAX"),
    { name: "opt/scène", kind: "directory", mode: 0o755, size: 0 },
    file("opt/scène/été.txt", "non-ASCII: PAX"),
    { name: "opt/link-short", kind: "symlink", mode: 0o777, size: 0, linkTarget: "one" },
    { name: "opt/link-long", kind: "symlink", mode: 0o777, size: 0, linkTarget: `../${"t".repeat(120)}` },
    { name: "opt/link-utf8", kind: "symlink", mode: 0o777, size: 0, linkTarget: "scène/été.txt" },
    { name: "opt/hard", kind: "link", mode: 0o644, size: 0, linkTarget: "opt/one" },
    { name: `opt/${"h".repeat(110)}`, kind: "link", mode: 0o644, size: 0, linkTarget: `opt/${"n".repeat(101)}` },
  ];
  // PAX records whose length crosses a power of ten (the length counts its own digits).
  for (let n = 86; n <= 100; n++) entries.push(file(`opt/${"é".repeat(n / 2)}${"z".repeat(n % 2)}`, `${n}`));
  entries.push(file(`opt/${"w".repeat(60)}/${"é".repeat(470)}`, "a record of about 1000 bytes"));
  entries.sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
  return { entries, contentBytes: entries.reduce((s, e) => s + e.size, 0), warnings: [] };
}

test("the tar encoder writes tar-stream's bytes for every kind of header (ustar, prefix, PAX names and link targets)", async () => {
  const mtime = new Date(1_700_000_000_000);
  const plan = edgePlan();
  const reference = await referenceTar(plan, mtime);
  assert.ok(reference.includes(Buffer.from("PaxHeader")), "the plan exercises PAX");
  const ours = encoded(plan, mtime);
  assert.equal(ours.bytes.length, reference.length);
  assert.ok(ours.bytes.equals(reference), "same bytes as tar-stream");
});

test("the tar of a host tree is the same whatever the chunk size, and chunks are reused", async (t) => {
  const dir = await tempDir(t);
  const src = join(dir, "src");
  await makeTree(src);
  const plan = planLayer({ entries: [{ type: "tree", source: src, path: "/studio/packages/tool/1.0" }] });
  const mtime = new Date(1000);
  const reference = await referenceTar(plan, mtime);
  const whole = encoded(plan, mtime);
  assert.ok(whole.bytes.equals(reference), "default chunks: tar-stream's bytes");
  // An odd chunk size puts headers, bodies and padding across chunk boundaries.
  const pool = new ChunkPool(1000);
  const small = encoded(plan, mtime, pool);
  assert.ok(small.bytes.equals(reference), "1000-byte chunks: the same bytes");
  assert.ok(
    small.chunks.slice(0, -1).every((n) => n === 1000),
    "every chunk but the last is full",
  );
  assert.ok(small.chunks.length > 3000, "the 3 MiB file spans many chunks");
  // Handed back at once, the pool never needs more than the chunk being filled and the few one write
  // completes (the 1,024 zero bytes at the end span two 1,000-byte chunks): not one per chunk of the big file.
  const allocated = (pool as unknown as { free: Buffer[] }).free.length;
  assert.ok(allocated <= 3, `${allocated} chunks allocated`);
});
