import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { benchmarkRepository, runCli, sharedDir, tempDir } from "./helpers.js";
import { loadContext, verifyContext } from "../src/context/context.js";
import { importRxt } from "../src/context/rxt.js";
import { Repositories } from "../src/rez/repository/index.js";

const reference = JSON.parse(
  fs.readFileSync(
    path.join(sharedDir, "data", "rez-benchmark", "reference", "2022.11.16-3.7-2.112.0", "resolves.json"),
    "utf8",
  ),
) as { request: string[]; status: string; resolved_packages: string[] | null }[];

/** The part of `resolve --json` these tests read. */
interface ResolveJson {
  status: string;
  resolved: string[];
  seconds: number;
}

/** The part of a Rez context file (.rxt) these tests read. */
interface RxtJson {
  serialize_version: string;
  package_requests: string[];
  resolved_packages: { key: string; variables: { name: string; version: string; index: number | null } }[];
}

/** Rez's benchmark URI `wave/2.7.13/package.py[0]` as a qualified variant name `wave-2.7.13[0]`. */
function qualified(uri: string): string {
  const m = /^([^/]+)\/(.*)\/package\.py\[(\d*)\]$/.exec(uri)!;
  return `${m[1]}-${m[2]}[${m[3]}]`;
}

test("resolve --json prints Rez's ordered variant list for a benchmark request", () => {
  const ref = reference[0]!;
  const r = runCli(["resolve", "--no-implicit", "--json", "--paths", benchmarkRepository(), ...ref.request]);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as ResolveJson;
  assert.equal(out.status, "solved");
  assert.deepEqual(out.resolved, (ref.resolved_packages ?? []).map(qualified));
  assert.equal(typeof out.seconds, "number");
});

test("resolve --batch resolves many requests with one load, each with its time", () => {
  const dir = tempDir();
  const batch = path.join(dir, "requests.json");
  const refs = reference.slice(0, 3);
  fs.writeFileSync(
    batch,
    JSON.stringify([...refs.map((r) => r.request), ["nail-2.1+<3", "nail-1.2+<2"], ["bad name"]]),
  );
  const r = runCli(["resolve", "--batch", batch, "--no-implicit", "--json", "--paths", benchmarkRepository()]);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as {
    status: string;
    resolved: string[];
    seconds: number;
    failure?: { description: string };
  }[];
  assert.equal(out.length, 5);
  refs.forEach((ref, i) => {
    assert.equal(out[i]!.status, ref.status === "success" ? "solved" : "failed");
    assert.deepEqual(out[i]!.resolved, (ref.resolved_packages ?? []).map(qualified));
    assert.ok(out[i]!.seconds >= 0);
  });
  assert.equal(out[3]!.status, "failed");
  assert.match(out[3]!.failure!.description, /nail-2\.1\+<3 <--!--> nail-1\.2\+<2/);
  assert.equal(out[4]!.status, "failed");
  assert.match(out[4]!.failure!.description, /not a valid package name/);
  const notArray = path.join(dir, "bad.json");
  fs.writeFileSync(notArray, `{"request": ["x"]}`);
  const bad = runCli(["resolve", "--batch", notArray, "--paths", benchmarkRepository()]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /bad\.json: expected a JSON array of requests/);
});

test("resolve -o writes a context that names every variant with its definition digest, and drift is detected", () => {
  const repo = tempDir();
  const write = (rel: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(repo, rel)), { recursive: true });
    fs.writeFileSync(path.join(repo, rel), text);
  };
  write("python/3.11.4/package.py", "name = 'python'\nversion = '3.11.4'\n");
  write("bar/1.0/package.py", "name = 'bar'\nversion = '1.0'\nrequires = ['foo-1']\nvariants = [['python-3.11']]\n");
  write("foo/1.2.10/package.py", "name = 'foo'\nversion = '1.2.10'\n");
  write("foo/2.0.0/package.py", "name = 'foo'\nversion = '2.0.0'\n");
  write("bar/1.0/python-3.11/bin/bar", "#!/bin/sh\n");
  const ctxFile = path.join(repo, "ctx.json");
  const rxtFile = path.join(repo, "ctx.rxt");
  const r = runCli(["resolve", "--no-implicit", "--paths", repo, "-o", ctxFile, "--rxt", rxtFile, "bar"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /resolved packages \(3\):/);
  assert.match(r.stdout, /bar-1\.0\[0\] +\S+bar\/1\.0\/python-3\.11/);

  const ctx = loadContext(ctxFile);
  assert.deepEqual(ctx.request, ["bar"]);
  assert.deepEqual(
    ctx.resolved.map((v) => `${v.name}-${v.version}[${v.index ?? ""}]`),
    // Rez's dependency order (checked with Rez 3.4): dependencies first, then request order, then by name.
    ["foo-1.2.10[]", "python-3.11.4[]", "bar-1.0[0]"],
  );
  assert.ok(ctx.resolved.every((v) => /^sha256:[0-9a-f]{64}$/.test(v.digest) && v.repository === repo));
  assert.equal(ctx.resolved[2]!.root, path.join(repo, "bar/1.0/python-3.11"));
  assert.deepEqual(verifyContext(ctx), []);

  // The Rez context names the same variants through filesystem handles.
  const rxt = JSON.parse(fs.readFileSync(rxtFile, "utf8")) as RxtJson;
  assert.equal(rxt.serialize_version, "4.9");
  assert.deepEqual(rxt.package_requests, ["bar"]);
  assert.deepEqual(rxt.resolved_packages[2], {
    key: "filesystem.variant",
    variables: { index: 0, location: repo, name: "bar", repository_type: "filesystem", version: "1.0" },
  });
  const back = importRxt(rxtFile, (paths) => new Repositories(paths, { cache: false }));
  assert.deepEqual(
    back.resolved.map((v) => v.root),
    ctx.resolved.map((v) => v.root),
  );

  write("foo/1.2.10/package.py", "name = 'foo'\nversion = '1.2.10'\nrequires = ['python']\n");
  fs.rmSync(path.join(repo, "bar/1.0/python-3.11"), { recursive: true });
  const drift = verifyContext(ctx).map((d) => `${d.variant}: ${d.problem}`);
  assert.equal(drift.length, 2, drift.join("\n"));
  assert.match(drift[0]!, /^foo-1\.2\.10\[\]: package definition .*foo\/1\.2\.10\/package\.py changed/);
  assert.match(drift[1]!, /^bar-1\.0\[0\]: install root .*bar\/1\.0\/python-3\.11 is gone/);
});

test("resolve --time ignores packages released after the time", () => {
  const repo = tempDir();
  for (const [v, t] of [
    ["1.0", 1000],
    ["2.0", 2000],
  ] as const) {
    fs.mkdirSync(path.join(repo, "tool", v), { recursive: true });
    fs.writeFileSync(path.join(repo, "tool", v, "package.py"), `name = 'tool'\nversion = '${v}'\ntimestamp = ${t}\n`);
  }
  const now = runCli(["resolve", "--no-implicit", "--json", "--paths", repo, "tool"]);
  assert.deepEqual((JSON.parse(now.stdout) as ResolveJson).resolved, ["tool-2.0[]"]);
  const past = runCli(["resolve", "--no-implicit", "--json", "--time", "1500", "--paths", repo, "tool"]);
  assert.deepEqual((JSON.parse(past.stdout) as ResolveJson).resolved, ["tool-1.0[]"]);
  const bad = runCli(["resolve", "--time", "yesterday-ish", "--paths", repo, "tool"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--time 'yesterday-ish': expected epoch seconds/);
});

test("unsatisfiable and malformed requests fail with specific, readable errors", () => {
  const repo = benchmarkRepository();
  const cases: [string[], RegExp][] = [
    [["no_such_family"], /no package family 'no_such_family' exists/],
    [["wave-99"], /no version of wave satisfies wave-99 \(requested\)/],
    [["nail-2.1+<3", "nail-1.2+<2"], /nail-2\.1\+<3 \(requested\) conflicts with nail-1\.2\+<2 \(requested\)/],
  ];
  for (const [req, re] of cases) {
    const r = runCli(["resolve", "--no-implicit", "--paths", repo, ...req]);
    assert.equal(r.code, 1, req.join(" "));
    assert.match(r.stderr, re);
  }
  // A malformed requirement on the command line is a usage error, found before anything is loaded.
  const malformed = runCli(["resolve", "--no-implicit", "--paths", repo, "wave-3+<2"]);
  assert.equal(malformed.code, 2);
  assert.match(malformed.stderr, /invalid requirement 'wave-3\+<2'.*lower bound is above the upper bound/);
  const badName = runCli(["resolve", "--no-implicit", "--paths", repo, "wa ve"]);
  assert.equal(badName.code, 2);
  assert.match(badName.stderr, /'wa ve' is not a valid package name/);
});

test("a context written by real Rez imports, shows, verifies and exports back", () => {
  const repo = benchmarkRepository();
  const dir = tempDir();
  const rezRxt = path.join(dir, "rez.rxt");
  // Recorded from `rez-env --ni ... --output` (Rez 3.4) on the benchmark repository.
  fs.writeFileSync(
    rezRxt,
    fs
      .readFileSync(path.join(import.meta.dirname ?? __dirname, "data", "rez-written.rxt"), "utf8")
      .replaceAll("@BENCHMARK_REPO@", repo),
  );
  const ctxFile = path.join(dir, "ctx.json");
  const imp = runCli(["context", "import", rezRxt, "-o", ctxFile]);
  assert.equal(imp.code, 0, imp.stderr);
  const rez = JSON.parse(fs.readFileSync(rezRxt, "utf8")) as RxtJson;
  const ctx = loadContext(ctxFile);
  assert.deepEqual(ctx.request, rez.package_requests);
  assert.deepEqual(
    ctx.resolved.map((v) => `${v.name}-${v.version}[${v.index ?? ""}]`),
    rez.resolved_packages.map((h) => `${h.variables.name}-${h.variables.version}[${h.variables.index ?? ""}]`),
  );
  // The same request resolved by Tantalus gives the same list.
  const again = runCli(["resolve", "--no-implicit", "--json", "--paths", repo, ...rez.package_requests]);
  assert.deepEqual(
    (JSON.parse(again.stdout) as ResolveJson).resolved,
    ctx.resolved.map((v) => `${v.name}-${v.version}[${v.index ?? ""}]`),
  );
  const show = runCli(["context", "show", ctxFile]);
  assert.match(show.stdout, /wave-2\.7\.13\[0\]/);
  // The benchmark repository has definitions but no variant payload directories: the
  // import records those roots as missing. verify never calls them "gone", and does not
  // call the context current either, because build --context refuses missing roots.
  const missing = ctx.resolved.filter((v) => v.rootMissing);
  assert.equal(missing.length, ctx.resolved.filter((v) => v.index !== null).length);
  const verify = runCli(["context", "verify", "--json", ctxFile]);
  assert.equal(verify.code, 1, verify.stderr);
  const drift = JSON.parse(verify.stdout) as { variant: string; problem: string }[];
  assert.equal(drift.length, missing.length);
  for (const d of drift)
    assert.match(d.problem, /^install root \S+ is missing \(it was missing when the context was made too\)$/);
  const out = path.join(dir, "back.rxt");
  assert.equal(runCli(["context", "export", ctxFile, "-o", out]).code, 0);
  assert.deepEqual((JSON.parse(fs.readFileSync(out, "utf8")) as RxtJson).resolved_packages, rez.resolved_packages);
  const broken = path.join(dir, "broken.rxt");
  fs.writeFileSync(broken, '{"status": "solved"}');
  const bad = runCli(["context", "import", broken, "-o", path.join(dir, "x.json")]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /broken\.rxt: not a Rez context: no "serialize_version" field/);
});
