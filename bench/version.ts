/**
 * Micro-benchmark of the Rez version model's hot paths (the solver's inner loop):
 * version comparison, range containment and range intersection.
 * Run: npm run bench -- version
 */
import { Requirement, Version, VersionRange } from "../src/rez/version/index.js";

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

export function run(_args: string[]): void {
  const rand = lcg(42);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const tokens = ["0", "1", "2", "3", "10", "11", "01", "a", "beta", "rc1", "2b"];
  const versionText = (): string => Array.from({ length: 1 + Math.floor(rand() * 4) }, () => pick(tokens)).join(".");

  function time(label: string, n: number, fn: () => void): void {
    const t0 = process.hrtime.bigint();
    fn();
    const ns = Number(process.hrtime.bigint() - t0);
    console.log(`${label.padEnd(34)} ${(ns / n).toFixed(1).padStart(8)} ns/op  (${n} ops)`);
  }

  const texts = Array.from({ length: 20000 }, versionText);
  time("Version.parse (cold, then interned)", texts.length, () => {
    for (const t of texts) Version.parse(t);
  });
  const versions = texts.map((t) => Version.parse(t));

  let sink = 0;
  const N = 2_000_000;
  time("Version.compare", N, () => {
    for (let i = 0; i < N; i++) sink += versions[i % 20000]!.compare(versions[(i * 7919) % 20000]!);
  });

  const hot = versions.slice(0, 64);
  time("Version.compare (64 hot versions)", N, () => {
    for (let i = 0; i < N; i++) sink += hot[i & 63]!.compare(hot[(i * 7) & 63]!);
  });

  const rangeTexts = ["1", "1.2+<3", "<2|3+", "==1.2.3", "1|2|3|10|11|a", ">=1,<2", "2..3"];
  const ranges = rangeTexts.map((t) => VersionRange.parse(t));
  time("VersionRange.contains", N, () => {
    for (let i = 0; i < N; i++) if (ranges[i % ranges.length]!.contains(versions[i % 20000]!)) sink++;
  });

  const M = 300_000;
  time("VersionRange.intersection", M, () => {
    for (let i = 0; i < M; i++) if (ranges[i % 7]!.intersection(ranges[(i * 3) % 7]!) !== null) sink++;
  });

  const reqs = ["foo-1", "foo-1.2+<3", "~foo-2", "!foo-10", "foo<2|3+"].map((t) => Requirement.parse(t));
  time("Requirement.merged", M, () => {
    for (let i = 0; i < M; i++) if (reqs[i % 5]!.merged(reqs[(i * 3) % 5]!) !== null) sink++;
  });
  console.log(`(checksum ${sink})`);
}
