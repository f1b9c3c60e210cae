import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { copyFile, readFile, rename, symlink, writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { cachePath } from "../../locations.js";
import { binaryFiller } from "../filler.js";
import type { ElfSpec } from "../model.js";
import { OLDER_LIBC_STUB, buildOlderLibcStub } from "./older-libc.js";
import { LIBC_SONAMES, TU_PRELUDE, callsLibc, elfSnippet, type Snippet } from "./csource.js";
import type { Toolchain } from "./toolchain.js";
import { makeDirs } from "../../util/dirs.js";

const run = promisify(execFile);

/** One ELF object the studio needs. */
export interface ElfRequest {
  spec: ElfSpec;
  /** Seed of the object's filler (package/version/path: identical across variants on purpose). */
  seed: string;
  /** Filler bytes after scaling. */
  fillerBytes: number;
  /** Built only so others can link against its SONAME; never installed (a system library stand-in). */
  linkOnly?: boolean;
  /** Built for the older OS generation: needs no glibc symbol version newer than OLDER_GLIBC (older-libc.ts). */
  olderGeneration?: boolean;
}

export interface BuildOptions {
  /** Directory of finished objects keyed by everything that goes into them; null disables it. */
  cacheDir: string | null;
}

const CACHE_MAX_FILLER = 256 * 1024;
const TRANSLATION_UNITS = 4;

/** Default object cache: $TANTALUS_STUDIO_CACHE, else <cache>/studio-elf (src/locations.ts). */
export function defaultElfCache(): string {
  if (process.env.TANTALUS_STUDIO_CACHE) return process.env.TANTALUS_STUDIO_CACHE;
  return cachePath("studio-elf");
}

/**
 * Compiles every object and returns, per request, the path of the built file
 * in `scratch`. Identical requests (same text, links and filler) are built once.
 *
 * Cost is dominated by process start-up, so objects are compiled many to a
 * translation unit and linked with one `ld` each, with --gc-sections and a
 * version script keeping only the object's own code and --defsym giving its
 * exported functions their public names (see csource.ts). Libraries are linked
 * before their users, level by level. Finished objects are cached under a
 * key covering the toolchain, the whole unit text, the link line and the keys
 * of the dependencies, so a cache hit is byte-for-byte what a build would give.
 */
export async function buildElfs(
  requests: ElfRequest[],
  scratch: string,
  tc: Toolchain,
  opts: BuildOptions,
): Promise<string[]> {
  await Promise.all(["obj", "fill", "out", "link"].map((d) => makeDirs(join(scratch, d))));

  const jobs: Job[] = [];
  const byContent = new Map<string, Job>();
  const jobOfRequest = requests.map((r) => {
    const content = contentKey(r);
    let job = byContent.get(content);
    if (!job) {
      job = {
        id: `e${jobs.length}`,
        req: r,
        level: -1,
        deps: [],
        unit: undefined as unknown as Unit,
        snippet: undefined as unknown as Snippet,
        key: "",
        cached: false,
      };
      byContent.set(content, job);
      jobs.push(job);
    }
    return job;
  });
  const provider = new Map<string, Job>();
  for (const job of jobs) {
    const { kind, soname } = job.req.spec;
    if (kind === "lib" && soname && !provider.has(soname)) provider.set(soname, job);
  }
  for (const job of jobs) {
    job.deps = job.req.spec.needs
      .filter((n) => !LIBC_SONAMES.has(n))
      .map((n) => {
        const p = provider.get(n);
        if (!p) throw new Error(`${job.req.seed}: nothing in the studio builds ${n}`);
        return p;
      });
  }
  const levelOf = (job: Job, stack: Set<Job> = new Set()): number => {
    if (job.level >= 0) return job.level;
    if (stack.has(job)) throw new Error(`${job.req.seed}: dependency cycle`);
    stack.add(job);
    job.level = 1 + Math.max(-1, ...job.deps.map((d) => levelOf(d, stack)));
    stack.delete(job);
    return job.level;
  };
  jobs.forEach((j) => levelOf(j));

  // Units are plain chunks of similar size, so compiling runs in parallel. Their number is
  // fixed, not taken from the core count, so every machine builds the same units.
  const units: Unit[] = [];
  const unitCount = Math.min(jobs.length, TRANSLATION_UNITS);
  jobs.forEach((job, i) => {
    job.snippet = elfSnippet(job.req.spec, job.id, job.req.fillerBytes > 0 ? `fill/${job.id}.bin` : null);
    const n = Math.floor((i * unitCount) / jobs.length);
    if (!units[n]) units[n] = { name: `u${n}`, jobs: [], text: "" };
    units[n].jobs.push(job);
    job.unit = units[n]!;
  });
  for (const u of units) u.text = TU_PRELUDE + u.jobs.map((j) => j.snippet.code).join("\n");
  // Keys in dependency order, then take what the cache has.
  const byLevel = [...jobs].sort((a, b) => a.level - b.level);
  for (const job of byLevel) {
    job.key = createHash("sha256")
      .update(
        JSON.stringify([
          tc.version,
          tc.ld,
          job.id,
          job.unit.text,
          job.unit.jobs.map((j) => [j.req.seed, j.req.fillerBytes]),
          linkArgs(job, tc),
          job.deps.map((d) => d.key),
        ]),
      )
      .digest("hex");
  }
  if (opts.cacheDir) {
    await pool(jobs, async (j) => {
      try {
        await copyFile(join(opts.cacheDir!, j.key), join(scratch, "out", j.id));
        j.cached = true;
      } catch {
        j.cached = false;
      }
    });
  }

  const todo = units.filter((u) => u.jobs.some((j) => !j.cached));
  await pool(
    todo.flatMap((u) => u.jobs).filter((j) => j.req.fillerBytes > 0),
    (j) => writeFile(join(scratch, "fill", `${j.id}.bin`), binaryFiller(j.req.seed, j.req.fillerBytes)),
  );
  await pool(todo, async (u) => {
    await writeFile(join(scratch, "obj", `${u.name}.c`), u.text);
    await run(
      tc.gcc,
      [
        "-c",
        "-O1",
        "-g0",
        "-fPIC",
        "-ffunction-sections",
        "-fdata-sections",
        `-ffile-prefix-map=${scratch}=.`,
        "-o",
        `obj/${u.name}.o`,
        `obj/${u.name}.c`,
      ],
      { cwd: scratch },
    );
  });

  if (tc.cxaFinalizeVersion && jobs.some((j) => !j.cached && !callsLibc(j.req.spec)))
    await buildLibcStub(scratch, tc, tc.cxaFinalizeVersion);
  if (jobs.some((j) => !j.cached && j.req.olderGeneration && callsLibc(j.req.spec)))
    await buildOlderLibcStub(scratch, tc.gcc);
  const maxLevel = Math.max(0, ...jobs.map((j) => j.level));
  for (let level = 0; level <= maxLevel; level++) {
    const here = jobs.filter((j) => j.level === level);
    await pool(
      here.filter((j) => !j.cached),
      async (j) => {
        await link(j, scratch, tc);
        // Objects heavy with filler are cheap to link again; caching them would only fill the disk.
        if (opts.cacheDir && j.req.fillerBytes <= CACHE_MAX_FILLER)
          await storeInCache(opts.cacheDir, j.key, join(scratch, "out", j.id));
      },
    );
    // Publish this level's SONAMEs for the next level to link against.
    for (const j of here) {
      const soname = j.req.spec.soname;
      if (j.req.spec.kind === "lib" && soname && provider.get(soname) === j) {
        await symlink(`../out/${j.id}`, join(scratch, "link", soname));
      }
    }
  }
  return jobOfRequest.map((j) => join(scratch, "out", j.id));
}

interface Job {
  id: string;
  req: ElfRequest;
  level: number;
  deps: Job[];
  unit: Unit;
  snippet: Snippet;
  key: string;
  cached: boolean;
}

interface Unit {
  name: string;
  jobs: Job[];
  text: string;
}

function contentKey(r: ElfRequest): string {
  const s = r.spec;
  return JSON.stringify([
    s.kind,
    s.soname,
    s.needs,
    s.runpath,
    s.oldRpath,
    s.program,
    s.entry,
    s.ident,
    r.seed,
    r.fillerBytes,
    r.olderGeneration === true,
  ]);
}

function linkArgs(job: Job, tc: Toolchain): string[] {
  const spec = job.req.spec;
  const args = [
    "--hash-style=gnu",
    "--eh-frame-hdr",
    "-z",
    "relro",
    "-z",
    "noexecstack",
    "--build-id=sha1",
    "--gc-sections",
    "--strip-all",
  ];
  const deps = spec.needs.filter((n) => n !== "libc.so.6").map((n) => (n === "libm.so.6" ? tc.libm : `link/${n}`));
  if (spec.kind === "exe") {
    // Other programs of the unit call libraries this one does not link: those calls are
    // garbage-collected, and --allow-shlib-undefined keeps ld from chasing indirect DSOs.
    args.push("-pie", `--dynamic-linker=${tc.interp}`, "--allow-shlib-undefined", "-o", `out/${job.id}`);
    args.push(tc.crt.scrt1, tc.crt.crti, tc.crt.crtbeginS, `obj/${job.unit.name}.o`);
  } else {
    args.push("-shared", "--version-script", `obj/${job.id}.map`, "-o", `out/${job.id}`);
    if (spec.soname) args.push("-soname", spec.soname);
    args.push(tc.crt.crti, tc.crt.crtbeginS, `obj/${job.unit.name}.o`);
  }
  for (const e of job.snippet.exports) args.push(`--defsym=${e.name}=${e.internal}`);
  args.push(...deps, libcFor(job.req, tc), tc.crt.crtendS, tc.crt.crtn);
  if (spec.runpath?.length) {
    if (spec.runpath.some((r) => !r.startsWith("$ORIGIN")))
      throw new Error(`${job.req.seed}: RUNPATH must be $ORIGIN-relative`);
    args.push("-rpath", spec.runpath.join(":"), spec.oldRpath ? "--disable-new-dtags" : "--enable-new-dtags");
  }
  return args;
}

/**
 * Objects that call no libc function still get DT_NEEDED libc.so.6 and the
 * GLIBC version need of crtbeginS's __cxa_finalize, as with the real libc, but
 * from a one-symbol stub: reading the real libc.so.6 is most of a link's cost.
 */
const LIBC_STUB = "stub/libc.so.6";

function libcFor(req: ElfRequest, tc: Toolchain): string {
  if (tc.cxaFinalizeVersion && !callsLibc(req.spec)) return LIBC_STUB;
  return req.olderGeneration ? OLDER_LIBC_STUB : tc.libc;
}

async function buildLibcStub(scratch: string, tc: Toolchain, version: string): Promise<void> {
  await makeDirs(join(scratch, "stub"));
  await writeFile(join(scratch, "stub", "libc.c"), "void __cxa_finalize(void *d) { (void)d; }\n");
  await writeFile(join(scratch, "stub", "libc.map"), `${version} {\n  global: __cxa_finalize;\n  local: *;\n};\n`);
  await run(
    tc.gcc,
    [
      "-shared",
      "-nostdlib",
      "-fPIC",
      "-O1",
      "-Wl,-soname,libc.so.6",
      "-Wl,--version-script,stub/libc.map",
      "-o",
      LIBC_STUB,
      "stub/libc.c",
    ],
    { cwd: scratch },
  );
}

async function link(job: Job, scratch: string, tc: Toolchain): Promise<void> {
  if (job.req.spec.kind !== "exe") {
    const exports = job.snippet.exports.map((e) => `    ${e.name};\n`).join("");
    await writeFile(join(scratch, "obj", `${job.id}.map`), `{\n  global:\n${exports}  local: *;\n};\n`);
  }
  try {
    await run(tc.ld, linkArgs(job, tc), { cwd: scratch });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`linking ${job.req.seed} failed: ${e.stderr || e.message}`, { cause: err });
  }
}

async function storeInCache(dir: string, key: string, file: string): Promise<void> {
  try {
    await makeDirs(dir);
    const tmp = join(dir, `.${key}.${process.pid}.tmp`);
    await writeFile(tmp, await readFile(file));
    await rename(tmp, join(dir, key));
  } catch {
    // The cache only saves time; an unwritable cache directory is not an error.
  }
}

/** Runs `fn` over `items`, a few at a time (process start-up bound, so a little over the core count). */
export async function pool<T>(
  items: T[],
  fn: (item: T) => Promise<unknown>,
  width = availableParallelism() + 1,
): Promise<void> {
  let next = 0;
  let failure: { err: unknown } | null = null;
  const workers = Array.from({ length: Math.min(width, items.length) }, async () => {
    // After a failure, stop taking work but let running tasks finish, so nothing writes after we return.
    while (!failure && next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (err) {
        failure ??= { err };
      }
    }
  });
  await Promise.all(workers);
  if (failure) throw (failure as { err: unknown }).err;
}

/**
 * Without a compiler the studio still gets ELF files, copied from the host:
 * shapes and weights are right, DT_NEEDED and SONAME are not. The summary says so.
 */
export async function copyHostElfs(requests: ElfRequest[], scratch: string): Promise<string[]> {
  const source = ["/bin/true", "/usr/bin/true"].find((p) => existsSync(p));
  if (!source) throw new Error("neither gcc nor /bin/true is available to make ELF payloads");
  await makeDirs(join(scratch, "out"));
  const files: string[] = [];
  for (let i = 0; i < requests.length; i++) {
    const f = join(scratch, "out", `host${i}`);
    await copyFile(source, f);
    files.push(f);
  }
  return files;
}
