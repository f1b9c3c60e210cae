// Two studios on one machine, each with its own store and a workflow of the same name:
// the images they load into podman are named by store, so running one never changes what the
// other runs, and `tantalus gc` removes the podman copies of images its store no longer has, and
// the audit's unpacked copies that no image of the store uses.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { parseDocument } from "yaml";
import { runCli, tempDir, type CliResult } from "./helpers.js";
import { storeId } from "../src/locations.js";

const ROOT = (process.getuid?.() ?? 1) === 0;
const hasPodman = spawnSync("sh", ["-c", "command -v podman"]).status === 0;

let work: string;
let env: NodeJS.ProcessEnv;
const studios: Record<"a" | "b", { config: string; store: string }> = {} as never;

function ok(r: CliResult, what: string): CliResult {
  assert.equal(r.code, 0, `${what}: exit ${r.code}\n${r.stderr}`);
  return r;
}

function edit(config: string, f: (doc: ReturnType<typeof parseDocument>) => void): void {
  const doc = parseDocument(fs.readFileSync(config, "utf8"));
  f(doc);
  fs.writeFileSync(config, doc.toString());
}

function podmanNames(): string[] {
  const p = spawnSync("podman", ["images", "--format", "{{.Repository}}:{{.Tag}}"], { encoding: "utf8" });
  return p.stdout.split("\n").filter((n) => n.startsWith("localhost/tantalus/"));
}

function launch(s: "a" | "b"): string {
  const r = ok(
    runCli(
      [
        "run",
        "rough_layout",
        "--config",
        studios[s].config,
        "--store",
        studios[s].store,
        "--runtime",
        "podman",
        "-c",
        "launch_app -show=dragon",
      ],
      { env },
    ),
    `run in studio ${s}`,
  );
  return /app=(\S+)/.exec(r.stdout)?.[1] ?? r.stdout;
}

before(() => {
  if (!ROOT || !hasPodman) return;
  work = tempDir("tantalus-runtime-names-");
  env = {
    HOME: path.join(work, "home"),
    XDG_CACHE_HOME: undefined,
    TANTALUS_CACHE_DIR: undefined,
    TANTALUS_STORE: undefined,
  };
  fs.mkdirSync(env.HOME!);
  const a = path.join(work, "a");
  ok(runCli(["studio", "generate", a], { env }), "studio generate");
  spawnSync("cp", ["-a", a, path.join(work, "b")]);
  for (const s of ["a", "b"] as const) {
    studios[s] = { config: path.join(work, s, "tantalus.yaml"), store: path.join(work, s, "store") };
    edit(studios[s].config, (doc) => doc.setIn(["packages", "layout_tools", "add_requires"], ["alembic-1.8"]));
  }
  // Studio b's rough_layout is another image: Maya 2024.
  edit(studios.b.config, (doc) =>
    doc.setIn(
      ["workflows", "rough_layout", "request"],
      ["launch_app", "layout_tools", "maya-2024", "studio_assets", "show_config"],
    ),
  );
});

after(() => {
  if (!work) return;
  for (const n of podmanNames())
    if (n.includes(storeId(studios.a.store)) || n.includes(storeId(studios.b.store)))
      spawnSync("podman", ["rmi", "--force", n]);
  fs.rmSync(work, { recursive: true, force: true });
});

describe(
  "runtime names per store",
  { skip: !ROOT ? "rootful podman needs root" : !hasPodman ? "podman is not installed" : false },
  () => {
    test(
      "two studios' rough_layout images live side by side in podman, and gc removes the copies a store no longer has",
      { timeout: 600_000 },
      () => {
        for (const s of ["a", "b"] as const)
          ok(
            runCli(["build", "rough_layout", "--config", studios[s].config, "--store", studios[s].store], { env }),
            `build ${s}`,
          );
        assert.match(launch("a"), /^maya-2025/);
        assert.match(launch("b"), /^maya-2024/);
        assert.match(launch("a"), /^maya-2025/, "running studio b did not change what studio a runs");

        const [idA, idB] = [storeId(studios.a.store), storeId(studios.b.store)];
        assert.notEqual(idA, idB);
        const named = podmanNames();
        const ofA = named.filter((n) => n.startsWith(`localhost/tantalus/${idA}/rough_layout:`));
        const ofB = named.filter((n) => n.startsWith(`localhost/tantalus/${idB}/rough_layout:`));
        assert.equal(ofA.length, 1, named.join("\n"));
        assert.equal(ofB.length, 1, named.join("\n"));

        // The audit of each stored image unpacks a copy into the (shared) user cache.
        const rootfs = path.join(env.HOME!, ".cache", "tantalus", "audit", "rootfs");
        const copyOf: Record<string, string> = {};
        for (const s of ["a", "b"] as const) {
          const before = new Set(fs.existsSync(rootfs) ? fs.readdirSync(rootfs) : []);
          const audit = runCli(["audit", "rough_layout", "--config", studios[s].config, "--base", "rough_layout"], {
            env: { ...env, TANTALUS_STORE: studios[s].store },
          });
          assert.ok(audit.code === 0 || audit.code === 1, audit.stderr);
          copyOf[s] = fs.readdirSync(rootfs).find((n) => !before.has(n) && !n.endsWith(".stores"))!;
          assert.ok(copyOf[s], `audit in ${s} unpacked its base`);
        }

        // Studio a moves to Maya 2024 too: a new image; gc --keep 1 drops the old one from store a,
        // and with it its podman copy; studio b's copy stays.
        edit(studios.a.config, (doc) =>
          doc.setIn(
            ["workflows", "rough_layout", "request"],
            ["launch_app", "layout_tools", "maya-2024", "studio_assets", "show_config"],
          ),
        );
        assert.match(launch("a"), /^maya-2024/);
        const gc = ok(
          runCli(["gc", "--keep", "1", "--min-age", "0s", "--store", studios.a.store, "--json"], { env }),
          "gc a",
        );
        const report = JSON.parse(gc.stdout) as { runtimeCopies: string[]; auditCopies: string[] };
        assert.deepEqual(report.runtimeCopies, ofA);
        assert.deepEqual(
          report.auditCopies,
          [copyOf.a!.replace("-", ":")],
          "the audit's copy of a's old image, which no image of a uses",
        );
        assert.ok(!fs.existsSync(path.join(rootfs, copyOf.a!)));
        assert.ok(fs.existsSync(path.join(rootfs, copyOf.b!)), "the copy from studio b's store stays");
        const left = podmanNames();
        assert.ok(!left.includes(ofA[0]!), `${ofA[0]} removed`);
        assert.ok(left.includes(ofB[0]!), "studio b's copy kept");
        assert.equal(
          left.filter((n) => n.startsWith(`localhost/tantalus/${idA}/`)).length,
          1,
          "studio a's current copy kept",
        );
        assert.match(launch("b"), /^maya-2024/);
      },
    );
  },
);
