/**
 * Shared pieces of the fuzz pass: a fixed seed and budget per property (so
 * CI is reproducible and each property finishes in a few seconds), byte
 * mutations of a valid input, and the one rule every property checks: the
 * code under test may fail only with the error type it documents.
 */
import fc from "fast-check";
import { TantalusError } from "../../src/errors.js";

/** Fixed: a failure reproduces with the same seed; fast-check prints the counterexample and its path. */
export const SEED = 20261207;

export function params(numRuns: number): fc.Parameters<unknown> {
  return { seed: SEED, numRuns, endOnFailure: true };
}

/** A valid input with bytes overwritten, inserted or cut off: what a damaged or crafted file looks like. */
export function mutated(base: Buffer, maxEdits = 8): fc.Arbitrary<Buffer> {
  const edit = fc.oneof(
    fc.record({ kind: fc.constant("set" as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), bytes: fc.uint8Array({ maxLength: 16 }) }),
    fc.record({ kind: fc.constant("cut" as const), at: fc.nat() }),
  );
  return fc.array(edit, { minLength: 1, maxLength: maxEdits }).map((edits) => {
    let b = Buffer.from(base);
    for (const e of edits) {
      if (b.length === 0) break;
      const at = e.at % b.length;
      if (e.kind === "set") b[at] = e.byte;
      else if (e.kind === "insert") b = Buffer.concat([b.subarray(0, at), Buffer.from(e.bytes), b.subarray(at)]);
      else b = b.subarray(0, at);
    }
    return b;
  });
}

/** Mutations aimed at the first `headerBytes` (where formats keep their offsets and counts), plus some anywhere. */
export function mutatedHead(base: Buffer, headerBytes: number): fc.Arbitrary<Buffer> {
  const edits = fc.array(
    fc.record({ at: fc.nat({ max: Math.min(headerBytes, base.length) - 1 }), byte: fc.integer({ min: 0, max: 255 }) }),
    { minLength: 1, maxLength: 12 },
  );
  return fc.oneof(
    edits.map((es) => {
      const b = Buffer.from(base);
      for (const e of es) b[e.at] = e.byte;
      return b;
    }),
    mutated(base),
  );
}

/** Rethrows anything that is not an expected user-facing error, so fast-check reports it as a crash. */
export function onlyExpected(e: unknown, allowed: (new (...args: never[]) => Error)[] = [TantalusError]): void {
  if (allowed.some((c) => e instanceof c)) {
    if (/^\s+at /m.test((e as Error).message))
      throw new Error(`an expected error carries a stack trace in its message: ${(e as Error).message}`);
    return;
  }
  throw e;
}
