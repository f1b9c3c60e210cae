// A node:test reporter that writes one JSON line per skipped or todo test:
// {"file","name","reason","kind"}, the file relative to the working directory
// (the shape is SkippedTest in check.ts).
//
// A test that skips itself when a tool is missing passes silently in the
// runner's summary; .ci/run hands this list to check.ts, which fails the run
// on any skip not on .ci/allowed-skips. Plain JavaScript: node loads reporters
// before the --import hooks that would compile TypeScript.
//
// Used as --test-reporter=./scripts/test-skips/reporter.mjs --test-reporter-destination=FILE.
import path from "node:path";

/** @param {AsyncIterable<import("node:test/reporters").TestEvent>} source */
export default async function* skipReporter(source) {
  for await (const event of source) {
    if (event.type !== "test:pass" && event.type !== "test:fail") continue;
    const { skip, todo, name, file } = event.data;
    const kind = skip !== undefined && skip !== false ? "skip" : todo !== undefined && todo !== false ? "todo" : null;
    if (!kind) continue;
    const reason = kind === "skip" ? skip : todo;
    yield (
      JSON.stringify({
        file: file ? path.relative(process.cwd(), file) : "",
        name,
        reason: typeof reason === "string" ? reason : "",
        kind,
      }) + "\n"
    );
  }
}
