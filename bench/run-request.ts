/**
 * What a repeated `tantalus run --request "..."` costs now that it is stamped
 * like a workflow, against what it cost when every launch resolved.
 *
 *   npm run build && npm run bench -- run-request [--runs N]
 *
 * The sample studio (scale small) is generated with the mounts and repair
 * `npm run demo` adds (so the request passes the audit), rough_layout built
 * into its own store, the request run once. Then, interleaved, after warm-ups:
 *   W. `tantalus run rough_layout --dry-run -c true`: a stamped workflow
 *   Q. `tantalus run --request "maya-2025 layout_tools" --dry-run -c true`: the
 *      same request again, its stamp holds
 *   R. Q with the request's stamp removed first (not timed): the launch resolves,
 *      plans, audits and retags with every layer cached, as every repeated
 *      `run --request` did before it was stamped
 * --dry-run: the CLI's part of the launch, without the container start, which
 * is the same for all three. Wall medians.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { median, option } from "./common.js";

const ROOT_DIR = join(dirname(fileURLToPath(import.meta.url)), "..");
const BIN = join(ROOT_DIR, "bin", "tantalus.js");
const REQUEST = "maya-2025 layout_tools";

export function run(args: string[]): Promise<void> {
  const runs = Number(option(args, "--runs") ?? "9");
  const work = mkdtempSync(join(tmpdir(), "tantalus-bench-request-"));
  try {
    const home = join(work, "home");
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, TANTALUS_CACHE_DIR: join(work, "cache") };
    delete env.TANTALUS_PACKAGES_PATH;
    delete env.TANTALUS_STORE;
    spawnSync("mkdir", ["-p", home]);
    const studio = join(work, "studio");
    const store = join(work, "store");
    const cli = (argv: string[], cwd = studio): { ms: number; stderr: string } => {
      const t0 = process.hrtime.bigint();
      const r = spawnSync(process.execPath, [BIN, ...argv], { env, cwd, encoding: "utf8" });
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (r.status !== 0) throw new Error(`tantalus ${argv.join(" ")}: exit ${r.status}\n${r.stderr}`);
      return { ms, stderr: r.stderr };
    };
    cli(["studio", "generate", studio, "--scale", "small"], work);
    const config = join(studio, "tantalus.yaml");
    // What `npm run demo` and test/run/dev-run.test.ts add: the layout_tools repair, and the projects
    // mount for every workflow (the request's studio_base sets STUDIO_PROJECTS, which the audit checks).
    writeFileSync(
      config,
      readFileSync(config, "utf8")
        .replace(/^packages: \{\}$/m, "packages:\n  layout_tools:\n    add_requires: [alembic-1.8]")
        .replace(
          /^( {2}mounts:)( \[\])?$/m,
          "$1\n    - { source: projects, target: /studio/projects, readonly: true }",
        ),
    );
    cli(["build", "rough_layout", "--store", store, "--no-progress"]);
    const stamps = join(store, ".tantalus", "stamps");
    const dropRequestStamps = () => {
      for (const f of readdirSync(stamps)) if (f.startsWith("request-")) rmSync(join(stamps, f));
    };

    const workflow = ["run", "rough_layout", "--store", store, "--dry-run", "-c", "true"];
    const request = ["run", "--request", REQUEST, "--store", store, "--dry-run", "-c", "true"];
    const cases: [string, () => void, string[]][] = [
      ["W", () => undefined, workflow],
      ["Q", () => undefined, request],
      ["R", dropRequestStamps, request],
    ];
    for (const [, prepare, argv] of cases) {
      prepare();
      cli(argv);
    }
    if (/resolving/.test(cli(request).stderr)) throw new Error("the repeated request resolved: no stamp held");
    const times = new Map<string, number[]>(cases.map(([c]) => [c, []]));
    for (let i = 0; i < runs; i++) {
      for (const [c, prepare, argv] of cases) {
        prepare();
        times.get(c)!.push(cli(argv).ms);
      }
    }
    const med = (c: string) => median(times.get(c)!);
    const lines = [
      `${runs} interleaved rounds, wall medians (all values: ${[...times].map(([c, t]) => `${c} ${t.map((x) => x.toFixed(0)).join("/")}`).join("; ")})`,
      `W  run rough_layout --dry-run (stamped workflow)          ${med("W").toFixed(0)} ms`,
      `Q  run --request "${REQUEST}" --dry-run, stamp holds  ${med("Q").toFixed(0)} ms`,
      `R  the same, resolving (as before the stamp)              ${med("R").toFixed(0)} ms   (R / Q = ${(med("R") / med("Q")).toFixed(2)})`,
    ];
    process.stdout.write(lines.join("\n") + "\n");
    return Promise.resolve();
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
