/**
 * The rex test vectors: test/data/rex-vectors.json, written by
 * scripts/rez-oracle/rex_vectors.py with real Rez from the corpus repository
 * test/fixtures/rex-corpus. Paths in the data are relative to the corpus
 * (@REPO@); loading puts the checkout's location back.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Repositories } from "../../src/rez/repository/index.js";
import { Version } from "../../src/rez/version/index.js";
import type { Variant } from "../../src/rez/package.js";
import type { InterpretOptions } from "../../src/rex/index.js";
import type { ShellKind } from "../../src/rex/index.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const CORPUS_ROOT = path.resolve(HERE, "../fixtures/rex-corpus");
export const CORPUS_REPO = path.join(CORPUS_ROOT, "packages");
export const VECTORS_FILE = path.resolve(HERE, "../data/rex-vectors.json");
export const STUDIO_VECTORS_FILE = path.resolve(HERE, "../data/rex-studio-vectors.json");

export type ActionJson = [string, ...unknown[]];

export interface Vector {
  name: string;
  request: string[];
  parentEnv: Record<string, string>;
  implicitPackages: string[];
  packageRequests: string[];
  resolved: string[];
  ephemerals: string[];
  timestamp: number;
  requestedTimestamp: number;
  config?: { parent_variables?: string[] };
  environ?: Record<string, string>;
  actions?: ActionJson[];
  error?: { type: string; message: string };
  /** Rez's shell code (the studio vectors keep bash, tcsh and pwsh only). */
  shells: Partial<Record<ShellKind, string | { error: { type: string; message: string } }>>;
  cliJson?: string;
}

export interface VectorData {
  rez: { version: string; used: string };
  system: { platform: string; arch: string; os: string };
  optionvars: Record<string, never>;
  home: string;
  envVarSeparators: Record<string, string>;
  systemPaths: Record<ShellKind, string[]>;
  shellExecutables: Record<ShellKind, string | null>;
  /** Studio vectors: the scale the studio was generated at, and its implicit packages. */
  studio?: { scale: string; implicitPackages: string[] };
  /** The repository the vectors' @REPO@ stands for. */
  repo: string;
  vectors: Vector[];
}

let cached: VectorData | undefined;

/** The corpus vectors. */
export function loadVectors(): VectorData {
  cached ??= loadVectorFile(VECTORS_FILE, CORPUS_REPO);
  return cached;
}

/** A vectors file with @REPO@ standing for `repo`. */
export function loadVectorFile(file: string, repo: string): VectorData {
  const data = JSON.parse(fs.readFileSync(file, "utf8").replaceAll("@REPO@", repo)) as VectorData;
  data.repo = repo;
  return data;
}

export function corpusRepositories(): Repositories {
  return new Repositories([CORPUS_REPO]);
}

/** The variants of a Rez qualified name list (`python-3.11.4[0]`, `noversion[]`), from the corpus. */
export function variantsOf(vec: Vector, repos: Repositories): Variant[] {
  return vec.resolved.map((q) => {
    const m = /^([^-[]+)(?:-(.*))?\[(\d*)\]$/.exec(q);
    if (!m) throw new Error(`not a qualified variant name: ${q}`);
    const pkg = repos.family(m[1]!)?.find((p) => p.version.equals(Version.parse(m[2] ?? "")));
    const variant = pkg?.variants.find((v) => String(v.index ?? "") === m[3]);
    if (!variant) throw new Error(`${q} is not in the corpus`);
    return variant;
  });
}

/** The interpretation Rez made for the vector: same request, resolve facts, system, settings and REZ_USED. */
export function optionsFor(data: VectorData, vec: Vector): InterpretOptions {
  return {
    request: vec.packageRequests,
    implicitPackages: vec.implicitPackages,
    ephemerals: vec.ephemerals,
    packagePaths: [data.repo],
    parentEnv: vec.parentEnv,
    system: data.system,
    rezUsed: data.rez.used,
    rezVersion: data.rez.version,
    timestamp: vec.timestamp,
    requestedTimestamp: vec.requestedTimestamp,
    optionvars: data.optionvars,
    separators: data.envVarSeparators,
    parentVariables: vec.config?.parent_variables,
    home: data.home,
  };
}

/** The line marked `# fails here` in a corpus package file. */
export function markedLine(file: string): number {
  const lines = fs.readFileSync(file, "utf8").split("\n");
  const i = lines.findIndex((l) => l.includes("# fails here"));
  if (i < 0) throw new Error(`${file} has no '# fails here' mark`);
  return i + 1;
}
