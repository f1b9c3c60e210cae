import { Package, type PackageSummary } from "../rez/package.js";
import { Version } from "../rez/version/index.js";
import type { PackageSource } from "./model.js";

/** A package given as data: what a package.py of a purely declarative package holds. */
export interface PackageData {
  name: string;
  version: string;
  requires?: string[];
  variants?: string[][];
  build_requires?: string[];
  timestamp?: number;
}

/**
 * A package source held in memory: for tests, generated repositories and
 * library users that build packages programmatically. Families are listed in
 * the order given (Rez keeps a repository's listing order until it sorts).
 */
export class MemorySource implements PackageSource {
  private readonly families = new Map<string, Package[]>();

  constructor(
    packages: Iterable<PackageData>,
    readonly paths: readonly string[] = ["<memory>"],
  ) {
    const root = this.paths[0] ?? "<memory>";
    for (const d of packages) {
      const base = `${root}/${d.name}/${d.version}`;
      const summary: PackageSummary = {
        file: `${base}/package.py`,
        requires: d.requires ?? [],
        buildRequires: d.build_requires ?? [],
        variants: d.variants ?? [],
        hashedVariants: false,
        ...(d.timestamp !== undefined ? { timestamp: d.timestamp } : {}),
        lines: {},
      };
      const pkg = new Package(summary, d.name, Version.parse(d.version), root, base, () => {
        throw new Error(`${summary.file}: an in-memory package has no definition file`);
      });
      const list = this.families.get(d.name) ?? [];
      list.push(pkg);
      this.families.set(d.name, list);
    }
  }

  family(name: string): Package[] | undefined {
    return this.families.get(name);
  }

  familyNames(): string[] {
    return [...this.families.keys()].sort();
  }
}
