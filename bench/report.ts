/**
 * `tantalus report --all --html` against `tantalus plan --all --json` on the
 * same studio in the same run (the report resolves and plans as plan does,
 * then audits every workflow and renders the pages), and the first paint of
 * each page in headless Chromium (Debian's, through puppeteer-core), read
 * from the browser's own paint timing.
 *
 *   npm run bench -- report [--scale large] [--studio DIR] [--runs 3] [--against OTHER/bin/tantalus.js]
 *
 * --against times another build of the CLI (an earlier commit's, built in a
 * copy of the tree) in the same alternation, so a change is measured before
 * and after against the same plan runs, on the same machine load.
 *
 * Both commands run as users run them: the compiled CLI (bin/tantalus.js,
 * dist/ built first), a new process each time, median wall clock.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import puppeteer from "puppeteer-core";
import { median, option } from "./common.js";
import { cachePath } from "../src/locations.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const cli = path.join(root, "bin", "tantalus.js");

function timed(args: string[], cwd: string, program = cli): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [program, ...args], { cwd, encoding: "utf8", maxBuffer: 256 << 20 });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  // report exits 1 when a workflow does not resolve, as plan does; anything else is a failure of the benchmark.
  if (r.status !== 0 && r.status !== 1) throw new Error(`tantalus ${args.join(" ")}: exit ${r.status}\n${r.stderr}`);
  return seconds;
}

export async function run(args: string[]): Promise<void> {
  const runs = Number(option(args, "--runs") ?? 3);
  const scale = option(args, "--scale") ?? "large";
  const tsc = spawnSync(process.execPath, [path.join(root, "node_modules/typescript/bin/tsc"), "-p", root], {
    encoding: "utf8",
  });
  if (tsc.status !== 0) throw new Error(`building dist/ failed:\n${tsc.stdout}${tsc.stderr}`);
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "tantalus-bench-report-"));
  try {
    let studio = option(args, "--studio");
    if (!studio) {
      studio = path.join(scratch, "studio");
      const g = spawnSync(process.execPath, [cli, "studio", "generate", studio, "--scale", scale], {
        encoding: "utf8",
      });
      if (g.status !== 0) throw new Error(`studio generate: ${g.stderr}`);
    }
    const site = path.join(scratch, "site");
    // One warm-up of each (repository index cache, the audit's soname index), then alternate.
    const against = option(args, "--against");
    const otherSite = path.join(scratch, "other-site");
    timed(["plan", "--all", "--json"], studio);
    timed(["report", "--all", "--html", site], studio);
    if (against) timed(["report", "--all", "--html", otherSite], studio, against);
    const plan: number[] = [];
    const report: number[] = [];
    const redrawn: number[] = [];
    const other: number[] = [];
    const loads: number[] = [];
    // The report keeps its graph drawings between runs (layout-cache.ts): also timed with none kept.
    const layouts = path.join(cachePath("report"), "graph-layouts.json");
    for (let i = 0; i < runs; i++) {
      loads.push(os.loadavg()[0]!);
      plan.push(timed(["plan", "--all", "--json"], studio));
      report.push(timed(["report", "--all", "--html", site], studio));
      fs.rmSync(layouts, { force: true });
      redrawn.push(timed(["report", "--all", "--html", site], studio));
      if (against) other.push(timed(["report", "--all", "--html", otherSite], studio, against));
    }
    const pages = fs.readdirSync(site).filter((f) => f.endsWith(".html"));
    const sizes = Object.fromEntries(pages.map((p) => [p, fs.statSync(path.join(site, p)).size]));

    const browser = await puppeteer.launch({
      executablePath: "/usr/bin/chromium",
      headless: true,
      args: process.getuid?.() === 0 ? ["--no-sandbox"] : [],
    });
    const paints: Record<string, number[]> = {};
    try {
      for (const p of pages) {
        paints[p] = [];
        for (let i = 0; i < 5; i++) {
          const page = await browser.newPage();
          await page.goto(`file://${site}/${p}`, { waitUntil: "load" });
          // The paint entry may come after the load event: wait for it (buffered), at most 5 s.
          const fcp = (await page.evaluate(`new Promise((resolve) => {
            new PerformanceObserver((list) => {
              const e = list.getEntries().find((x) => x.name === "first-contentful-paint");
              if (e) resolve(e.startTime);
            }).observe({ type: "paint", buffered: true });
            setTimeout(() => resolve(undefined), 5000);
          })`)) as number | undefined;
          if (fcp !== undefined) paints[p].push(fcp);
          await page.close();
        }
      }
    } finally {
      await browser.close();
    }
    const mp = median(plan);
    const mr = median(report);
    process.stdout.write(
      [
        `studio ${studio} (${runs} runs each, median wall clock, ${os.availableParallelism()} cores)`,
        `plan --all --json          ${mp.toFixed(2)} s`,
        `report --all --html        ${mr.toFixed(2)} s   (${(mr / mp).toFixed(2)}x plan)`,
        `  every graph drawn again   ${median(redrawn).toFixed(2)} s   (${(median(redrawn) / mp).toFixed(2)}x plan)`,
        ...(against
          ? [`report, ${against}  ${median(other).toFixed(2)} s   (${(median(other) / mp).toFixed(2)}x plan)`]
          : []),
        `load average during the runs: ${Math.min(...loads).toFixed(1)} to ${Math.max(...loads).toFixed(1)}`,
        "",
        "page            bytes      first contentful paint (median of 5, ms)",
        ...pages.map(
          (p) =>
            `${p.padEnd(15)} ${String(sizes[p]).padStart(9)}  ${paints[p]!.length ? median(paints[p]!).toFixed(0) : "-"}`,
        ),
      ].join("\n") + "\n",
    );
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}
