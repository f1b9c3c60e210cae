import fs from "node:fs";
import path from "node:path";
import { createHash } from "node:crypto";
import type { PackageSummary } from "../package.js";
import { writeFileAtomic } from "../../util/atomic.js";
import { VERSION } from "../../version.js";
import { cacheDir } from "../../locations.js";
import type { FileStamp } from "./observation.js";

/**
 * One package as a flat tuple: the cache of a studio repository holds tens of
 * thousands, and named keys would triple its size and its parse time.
 */
type CacheEntry = [
  mtimeMs: number,
  size: number,
  ino: number,
  requires: string[] | "late",
  variants: string[][],
  timestamp: number | null,
  hashedVariants: 0 | 1,
  buildRequires: string[] | "late",
  tantalus: PackageSummary["tantalus"] | null,
  requiresLine: number | null,
  variantsLine: number | null,
  /** 1 when CPython loaded it (`python: cpython`); absent otherwise, so other entries keep their size. */
  cpython?: 1,
];

interface CacheFile {
  format: 2;
  tool: string;
  root: string;
  /** family -> definition file relative to the family directory -> entry */
  families: Record<string, Record<string, CacheEntry>>;
}

/**
 * The per-repository index cache: package summaries keyed by their definition
 * file and its stamp (mtime, size, inode), so an unchanged package is never
 * parsed again and a changed file is always re-read. Directories are still listed
 * on every load, so added, removed and ignored versions are always seen.
 */
export class RepositoryIndexCache {
  readonly file: string;
  private data: CacheFile;
  private dirty = false;

  private constructor(file: string, data: CacheFile) {
    this.file = file;
    this.data = data;
  }

  /**
   * `flavour` names how definitions were evaluated when it is not the default
   * (`python: cpython` loads files the built-in evaluator refuses): such a load
   * keeps its own cache, so switching the setting back never finds a summary of
   * a file the built-in evaluator would refuse.
   */
  static open(root: string, dir = defaultCacheDir(), flavour?: string): RepositoryIndexCache {
    const key = flavour === undefined ? root : `${root}\0${flavour}`;
    const file = path.join(dir, "repositories", createHash("sha256").update(key).digest("hex").slice(0, 24) + ".json");
    const empty: CacheFile = { format: 2, tool: VERSION, root, families: {} };
    let data = empty;
    try {
      const parsed = JSON.parse(fs.readFileSync(file, "utf8")) as CacheFile;
      // A cache from another tool version may summarise differently: start afresh.
      if (parsed.format === 2 && parsed.tool === VERSION && parsed.root === root) data = parsed;
    } catch {
      // missing or unreadable: an empty cache, rebuilt by this load
    }
    return new RepositoryIndexCache(file, data);
  }

  get(family: string, file: string, stamp: FileStamp): PackageSummary | undefined {
    const e = this.data.families[family]?.[this.key(family, file)];
    if (!e || e[0] !== stamp[0] || e[1] !== stamp[1] || e[2] !== stamp[2]) return undefined;
    return {
      file,
      requires: e[3],
      buildRequires: e[7],
      variants: e[4],
      hashedVariants: e[6] === 1,
      ...(e[5] !== null ? { timestamp: e[5] } : {}),
      ...(e[8] !== null ? { tantalus: e[8] } : {}),
      lines: { ...(e[9] !== null ? { requires: e[9] } : {}), ...(e[10] !== null ? { variants: e[10] } : {}) },
      ...(e[11] === 1 ? { evaluator: "cpython" as const } : {}),
    };
  }

  put(family: string, file: string, stamp: FileStamp, s: PackageSummary): void {
    const entry: CacheEntry = [
      stamp[0],
      stamp[1],
      stamp[2],
      s.requires,
      s.variants,
      s.timestamp ?? null,
      s.hashedVariants ? 1 : 0,
      s.buildRequires,
      s.tantalus ?? null,
      s.lines.requires ?? null,
      s.lines.variants ?? null,
    ];
    if (s.evaluator === "cpython") entry.push(1);
    (this.data.families[family] ??= {})[this.key(family, file)] = entry;
    this.dirty = true;
  }

  /** Entries are keyed relative to their family directory, which keeps the file small. */
  private key(family: string, file: string): string {
    return file.slice(this.data.root.length + family.length + 2);
  }

  /** Forgets a family's entries for files that no longer exist (called after listing the family). */
  retain(family: string, files: Set<string>): void {
    const fam = this.data.families[family];
    if (!fam) return;
    const keep = new Set([...files].map((f) => this.key(family, f)));
    for (const f of Object.keys(fam)) {
      if (!keep.has(f)) {
        delete fam[f];
        this.dirty = true;
      }
    }
  }

  /** Writes the cache if anything changed; a failure to write only costs speed next time. */
  save(): void {
    if (!this.dirty) return;
    try {
      writeFileAtomic(this.file, JSON.stringify(this.data));
      this.dirty = false;
    } catch {
      // read-only home or full disk: the cache is an optimisation, never a requirement
    }
  }
}

export function defaultCacheDir(): string {
  return cacheDir();
}
