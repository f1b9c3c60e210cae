/**
 * Audits many files at once: every dynamically linked ELF object among them
 * (executables, shared libraries, Python extension modules) gets its load
 * tree resolved and classified; other files are skipped; files that look
 * like ELF but cannot be read get one "unreadable" finding each and the
 * audit goes on. One Linker is shared, so headers and searches are cached.
 */
import { ET } from "../linker/elf.js";
import { classifyLoadTree, dedupeFindings, type ClassifyOptions, type Finding, type PackageModel } from "./findings.js";
import type { ImageFs } from "../linker/imagefs.js";
import { resolveImagePath } from "../linker/imagefs.js";
import { Linker, type LinkerOptions, type LoadTree } from "../linker/linker.js";

export interface AuditOptions extends LinkerOptions {
  model: PackageModel;
  classify?: ClassifyOptions;
  /** Program that dlopen()s a given file (e.g. python for extension modules); undefined = load it directly. */
  dlopenHost?: (path: string) => string | undefined;
  /** Keep every load tree in the result (memory grows with the file count). */
  keepTrees?: boolean;
}

export interface AuditResult {
  /** Files looked at. */
  files: number;
  /** Dynamically linked ELF objects whose load trees were resolved. */
  audited: number;
  /** Deduplicated findings. */
  findings: Finding[];
  trees?: LoadTree[];
}

export function auditFiles(image: ImageFs, paths: Iterable<string>, opts: AuditOptions): AuditResult {
  const linker = new Linker(image, opts);
  const findings: Finding[] = [];
  const trees: LoadTree[] = [];
  let files = 0;
  let audited = 0;
  for (const p of paths) {
    files++;
    const r = resolveImagePath(image, p, false);
    if (!r.ok || r.type !== "file") continue;
    const facts = linker.fileFacts(r.path);
    const elf = facts.elf;
    if (!elf.ok) {
      if (elf.code !== "not-elf") {
        findings.push({
          kind: "unreadable",
          package: opts.model.ownerOf(r.path),
          file: r.path,
          root: r.path,
          message: `${p}: ${elf.reason}`,
        });
      }
      continue;
    }
    if (!elf.dynamic || (elf.type !== ET.DYN && elf.type !== ET.EXEC)) continue;
    if (elf.elfClass !== opts.profile.elfClass || elf.machine !== opts.profile.machine) {
      findings.push({
        kind: "wrong-architecture",
        package: opts.model.ownerOf(r.path),
        file: r.path,
        root: r.path,
        message: `${p} is ${elf.elfClass}-bit ${elf.machineName}; the image runs ${opts.profile.elfClass}-bit ${opts.profile.name}`,
      });
      continue;
    }
    audited++;
    const host = opts.dlopenHost?.(r.path);
    const tree = linker.resolve(r.path, host ? { dlopenFrom: host } : {});
    findings.push(...classifyLoadTree(tree, opts.model, opts.classify));
    if (opts.keepTrees) trees.push(tree);
  }
  const result: AuditResult = { files, audited, findings: dedupeFindings(findings) };
  if (opts.keepTrees) result.trees = trees;
  return result;
}

/** Regular files under `dir` in the image (symlinks not followed), in a deterministic order. */
export function* walkImageFiles(image: ImageFs, dir: string): Generator<string> {
  const start = resolveImagePath(image, dir);
  if (!start.ok || start.type !== "dir") return;
  const stack = [start.path];
  while (stack.length > 0) {
    const d = stack.pop()!;
    const entries = image.list(d);
    if (!entries) continue;
    const subdirs: string[] = [];
    for (const name of [...entries.keys()].sort()) {
      const t = entries.get(name)!;
      const p = d === "/" ? `/${name}` : `${d}/${name}`;
      if (t === "dir") subdirs.push(p);
      else if (t === "file") yield p;
    }
    for (let i = subdirs.length - 1; i >= 0; i--) stack.push(subdirs[i]!);
  }
}
