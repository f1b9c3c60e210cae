import { mkdtemp, readdir, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { TantalusError, UsageError } from "../errors.js";
import { OLDER_GENERATION, SYSTEM_LINK_STUBS, studioPackages } from "./catalog/index.js";
import { STUDIO_DEFECTS } from "./defects.js";
import { buildElfs, copyHostElfs, defaultElfCache, type ElfRequest } from "./elf/build.js";
import { findToolchain } from "./elf/toolchain.js";
import { binaryFiller, textFiller } from "./filler.js";
import type { ElfSpec, PackageSpec, PayloadItem, StudioDefect, VariantInfo, WorkflowSpec } from "./model.js";
import { renderPackagePy, renderPackageYaml } from "./render/packagefile.js";
import { parseScale, scaledBytes, scaledCount, type Scale } from "./scale.js";
import { renderStudioConfig } from "./studio-config.js";
import { TreeWriter, finalizeTree } from "./tree.js";
import { shortlinkName, variantsOf } from "./variants.js";
import { STUDIO_WORKFLOWS } from "./workflows.js";
import { SHOWS } from "./catalog/tools.js";
import { makeDirs } from "../util/dirs.js";

export interface GenerateOptions {
  /** "small" (tests, < 20 MB), "default" (~200 MB), "large", or a factor. */
  scale?: string | number;
  /** Replace a non-empty DIR. */
  force?: boolean;
  /** "none" skips the compiler and copies host binaries (what happens when gcc is missing). */
  compiler?: "auto" | "none";
  /** Object cache directory, or false to compile everything (default: defaultElfCache()). */
  cache?: string | false;
}

export interface StudioSummary {
  dir: string;
  scale: string;
  /** Package families (python, maya, ...). */
  packages: number;
  /** Package versions, hidden ones included. */
  versions: number;
  /** Variant roots (a package without variants counts one). */
  variants: number;
  workflows: string[];
  files: number;
  bytes: number;
  elfFiles: number;
  seconds: number;
  /** e.g. "gcc (Debian 12.2.0-14) 12.2.0"; null when ELF files are host copies. */
  compiler: string | null;
  warnings: string[];
  defects: StudioDefect[];
}

/** Name of the defect manifest in the studio directory. */
export const DEFECTS_FILE = ".studio-defects.json";

/**
 * Writes the sample studio into `dir`: a Rez repository under packages/,
 * tantalus.yaml, the defect manifest and a projects/ tree to mount. The tree
 * is built next to `dir` and renamed into place, and is byte-identical for the
 * same scale wherever it is written (no absolute path is embedded anywhere).
 */
export async function generateStudio(dir: string, opts: GenerateOptions = {}): Promise<StudioSummary> {
  const started = performance.now();
  const scale = parseScale(opts.scale);
  const target = resolve(dir);
  await checkTarget(target, opts.force ?? false);

  await makeDirs(dirname(target));
  const tmp = await mkdtemp(join(dirname(target), `${basename(target)}.tmp-`));
  try {
    const warnings: string[] = [];
    const toolchain = opts.compiler === "none" ? null : await findToolchain();
    if (!toolchain) {
      warnings.push(
        "gcc/ld not found: ELF payloads are copies of /bin/true, so SONAME, DT_NEEDED and RUNPATH do not match the catalog",
      );
    }
    const packages = studioPackages();
    const plan = planPackages(packages, scale);
    const scratch = join(tmp, ".build");
    const requests: ElfRequest[] = [
      ...plan.elfs.map((e) => e.request),
      ...SYSTEM_LINK_STUBS.map((spec) => ({ spec, seed: `system/${spec.soname}`, fillerBytes: 0, linkOnly: true })),
    ];
    const built = toolchain
      ? await buildElfs(requests, scratch, toolchain, {
          cacheDir: opts.cache === false ? null : (opts.cache ?? defaultElfCache()),
        })
      : await copyHostElfs(requests, scratch);

    const w = new TreeWriter(tmp);
    await writePackages(w, plan, built, scale);
    checkDefects(plan);
    await w.write("tantalus.yaml", renderStudioConfig(STUDIO_WORKFLOWS));
    await w.write(DEFECTS_FILE, JSON.stringify({ version: 1, defects: STUDIO_DEFECTS }, null, 2) + "\n");
    await writeProjects(w);
    await w.write("README.md", readme(STUDIO_WORKFLOWS));

    await rm(scratch, { recursive: true, force: true });
    await finalizeTree(tmp);
    await install(tmp, target);
    return {
      dir: target,
      scale: scale.name,
      packages: new Set(packages.map((p) => p.name)).size,
      versions: packages.length,
      variants: plan.variants.length,
      workflows: STUDIO_WORKFLOWS.map((wf) => wf.name),
      files: w.files,
      bytes: w.bytes,
      elfFiles: plan.elfs.length,
      seconds: Math.round((performance.now() - started) / 10) / 100,
      compiler: toolchain?.version ?? null,
      warnings,
      defects: STUDIO_DEFECTS,
    };
  } catch (err) {
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw err;
  }
}

async function checkTarget(target: string, force: boolean): Promise<void> {
  let entries: string[];
  try {
    const st = await stat(target);
    if (!st.isDirectory()) throw new UsageError(`${target} exists and is not a directory`);
    entries = await readdir(target);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
    throw err;
  }
  if (entries.length > 0 && !force) {
    throw new UsageError(`${target} exists and is not empty (use --force to replace it)`);
  }
}

/** Swap the finished tree in; an old tree is moved aside first and removed last. */
async function install(tmp: string, target: string): Promise<void> {
  let old: string | null = null;
  try {
    await stat(target);
    old = `${tmp}.old`;
    await rename(target, old);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  await rename(tmp, target);
  if (old) await rm(old, { recursive: true, force: true });
}

interface PlannedElf {
  request: ElfRequest;
  /** Path relative to the studio directory. */
  file: string;
  spec: ElfSpec;
}

interface PlannedVariant {
  pkg: PackageSpec;
  info: VariantInfo;
  /** Variant root relative to the studio directory. */
  root: string;
  items: PayloadItem[];
}

interface Plan {
  variants: PlannedVariant[];
  elfs: PlannedElf[];
}

function packageBase(pkg: PackageSpec): string {
  return `packages/${pkg.name}/${pkg.version}`;
}

function planPackages(packages: PackageSpec[], scale: Scale): Plan {
  const variants: PlannedVariant[] = [];
  const elfs: PlannedElf[] = [];
  const seen = new Set<string>();
  for (const pkg of packages) {
    const key = `${pkg.name}-${pkg.version}`;
    if (seen.has(key)) throw new Error(`catalog lists ${key} twice`);
    seen.add(key);
    for (const info of variantsOf(pkg)) {
      const root = info.subpath ? `${packageBase(pkg)}/${info.subpath}` : packageBase(pkg);
      const items = pkg.payload ? pkg.payload(info) : [];
      variants.push({ pkg, info, root, items });
      for (const item of items) {
        if (item.type !== "elf") continue;
        elfs.push({
          spec: item.elf,
          file: `${root}/${item.elf.path}`,
          request: {
            spec: item.elf,
            seed: `${pkg.name}/${pkg.version}/${item.elf.path}`,
            fillerBytes: item.elf.weight ? scaledBytes(item.elf.weight, scale) : 0,
            ...(OLDER_GENERATION.has(key) ? { olderGeneration: true } : {}),
          },
        });
      }
    }
  }
  return { variants, elfs };
}

async function writePackages(w: TreeWriter, plan: Plan, built: string[], scale: Scale): Promise<void> {
  const builtOf = new Map(plan.elfs.map((e, i) => [e.file, built[i]!]));
  const written = new Set<PackageSpec>();
  for (const v of plan.variants) {
    const base = packageBase(v.pkg);
    if (!written.has(v.pkg)) {
      written.add(v.pkg);
      if (v.pkg.format === "yaml") await w.write(`${base}/package.yaml`, renderPackageYaml(v.pkg));
      else await w.write(`${base}/package.py`, renderPackagePy(v.pkg));
      if (v.pkg.ignored) await w.write(`packages/${v.pkg.name}/.ignore${v.pkg.version}`, "");
    }
    await w.mkdir(v.root);
    if (v.info.index !== null) {
      // rez-build writes this into each variant root to say which variant it is.
      await w.write(`${v.root}/variant.json`, JSON.stringify({ index: v.info.index, data: v.info.requires }, null, 2));
      if (v.pkg.hashedVariants) await w.symlink(`${base}/_v/${shortlinkName(v.info.index)}`, `../${v.info.subpath}`);
    }
    for (const item of v.items) await writeItem(w, v, item, builtOf, scale);
  }
}

async function writeItem(
  w: TreeWriter,
  v: PlannedVariant,
  item: PayloadItem,
  builtOf: Map<string, string>,
  scale: Scale,
): Promise<void> {
  const at = (p: string) => `${v.root}/${p}`;
  const seed = (p: string) => `${v.pkg.name}/${v.pkg.version}/${p}`;
  switch (item.type) {
    case "elf": {
      const file = at(item.elf.path);
      const src = builtOf.get(file)!;
      await w.copy(file, src, (await stat(src)).size, 0o755);
      const dir = item.elf.path.includes("/") ? item.elf.path.slice(0, item.elf.path.lastIndexOf("/") + 1) : "";
      let target = item.elf.path.slice(dir.length);
      for (const name of item.elf.links ?? []) {
        await w.symlink(at(dir + name), target);
        target = name;
      }
      return;
    }
    case "text":
      return w.write(at(item.path), item.content, item.mode ?? 0o644);
    case "symlink":
      return w.symlink(at(item.path), item.target);
    case "filler":
      return w.write(at(item.path), binaryFiller(seed(item.path), scaledBytes(item.weight, scale)), item.mode ?? 0o644);
    case "sources": {
      const n = scaledCount(item.count, scale);
      const each = Math.max(256, Math.round(scaledBytes(item.weight, scale) / n));
      for (let i = 0; i < n; i++) {
        const name = `${item.dir}/${item.stem}_${String(i).padStart(3, "0")}${item.ext}`;
        await w.write(at(name), textFiller(seed(name), each, item.style));
      }
      return;
    }
  }
}

/** Each manifest entry must describe an object the catalog really builds, with those DT_NEEDED and RUNPATH. */
function checkDefects(plan: Plan): void {
  for (const d of STUDIO_DEFECTS) {
    const elf = plan.elfs.find((e) => e.file === d.file);
    if (!elf) throw new TantalusError(`defect manifest: ${d.file} is not an object of the studio`);
    const missing = d.needed.filter((n) => !elf.spec.needs.includes(n));
    const runpath = elf.spec.runpath ?? [];
    if (missing.length || runpath.join(":") !== d.runpath.join(":")) {
      throw new TantalusError(
        `defect manifest: ${d.file} does not need ${missing.join(", ")} or has RUNPATH ${runpath.join(":")}`,
      );
    }
  }
}

/** A small show tree for the workflows' project mount. */
async function writeProjects(w: TreeWriter): Promise<void> {
  const shows = [...new Set(Object.values(SHOWS).flat())].sort();
  for (const show of shows) {
    await w.write(`projects/${show}/show.yaml`, `show: ${show}\nstatus: production\n`);
    for (const asset of ["hero", "castle", "crate"]) {
      await w.write(
        `projects/${show}/assets/${asset}/${asset}.usda`,
        `#usda 1.0\n(\n    defaultPrim = "${asset}"\n)\n\ndef Xform "${asset}" (\n    kind = "component"\n)\n{\n}\n`,
      );
    }
    for (const shot of ["sq010_sh0010", "sq010_sh0020"]) {
      await w.write(
        `projects/${show}/shots/${shot}/layout.usda`,
        `#usda 1.0\n(\n    startTimeCode = 1001\n    endTimeCode = 1100\n)\n`,
      );
    }
  }
}

function readme(workflows: WorkflowSpec[]): string {
  return `# Tantalus sample studio

Generated by \`tantalus studio generate\`: a Rez package repository laid out as
Rez installs it (packages/), the workflows that resolve from it (tantalus.yaml),
a projects/ tree for the workflows to mount, and ${DEFECTS_FILE}, the list of
deliberate defects the audit must find.

The applications are stand-ins: small programs and libraries compiled from C
when the studio was generated, with real SONAMEs, DT_NEEDED and RUNPATH entries
and filler data for realistic weight. Every program accepts --version and
--deps (prints the library tree it loaded).

Workflows:
${workflows.map((w) => `- ${w.name}: ${w.description} (\`${w.request.join(" ")}\`)`).join("\n")}

Defects:
${STUDIO_DEFECTS.map((d) => `- ${d.kind} in ${d.package} (workflow ${d.workflow}): ${d.summary}`).join("\n")}
`;
}
