// Differential test against Rez: `npm run bench -- solver-diff cases.json [more.json...] [--show N]`.
// The cases come from scripts/rez-oracle/solver_random.py (which runs real Rez);
// this runs Tantalus's solver on each and lists every disagreement.
import fs from "node:fs";
import { compareCase, runCase, type OracleFile } from "../test/solver/oracle-cases.js";

export function run(args: string[]): void {
  let show = 20;
  const files: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--show") show = Number(args[++i]);
    else files.push(args[i]!);
  }
  if (files.length === 0) {
    process.stderr.write("usage: npm run bench -- solver-diff <cases.json>... [--show N]\n");
    process.exitCode = 2;
    return;
  }
  let total = 0;
  let agreed = 0;
  const byStatus = new Map<string, number>();
  const failures: string[] = [];
  for (const file of files) {
    const data = JSON.parse(fs.readFileSync(file, "utf8")) as OracleFile;
    for (const c of data.cases) {
      total++;
      const key =
        c.expected.status === "error"
          ? `error:${c.expected.errorType}`
          : c.expected.cyclic
            ? "failed:cycle"
            : c.expected.status;
      byStatus.set(key, (byStatus.get(key) ?? 0) + 1);
      let diffs: string[];
      try {
        diffs = compareCase(c, runCase(c));
      } catch (e) {
        diffs = [`threw: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`];
      }
      if (diffs.length === 0) agreed++;
      else
        failures.push(
          `${c.id} request=${JSON.stringify(c.request)} options=${JSON.stringify(c.options)}\n  ${diffs.join("\n  ")}`,
        );
    }
  }
  for (const f of failures.slice(0, show)) console.log(f);
  console.log(`\n${agreed}/${total} cases agree with Rez (${total - agreed} disagree)`);
  console.log(
    `Rez outcomes: ${[...byStatus]
      .sort()
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")}`,
  );
  if (agreed !== total) process.exitCode = 1;
}
