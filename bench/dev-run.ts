/**
 * What a developer's edit loop costs (issue 17): `tantalus run WF --dev DIR`
 * after editing one file of a dev package, against a plain `tantalus run WF`
 * of the same workflow, and against the alternative without --dev (build the
 * dev resolve's image, then run it: `tantalus run WF --paths DIR:REPOS`).
 *
 *   npm run build && npm run bench -- dev-run [--runs N] [--runtime podman]
 *
 * The sample studio (scale small) is generated, rough_layout built into its
 * own store, and layout_tools copied to a dev folder as 2.4.0 with a changed
 * commands(). After warm-ups, each round runs, interleaved:
 *   P. `tantalus run rough_layout -c true` (the artist's launch)
 *   D. one payload file of the dev package edited, then
 *      `tantalus run rough_layout --dev DIR -c true` (the kept resolve holds: mounts only)
 *   E. the dev package's package.py edited (commands() changed), then the same
 *      (the launch resolves again and captures the environment again)
 *   R. one payload file edited, then `tantalus run rough_layout --paths DIR:packages -c true`
 *      (the dev package's layer is written again, the dev image built and run)
 * Wall medians; the edit itself is not timed.
 */
import { spawnSync } from "node:child_process";
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { median, option } from "./common.js";

const ROOT_DIR = join(dirname(fileURLToPath(import.meta.url)), "..");
const BIN = join(ROOT_DIR, "bin", "tantalus.js");

export function run(args: string[]): Promise<void> {
  const runs = Number(option(args, "--runs") ?? "9");
  const runtime = option(args, "--runtime") ?? "podman";
  const work = mkdtempSync(join(tmpdir(), "tantalus-bench-dev-"));
  try {
    const home = join(work, "home");
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      HOME: home,
      TANTALUS_CACHE_DIR: join(work, "cache"),
      SHELL: "/bin/sh",
    };
    delete env.DISPLAY;
    delete env.WAYLAND_DISPLAY;
    delete env.TANTALUS_PACKAGES_PATH;
    spawnSync("mkdir", ["-p", home]);
    const studio = join(work, "studio");
    const store = join(work, "store");
    const cli = (argv: string[], cwd = studio): number => {
      const t0 = process.hrtime.bigint();
      const r = spawnSync(process.execPath, [BIN, ...argv], { env, cwd, encoding: "utf8" });
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (r.status !== 0) throw new Error(`tantalus ${argv.join(" ")}: exit ${r.status}\n${r.stderr}`);
      return ms;
    };
    cli(["studio", "generate", studio, "--scale", "small"], work);
    const config = join(studio, "tantalus.yaml");
    // The repair `npm run demo` applies, so the audit passes for the dev builds too.
    writeFileSync(
      config,
      readFileSync(config, "utf8").replace(
        /^packages: \{\}$/m,
        "packages:\n  layout_tools:\n    add_requires: [alembic-1.8]",
      ),
    );
    cli(["build", "rough_layout", "--store", store, "--no-progress"]);

    const dev = join(work, "dev");
    const root = join(dev, "layout_tools", "2.4.0");
    cpSync(join(studio, "packages", "layout_tools", "2.3.1"), root, { recursive: true, verbatimSymlinks: true });
    const pkg = join(root, "package.py");
    writeFileSync(
      pkg,
      readFileSync(pkg, "utf8")
        .replace("version = '2.3.1'", "version = '2.4.0'")
        .replace(
          'env.PYTHONPATH.append("{root}/python")',
          'env.PYTHONPATH.append("{root}/python")\n    env.DEV_EDIT = "0"',
        ),
    );
    const payload = join(root, "maya-2025", "python", "layout_tools", "layout_000.py");
    let edits = 0;
    const editPayload = () => appendFileSync(payload, `# edit ${++edits}\n`);
    const editDefinition = () =>
      writeFileSync(pkg, readFileSync(pkg, "utf8").replace(/DEV_EDIT = "\d+"/, `DEV_EDIT = "${++edits}"`));

    const base = ["run", "rough_layout", "--store", store, "--runtime", runtime];
    const cases: [string, () => void, string[]][] = [
      ["P", () => undefined, [...base, "-c", "true"]],
      ["D", editPayload, [...base, "--dev", dev, "-c", "true"]],
      ["E", editDefinition, [...base, "--dev", dev, "-c", "true"]],
      ["R", editPayload, [...base, "--paths", `${dev}:${join(studio, "packages")}`, "-c", "true"]],
    ];
    for (const [, edit, argv] of cases) {
      edit();
      cli(argv);
      cli(argv);
    }
    const times = new Map<string, number[]>(cases.map(([c]) => [c, []]));
    for (let i = 0; i < runs; i++) {
      for (const [c, edit, argv] of cases) {
        edit();
        times.get(c)!.push(cli(argv));
      }
    }
    const med = (c: string) => median(times.get(c)!);
    // Per-round differences: each pair ran back to back, so a load swing on the shared machine hits both.
    const paired = (a: string, b: string) => median(times.get(a)!.map((t, i) => t - times.get(b)![i]!));
    const lines = [
      `${runtime}, ${runs} interleaved rounds, wall medians (all values: ${[...times].map(([c, t]) => `${c} ${t.map((x) => x.toFixed(0)).join("/")}`).join("; ")})`,
      `P  plain run                                    ${med("P").toFixed(0)} ms`,
      `D  run --dev after a payload edit               ${med("D").toFixed(0)} ms   (D - P = ${(med("D") - med("P")).toFixed(0)} ms; per round ${paired("D", "P").toFixed(0)} ms)`,
      `E  run --dev after a package.py edit            ${med("E").toFixed(0)} ms   (E - P = ${(med("E") - med("P")).toFixed(0)} ms; per round ${paired("E", "P").toFixed(0)} ms)`,
      `R  run --paths (rebuild the dev image, then run) ${med("R").toFixed(0)} ms   (R / D = ${(med("R") / med("D")).toFixed(2)})`,
    ];
    process.stdout.write(lines.join("\n") + "\n");
    return Promise.resolve();
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
