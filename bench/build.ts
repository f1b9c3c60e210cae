/**
 * `tantalus build` on the sample studio, against the machine's own limit and
 * against buildah, all measured in the same run:
 *
 *   1. cold build of every workflow into a fresh store, gzip level 1 and zstd
 *      level 3 (MB/s of layer tar bytes, wall clock of the whole build);
 *   2. the machine's limit for the same bytes: GNU tar of the same variant
 *      roots (sorted, owner 0, fixed mtime) piped into `gzip -1` and `zstd -3`;
 *      and the zstd build's floor: its CPU on one thread spread over every core;
 *   3. buildah (vfs storage in a temp dir) building the same images from
 *      scratch with one COPY per variant, then writing them as an OCI layout
 *      (which compresses the layers, as our store holds them compressed);
 *   4. a rebuild after one package changed (a file added to one variant), with
 *      the default compression and with gzip-1, each as a fraction of the cold
 *      build with the same compression, and which layers it wrote;
 *   5. studio sharing: unique layer bytes stored against the unique bytes of
 *      the packages (the planner's report).
 *
 *   npm run bench -- build [--scale small|default|large] [--studio DIR] [--no-buildah]
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import type { BuildEvent, BuildReport } from "../src/builder/index.js";
import type { LoadedConfig } from "../src/config/index.js";
import type { LayerCompression } from "../src/image/index.js";
import { generateStudio } from "../src/studio/index.js";
import { cpuNow, option, shell } from "./common.js";

/**
 * The build runs from the compiled dist/, as `tantalus build` does: its
 * layer workers then start from JavaScript, not from TypeScript compiled
 * on the fly in each worker (which costs a second per worker under tsx).
 */
const root = fileURLToPath(new URL("..", import.meta.url));
type BuildLib = typeof import("../src/builder/index.js");
type ConfigLib = typeof import("../src/config/index.js");
let lib: { buildWorkflows: BuildLib["buildWorkflows"]; loadConfig: ConfigLib["loadConfig"] };

async function loadDist(): Promise<void> {
  const tsc = spawnSync(
    process.execPath,
    [join(root, "node_modules/typescript/bin/tsc"), "-p", join(root, "tsconfig.json")],
    { encoding: "utf8" },
  );
  if (tsc.status !== 0) throw new Error(`building dist/ failed:\n${tsc.stdout}${tsc.stderr}`);
  const dist = (p: string) => new URL(`../dist/${p}`, import.meta.url).href;
  const build = (await import(dist("builder/index.js"))) as BuildLib;
  const config = (await import(dist("config/index.js"))) as ConfigLib;
  lib = { buildWorkflows: build.buildWorkflows, loadConfig: config.loadConfig };
}

interface Row {
  what: string;
  seconds: number;
  cpu: number;
  /** Uncompressed tar bytes processed. */
  bytes: number;
  stored?: number;
}

async function timedBuild(
  config: LoadedConfig,
  store: string,
  compression: LayerCompression,
  level: number,
  events?: BuildEvent[],
  jobs?: number,
): Promise<{ row: Row; report: BuildReport }> {
  const t0 = process.hrtime.bigint();
  const c0 = cpuNow();
  const report = await lib.buildWorkflows(config, [], {
    store,
    compression,
    level,
    ...(events ? { onEvent: (e) => events.push(e) } : {}),
    ...(jobs !== undefined ? { jobs } : {}),
  });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return {
    row: {
      what: `tantalus build --all (${compression}-${level})`,
      seconds,
      cpu: cpuNow() - c0,
      bytes: report.stats.bytesArchived,
      stored: report.stats.bytesStored,
    },
    report,
  };
}

export async function run(args: string[]): Promise<void> {
  await loadDist();
  const scale = option(args, "--scale") ?? "default";
  const work = await mkdtemp(join(tmpdir(), "tantalus-bench-build-"));
  try {
    let studioDir = option(args, "--studio");
    if (!studioDir) {
      studioDir = join(work, "studio");
      const t0 = performance.now();
      const s = await generateStudio(studioDir, { scale });
      process.stdout.write(
        `studio (scale ${scale}): ${s.variants} variants, ${(s.bytes / 1e6).toFixed(0)} MB in ${s.files} files, generated in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
      );
    }
    const packages = join(studioDir, "packages");
    // Images with the repository at a fixed path, as a studio would configure it.
    const configFile = join(studioDir, "tantalus.yaml");
    const text = (await import("node:fs"))
      .readFileSync(configFile, "utf8")
      .replace(/^( {2}root_map: ).*$/m, `$1${JSON.stringify({ [packages]: "/studio/packages" })}`);
    await writeFile(configFile, text);
    const config = lib.loadConfig(configFile);
    const rows: Row[] = [];

    // Warm the page cache and the resolver's index cache: every contender reads warm files.
    await lib.buildWorkflows(config, [], { store: join(work, "warm"), compression: "none" });
    await rm(join(work, "warm"), { recursive: true, force: true });

    // 1 + 2, each pair back to back so both see the same machine load.
    const gz = await timedBuild(config, join(work, "store-gzip"), "gzip", 1);
    const roots = [
      ...new Set([...gz.report.plan.layers.values()].flatMap((l) => l.variants.map((v) => v.root))),
    ].sort();
    const list = join(work, "roots.txt");
    await writeFile(list, roots.map((r) => relative("/", r)).join("\n") + "\n");
    const gnuTar = `tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@1 -C / -cf - -T '${list}'`;
    const tarBytes = Number(shell(`${gnuTar} | wc -c`).out.trim());
    const gnu = (what: string, cmd: string): Row => {
      const r = shell(cmd);
      return { what, seconds: r.seconds, cpu: r.cpu, bytes: tarBytes, stored: Number(r.out.trim()) };
    };
    rows.push(gz.row, gnu("tar | gzip -1 (same roots)", `${gnuTar} | gzip -1 | wc -c`));
    // 4. Rebuild after one package changed (a file added to one variant's root), right after the cold
    //    build, with the same page cache; the median of three, each after a new change.
    const layout =
      gz.report.results.flatMap((r) => r.context.resolved).find((v) => v.name === "layout_tools") ??
      gz.report.results[0]!.context.resolved.at(-1)!;
    let change = 0;
    const rebuild = async (store: string, compression: LayerCompression, level: number) => {
      const rebuilds: { row: Row; events: BuildEvent[] }[] = [];
      for (let i = 0; i < 3; i++) {
        await writeFile(join(layout.root, "bench-hotfix.txt"), `hotfix ${change++}\n`);
        const events: BuildEvent[] = [];
        rebuilds.push({ row: (await timedBuild(config, join(work, store), compression, level, events)).row, events });
      }
      rebuilds.sort((a, b) => a.row.seconds - b.row.seconds);
      const median = rebuilds[1]!;
      median.row.what = `rebuild --all after ${layout.name} changed (${compression}-${level}, median of 3)`;
      return median;
    };
    const rb = await rebuild("store-gzip", "gzip", 1);
    const rewritten = rb.events.filter(
      (e): e is Extract<BuildEvent, { type: "layer-done" }> => e.type === "layer-done" && !e.cached,
    );

    const zs = await timedBuild(config, join(work, "store-zstd"), "zstd", 3);
    rows.push(zs.row, gnu("tar | zstd -3 (same roots)", `${gnuTar} | zstd -3 -q -c | wc -c`));
    // The floor: the same build's work on one thread (no worker boots, no two threads sharing the
    // caches), spread perfectly over every core, is the least wall time any schedule could reach.
    const oneThread = await timedBuild(config, join(work, "store-zstd-1"), "zstd", 3, undefined, 1);
    oneThread.row.what = "tantalus build --all (zstd-3), one thread";
    rows.push(oneThread.row);
    const df = await timedBuild(config, join(work, "store-default"), "gzip", 6);
    rows.push(df.row, gnu("tar | gzip -6 (same roots)", `${gnuTar} | gzip -6 | wc -c`));
    const rbDefault = await rebuild("store-default", "gzip", 6);

    // 3. buildah: FROM scratch + one COPY per variant, per workflow, written out as an OCI layout.
    let buildah: Row | undefined;
    if (!args.includes("--no-buildah") && spawnSync("sh", ["-c", "command -v buildah"]).status === 0) {
      const storage = `--root '${join(work, "buildah/graph")}' --runroot '${join(work, "buildah/run")}' --storage-driver vfs`;
      const cmds: string[] = [];
      for (const r of gz.report.results) {
        const file = join(work, `Containerfile.${r.workflow}`);
        const copies = r.context.resolved.map(
          (v) => `COPY ${relative(packages, v.root)} /studio/packages/${relative(packages, v.root)}`,
        );
        await writeFile(file, ["FROM scratch", ...copies, ""].join("\n"));
        cmds.push(
          `buildah ${storage} bud --quiet --layers=false -f '${file}' -t 'bench/${r.workflow.toLowerCase()}' '${packages}' >/dev/null`,
        );
        cmds.push(
          `buildah ${storage} push --quiet 'bench/${r.workflow.toLowerCase()}' 'oci:${join(work, "buildah-oci")}:${r.workflow.toLowerCase()}'`,
        );
      }
      const b = shell(cmds.join(" && "));
      buildah = {
        what: `buildah bud FROM scratch + COPY, push oci: (${gz.report.results.length} images)`,
        seconds: b.seconds,
        cpu: b.cpu,
        bytes: 0,
      };
      rows.push(buildah);
    }

    rows.push(rb.row, rbDefault.row);

    // Table.
    const w = Math.max(...rows.map((r) => r.what.length));
    const out: string[] = [];
    out.push(`${"operation".padEnd(w)}  wall s   CPU s  tar MB  MB/s wall  MB/CPU-s  stored MB`);
    for (const r of rows) {
      const rate = (t: number) => (r.bytes > 0 ? (r.bytes / 1e6 / t).toFixed(1) : "-");
      out.push(
        `${r.what.padEnd(w)}  ${r.seconds.toFixed(2).padStart(6)}  ${r.cpu.toFixed(2).padStart(6)}  ${(r.bytes / 1e6).toFixed(1).padStart(6)}  ${rate(r.seconds).padStart(9)}  ${rate(r.cpu).padStart(8)}  ${r.stored !== undefined ? (r.stored / 1e6).toFixed(1).padStart(9) : ""}`,
      );
    }
    const mbps = (r: Row) => r.bytes / r.seconds;
    const perCpu = (r: Row) => r.bytes / r.cpu;
    const byName = (prefix: string) => rows.find((r) => r.what.startsWith(prefix))!;
    const ratio = (ours: Row, gnu: string) =>
      `${(mbps(ours) / mbps(byName(gnu))).toFixed(2)}x wall, ${(perCpu(ours) / perCpu(byName(gnu))).toFixed(2)}x per CPU-s`;
    out.push("");
    out.push(
      `throughput vs the machine (same bytes, same run; goal >= 0.8 wall): gzip-1 ${ratio(gz.row, "tar | gzip -1")}; zstd-3 ${ratio(zs.row, "tar | zstd -3")}; gzip-6 ${ratio(df.row, "tar | gzip -6")}`,
    );
    const cores = availableParallelism();
    const floor = oneThread.row.cpu / cores;
    out.push(
      `zstd-3 floor: on one thread the build takes ${oneThread.row.cpu.toFixed(2)} CPU-s (${oneThread.row.seconds.toFixed(2)} s wall); spread perfectly over ${cores} cores, no schedule beats ${floor.toFixed(2)} s, ` +
        `${(oneThread.row.bytes / floor / mbps(byName("tar | zstd -3"))).toFixed(2)}x of tar | zstd -3 at best (the build with its workers: ${(mbps(zs.row) / mbps(byName("tar | zstd -3"))).toFixed(2)}x)`,
    );
    if (buildah)
      out.push(
        `buildah / tantalus (gzip-6, the default; both compress every layer): ${(buildah.seconds / df.row.seconds).toFixed(1)}x slower; vs tantalus gzip-1: ${(buildah.seconds / gz.row.seconds).toFixed(1)}x (goal >= 3)`,
      );
    out.push(
      `rebuild (goal <= 5 %): with the default compression (gzip-6) ${((100 * rbDefault.row.seconds) / df.row.seconds).toFixed(1)} % of the cold build's wall time, ${((100 * rbDefault.row.cpu) / df.row.cpu).toFixed(1)} % of its CPU; ` +
        `with gzip-1 ${((100 * rb.row.seconds) / gz.row.seconds).toFixed(1)} % / ${((100 * rb.row.cpu) / gz.row.cpu).toFixed(1)} %; layers written: ${rewritten.map((e) => `${e.kind} ${e.label}`).join("; ") || "none"}`,
    );
    const distinct = [...gz.report.plan.layers.keys()];
    const layerTar = gz.report.results.flatMap((r) => r.layers).filter((l) => l.kind === "packages");
    const uniqueStored = new Map(layerTar.map((l) => [l.digest, l.size]));
    const planned = gz.report.plan.plan;
    const uniquePayload = planned.layers.reduce((s, l) => s + l.bytes, 0);
    const imageSum = gz.report.results.reduce((s, r) => s + r.size, 0);
    out.push(
      `sharing: ${distinct.length} distinct package layers hold ${(uniquePayload / 1e6).toFixed(1)} MB of payload for ${(planned.packageBytes / 1e6).toFixed(1)} MB of distinct packages ` +
        `(${(uniquePayload / planned.packageBytes).toFixed(3)}x, goal <= 1.05); their tar bytes ${(gz.report.stats.bytesArchived / 1e6).toFixed(1)} MB ` +
        `(${(gz.report.stats.bytesArchived / planned.packageBytes).toFixed(3)}x incl. tar headers, base and top layers); ` +
        `stored ${([...uniqueStored.values()].reduce((a, b) => a + b, 0) / 1e6).toFixed(1)} MB of package layers vs ${(byName("tar | gzip -1").stored! / 1e6).toFixed(1)} MB for one gzip -1 tar of all roots; ` +
        `pulling every image separately: ${(imageSum / 1e6).toFixed(1)} MB`,
    );
    process.stdout.write(out.join("\n") + "\n");
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run(process.argv.slice(2));
