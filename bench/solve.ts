// `npm run bench -- solve [--repo DIR] [--rez N] [--cache] [--json]`
//
// Rez's own solver benchmark: load the benchmark repository (18226 packages),
// resolve its 188 requests, check every resolve against Rez's committed
// answers, and print load time, total / median / max solve time and peak RSS.
// With /tmp/rezenv/rez-run.sh present, real Rez also solves N of the requests
// (default 10, spread over the list) and the speed ratio is printed.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { Repositories } from "../src/rez/repository/index.js";
import { solve } from "../src/solver/index.js";
import { BENCH_DIR, extractBenchmarkRepo, readReference, referenceName } from "../test/solver/benchmark-repo.js";

const REZ_RUN = "/tmp/rezenv/rez-run.sh";

interface Row {
  index: number;
  ms: number;
  steps: number;
  ok: boolean;
}

export function run(args: string[]): void {
  let repo: string | undefined;
  let rezCount = 10;
  let cache = false;
  let json = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--repo") repo = args[++i];
    else if (a === "--rez") rezCount = Number(args[++i]);
    else if (a === "--cache") cache = true;
    else if (a === "--json") json = true;
    else throw new Error(`unknown argument ${a}: expected --repo DIR, --rez N, --cache, --json`);
  }
  repo ??= extractBenchmarkRepo();

  const reference = readReference();
  const t0 = performance.now();
  const repos = new Repositories([repo], { cache });
  const counts = repos.loadAll();
  const loadMs = performance.now() - t0;

  const rows: Row[] = [];
  for (let i = 0; i < reference.length; i++) {
    const ref = reference[i]!;
    const s = performance.now();
    const res = solve(ref.request, repos);
    const ms = performance.now() - s;
    const got = res.resolved.map((v) => v.qualifiedName);
    const want = (ref.resolved_packages ?? []).map(referenceName);
    const ok = (res.status === "solved") === (ref.status === "success") && JSON.stringify(got) === JSON.stringify(want);
    rows.push({ index: i, ms, steps: res.steps, ok });
  }
  const times = rows.map((r) => r.ms).sort((a, b) => a - b);
  const solveMs = times.reduce((a, b) => a + b, 0);
  const median =
    times.length % 2 ? times[times.length >> 1]! : (times[times.length / 2 - 1]! + times[times.length / 2]!) / 2;
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  const matched = rows.filter((r) => r.ok).length;

  const rezTiming = JSON.parse(fs.readFileSync(path.join(BENCH_DIR, "rez-3.4.0-timing-on-2-cores.json"), "utf8")) as {
    total_resolve_seconds: number;
    warm_seconds: number;
  };

  let rez: { indices: number[]; rezSeconds: number; oursSeconds: number; sameAnswers: number } | null = null;
  let rezSkipped = rezCount > 0 && !fs.existsSync(REZ_RUN) ? `${REZ_RUN} not found` : null;
  if (rezCount > 0 && !rezSkipped) {
    const step = reference.length / rezCount;
    const indices = Array.from({ length: rezCount }, (_, k) => Math.floor(k * step + step / 2));
    const script = path.join(import.meta.dirname, "../scripts/rez-oracle/solver_bench.py");
    try {
      const out = execFileSync(
        REZ_RUN,
        ["python", script, repo, path.join(BENCH_DIR, "requests.json"), indices.join(",")],
        {
          encoding: "utf8",
          maxBuffer: 64 << 20,
          stdio: ["ignore", "pipe", "pipe"],
          env: { ...process.env, REZ_PACKAGES_PATH: repo },
        },
      );
      const data = JSON.parse(out) as {
        rez: Array<{ index: number; seconds: number; status: string; resolved: string[] | null }>;
      };
      let same = 0;
      for (const r of data.rez) {
        const ref = reference[r.index]!;
        const want = (ref.resolved_packages ?? []).map(referenceName);
        if (JSON.stringify(r.resolved ?? []) === JSON.stringify(want)) same++;
      }
      rez = {
        indices,
        rezSeconds: data.rez.reduce((a, r) => a + r.seconds, 0),
        oursSeconds: indices.reduce((a, i) => a + rows[i]!.ms, 0) / 1000,
        sameAnswers: same,
      };
    } catch (e) {
      rezSkipped = `running Rez failed: ${(e as Error).message.split("\n")[0]}`;
    }
  }

  const summary = {
    repository: { ...counts, loadSeconds: loadMs / 1000, indexCache: cache },
    requests: rows.length,
    matchingRez: matched,
    solveSeconds: solveMs / 1000,
    totalSecondsWithLoad: (solveMs + loadMs) / 1000,
    medianMs: median,
    meanMs: solveMs / rows.length,
    maxMs: times[times.length - 1]!,
    peakRssMb,
    stepsMean: rows.reduce((a, r) => a + r.steps, 0) / rows.length,
    rezRecordedSeconds: rezTiming.total_resolve_seconds,
    speedupVsRecordedRez: rezTiming.total_resolve_seconds / (solveMs / 1000),
    rezSubset: rez && { ...rez, speedup: rez.rezSeconds / rez.oursSeconds },
  };
  if (json) {
    console.log(JSON.stringify(summary, null, 2));
    return;
  }
  const f = (x: number, d = 2) => x.toFixed(d);
  console.log(
    `repository: ${counts.families} families, ${counts.packages} packages, ${counts.variants} variants, loaded in ${f(loadMs / 1000)} s${cache ? " (index cache)" : ""}`,
  );
  console.log(`resolves:   ${matched}/${rows.length} identical to Rez's (status and ordered variant list)`);
  console.log(
    `solve:      total ${f(solveMs / 1000)} s, median ${f(median, 1)} ms, mean ${f(solveMs / rows.length, 1)} ms, max ${f(times[times.length - 1]!, 1)} ms`,
  );
  console.log(`with load:  ${f((solveMs + loadMs) / 1000)} s; peak RSS ${f(peakRssMb, 0)} MiB`);
  console.log(
    `vs Rez:     Rez 3.4.0 took ${f(rezTiming.total_resolve_seconds, 1)} s for these solves on 2 cores (recorded): ${f(rezTiming.total_resolve_seconds / (solveMs / 1000), 0)}x`,
  );
  if (rez) {
    console.log(
      `Rez now:    requests ${rez.indices.join(",")}: Rez ${f(rez.rezSeconds)} s, Tantalus ${f(rez.oursSeconds, 3)} s: ${f(rez.rezSeconds / rez.oursSeconds, 0)}x (${rez.sameAnswers}/${rez.indices.length} Rez answers match the reference)`,
    );
  } else if (rezSkipped) {
    console.log(`Rez now:    skipped (${rezSkipped})`);
  }
  if (matched !== rows.length) process.exitCode = 1;
}
