/**
 * Moving the sample studio between two OS generations (Debian 12 → Debian 11,
 * real debootstrap bases from scripts/os-bases.sh), same run:
 *  - rebase: `build --all` on B after the cold build of every workflow on A,
 *    each counted without obtaining its base (the build's own baseSeconds);
 *    target: at most 20% of the cold build's time, and zero package-layer
 *    bytes written;
 *  - the migration report (every workflow resolved once, audited on A and on
 *    B, compared) against a single-base audit of the same workflows (resolved
 *    and audited on A); target: at most 2.2× its time. Medians of --runs.
 *
 *   npm run bench -- migrate [--scale large] [--runs 3]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { auditMigration } from "../src/audit/migrate.js";
import { auditResolve, libraryAuditGate, loadBaseImage } from "../src/audit/workflow/index.js";
import { buildWorkflows } from "../src/builder/index.js";
import { loadConfig, type LoadedConfig } from "../src/config/index.js";
import { Repositories } from "../src/rez/repository/index.js";
import { generateStudio } from "../src/studio/index.js";
import { resolveWorkflow } from "../src/workflow/resolve.js";
import { debianBase } from "../test/migrate/os-bases.js";
import { median, option } from "./common.js";

function onBase(config: LoadedConfig, image: string): LoadedConfig {
  return { ...config, config: { ...config.config, base: { ...config.config.base, image } } };
}

export async function run(args: string[]): Promise<void> {
  const scale = option(args, "--scale") ?? "large";
  const runs = Number(option(args, "--runs") ?? 3);
  const dir = mkdtempSync(join(tmpdir(), "tantalus-bench-migrate-"));
  try {
    const a = `rootfs:${debianBase("bookworm")}`;
    const b = `rootfs:${debianBase("bullseye")}`;
    await generateStudio(join(dir, "studio"), { scale });
    const config = loadConfig(join(dir, "studio", "tantalus.yaml"));
    const workflows = Object.keys(config.workflows).sort();
    const store = join(dir, "store");

    // Rebase: a cold build on A, then every workflow on B; the same audit gate as `tantalus build`.
    const build = async (image: string) => {
      const c = onBase(config, image);
      const t0 = performance.now();
      const r = await buildWorkflows(c, workflows, {
        store,
        source: false,
        audit: libraryAuditGate(c),
        allowAuditErrors: true,
      });
      const wall = (performance.now() - t0) / 1000;
      const packageBytes = r.results
        .flatMap((x) => x.layers)
        .filter((l) => l.kind === "packages" && !l.cached)
        .reduce((n, l) => n + l.size, 0);
      return { wall, base: r.stats.baseSeconds, stats: r.stats, packageBytes };
    };
    const cold = await build(a);
    const rebase = await build(b);
    const coldNet = cold.wall - cold.base;
    const rebaseNet = rebase.wall - rebase.base;
    console.log(`studio scale ${scale}: ${workflows.length} workflows, ${cold.stats.layers} layers`);
    console.log(
      `cold build on A: ${cold.wall.toFixed(2)} s (${cold.base.toFixed(2)} s obtaining the base) -> ${coldNet.toFixed(2)} s; ` +
        `${cold.stats.layersWritten} layers written, ${cold.stats.bytesArchived} bytes archived`,
    );
    console.log(
      `rebase on B:     ${rebase.wall.toFixed(2)} s (${rebase.base.toFixed(2)} s obtaining the base) -> ${rebaseNet.toFixed(2)} s; ` +
        `${rebase.stats.layersWritten} layers written, ${rebase.stats.bytesArchived} bytes archived, ${rebase.packageBytes} package-layer bytes written`,
    );
    console.log(`rebase / cold: ${((100 * rebaseNet) / coldNet).toFixed(1)}% (target <= 20%, 0 package-layer bytes)`);

    // The report against one audit; the bases are unpacked once (the audit cache), outside the timing.
    const opts = { store, configDir: dir };
    const baseA = await loadBaseImage(a, opts);
    const baseB = await loadBaseImage(b, opts);
    const single: number[] = [];
    const report: number[] = [];
    for (let i = 0; i < runs; i++) {
      let repos = new Repositories(config.packagesPath);
      let t0 = performance.now();
      for (const w of workflows) auditResolve(config, resolveWorkflow(config, w, { repos }), baseA);
      single.push((performance.now() - t0) / 1000);
      repos = new Repositories(config.packagesPath);
      t0 = performance.now();
      const r = auditMigration(config, workflows, {
        from: { reference: a, image: baseA },
        to: { reference: b, image: baseB },
        audit: { repos },
        suggest: true,
      });
      report.push((performance.now() - t0) / 1000);
      if (i === 0)
        console.log(
          `report: clean ${r.summary.clean.join(",")}; broken ${r.summary.broken.join(",")}; still broken ${r.summary.stillBroken.join(",")}`,
        );
    }
    const s = median(single);
    const m = median(report);
    console.log(
      `single-base audit: ${s.toFixed(2)} s; migration report: ${m.toFixed(2)} s; ratio ${(m / s).toFixed(2)}x (target <= 2.2x; medians of ${runs})`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
