/**
 * `tantalus audit --suggest`: for every missing, system or undeclared
 * library, who could provide it (a package of the resolve, another package
 * of the repositories, a file of the base image or of a donor directory)
 * and the tantalus.yaml entries that would repair it, as YAML ready to paste.
 *
 * Package providers come from an index of the shared-library file names in
 * every variant of the repositories (ld.so finds a library by file name, so
 * a file named like the soname is a provider). Walking a repository is the
 * expensive part, so the index is cached per variant root, keyed by the
 * package definition's modification time (released packages do not change).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { stringify } from "yaml";
import type { Repositories } from "../rez/repository/index.js";
import type { FindingKind } from "./findings.js";
import { baseLibrary, donorLibrary, packageSettings, type RepairConfig } from "./repair.js";
import type { BaseImage } from "./workflow/base.js";
import type { WorkflowAudit } from "./workflow/audit.js";
import { writeFileAtomic } from "../util/atomic.js";
import { makeDirsSync } from "../util/dirs.js";

export interface SonameProvider {
  /** Package qualified name. */
  package: string;
  family: string;
  version: string;
  /** Variant qualified name. */
  variant: string;
  /** Host path of the file. */
  path: string;
}

interface IndexEntry {
  mtimeMs: number;
  files: string[];
}

interface IndexFile {
  version: 1;
  roots: Record<string, IndexEntry>;
}

const LIBRARY_NAME = /\.so(\.[0-9A-Za-z_.-]*)?$/;
const MAX_DEPTH = 10;

/** Shared-library file names of every variant of some repositories. */
export class SonameIndex {
  private readonly byName = new Map<string, SonameProvider[]>();
  private cache: IndexFile = { version: 1, roots: {} };
  private dirty = false;

  constructor(
    private readonly repos: Pick<Repositories, "familyNames" | "family">,
    private readonly cacheFile?: string,
  ) {
    if (cacheFile) {
      try {
        const data = JSON.parse(fs.readFileSync(cacheFile, "utf8")) as IndexFile;
        if (data.version === 1 && typeof data.roots === "object") this.cache = data;
      } catch {
        // No cache yet, or an unreadable one: rebuilt below.
      }
    }
    this.build();
  }

  private build(): void {
    const used: Record<string, IndexEntry> = {};
    for (const family of this.repos.familyNames()) {
      for (const pkg of this.repos.family(family) ?? []) {
        if (pkg.broken) continue;
        let mtimeMs: number;
        try {
          mtimeMs = fs.statSync(pkg.file).mtimeMs;
        } catch {
          continue;
        }
        for (const v of pkg.variants) {
          const root = v.root;
          let entry = this.cache.roots[root];
          if (!entry || entry.mtimeMs !== mtimeMs) {
            entry = { mtimeMs, files: libraryFiles(root) };
            this.dirty = true;
          }
          used[root] = entry;
          for (const rel of entry.files) {
            const name = rel.slice(rel.lastIndexOf("/") + 1);
            const p: SonameProvider = {
              package: pkg.qualifiedName,
              family: pkg.name,
              version: pkg.version.toString(),
              variant: v.qualifiedName,
              path: path.join(root, rel),
            };
            const list = this.byName.get(name);
            if (list) list.push(p);
            else this.byName.set(name, [p]);
          }
        }
      }
    }
    if (Object.keys(used).length !== Object.keys(this.cache.roots).length) this.dirty = true;
    this.cache = { version: 1, roots: used };
  }

  /** Writes the cache when the index changed. */
  save(): void {
    if (!this.cacheFile || !this.dirty) return;
    makeDirsSync(path.dirname(this.cacheFile));
    writeFileAtomic(this.cacheFile, JSON.stringify(this.cache));
    this.dirty = false;
  }

  providers(soname: string): SonameProvider[] {
    return this.byName.get(soname) ?? [];
  }
}

/** Library-like file names under a variant root, relative to it (not following directory links). */
function libraryFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, rel: string, depth: number): void => {
    let ents: fs.Dirent[];
    try {
      ents = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of ents) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (depth < MAX_DEPTH) walk(path.join(dir, e.name), r, depth + 1);
      } else if ((e.isFile() || e.isSymbolicLink()) && LIBRARY_NAME.test(e.name)) out.push(r);
    }
  };
  walk(root, "", 0);
  return out.sort();
}

export interface Suggestion {
  workflow: string;
  kind: FindingKind;
  /** The package at fault (qualified name) and its family. */
  package: string;
  packageName: string;
  soname: string;
  /** The object that needs it. */
  file: string;
  /** Packages of the repositories with a file of that name (resolved ones first). */
  providers: (SonameProvider & { inResolve: boolean })[];
  /** The base image's copy, as a host file. */
  baseFile?: string;
  /** A donor directory's copy. */
  donorFile?: string;
  /** What to write in tantalus.yaml under packages.<packageName>, or null when nothing would repair it. */
  proposal: { add_requires?: string[]; repair?: { system_libraries: string[] } } | null;
  /** Why, in words. */
  note: string;
}

export interface SuggestOptions {
  index: SonameIndex;
  base: BaseImage;
  config?: RepairConfig;
  donorDirs?: readonly string[];
}

/** A requirement naming a provider's family and its version up to major.minor ("alembic-1.8"). */
function requirementFor(family: string, version: string): string {
  const parts = version.split(/[.-]/).filter(Boolean);
  return parts.length === 0 ? family : `${family}-${parts.slice(0, 2).join(".")}`;
}

/** Suggestions for every counted missing, system and undeclared finding of the audits. */
export function suggestRepairs(audits: readonly WorkflowAudit[], opts: SuggestOptions): Suggestion[] {
  const out: Suggestion[] = [];
  const seen = new Set<string>();
  for (const a of audits) {
    const resolved = new Map(a.packages.map((p) => [p.id, p]));
    for (const f of a.findings) {
      if (f.ignored || !f.name || f.package === null || f.name.includes("/")) continue;
      if (f.kind !== "missing" && f.kind !== "system" && f.kind !== "undeclared") continue;
      const pkg = resolved.get(f.package);
      if (!pkg) continue;
      const key = `${a.workflow}\0${f.package}\0${f.name}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const providers = opts.index
        .providers(f.name)
        .filter((p) => p.family !== pkg.name)
        .map((p) => ({ ...p, inResolve: resolved.has(p.package) && a.packages.some((r) => r.variant === p.variant) }))
        .sort((x, y) => Number(y.inResolve) - Number(x.inResolve) || compareVersions(y.version, x.version));
      const donors = [...(opts.donorDirs ?? []), ...packageSettings(opts.config, pkg.name).donorDirs];
      const donorFile = donorLibrary(donors, f.name)?.hostSource;
      const baseFile = baseLibrary(opts.base, f.name)?.hostSource;
      const s: Suggestion = {
        workflow: a.workflow,
        kind: f.kind,
        package: f.package,
        packageName: pkg.name,
        soname: f.name,
        file: f.file,
        providers,
        ...(baseFile ? { baseFile } : {}),
        ...(donorFile ? { donorFile } : {}),
        proposal: null,
        note: "",
      };
      decide(s, f.provider?.package ?? null);
      out.push(s);
    }
  }
  return out;
}

function decide(s: Suggestion, providerPackage: string | null): void {
  const inResolve = s.providers.find((p) => p.inResolve);
  if (s.kind === "undeclared") {
    const p = s.providers.find((x) => x.package === providerPackage) ?? inResolve;
    if (p) {
      s.proposal = { add_requires: [requirementFor(p.family, p.version)] };
      s.note = `${s.soname} comes from ${p.package}, which ${s.package} uses without requiring it`;
      return;
    }
  }
  if (s.kind === "missing" && inResolve) {
    s.note = `${inResolve.package} is in the resolve and has ${s.soname}, but nothing puts its directory on the search path (RUNPATH or LD_LIBRARY_PATH in its commands)`;
    return;
  }
  const other = s.providers[0];
  if (other && !other.inResolve) {
    s.proposal = { add_requires: [requirementFor(other.family, other.version)] };
    s.note = `${other.package} provides ${s.soname} (${other.path})`;
    return;
  }
  if (s.donorFile || s.baseFile) {
    s.proposal = { repair: { system_libraries: [s.soname] } };
    s.note = s.donorFile
      ? `no package provides ${s.soname}; the donor directory has it (${s.donorFile}): copy it into the image`
      : `no package provides ${s.soname}; the base image has it (${s.baseFile}): copy it into the image so the package does not depend on the base`;
    return;
  }
  s.note = `nothing provides ${s.soname}: not a package of the repositories, not the base image, not a donor directory (add repair.donor_dirs, or an ignore rule with the reason)`;
}

function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.-]/);
  const pb = b.split(/[.-]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? "";
    const y = pb[i] ?? "";
    const nx = Number(x);
    const ny = Number(y);
    const c = Number.isFinite(nx) && Number.isFinite(ny) && x !== "" && y !== "" ? nx - ny : x < y ? -1 : x > y ? 1 : 0;
    if (c !== 0) return c;
  }
  return 0;
}

/** The proposals as a `packages:` mapping for tantalus.yaml (one entry per package, merged). */
export function suggestionsYaml(suggestions: readonly Suggestion[]): string {
  const packages: Record<string, { add_requires?: string[]; repair?: { system_libraries: string[] } }> = {};
  for (const s of suggestions) {
    if (!s.proposal) continue;
    const entry = (packages[s.packageName] ??= {});
    for (const r of s.proposal.add_requires ?? []) {
      entry.add_requires ??= [];
      if (!entry.add_requires.includes(r)) entry.add_requires.push(r);
    }
    for (const l of s.proposal.repair?.system_libraries ?? []) {
      entry.repair ??= { system_libraries: [] };
      if (!entry.repair.system_libraries.includes(l)) entry.repair.system_libraries.push(l);
    }
  }
  if (Object.keys(packages).length === 0) return "";
  return stringify({ packages }, { lineWidth: 0 });
}
