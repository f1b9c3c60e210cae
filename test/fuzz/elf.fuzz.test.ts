/**
 * Fuzz pass over the ELF reader (src/linker/elf.ts), which the audit runs on
 * every file of every package and base: readElf documents that it never
 * throws for bad contents and answers { ok: false, code, reason }. An "io"
 * answer for bytes already in memory would be an internal failure caught
 * and relabelled, so it counts as a crash too.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { readElf } from "../../src/linker/elf.js";
import { mutated, mutatedHead, params } from "./fuzz-kit.js";

/** A real dynamically linked executable and a shared library: every structure the reader follows. */
const SEEDS = [
  "/bin/true",
  "/lib/x86_64-linux-gnu/libc.so.6",
  "/usr/lib/x86_64-linux-gnu/libc.so.6",
  "/lib/ld-linux-aarch64.so.1",
]
  .map((p) => {
    try {
      return readFileSync(p);
    } catch {
      return undefined;
    }
  })
  .filter((b): b is NonNullable<typeof b> => b !== undefined)
  .slice(0, 2);

function check(bytes: Uint8Array): void {
  const r = readElf(bytes);
  if (!r.ok)
    assert.notEqual(
      r.code,
      "io",
      `an in-memory ELF was answered with an I/O failure (an internal error relabelled): ${r.reason}`,
    );
  else {
    // Touch what the audit reads next.
    void r.dynamic?.needed?.length;
    void r.interpreter?.length;
  }
}

test("fuzz: readElf answers every damaged or crafted ELF file without an internal failure", () => {
  assert.ok(SEEDS.length > 0, "a real ELF file to mutate");
  for (const seed of SEEDS) {
    assert.equal(readElf(seed).ok, true, "the seed itself reads");
    // The headers, program headers and dynamic section sit in the first pages: most edits go there.
    fc.assert(
      fc.property(mutatedHead(seed, 8192), (b) => check(b)),
      params(1500),
    );
  }
});

test("fuzz: readElf on random bytes behind an ELF magic", () => {
  const magic = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 512 }), fc.constantFrom(1, 2), fc.constantFrom(1, 2), (body, cls, data) => {
      check(Buffer.concat([magic, Buffer.from([cls, data, 1, 0]), Buffer.from(body)]));
      check(Buffer.from(body));
    }),
    params(3000),
  );
});

test("fuzz: truncations of a real ELF at every region", () => {
  const seed = SEEDS[0]!;
  fc.assert(
    fc.property(mutated(seed, 2), (b) => check(b)),
    params(300),
  );
});
