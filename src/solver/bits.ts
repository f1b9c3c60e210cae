/*
 * Version sets as bitsets over a family's versions (bit i = the i-th lowest
 * version). The solver asks "does this requirement allow any of the versions
 * still in that scope?" and "are all of them in this range?" millions of times;
 * with bitsets both are a few word operations.
 */

export type Bits = Uint32Array;

export function newBits(n: number): Bits {
  return new Uint32Array((n + 31) >>> 5);
}

export function setBit(b: Bits, i: number): void {
  b[i >>> 5]! |= 1 << (i & 31);
}

/** Some version is in both. */
export function intersects(a: Bits, b: Bits): boolean {
  for (let i = 0; i < a.length; i++) if ((a[i]! & b[i]!) !== 0) return true;
  return false;
}

/** Every version of `a` is in `b`. */
export function isSubset(a: Bits, b: Bits): boolean {
  for (let i = 0; i < a.length; i++) if ((a[i]! & ~b[i]!) !== 0) return false;
  return true;
}
