import type { PythonSettings } from "../definition/cpython.js";
import path from "node:path";
import type { HostQuery } from "../python/modules.js";
import type { SystemInfo } from "../system.js";
import { FilesystemRepository, type DefinitionReader, type LoadProblem } from "./filesystem.js";
import { RepositoryIndexCache } from "./index-cache.js";
import type { Package } from "../package.js";
import type { RepositoryObservation } from "./observation.js";

export { FilesystemRepository, type LoadProblem, type DefinitionReader } from "./filesystem.js";
export { isValidPackageName } from "./names.js";
export { RepositoryIndexCache, defaultCacheDir } from "./index-cache.js";
export {
  observationHolds,
  pathStamp,
  sameStamp,
  stampOf,
  type FileStamp,
  type PathStamp,
  type FamilyObservation,
  type RepositoryObservation,
} from "./observation.js";

/** What the solver needs from repositories: every package of a family (any order), or undefined when none exists. */
export interface PackageSource {
  family(name: string): Package[] | undefined;
  /** Search paths, for Rez's "(searched: ...)" messages. */
  readonly paths?: readonly string[];
}

export interface RepositoryCounts {
  families: number;
  packages: number;
  variants: number;
}

/**
 * Several repositories in search-path order. When the same version of a family
 * is in several of them the earlier path wins, compared as Version objects
 * (so `1.0` and `1-0` collide), as Rez's iter_packages does.
 */
export class Repositories implements PackageSource {
  readonly repositories: FilesystemRepository[];
  /** Whether loads keep stamps for observation(). */
  readonly observing: boolean;
  private readonly merged = new Map<string, Package[] | null>();

  /**
   * `cache`: use the index cache (default: yes, unless TANTALUS_NO_CACHE=1); a
   * directory names where it lives (default: defaultCacheDir()). `observe`:
   * keep the stamps that `observation()` returns.
   */
  constructor(
    paths: string[],
    opts: {
      read?: DefinitionReader;
      cache?: boolean | string;
      observe?: boolean;
      variantShortlinks?: boolean;
      /** The platform packages are loaded for, when not this host. */
      target?: SystemInfo;
      /** `python: cpython`: files the built-in evaluator refuses are loaded by CPython. */
      python?: PythonSettings;
    } = {},
  ) {
    const seen = new Set<string>();
    this.repositories = [];
    const useCache = opts.cache ?? process.env.TANTALUS_NO_CACHE !== "1";
    this.observing = opts.observe === true;
    for (const p of paths) {
      const abs = path.resolve(p);
      if (seen.has(abs)) continue;
      seen.add(abs);
      const flavour =
        opts.python?.evaluator === "cpython"
          ? `cpython ${opts.python.interpreter ?? "python3"} ${JSON.stringify(opts.target ?? null)}`
          : undefined;
      const cache = useCache
        ? RepositoryIndexCache.open(abs, typeof opts.cache === "string" ? opts.cache : undefined, flavour)
        : false;
      this.repositories.push(
        new FilesystemRepository(abs, {
          read: opts.read,
          cache,
          observe: opts.observe === true,
          ...(opts.variantShortlinks !== undefined ? { variantShortlinks: opts.variantShortlinks } : {}),
          ...(opts.target !== undefined ? { target: opts.target } : {}),
          ...(opts.python?.evaluator === "cpython" ? { python: opts.python } : {}),
        }),
      );
    }
  }

  /** Saves the index caches that this load changed (commands call it before exiting). */
  saveCaches(): void {
    for (const r of this.repositories) r.saveCache();
  }

  get paths(): string[] {
    return this.repositories.map((r) => r.root);
  }

  family(name: string): Package[] | undefined {
    let hit = this.merged.get(name);
    if (hit === undefined) {
      hit = this.mergeFamily(name);
      this.merged.set(name, hit);
    }
    return hit ?? undefined;
  }

  private mergeFamily(name: string): Package[] | null {
    let result: Package[] | null = null;
    const seen = new Set<string>();
    for (const repo of this.repositories) {
      const pkgs = repo.family(name);
      if (!pkgs) continue;
      result ??= [];
      for (const p of pkgs) {
        // Separators are cosmetic in Rez versions, so the token list is the identity.
        const key = p.version.tokens.join(".");
        if (seen.has(key)) continue;
        seen.add(key);
        result.push(p);
      }
    }
    return result;
  }

  /**
   * The stamps of what loading these families read, in every repository
   * (opened with `observe`): observationHolds() then tells, with stats
   * alone, whether a load now would read the same.
   */
  observation(families: Iterable<string>): RepositoryObservation {
    const out: RepositoryObservation = { roots: this.paths, families: {} };
    for (const name of [...new Set(families)].sort())
      out.families[name] = this.repositories.map((r) => r.observation(name));
    return out;
  }

  /** All family names across the repositories, sorted. */
  familyNames(): string[] {
    const names = new Set<string>();
    for (const r of this.repositories) for (const n of r.families()) names.add(n);
    return [...names].sort();
  }

  /**
   * Loads every package and variant (what `repo check` and cache warming do),
   * and saves the caches. Counts only packages that load: the broken ones are
   * in `problems`.
   */
  loadAll(): RepositoryCounts {
    const counts: RepositoryCounts = { families: 0, packages: 0, variants: 0 };
    for (const name of this.familyNames()) {
      const pkgs = this.family(name)?.filter((p) => !p.broken);
      if (!pkgs || pkgs.length === 0) continue;
      counts.families++;
      counts.packages += pkgs.length;
      for (const p of pkgs) counts.variants += p.variants.length;
    }
    this.saveCaches();
    return counts;
  }

  /** Definitions loaded so far whose evaluation asked the host, with what they asked. */
  /** Definitions the host's CPython loaded (`python: cpython`). */
  get cpythonLoaded(): string[] {
    return this.repositories.flatMap((r) => r.cpythonLoaded);
  }

  get hostDependent(): { file: string; queries: HostQuery[] }[] {
    return this.repositories.flatMap((r) => r.hostDependent);
  }

  get problems(): LoadProblem[] {
    return this.repositories.flatMap((r) => r.problems);
  }
}

/** Package search paths from --paths, else TANTALUS_PACKAGES_PATH, else the configuration. */
export function packagePathsFrom(cliPaths: string | undefined, configPaths: string[] | undefined): string[] {
  if (cliPaths) return splitPaths(cliPaths);
  const env = process.env.TANTALUS_PACKAGES_PATH;
  if (env) return splitPaths(env);
  return configPaths ?? [];
}

function splitPaths(s: string): string[] {
  return s.split(path.delimiter).filter((p) => p.length > 0);
}
