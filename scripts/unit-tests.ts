/**
 * `npm run test:unit` runs the files this prints: the tests beside the code
 * (src/**\/*.test.ts) that start no process and open no socket.
 *
 * The rule is read from the files, so it holds for tests added later: a test
 * file is left out when it, or test code it imports (another test file,
 * anything under test/ or a testkit/ folder), imports node:child_process or a
 * network module, or when it says `// integration: WHY` on a line of its own
 * (for a test whose code under test starts processes itself). Integration tests
 * (podman, registries, the CLI as a subprocess, gcc) are under test/ or use such
 * helpers; `npm test` runs all. unit-tests-guard.mjs, loaded into the unit run,
 * fails a test that starts a process or opens a connection anyway.
 */
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const IMPURE_MODULES = new Set(["child_process", "net", "http", "https", "http2", "dgram", "tls"]);

/** Test code: what a unit test may lean on only if it is pure too. */
function isTestCode(file: string, root: string): boolean {
  const rel = path.relative(root, file).split(path.sep);
  return file.endsWith(".test.ts") || rel[0] === "test" || rel.includes("testkit");
}

/** The module specifiers a file imports (static, dynamic and re-exports). */
export function importsOf(source: string): string[] {
  const out: string[] = [];
  for (const m of source.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*["']([^"']+)["']/g)) out.push(m[1]!);
  return out;
}

/** The .ts file a relative import names (sources import their siblings as .js). */
function resolveRelative(from: string, spec: string): string | undefined {
  const base = path.resolve(path.dirname(from), spec);
  for (const candidate of [base.replace(/\.js$/, ".ts"), base, `${base}.ts`, path.join(base, "index.ts")])
    if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return candidate;
  return undefined;
}

/** The first impure import reached from `file` through test code, as "file -> module", or null. */
export function impurity(file: string, root: string, seen = new Set<string>()): string | null {
  if (seen.has(file)) return null;
  seen.add(file);
  const source = fs.readFileSync(file, "utf8");
  const marked = /^\/\/ integration: (.+)$/m.exec(source);
  if (marked) return `${path.relative(root, file)} says: integration: ${marked[1]}`;
  for (const spec of importsOf(source)) {
    const builtin = spec.replace(/^node:/, "");
    if (IMPURE_MODULES.has(builtin)) return `${path.relative(root, file)} imports ${spec}`;
    if (!spec.startsWith(".")) continue;
    const target = resolveRelative(file, spec);
    if (target && isTestCode(target, root)) {
      const found = impurity(target, root, seen);
      if (found) return found;
    }
  }
  return null;
}

function testFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...testFiles(p));
    else if (e.name.endsWith(".test.ts")) out.push(p);
  }
  return out.sort();
}

/** The unit tests of the project at `root`, and the others with the import that keeps each out. */
export function unitTests(root: string): { unit: string[]; excluded: { file: string; why: string }[] } {
  const unit: string[] = [];
  const excluded: { file: string; why: string }[] = [];
  for (const file of testFiles(path.join(root, "src"))) {
    const why = impurity(file, root);
    if (why) excluded.push({ file: path.relative(root, file), why });
    else unit.push(path.relative(root, file));
  }
  return { unit, excluded };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const root = path.resolve(path.dirname(process.argv[1]), "..");
  const { unit, excluded } = unitTests(root);
  if (process.argv.includes("--why"))
    for (const e of excluded) process.stdout.write(`not a unit test: ${e.file} (${e.why})\n`);
  else process.stdout.write(unit.join("\n") + "\n");
}
