import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig } from "../config/index.js";
import { UsageError } from "../errors.js";
import {
  DEFECTS_FILE,
  STUDIO_DEFECTS,
  STUDIO_MTIME,
  STUDIO_WORKFLOWS,
  generateStudio,
  type StudioDefect,
  type StudioSummary,
} from "./index.js";

const here = path.dirname(fileURLToPath(import.meta.url));
let scratch: string;
let studio: string;
let fresh: string;
let summary: StudioSummary;
let freshSummary: StudioSummary;

before(async () => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), "tantalus-studio-"));
  studio = path.join(scratch, "one", "studio");
  fresh = path.join(scratch, "two", "elsewhere");
  summary = await generateStudio(studio, { scale: "small" });
  // Compiled from scratch, without the object cache, in another directory.
  freshSummary = await generateStudio(fresh, { scale: "small", cache: false });
});

after(() => fs.rmSync(scratch, { recursive: true, force: true }));

// --- helpers ---------------------------------------------------------------

interface Entry {
  path: string;
  line: string;
}

/** Every entry below `root`: type, mode, mtime, size and sha256 (or link target). */
function listing(root: string): Entry[] {
  const out: Entry[] = [];
  const walk = (dir: string) => {
    for (const name of fs.readdirSync(dir).sort()) {
      const p = path.join(dir, name);
      const rel = path.relative(root, p);
      const st = fs.lstatSync(p);
      const meta = `${(st.mode & 0o7777).toString(8)} ${Math.floor(st.mtimeMs / 1000)}`;
      if (st.isSymbolicLink()) out.push({ path: rel, line: `l ${meta} -> ${fs.readlinkSync(p)}` });
      else if (st.isDirectory()) {
        out.push({ path: rel, line: `d ${meta}` });
        walk(p);
      } else
        out.push({
          path: rel,
          line: `f ${meta} ${st.size} ${createHash("sha256").update(fs.readFileSync(p)).digest("hex")}`,
        });
    }
  };
  walk(root);
  return out;
}

function isElf(file: string): boolean {
  const fd = fs.openSync(file, "r");
  try {
    const b = Buffer.alloc(4);
    return fs.readSync(fd, b, 0, 4, 0) === 4 && b.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
  } finally {
    fs.closeSync(fd);
  }
}

function elfFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && isElf(p)) out.push(p);
    }
  };
  walk(root);
  return out.sort();
}

interface Dynamic {
  needed: string[];
  soname?: string;
  runpath: string[];
  rpath: string[];
}

/** `readelf -d` of many files in one run. */
function dynamicSections(files: string[]): Map<string, Dynamic> {
  const out = new Map<string, Dynamic>();
  for (let i = 0; i < files.length; i += 200) {
    const batch = files.slice(i, i + 200);
    const r = spawnSync("readelf", ["-d", "-W", ...batch, ...(batch.length === 1 ? batch : [])], {
      encoding: "utf8",
      maxBuffer: 64 << 20,
    });
    assert.equal(r.status, 0, r.stderr);
    let cur: Dynamic | undefined;
    for (const line of r.stdout.split("\n")) {
      const file = /^File: (.*)$/.exec(line);
      if (file) {
        cur = { needed: [], runpath: [], rpath: [] };
        out.set(file[1]!, cur);
        continue;
      }
      const m = /\((NEEDED|SONAME|RUNPATH|RPATH)\)\s+[^[]*\[(.*)\]/.exec(line);
      if (!m || !cur) continue;
      if (m[1] === "NEEDED") cur.needed.push(m[2]!);
      else if (m[1] === "SONAME") cur.soname = m[2];
      else if (m[1] === "RUNPATH") cur.runpath = m[2]!.split(":");
      else cur.rpath = m[2]!.split(":");
    }
  }
  return out;
}

/** The digest scripts/rez-oracle/studio_resolves.py records: every package definition, in os.walk order. */
function packagesDigest(repo: string): string {
  const dirs: string[] = [];
  const walk = (d: string) => {
    dirs.push(d);
    for (const e of fs.readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(path.join(d, e.name));
  };
  walk(repo);
  const h = createHash("sha256");
  for (const d of dirs.sort()) {
    for (const f of fs.readdirSync(d).sort()) {
      if (f === "package.py" || f === "package.yaml" || f.startsWith(".ignore")) {
        const p = path.join(d, f);
        h.update(path.relative(repo, p) + "\0");
        h.update(fs.readFileSync(p));
      }
    }
  }
  return h.digest("hex");
}

// --- tests -----------------------------------------------------------------

test("the studio is byte-identical wherever it is written, from the object cache or compiled afresh", () => {
  const a = listing(studio);
  const b = listing(fresh);
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.deepEqual(b[i], a[i]);
  assert.ok(
    a.every((e) => e.line.split(" ")[2] === String(STUDIO_MTIME)),
    "every entry has the fixed mtime",
  );
  // Nothing may embed where the studio was written.
  const r = spawnSync("grep", ["-rl", "--", path.join(scratch, "one"), studio], { encoding: "utf8" });
  assert.equal(r.stdout, "");
  assert.deepEqual({ ...freshSummary, dir: "", seconds: 0 }, { ...summary, dir: "", seconds: 0 });
});

test("the small studio has its packages, variants and at least 8 workflows, under 20 MB", () => {
  assert.ok(summary.workflows.length >= 8);
  assert.ok(summary.bytes < 20 * 1024 * 1024, `${summary.bytes} bytes`);
  assert.ok(summary.packages >= 40 && summary.variants > summary.versions);
  assert.equal(summary.compiler !== null, true);
  assert.deepEqual(summary.warnings, []);
  const config = loadConfig(path.join(studio, "tantalus.yaml"));
  assert.deepEqual(config.packagesPath, [path.join(studio, "packages")]);
  assert.deepEqual(
    Object.keys(config.workflows),
    STUDIO_WORKFLOWS.map((w) => w.name),
  );
  for (const w of STUDIO_WORKFLOWS) assert.deepEqual(config.workflows[w.name]!.request, w.request);
  assert.deepEqual(config.implicitPackages, ["~platform==linux", "~arch==x86_64", "~os==Rocky-9.3"]);
  for (const wf of Object.values(config.workflows)) {
    for (const m of wf.mounts)
      assert.ok(fs.existsSync(path.resolve(studio, m.source)), `mount source ${m.source} exists`);
  }
});

test("packages are laid out as Rez installs them", () => {
  const pkgs = path.join(studio, "packages");
  const at = (...p: string[]) => path.join(pkgs, ...p);
  // rez-bind style system packages, the host's os and the pinned studio os.
  for (const p of ["platform/linux", "arch/x86_64", "os/Debian-12", "os/Rocky-9.3"])
    assert.ok(fs.existsSync(at(p, "package.py")), p);
  // Variant roots named from their requirements, with rez-build's variant.json.
  assert.ok(fs.existsSync(at("python/3.11.13/platform-linux/arch-x86_64/bin/python3.11")));
  assert.deepEqual(JSON.parse(fs.readFileSync(at("boost/1.82.0/python-3.11/variant.json"), "utf8")), {
    index: 0,
    data: ["python-3.11"],
  });
  // Hashed variants: sha1 of str(list) and the _v shortlinks.
  for (const [i, reqs] of [
    ["a", "['houdini-20.5', 'python-3.10', 'openvdb-10.1']"],
    ["b", "['houdini-20.5', 'python-3.11', 'openvdb-11.0']"],
  ] as const) {
    const hash = createHash("sha1").update(reqs).digest("hex");
    assert.ok(fs.statSync(at("fx_tools/3.0.0", hash)).isDirectory(), reqs);
    assert.equal(fs.readlinkSync(at("fx_tools/3.0.0/_v", i)), `../${hash}`);
  }
  // A package.yaml package, and a hidden release.
  assert.match(fs.readFileSync(at("aces_ocio_config/1.3.0/package.yaml"), "utf8"), /^name: aces_ocio_config$/m);
  assert.ok(fs.existsSync(at("launch_app/.ignore1.5.0")) && fs.existsSync(at("launch_app/1.5.0/package.py")));
  // SONAME and development links next to the real library file.
  assert.equal(fs.readlinkSync(at("imath/3.1.12/python-3.11/lib/libImath-3_1.so.29")), "libImath-3_1.so.29.12.0");
  assert.equal(fs.readlinkSync(at("imath/3.1.12/python-3.11/lib/libImath-3_1.so")), "libImath-3_1.so.29");
});

test("every package.py is valid Python and uses the package features the studio needs", () => {
  const files = listing(path.join(studio, "packages"))
    .filter((e) => e.path.endsWith("/package.py"))
    .map((e) => path.join(studio, "packages", e.path));
  assert.ok(files.length >= 60);
  const script =
    "import ast, json, sys\nfor f in json.load(sys.stdin):\n    ast.parse(open(f).read(), f)\nprint('ok')\n";
  const r = spawnSync("python3", ["-c", script], { input: JSON.stringify(files), encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const all = files.map((f) => fs.readFileSync(f, "utf8")).join("\n");
  for (const feature of [
    "@early()",
    "@late()\ndef requires():",
    "tantalus = {'layer': 'platform'}",
    "tantalus = {'layer': 'apps'}",
    "'repair': {'system_libraries': ['libtiff.so.5']}",
    'env.PATH.prepend("{root}/bin")',
    'env.LD_LIBRARY_PATH.prepend("{root}/lib")',
    'env.PYTHONPATH.append("{root}/python")',
    'if "python" in resolve:',
    "{resolve.python.version.major}",
    "str(this.version.major)",
    'source("{root}/houdini_setup_bash")',
    "setenv(",
    "alias(",
    "info(",
    "hashed_variants = True",
  ]) {
    assert.ok(all.includes(feature), `some package.py uses ${feature}`);
  }
});

test("every ELF object is real: libraries carry their SONAME and their links resolve", () => {
  const files = elfFiles(path.join(studio, "packages"));
  assert.equal(files.length, summary.elfFiles);
  const dyn = dynamicSections(files);
  let libs = 0;
  for (const f of files) {
    const d = dyn.get(f)!;
    assert.ok(d.needed.includes("libc.so.6"), `${f} needs libc`);
    for (const rp of [...d.runpath, ...d.rpath])
      assert.ok(rp.startsWith("$ORIGIN"), `${f}: RUNPATH ${rp} is relative to the object`);
    if (d.soname && !f.includes("/plug")) libs++;
  }
  assert.ok(libs > 80);
  // Old-style DT_RPATH on the CentOS 7 era build, DT_RUNPATH elsewhere.
  assert.deepEqual(dyn.get(path.join(studio, "packages/houdini/19.5.805/python-3.9/bin/houdini"))!.rpath, [
    "$ORIGIN/../dsolib",
  ]);
  assert.deepEqual(
    dyn.get(path.join(studio, "packages/python/3.11.13/platform-linux/arch-x86_64/bin/python3.11"))!.runpath,
    ["$ORIGIN/../lib"],
  );
});

test("launch_app runs: it finds the show through show_config and prints the workflow, user and app", () => {
  const pkgs = path.join(studio, "packages");
  const env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    LD_LIBRARY_PATH: path.join(pkgs, "studio_core/1.2.0/lib"),
    SHOW_CONFIG_ROOT: path.join(pkgs, "show_config/2024.03.1"),
    TANTALUS_WORKFLOW: "rough_layout",
    STUDIO_APPS: "maya-2025.1:photon-4.2.0",
  };
  const exe = path.join(pkgs, "launch_app/1.4.0/bin/launch_app");
  const ok = spawnSync(exe, ["-show=dragon"], { env, encoding: "utf8" });
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(ok.stdout, `launch_app: show=dragon workflow=rough_layout user=${process.getuid!()} app=maya-2025.1\n`);
  const unknown = spawnSync(exe, ["-show=atlantis"], { env, encoding: "utf8" });
  assert.equal(unknown.status, 1);
  assert.match(unknown.stderr, /unknown show 'atlantis'/);
  assert.equal(spawnSync(exe, [], { env, encoding: "utf8" }).status, 2);
  // Without LD_LIBRARY_PATH (no studio_core commands) the loader cannot find libstudio_core.
  const bare = spawnSync(exe, ["-show=dragon"], { env: { ...env, LD_LIBRARY_PATH: "" }, encoding: "utf8" });
  assert.notEqual(bare.status, 0);
  assert.match(bare.stderr, /libstudio_core\.so\.1/);
});

test("the defect manifest points at real ELF files with the DT_NEEDED and RUNPATH it claims", () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(studio, DEFECTS_FILE), "utf8")) as { defects: StudioDefect[] };
  assert.deepEqual(manifest.defects, STUDIO_DEFECTS);
  assert.deepEqual(new Set(STUDIO_DEFECTS.map((d) => d.kind)), new Set(["undeclared", "system", "mixed"]));
  const files = STUDIO_DEFECTS.map((d) => path.join(studio, d.file));
  const dyn = dynamicSections(files);
  for (const d of STUDIO_DEFECTS) {
    const f = path.join(studio, d.file);
    assert.ok(isElf(f), `${d.file} is an ELF file`);
    const got = dyn.get(f)!;
    for (const n of d.needed) assert.ok(got.needed.includes(n), `${d.file} needs ${n}`);
    assert.deepEqual(got.runpath, d.runpath);
    assert.ok(d.file.startsWith(`packages/${d.package}/${d.version}/${d.variant ? d.variant + "/" : ""}`));
  }
});

/**
 * A small audit over the resolves real Rez computed (src/studio/testdata, made by
 * scripts/rez-oracle/studio_resolves.py): the faults it finds must be exactly the
 * manifest's, so the other workflows are clean.
 */
test("Rez resolves every workflow, and only the manifest's defects are in those resolves", () => {
  const oracle = JSON.parse(fs.readFileSync(path.join(here, "testdata", "rez-resolves.json"), "utf8")) as Oracle;
  assert.equal(
    oracle.packages_digest,
    packagesDigest(path.join(studio, "packages")),
    "the studio changed since src/studio/testdata/rez-resolves.json was made: regenerate it with scripts/rez-oracle/studio_resolves.py",
  );
  assert.deepEqual(Object.keys(oracle.workflows).sort(), STUDIO_WORKFLOWS.map((w) => w.name).sort());
  const found: string[] = [];
  for (const [name, wf] of Object.entries(oracle.workflows)) {
    assert.equal(wf.status, "solved", `${name} resolves with the studio's implicit packages`);
    assert.equal(wf.host_default_status, "solved", `${name} resolves with Rez's default implicit packages`);
    found.push(...auditWorkflow(name, wf));
    // Every program of the resolve ran in a Rez shell; only the defect's fails to load.
    for (const [tool, rc] of Object.entries(wf.runs)) {
      assert.equal(rc, name === "review" && tool === "flipbook" ? 127 : 0, `${name}: ${tool} exit code`);
    }
    assert.equal(wf.runs.launch_app, 0);
  }
  const expected = STUDIO_DEFECTS.map((d) => `${d.workflow} ${d.kind} ${d.package} ${d.file}`);
  assert.deepEqual([...new Set(found)].sort(), expected.sort());
});

interface Oracle {
  packages_digest: string;
  workflows: Record<string, OracleWorkflow>;
}

interface OracleWorkflow {
  status: string;
  host_default_status: string;
  resolved: { name: string; version: string; root: string; requires: string[] }[];
  runs: Record<string, number>;
}

const EXR2 = /^lib(IlmImf|Half|Iex|IlmThread|Imath)-2_\d+\.so/;
const EXR3 = /^lib(OpenEXR|OpenEXRCore|Iex|IlmThread)-3_\d+\.so/;

function auditWorkflow(name: string, wf: OracleWorkflow): string[] {
  const findings: string[] = [];
  const pkgOfFile = new Map<string, string>();
  const files: string[] = [];
  for (const v of wf.resolved) {
    for (const f of elfFiles(fs.realpathSync(path.join(studio, v.root)))) {
      pkgOfFile.set(f, v.name);
      files.push(f);
    }
  }
  const dyn = dynamicSections(files);
  const providers = new Map<string, { pkg: string; file: string }[]>();
  for (const f of files) {
    const so = dyn.get(f)!.soname;
    if (so) providers.set(so, [...(providers.get(so) ?? []), { pkg: pkgOfFile.get(f)!, file: f }]);
  }
  for (const [so, p] of providers)
    assert.equal(new Set(p.map((x) => x.pkg)).size, 1, `${name}: ${so} is provided by one package`);
  const requiresOf = new Map(
    wf.resolved.map((v) => [v.name, v.requires.map((r) => r.replace(/^[~!]/, "").split(/[-=<>+@#~^,]/)[0]!)]),
  );
  const closure = (pkg: string): Set<string> => {
    const seen = new Set<string>([pkg]);
    const stack = [pkg];
    while (stack.length)
      for (const r of requiresOf.get(stack.pop()!) ?? [])
        if (!seen.has(r)) {
          seen.add(r);
          stack.push(r);
        }
    return seen;
  };
  const rel = (f: string) => path.relative(studio, f);
  for (const f of files) {
    const pkg = pkgOfFile.get(f)!;
    for (const n of dyn.get(f)!.needed) {
      if (n === "libc.so.6" || n === "libm.so.6") continue;
      const p = providers.get(n);
      if (!p) findings.push(`${name} system ${pkg} ${rel(f)}`);
      else if (!p.some((x) => closure(pkg).has(x.pkg))) findings.push(`${name} undeclared ${pkg} ${rel(f)}`);
    }
    const tree = new Set<string>();
    const stack = [...dyn.get(f)!.needed];
    while (stack.length) {
      const n = stack.pop()!;
      if (tree.has(n)) continue;
      tree.add(n);
      for (const p of providers.get(n) ?? []) stack.push(...dyn.get(p.file)!.needed);
    }
    if ([...tree].some((n) => EXR2.test(n)) && [...tree].some((n) => EXR3.test(n)))
      findings.push(`${name} mixed ${pkg} ${rel(f)}`);
  }
  return findings;
}

test("an existing non-empty directory is kept unless forced", async () => {
  await assert.rejects(
    generateStudio(studio, { scale: "small" }),
    (e: unknown) => e instanceof UsageError && /not empty/.test(e.message),
  );
  assert.ok(fs.existsSync(path.join(studio, "tantalus.yaml")));
  fs.writeFileSync(path.join(studio, "stray.txt"), "x");
  await generateStudio(studio, { scale: "small", force: true });
  assert.ok(!fs.existsSync(path.join(studio, "stray.txt")));
  assert.deepEqual(fs.readdirSync(path.dirname(studio)), ["studio"], "no temporary directory left behind");
});

test("without a compiler the ELF payloads are host copies and the summary says so", async () => {
  const dir = path.join(scratch, "nocc");
  const s = await generateStudio(dir, { scale: 0.01, compiler: "none" });
  assert.equal(s.compiler, null);
  assert.match(s.warnings.join("\n"), /gcc\/ld not found/);
  const launch = path.join(dir, "packages/launch_app/1.4.0/bin/launch_app");
  assert.ok(isElf(launch));
  assert.deepEqual(fs.readFileSync(launch), fs.readFileSync(fs.realpathSync("/bin/true")));
});
