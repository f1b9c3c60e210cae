import { after, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { TantalusError } from "../errors.js";
import { compareStrategies, studioReport, syntheticStudio, type Strategy } from "../plan/index.js";
import type { ReportData } from "./data.js";
import { REPORT_MARKER, writeSite } from "./site.js";

/** Report data over a synthetic studio's plan: no resolve, audit or store needed to test how the site is written. */
function syntheticData(extra: Partial<ReportData> = {}): ReportData {
  const strategies = compareStrategies(syntheticStudio({ seed: 7, workflows: 4, variants: 40 }));
  const plan = strategies.shared.plan;
  return {
    title: "test report",
    configFile: "/studio/tantalus.yaml",
    plan,
    tierOf: {},
    variants: {},
    reports: Object.fromEntries(
      (Object.keys(strategies) as Strategy[]).map((s) => [s, studioReport(strategies[s].plan)]),
    ) as ReportData["reports"],
    baseLayers: { count: 1, source: "demo base" },
    images: plan.images.map((i) => ({
      name: i.name,
      baseLayers: i.baseLayers,
      topLayers: i.topLayers,
      layers: i.layers,
      packageBytes: i.packageBytes,
      ownBytes: 0,
      plannedBytes: 0,
      environment: ["PATH=/usr/bin"],
    })),
    graphs: [],
    failed: [],
    audits: [],
    suggestions: [],
    suggestedYaml: "",
    history: {},
    storedBuilds: { builds: [], layers: {} },
    warnings: [],
    ...extra,
  };
}

const scratches: string[] = [];
after(() => scratches.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function scratch(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tantalus-report-site-"));
  scratches.push(dir);
  return dir;
}

test("the site is written whole into a new folder, with its assets and a marker", () => {
  const dir = path.join(scratch(), "site");
  const site = writeSite(dir, syntheticData());
  assert.deepEqual(site.pages, ["index.html", "images.html", "graph.html", "audit.html", "history.html"]);
  assert.deepEqual(fs.readdirSync(dir).sort(), [REPORT_MARKER, "assets", ...site.pages].sort());
  const index = fs.readFileSync(path.join(dir, "index.html"), "utf8");
  // Only relative references: the site works from file:// and from any web server path.
  for (const ref of index.matchAll(/(?:href|src)="([^"#]+)"/g)) assert.doesNotMatch(ref[1]!, /^(\/|[a-z]+:)/, ref[1]);
  assert.match(index, /<table class="matrix">/);
  // Nothing left beside it.
  assert.deepEqual(fs.readdirSync(path.dirname(dir)), ["site"]);
});

test("an earlier report is replaced whole; a folder that holds something else is refused and kept", () => {
  const parent = scratch();
  const dir = path.join(parent, "site");
  writeSite(dir, syntheticData({ migration: { from: "rocky-9", to: "alma-10" } }));
  assert.ok(fs.existsSync(path.join(dir, "migration.html")));
  writeSite(dir, syntheticData());
  // The second report has no migration page: the folder was replaced, not merged into.
  assert.ok(!fs.existsSync(path.join(dir, "migration.html")));
  assert.deepEqual(fs.readdirSync(parent), ["site"]);

  const mine = path.join(parent, "mine");
  fs.mkdirSync(mine);
  fs.writeFileSync(path.join(mine, "notes.txt"), "keep me");
  assert.throws(
    () => writeSite(mine, syntheticData()),
    (e: unknown) => e instanceof TantalusError && /not empty and holds no earlier report/.test(e.message),
  );
  assert.deepEqual(fs.readdirSync(mine), ["notes.txt"]);
  assert.deepEqual(fs.readdirSync(parent).sort(), ["mine", "site"]);
});

test("the migration page appears only when its report is given, and shows its data", () => {
  const dir = path.join(scratch(), "site");
  const site = writeSite(
    dir,
    syntheticData({ migration: { from: "rocky-9", to: "alma-10", packages: [{ name: "usd", status: "rebuild" }] } }),
  );
  assert.ok(site.pages.includes("migration.html"));
  const page = fs.readFileSync(path.join(dir, "migration.html"), "utf8");
  assert.match(page, /alma-10/);
  assert.match(page, /<th scope="col">status<\/th>/);
  assert.match(page, /<td>rebuild<\/td>/);
  // Every page links to it.
  assert.match(fs.readFileSync(path.join(dir, "index.html"), "utf8"), /href="migration.html"/);
});

test("a write that fails leaves the earlier report as it was and nothing beside it", () => {
  const parent = scratch();
  const dir = path.join(parent, "site");
  writeSite(dir, syntheticData());
  const before = fs.readFileSync(path.join(dir, "index.html"), "utf8");
  // A title whose page cannot be rendered: the failure happens mid-write, after the temporary folder exists.
  const broken = syntheticData();
  Object.defineProperty(broken, "title", {
    get() {
      throw new TantalusError("rendering failed");
    },
  });
  assert.throws(() => writeSite(dir, broken), /rendering failed/);
  assert.equal(fs.readFileSync(path.join(dir, "index.html"), "utf8"), before);
  assert.deepEqual(fs.readdirSync(parent), ["site"]);
});
