/**
 * `node --import tsx scripts/test-skips/check.ts SKIPS ALLOW_LIST`: fails (exit 1)
 * when a test skipped in this run is not on the allow-list.
 *
 * SKIPS is what reporter.mjs wrote during the run. ALLOW_LIST (.ci/allowed-skips)
 * has one line per test that may skip on the CI machine:
 * `test file | test name | why it cannot run there`. A conditional skip ("podman
 * is not installed") is right on a laptop and wrong on CI: without this check a
 * broken CI host would turn its tests into silent passes.
 */
import fs from "node:fs";
import { pathToFileURL } from "node:url";

/** One test that did not run its body, as reporter.mjs writes it. */
export interface SkippedTest {
  file: string;
  name: string;
  /** The reason the test gave, "" when it gave none. */
  reason: string;
  kind: "skip" | "todo";
}

export interface AllowedSkip {
  file: string;
  name: string;
  reason: string;
  /** Line in the allow-list, for messages. */
  line: number;
}

/** The allow-list's entries; a malformed line throws, naming the file and line. */
export function parseAllowList(text: string, file: string): AllowedSkip[] {
  const out: AllowedSkip[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const fields = line.split(" | ");
    const [testFile, reason] = [fields[0]!.trim(), fields.length >= 3 ? fields.at(-1)!.trim() : ""];
    const name = fields.slice(1, -1).join(" | ").trim();
    if (fields.length < 3 || !testFile || !name || !reason)
      throw new Error(
        `${file}:${i + 1}: expected "test file | test name | why it may skip on CI", got ${JSON.stringify(line)}`,
      );
    out.push({ file: testFile, name, reason, line: i + 1 });
  });
  return out;
}

/** The skip report reporter.mjs wrote: one JSON object per line. */
export function parseSkipReport(text: string): SkippedTest[] {
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as SkippedTest);
}

export interface SkipVerdict {
  allowed: { skip: SkippedTest; entry: AllowedSkip }[];
  unlisted: SkippedTest[];
  /** Entries whose test ran here: harmless (another host may need them), worth a look. */
  unused: AllowedSkip[];
}

export function checkSkips(skips: SkippedTest[], allowList: AllowedSkip[]): SkipVerdict {
  const verdict: SkipVerdict = { allowed: [], unlisted: [], unused: [] };
  const used = new Set<AllowedSkip>();
  for (const skip of skips) {
    const entry = allowList.find((a) => a.file === skip.file && a.name === skip.name);
    if (entry) {
      used.add(entry);
      verdict.allowed.push({ skip, entry });
    } else verdict.unlisted.push(skip);
  }
  verdict.unused = allowList.filter((a) => !used.has(a));
  return verdict;
}

function main(argv: string[]): number {
  const [reportFile, allowFile] = argv;
  if (!reportFile || !allowFile) {
    process.stderr.write("usage: check.ts SKIP_REPORT ALLOW_LIST\n");
    return 2;
  }
  let verdict: SkipVerdict;
  try {
    const skips = parseSkipReport(fs.readFileSync(reportFile, "utf8"));
    verdict = checkSkips(skips, parseAllowList(fs.readFileSync(allowFile, "utf8"), allowFile));
  } catch (e) {
    process.stderr.write(`skip check: ${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
  const label = (s: SkippedTest) => `${s.file} | ${s.name}`;
  for (const { skip, entry } of verdict.allowed)
    process.stdout.write(`skipped, allowed (${allowFile}:${entry.line}): ${label(skip)} — ${entry.reason}\n`);
  for (const entry of verdict.unused)
    process.stdout.write(
      `note: ${allowFile}:${entry.line} allows a skip that did not happen: ${entry.file} | ${entry.name}\n`,
    );
  for (const skip of verdict.unlisted)
    process.stderr.write(
      `skipped, NOT on ${allowFile}: ${label(skip)}${skip.kind === "todo" ? " (todo)" : ""} — ${skip.reason || "no reason given"}\n`,
    );
  if (verdict.unlisted.length > 0) {
    process.stderr.write(
      `${verdict.unlisted.length} test(s) skipped that must run here: make them run on this host, or list them in ${allowFile} with the reason they cannot\n`,
    );
    return 1;
  }
  process.stdout.write(`skip check: ${verdict.allowed.length} skipped test(s), all on ${allowFile}\n`);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href)
  process.exitCode = main(process.argv.slice(2));
