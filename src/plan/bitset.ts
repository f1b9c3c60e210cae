/**
 * Sets of images as fixed-width bit arrays: the planner compares "which images use
 * this group" millions of times and a studio has at most a few hundred images.
 */
export type ImageSet = Uint32Array;

export function emptySet(words: number): ImageSet {
  return new Uint32Array(words);
}

export function wordsFor(images: number): number {
  return Math.max(1, Math.ceil(images / 32));
}

export function setOf(members: readonly number[], words: number): ImageSet {
  const s = new Uint32Array(words);
  for (const m of members) s[m >>> 5]! |= 1 << (m & 31);
  return s;
}

export function has(s: ImageSet, m: number): boolean {
  return (s[m >>> 5]! & (1 << (m & 31))) !== 0;
}

export function remove(s: ImageSet, m: number): void {
  s[m >>> 5]! &= ~(1 << (m & 31));
}

export function union(a: ImageSet, b: ImageSet): ImageSet {
  const out = new Uint32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! | b[i]!;
  return out;
}

function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

export function size(a: ImageSet): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) n += popcount32(a[i]!);
  return n;
}

/** |a \ b| */
export function sizeMinus(a: ImageSet, b: ImageSet): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) n += popcount32(a[i]! & ~b[i]!);
  return n;
}

/** |a ∩ b ∩ c| */
export function size3(a: ImageSet, b: ImageSet, c: ImageSet): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) n += popcount32(a[i]! & b[i]! & c[i]!);
  return n;
}

export function members(a: ImageSet): number[] {
  const out: number[] = [];
  for (let i = 0; i < a.length; i++) {
    let w = a[i]!;
    while (w !== 0) {
      const low = w & -w;
      out.push(i * 32 + 31 - Math.clz32(low));
      w ^= low;
    }
  }
  return out;
}

export function setKey(a: ImageSet): string {
  return Array.from(a, (w) => w.toString(36)).join(",");
}
