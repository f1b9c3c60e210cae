// A lock records what decided its resolve besides the request (package_filter, package_orderers, the variant
// selection, the platform resolved for), and its .rxt says what Rez's says: checked against real Rez by
// scripts/rez-oracle/context_decisions.py over test/fixtures/context-decisions (a rezconfig.py hiding betas and
// lib 3, and preferring lib 1.5 and below), which also recorded that Rez reads Tantalus's .rxt back the same.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import test from "node:test";
import { hostSystem } from "../src/rez/system.js";
import { projectRoot, runCliIsolated, tempDir } from "./helpers.js";

const ROOT = path.join(projectRoot, "test", "fixtures", "context-decisions");
const REPO = path.join(ROOT, "packages");

interface Decisions {
  status: string;
  resolved: string[];
  package_filter: unknown[];
  package_orderers: unknown[] | null;
  platform: string;
  arch: string;
  os: string;
}
const recorded = JSON.parse(fs.readFileSync(path.join(ROOT, "rez-recorded.json"), "utf8")) as {
  rez: Decisions;
  rez_reads_tantalus_rxt: Decisions & {
    package_filter_read: unknown[];
    package_orderers_read: unknown[] | null;
    environ: Record<string, string>;
  };
};

const cli = runCliIsolated;

test("a resolve under a rezconfig's package_filter and package_orderers records both in the lock and its .rxt, as Rez's .rxt holds them", () => {
  const dir = tempDir("tantalus-decisions-");
  const lock = path.join(dir, "lock.json");
  const rxt = path.join(dir, "context.rxt");
  const r = cli(dir, ["resolve", "tool", "--paths", REPO, "-o", lock, "--rxt", rxt], path.join(ROOT, "rezconfig.py"));
  assert.equal(r.code, 0, r.stderr);

  const ctx = JSON.parse(fs.readFileSync(lock, "utf8")) as Record<string, unknown> & {
    resolved: { name: string; version: string }[];
  };
  // The resolve the filter and orderer decided (no beta, lib 1.5 before 2.0), as Rez's.
  assert.deepEqual(
    ctx.resolved.map((v) => `${v.name}-${v.version}[]`),
    recorded.rez.resolved,
  );
  assert.deepEqual(ctx.packageFilter, recorded.rez.package_filter);
  assert.deepEqual(ctx.packageOrderers, recorded.rez.package_orderers);
  assert.equal(ctx.variantSelectMode, "version_priority");
  assert.deepEqual(ctx.system, hostSystem());

  const written = JSON.parse(fs.readFileSync(rxt, "utf8")) as Record<string, unknown>;
  assert.deepEqual(written.package_filter, recorded.rez.package_filter);
  assert.deepEqual(written.package_orderers, recorded.rez.package_orderers);
  assert.deepEqual([written.platform, written.arch, written.os], Object.values(hostSystem()));
  // What Rez read from such a file when it was recorded: the same filter, orderers and resolve as its own.
  const read = recorded.rez_reads_tantalus_rxt;
  assert.deepEqual(read.package_filter_read, recorded.rez.package_filter);
  assert.deepEqual(read.package_orderers_read, recorded.rez.package_orderers);
  assert.deepEqual(read.resolved, recorded.rez.resolved);
  assert.deepEqual(read.environ, { LIB_VERSION: "1.5" });

  // The lock says what decided it; so does the .rxt exported from it again.
  const show = cli(dir, ["context", "show", lock]);
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, /^package filter: \[\{"excludes":\["glob\(\*\.beta\)","range\(lib-3\+\)"\]\}\]$/m);
  assert.match(
    show.stdout,
    /^package orderers: \[\{"type":"version_split","first_version":"1\.5","packages":\["lib"\]\}\]$/m,
  );
  const again = path.join(dir, "again.rxt");
  assert.equal(cli(dir, ["context", "export", lock, "-o", again]).code, 0);
  const exported = JSON.parse(fs.readFileSync(again, "utf8")) as Record<string, unknown>;
  assert.deepEqual(exported.package_filter, recorded.rez.package_filter);
  assert.deepEqual(exported.package_orderers, recorded.rez.package_orderers);
});

test("Rez's own .rxt imports with its filter, orderers and system; a lock written before they were kept still reads", () => {
  const dir = tempDir("tantalus-decisions-import-");
  const rezRxt = path.join(dir, "rez.rxt");
  fs.writeFileSync(rezRxt, fs.readFileSync(path.join(ROOT, "rez-context.rxt.json"), "utf8").replaceAll("@ROOT@", ROOT));
  const lock = path.join(dir, "imported.json");
  const imp = cli(dir, ["context", "import", rezRxt, "-o", lock]);
  assert.equal(imp.code, 0, imp.stderr);
  const ctx = JSON.parse(fs.readFileSync(lock, "utf8")) as Record<string, unknown>;
  assert.deepEqual(ctx.packageFilter, recorded.rez.package_filter);
  assert.deepEqual(ctx.packageOrderers, recorded.rez.package_orderers);
  assert.deepEqual(ctx.system, { platform: recorded.rez.platform, arch: recorded.rez.arch, os: recorded.rez.os });

  // An older lock: none of the four fields. It loads, shows them as not recorded, and exports as Rez's defaults.
  const old = { ...ctx };
  for (const k of ["packageFilter", "packageOrderers", "variantSelectMode", "system"]) delete old[k];
  const oldLock = path.join(dir, "old.json");
  fs.writeFileSync(oldLock, JSON.stringify(old));
  const show = cli(dir, ["context", "show", oldLock]);
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, /^package filter: \(not recorded: an older lock\)$/m);
  const env = cli(dir, ["env", "--json", "--context", oldLock]);
  assert.equal(env.code, 0, env.stderr);
  assert.equal((JSON.parse(env.stdout) as Record<string, string>).LIB_VERSION, "1.5");
  const rxt = path.join(dir, "old.rxt");
  assert.equal(cli(dir, ["context", "export", oldLock, "-o", rxt]).code, 0);
  const exported = JSON.parse(fs.readFileSync(rxt, "utf8")) as Record<string, unknown>;
  assert.deepEqual(exported.package_filter, []);
  assert.equal(exported.package_orderers, null);

  // A lock whose record is malformed is refused in one sentence naming the file.
  fs.writeFileSync(oldLock, JSON.stringify({ ...ctx, packageOrderers: "lib first" }));
  const bad = cli(dir, ["context", "show", oldLock]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /old\.json: invalid context: "packageOrderers" must be null or a list of orderers/);

  // Well-shaped but unreadable: an orderer or a filter rule Rez cannot read is refused as the solver
  // would refuse it, before `context export` could write an .rxt that Rez refuses.
  fs.writeFileSync(oldLock, JSON.stringify({ ...ctx, packageOrderers: [{ type: "bogus" }] }));
  const orderer = cli(dir, ["context", "export", oldLock, "-o", rxt]);
  assert.equal(orderer.code, 1);
  assert.match(orderer.stderr, /old\.json: invalid context: "packageOrderers": packageOrderers\[0\]: .*bogus/);
  assert.equal(orderer.stderr.trim().split("\n").length, 1, orderer.stderr);
  fs.writeFileSync(oldLock, JSON.stringify({ ...ctx, packageFilter: [{ excludes: ["lib-1+<"] }] }));
  const filter = cli(dir, ["context", "verify", oldLock]);
  assert.equal(filter.code, 1);
  assert.match(filter.stderr, /old\.json: invalid context: "packageFilter": /);
});
