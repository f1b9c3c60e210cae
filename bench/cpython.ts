/**
 * `python: cpython` with many files: N packages whose definition imports
 * subprocess (so the built-in evaluator refuses it) and whose commands() use
 * rex's bindings, loaded with the index cache off and interpreted, in one
 * process; beside it, what starting one python3 per file would cost (python3's
 * own start-up, measured). The point of the one CPython per Tantalus process.
 * Run: npm run bench -- cpython [N]
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Repositories } from "../src/rez/repository/index.js";
import { interpretContext } from "../src/rex/index.js";
import { CPythonSession } from "../src/rez/cpython/session.js";

function repository(n: number): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "tantalus-bench-cpython-"));
  for (let i = 0; i < n; i++) {
    const dir = path.join(root, `pkg${i}`, "1.0");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(
      path.join(dir, "package.py"),
      [
        "import subprocess",
        `name = "pkg${i}"`,
        'version = "1.0"',
        "@early()",
        "def description():",
        '    return "package " + this.name',
        "def commands():",
        '    env.PATH.append("{root}/bin")',
        '    env["PKG_" + this.name.upper()] = str(this.version)',
        "",
      ].join("\n"),
    );
  }
  return root;
}

export async function run(args: string[]): Promise<void> {
  const n = Number(args[0] ?? "200");
  const root = repository(n);
  const python = { evaluator: "cpython" as const };
  const t0 = performance.now();
  const repos = new Repositories([root], { cache: false, python });
  const counts = repos.loadAll();
  const t1 = performance.now();
  const variants = repos.familyNames().map((f) => repos.family(f)![0]!.variants[0]!);
  const { environ } = interpretContext(variants, {
    request: variants.map((v) => v.name),
    implicitPackages: [],
    packagePaths: [root],
    system: { platform: "linux", arch: "x86_64", os: "bench" },
    timestamp: 0,
  });
  const t2 = performance.now();
  if (Object.keys(environ).filter((k) => k.startsWith("PKG_")).length !== n) throw new Error("commands did not run");
  CPythonSession.closeAll();
  const starts = 10;
  const s0 = performance.now();
  for (let i = 0; i < starts; i++) spawnSync("python3", ["-c", "import subprocess"]);
  const perStart = (performance.now() - s0) / starts;
  fs.rmSync(root, { recursive: true, force: true });
  console.log(`${counts.packages} packages loaded by CPython (index cache off): ${(t1 - t0).toFixed(0)} ms`);
  console.log(`their commands() run in CPython with rex's bindings: ${(t2 - t1).toFixed(0)} ms`);
  console.log(
    `one python3 per file instead would cost its start-up alone: ${perStart.toFixed(1)} ms x ${n} = ${((perStart * n) / 1000).toFixed(1)} s`,
  );
  return Promise.resolve();
}
