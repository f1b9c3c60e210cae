import path from "node:path";
import type { Command } from "@commander-js/extra-typings";
import { TantalusError, describeSystemError } from "../../errors.js";
import { DEFECTS_FILE, generateStudio } from "../../studio/index.js";

export function register(program: Command): void {
  const studio = program
    .command("studio")
    .description("the sample studio: a realistic Rez repository and workflows for the demo, the tests and benchmarks");

  studio
    .command("generate")
    .description(
      "write the sample studio (DIR/packages, DIR/tantalus.yaml, the defect manifest); deterministic for a given scale",
    )
    .argument("<dir>", "directory to create (must be empty or absent unless --force)")
    .option("--scale <scale>", "small (< 20 MB), default (~200 MB), large, or a size factor", "default")
    .option("--force", "replace DIR if it is not empty")
    .option("--no-cache", "compile every object instead of reusing ~/.cache/tantalus/studio-elf")
    .option("--json", "print the summary as JSON")
    .action(async (dir, opts) => {
      const s = await generateStudio(dir, {
        scale: opts.scale,
        force: opts.force ?? false,
        cache: opts.cache ? undefined : false,
      }).catch((err: unknown) => {
        // A write on an open file names no path: say which tree it was for.
        const system = describeSystemError(
          err,
          undefined,
          `the sample studio ${path.resolve(dir)} (written beside it, then renamed)`,
        );
        throw system === undefined ? err : new TantalusError(system);
      });
      for (const w of s.warnings) process.stderr.write(`tantalus: warning: ${w}\n`);
      if (opts.json) {
        process.stdout.write(JSON.stringify(s, null, 2) + "\n");
        return;
      }
      const mb = (s.bytes / 1024 / 1024).toFixed(1);
      const lines = [
        `sample studio written to ${s.dir} (scale ${s.scale}) in ${s.seconds.toFixed(1)} s`,
        `  ${s.packages} packages, ${s.versions} versions, ${s.variants} variants, ${s.workflows.length} workflows`,
        `  ${s.files} files, ${mb} MiB, ${s.elfFiles} ELF objects ${s.compiler ? `built with ${s.compiler}` : "copied from the host (no compiler)"}`,
        `  workflows: ${s.workflows.join(", ")}`,
        `  deliberate defects (${DEFECTS_FILE}):`,
        ...s.defects.map((d) => `    ${d.kind.padEnd(10)} ${d.package} in ${d.workflow}: ${d.file}`),
        `next: cd ${dir} && tantalus resolve --workflow rough_layout`,
      ];
      process.stdout.write(lines.join("\n") + "\n");
    });
}
