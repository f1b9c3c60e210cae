import { createHash } from "node:crypto";

/**
 * Deterministic content that gives packages realistic weight. Everything is
 * derived from a seed string (a path inside the repository), never from the
 * clock or Math.random, so two generations are byte-identical.
 */
export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: string) {
    const h = createHash("sha256").update(seed).digest();
    this.a = h.readUInt32LE(0);
    this.b = h.readUInt32LE(4);
    this.c = h.readUInt32LE(8);
    this.d = h.readUInt32LE(12) | 1;
    for (let i = 0; i < 12; i++) this.next();
  }

  /** sfc32: small, fast, and good enough for filler. */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  below(n: number): number {
    return this.next() % n;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)]!;
  }
}

const BLOCK = 4096;

/**
 * Binary filler shaped like the inside of a big shared library: incompressible
 * blocks (code, packed tables) mixed with symbol-table-like text and zero
 * padding, so gzip/zstd see a realistic ratio (about 0.5).
 */
export function binaryFiller(seed: string, size: number): Buffer {
  const out = Buffer.alloc(size);
  const rng = new Prng(seed);
  const words = SYMBOL_WORDS;
  for (let off = 0; off < size; off += BLOCK) {
    const end = Math.min(size, off + BLOCK);
    const kind = rng.below(20);
    if (kind < 9) {
      for (let i = off; i + 4 <= end; i += 4) out.writeUInt32LE(rng.next(), i);
      for (let i = end - ((end - off) % 4); i < end; i++) out[i] = rng.next() & 0xff;
    } else if (kind < 16) {
      let i = off;
      while (i < end) {
        const s = `_ZN${rng.pick(words)}${rng.below(100)}${rng.pick(words)}E${rng.pick(words)}\0`;
        i += out.write(s, i, Math.min(s.length, end - i), "latin1");
      }
    }
    // else: leave zeros, like section alignment padding
  }
  return out;
}

/** Source-like text (Python, MEL, shader or config) of about `size` bytes. */
export function textFiller(seed: string, size: number, style: TextStyle): string {
  const rng = new Prng(seed);
  const parts: string[] = [];
  let n = 0;
  const push = (s: string) => {
    parts.push(s);
    n += s.length;
  };
  push(HEADERS[style]);
  while (n < size) {
    const a = rng.pick(WORDS);
    const b = rng.pick(WORDS);
    const c = rng.pick(WORDS);
    const k = rng.below(1000);
    switch (style) {
      case "python":
        push(
          `\n\ndef ${a}_${b}(${c}, ${b}=None):\n    """${cap(a)} the ${b} of a ${c}."""\n    if ${b} is None:\n        ${b} = ${k}\n    return _${a}(${c}, ${b}) + ${rng.below(97)}\n`,
        );
        break;
      case "mel":
        push(
          `\nglobal proc ${a}${cap(b)}(string $${c})\n{\n    int $${b} = ${k};\n    ${a}${cap(c)} -${b} $${b} $${c};\n}\n`,
        );
        break;
      case "shader":
        push(
          `\nshader ${a}_${b}(float ${c} = ${k / 1000}, color ${b} = color(${rng.below(100) / 100}), output color result = 0)\n{\n    result = ${b} * ${c};\n}\n`,
        );
        break;
      case "config":
        push(`${a}_${b}_${k}: ${c}\n`);
        break;
    }
  }
  return parts.join("").slice(0, Math.max(size, HEADERS[style].length));
}

export type TextStyle = "python" | "mel" | "shader" | "config";

const HEADERS: Record<TextStyle, string> = {
  python: "# Generated module of the Tantalus sample studio.\nfrom __future__ import annotations\n",
  mel: "// Generated MEL script of the Tantalus sample studio.\n",
  shader: "// Generated OSL shader of the Tantalus sample studio.\n",
  config: "# Generated configuration of the Tantalus sample studio.\n",
};

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

const WORDS = [
  "asset",
  "shot",
  "frame",
  "layer",
  "camera",
  "light",
  "mesh",
  "curve",
  "prim",
  "stage",
  "path",
  "value",
  "render",
  "pass",
  "node",
  "graph",
  "plug",
  "attr",
  "matrix",
  "vector",
  "color",
  "image",
  "tile",
  "pixel",
  "cache",
  "sample",
  "volume",
  "point",
  "shader",
  "texture",
  "channel",
  "buffer",
  "scene",
  "rig",
  "joint",
  "bound",
  "range",
  "time",
  "unit",
  "scale",
  "offset",
  "token",
  "schema",
  "variant",
  "edit",
  "target",
];

const SYMBOL_WORDS = [
  "Imath",
  "Vec3",
  "Matrix44",
  "half",
  "Stage",
  "Prim",
  "Layer",
  "Token",
  "Image",
  "Buffer",
  "Spec",
  "Input",
  "Output",
  "Processor",
  "Config",
  "Tree",
  "Grid",
  "Accessor",
  "Node",
  "Plug",
  "Attribute",
  "Shader",
  "Kernel",
];
