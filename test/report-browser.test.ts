// integration: drives Debian's chromium (a process) over the DevTools protocol
/**
 * `tantalus report --html` on the sample studio, opened in a real browser
 * (Debian's chromium, headless, driven by puppeteer-core: no browser is
 * downloaded). Every page must load from file:// with no console error and
 * no request outside the site; the studio matrix, the layer selection, the
 * resolve graphs and the audit are checked against what `plan --json`, the
 * workflow stage and the studio's defect manifest say. Screenshots of every
 * page go to test-output/report/ (or $TANTALUS_TEST_OUTPUT/report/).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { projectRoot, runCli, tempDir } from "./helpers.js";
import { sampleStudio, type Studio } from "./builder/fixture.js";
import { loadConfig } from "../src/config/index.js";
import { resolveWorkflows } from "../src/workflow/resolve.js";
import { Repositories } from "../src/rez/repository/index.js";

const CHROMIUM = "/usr/bin/chromium";
const skip = fs.existsSync(CHROMIUM) ? false : `no ${CHROMIUM} (scripts/setup-host.sh installs Debian's chromium)`;

const PAGES = ["index", "images", "graph", "audit", "history"];
const shotsDir = path.join(process.env.TANTALUS_TEST_OUTPUT ?? path.join(projectRoot, "test-output"), "report");

let scratch: string;
let studio: Studio;
let site: string;
let browser: Browser | undefined;

interface PlanJson {
  images: { name: string; layers: string[] }[];
  layers: { key: string; images: string[] }[];
}

before(async () => {
  if (skip) return;
  scratch = tempDir("tantalus-report-");
  studio = await sampleStudio(scratch);
  site = path.join(scratch, "site");
  const r = runCli(["report", "--all", "--html", site], {
    cwd: studio.dir,
    env: { TANTALUS_STORE: path.join(scratch, "store") },
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /report written to .*site \(5 pages/);
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Root in a container has no user namespace for chromium's sandbox.
    args: process.getuid?.() === 0 ? ["--no-sandbox"] : [],
  });
  fs.mkdirSync(shotsDir, { recursive: true });
});

after(async () => {
  await browser?.close();
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

/** Evaluates `expression` in the page; a string, because the tests are type-checked without the DOM library. */
async function inPage<T>(page: Page, expression: string): Promise<T> {
  return (await page.evaluate(expression)) as T;
}
const q = (s: string) => JSON.stringify(s);
const attrs = (page: Page, selector: string, name: string) =>
  inPage<(string | null)[]>(
    page,
    `Array.from(document.querySelectorAll(${q(selector)}), (e) => e.getAttribute(${q(name)}))`,
  );
const attr = (page: Page, selector: string, name: string) =>
  inPage<string | null>(page, `document.querySelector(${q(selector)})?.getAttribute(${q(name)}) ?? null`);
const count = (page: Page, selector: string) =>
  inPage<number>(page, `document.querySelectorAll(${q(selector)}).length`);
const text = (page: Page, selector: string) =>
  inPage<string>(page, `document.querySelector(${q(selector)})?.textContent ?? ""`);

/** Opens a page of the site, recording console errors, page errors and every request that leaves the site. */
async function open(name: string): Promise<{ page: Page; problems: string[] }> {
  const page = await browser!.newPage();
  await page.setViewport({ width: 1400, height: 900 });
  const problems: string[] = [];
  const root = `file://${site}/`;
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console error: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${String(e)}`));
  page.on("requestfailed", (req) => problems.push(`failed request: ${req.url()}`));
  page.on("request", (req) => {
    if (!req.url().startsWith(root)) problems.push(`request outside the site: ${req.url()}`);
  });
  const response = await page.goto(`${root}${name}.html`, { waitUntil: "load" });
  assert.ok(response === null || response.ok(), `${name}.html did not load`);
  return { page, problems };
}

test(
  "every page loads from file:// with no console error and no request outside the site; screenshots written",
  { skip },
  async (t) => {
    for (const name of PAGES) {
      const { page, problems } = await open(name);
      // The navigation reaches every page, and marks this one.
      const nav = await inPage<{ href: string | null; current: string | null }[]>(
        page,
        `Array.from(document.querySelectorAll("nav[aria-label='Report pages'] a"), (a) => ({ href: a.getAttribute("href"), current: a.getAttribute("aria-current") }))`,
      );
      assert.deepEqual(
        nav.map((n) => n.href),
        PAGES.map((p) => `${p}.html`),
      );
      assert.equal(nav.find((n) => n.current === "page")?.href, `${name}.html`);
      assert.equal((await text(page, "main h1")).length > 0, true);
      const shot = path.join(shotsDir, `${name}.png`);
      await page.screenshot({ path: shot, fullPage: name !== "graph" && name !== "images" });
      assert.ok(fs.statSync(shot).size > 10_000, `${shot} is too small to show the page`);
      assert.deepEqual(problems, [], `${name}.html`);
      await page.close();
    }
    t.diagnostic(`screenshots of every page: ${shotsDir}`);
    process.stderr.write(`report screenshots: ${shotsDir}\n`);
  },
);

test(
  "the studio matrix shows the 10 workflows and the plan's layers; selecting a layer by keyboard highlights the images carrying it",
  { skip },
  async () => {
    const plan = JSON.parse(runCli(["plan", "--all", "--json"], { cwd: studio.dir }).stdout) as PlanJson;
    const { page, problems } = await open("index");
    const rows = await attrs(page, "table.matrix tbody tr", "data-image");
    assert.equal(rows.length, 10);
    assert.deepEqual(rows, plan.images.map((i) => i.name).sort());
    const columns = await attrs(page, "table.matrix button.layer", "data-layer");
    assert.deepEqual([...columns].sort(), plan.layers.map((l) => l.key).sort());
    // Each row's filled cells are exactly the image's planned layers.
    for (const image of plan.images) {
      const filled = await attrs(page, `tr[data-image="${image.name}"] td.has`, "data-layer");
      assert.deepEqual([...filled].sort(), [...image.layers].sort(), image.name);
    }
    // A layer some but not all images carry: the highlight must pick exactly those.
    const layer = plan.layers.find((l) => l.images.length > 1 && l.images.length < plan.images.length)!;
    assert.ok(layer, "the sample studio has a layer shared by some images only");
    await page.focus(`button.layer[data-layer="${layer.key}"]`);
    await page.keyboard.press("Enter");
    const carries = await attrs(page, "table.matrix tbody tr.carries", "data-image");
    assert.deepEqual(carries, [...layer.images].sort());
    const dimmed = await count(page, "table.matrix tbody tr.dimmed");
    assert.equal(dimmed, plan.images.length - layer.images.length);
    assert.equal(await attr(page, `button.layer[data-layer="${layer.key}"]`, "aria-pressed"), "true");
    assert.match(await text(page, "#layer-status"), new RegExp(`carried by ${layer.images.length} image`));
    await page.screenshot({ path: path.join(shotsDir, "index-layer-selected.png") });
    // Selecting it again clears the highlight.
    await page.keyboard.press("Enter");
    assert.equal(await count(page, "table.matrix tbody tr.carries"), 0);
    // The chart has its text alternative: a table with the three strategies.
    assert.equal(await attr(page, "svg.chart", "aria-describedby"), "chart-table");
    assert.equal(await count(page, "#chart-table tbody tr"), 3);
    assert.deepEqual(problems, []);
    await page.close();
  },
);

test(
  "the resolve graph has one node per resolved variant of each workflow, drawn afresh or kept",
  { skip },
  async () => {
    const config = loadConfig(studio.config);
    const resolved = resolveWorkflows(config, undefined, { repos: new Repositories(config.packagesPath) });
    assert.equal(resolved.resolves.size, 10);
    const { page, problems } = await open("graph");
    for (const [name, r] of resolved.resolves) {
      const nodes = await attrs(page, `section.graph[data-workflow="${name}"] svg g.node`, "data-variant");
      assert.deepEqual([...nodes].sort(), r.variants.map((v) => v.qualifiedName).sort(), name);
      // Laid out: no two nodes at the same place.
      const boxes = await inPage<string[]>(
        page,
        `Array.from(document.querySelectorAll(${q(`section.graph[data-workflow="${name}"] svg g.node rect`)}), (r) => r.getAttribute("x") + "," + r.getAttribute("y"))`,
      );
      assert.equal(new Set(boxes).size, boxes.length, name);
    }
    assert.deepEqual(problems, []);
    await page.close();
    // Drawn afresh (an empty cache, so every graph laid out again) or kept from an earlier report: the same page.
    const cold = path.join(scratch, "cold-site");
    const cache = path.join(scratch, "cold-cache");
    const r = runCli(["report", "--all", "--html", cold], {
      cwd: studio.dir,
      env: { TANTALUS_STORE: path.join(scratch, "store"), TANTALUS_CACHE_DIR: cache },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(fs.existsSync(path.join(cache, "report", "graph-layouts.json")));
    assert.equal(
      fs.readFileSync(path.join(cold, "graph.html"), "utf8"),
      fs.readFileSync(path.join(site, "graph.html"), "utf8"),
    );
  },
);

interface Defect {
  workflow: string;
  package: string;
  version: string;
  file: string;
  needed: string[];
  families?: Record<string, string[]>;
}

test(
  "the audit page lists the studio's three deliberate defects with their load chains and the fix list",
  { skip },
  async () => {
    const defects = (
      JSON.parse(fs.readFileSync(path.join(studio.dir, ".studio-defects.json"), "utf8")) as { defects: Defect[] }
    ).defects;
    assert.equal(defects.length, 3);
    const { page, problems } = await open("audit");
    const failing = await inPage<string[]>(
      page,
      `Array.from(document.querySelectorAll("section.audit")).filter((s) => s.querySelector("li.finding.error")).map((s) => s.getAttribute("data-workflow"))`,
    );
    assert.deepEqual(failing.sort(), defects.map((d) => d.workflow).sort());
    for (const d of defects) {
      const findings = await inPage<{ package: string; file: string; chain: string; steps: number }[]>(
        page,
        `Array.from(document.querySelectorAll(${q(`section.audit[data-workflow="${d.workflow}"] li.finding.error`)}), (li) => ({
          package: li.getAttribute("data-package") ?? "",
          file: li.getAttribute("data-file") ?? "",
          chain: li.querySelector("ol.chain")?.textContent ?? "",
          steps: li.querySelectorAll("ol.chain > li").length,
        }))`,
      );
      const mine = findings.filter((f) => f.file.endsWith(d.file));
      assert.ok(mine.length > 0, `${d.workflow}: no finding on ${d.file}`);
      const sonames = [...d.needed, ...Object.values(d.families ?? {}).flat()];
      for (const f of mine) {
        assert.ok(f.package.startsWith(`${d.package}-${d.version}`), f.package);
        // The chain names the object and the library it needs, then where it was (or was not) found.
        assert.ok(f.steps >= 2, `${d.workflow}: ${f.chain}`);
        assert.ok(f.chain.includes(d.file), f.chain);
        assert.ok(
          sonames.some((s) => f.chain.includes(s)),
          `${d.workflow}: ${f.chain}`,
        );
      }
    }
    // The fix list is the YAML `audit --suggest` prints.
    const yaml = await text(page, "#fix-list");
    const suggest = runCli(["audit", "--all", "--suggest", "--json"], { cwd: studio.dir });
    assert.equal(yaml, (JSON.parse(suggest.stdout) as { suggestedConfig: string }).suggestedConfig);
    assert.match(yaml, /layout_tools:\n\s+add_requires:\n\s+- alembic-1\.8/);
    assert.deepEqual(problems, []);
    await page.close();
  },
);

test(
  "built images: the image page shows the stored image's digest and layers, history shows each build and its churn",
  { skip },
  async () => {
    const store = path.join(scratch, "built-store");
    const env = { TANTALUS_STORE: store };
    const built = runCli(["build", "animation"], { cwd: studio.dir, env });
    assert.equal(built.code, 0, built.stderr);
    // A second build whose top layer differs (the workflow's environment changed).
    const config = fs.readFileSync(studio.config, "utf8");
    fs.writeFileSync(studio.config, config.replace("STUDIO_DEPARTMENT: animation", "STUDIO_DEPARTMENT: anim"));
    try {
      const again = runCli(["build", "animation", "--json"], { cwd: studio.dir, env });
      assert.equal(again.code, 0, again.stderr);
      const stats = (JSON.parse(again.stdout) as { stats: { seconds: number; auditSeconds: number } }).stats;
      const out = path.join(scratch, "built-site");
      const r = runCli(["report", "animation", "--html", out], { cwd: studio.dir, env });
      assert.equal(r.code, 0, r.stderr);
      const listed = JSON.parse(runCli(["images", "animation", "--json"], { cwd: studio.dir, env }).stdout) as {
        tag: string;
        digest: string;
        layers: number;
      }[];
      const newest = listed.find((i) => i.tag === "animation")!;
      const builds = new Set(listed.map((i) => i.digest));
      assert.equal(builds.size, 2);

      const saved = site;
      site = out;
      try {
        const images = await open("images");
        assert.equal(await text(images.page, "#image-animation code.digest"), newest.digest);
        assert.equal(await count(images.page, "#image-animation table.stored-layers tbody tr"), newest.layers);
        assert.match(await text(images.page, "#image-animation"), /STUDIO_DEPARTMENT=anim\b/);
        // Where that build's time went, as the build itself reported it.
        const times = await text(images.page, "#image-animation table.build-times");
        assert.match(times, new RegExp(`Where the build's time went: ${stats.seconds.toFixed(2)} s`));
        assert.match(times, new RegExp(`library audit\\s*${stats.auditSeconds.toFixed(2)}`));
        await images.page.screenshot({ path: path.join(shotsDir, "images-built.png") });
        assert.deepEqual(images.problems, []);
        await images.page.close();

        const history = await open("history");
        const rows = await inPage<string[][]>(
          history.page,
          `Array.from(document.querySelectorAll("#history-animation tbody tr"), (tr) => Array.from(tr.cells, (c) => c.textContent.trim()))`,
        );
        assert.equal(rows.length, 2);
        // Newest first; it re-ships only the changed top layer, not the packages.
        assert.equal(rows[0]![0], "animation");
        assert.notEqual(rows[0]![3], "first");
        assert.equal(rows[1]![3], "first");
        await history.page.screenshot({ path: path.join(shotsDir, "history-built.png") });
        assert.deepEqual(history.problems, []);
        await history.page.close();
      } finally {
        site = saved;
      }
    } finally {
      fs.writeFileSync(studio.config, config);
    }
  },
);

interface DiffJson {
  packages: { added: string[]; removed: string[]; changed: { name: string; from: string; to: string }[] };
  layers: {
    shared: { digest: string }[];
    onlyA: { digest: string }[];
    onlyB: { digest: string }[];
    changed: { from: { digest: string }; to: { digest: string } }[];
  };
}

test(
  "any two builds side by side: two non-consecutive builds picked by keyboard show what `tantalus diff A B` says, and the pair is linkable",
  { skip },
  async () => {
    const store = path.join(scratch, "compare-store");
    const env = { TANTALUS_STORE: store };
    const config = fs.readFileSync(studio.config, "utf8");
    const request = "request: [ launch_app, anim_tools, maya-2025, studio_assets, show_config ]";
    assert.ok(config.includes(request), "the sample studio's animation request changed: update this test");
    // Three builds of one workflow: as generated; launch_app pinned older; then older again, studio_assets
    // dropped and libpng added. The first against the third has packages added, removed and changed.
    const requests = [
      request,
      "request: [ launch_app-1.4, anim_tools, maya-2025, studio_assets, show_config ]",
      "request: [ launch_app-1.3, anim_tools, maya-2025, show_config, libpng ]",
    ];
    try {
      for (const r of requests) {
        fs.writeFileSync(studio.config, config.replace(request, r));
        const built = runCli(["build", "animation"], { cwd: studio.dir, env });
        assert.equal(built.code, 0, built.stderr);
      }
      const modeling = runCli(["build", "modeling"], { cwd: studio.dir, env });
      assert.equal(modeling.code, 0, modeling.stderr);
      const out = path.join(scratch, "compare-site");
      const r = runCli(["report", "animation", "modeling", "--html", out], { cwd: studio.dir, env });
      assert.equal(r.code, 0, r.stderr);
      // Newest first: [0] is the third build, [2] the first.
      const listed = (
        JSON.parse(runCli(["images", "animation", "--json"], { cwd: studio.dir, env }).stdout) as {
          tag: string;
          digest: string;
        }[]
      ).filter((i, n, all) => all.findIndex((x) => x.digest === i.digest) === n);
      assert.equal(listed.length, 3);
      const [third, second, first] = [listed[0]!, listed[1]!, listed[2]!];
      const diff = runCli(["diff", first.digest, third.digest, "--json"], { cwd: studio.dir, env });
      assert.equal(diff.code, 1, diff.stderr);
      const expected = JSON.parse(diff.stdout) as DiffJson;
      // The text form says the same: a changed layer is one "~" line (the top layer, its environment changed).
      const textDiff = runCli(["diff", first.digest, third.digest], { cwd: studio.dir, env });
      assert.match(textDiff.stdout, /^ {2}~ [0-9a-f]{12} .+ {2}top {2}\(was [0-9a-f]{12}, /m);
      assert.equal(textDiff.stdout.match(/^ {2}~ [0-9a-f]{12} /gm)?.length, expected.layers.changed.length);
      // The test means something only if every kind of change is there.
      assert.ok(expected.packages.added.length > 0 && expected.packages.removed.length > 0, diff.stdout);
      assert.ok(expected.packages.changed.length > 0 && expected.layers.changed.length > 0, diff.stdout);

      const saved = site;
      site = out;
      try {
        const { page, problems } = await open("history");
        // Preselected: the newest build against the one before it (consecutive).
        assert.equal(await inPage<string>(page, `document.getElementById("compare-a").value`), second.digest);
        assert.equal(await inPage<string>(page, `document.getElementById("compare-b").value`), third.digest);
        assert.equal(await inPage<boolean>(page, `document.getElementById("compare").hidden`), false);
        // Build A: the first build, chosen with the keyboard in the labelled select (newest first: two down).
        // Each select has its label (its accessible name).
        assert.match(
          await inPage<string>(page, `document.getElementById("compare-a").labels[0].textContent`),
          /Build A/,
        );
        assert.match(
          await inPage<string>(page, `document.getElementById("compare-b").labels[0].textContent`),
          /Build B/,
        );
        await page.focus("#compare-a");
        await page.keyboard.press("ArrowDown");
        assert.equal(await inPage<string>(page, `document.getElementById("compare-a").value`), first.digest);
        const rows = (selector: string) =>
          inPage<{ change: string; key: string; cells: string[] }[]>(
            page,
            `Array.from(document.querySelectorAll(${q(selector)}), (tr) => ({ change: tr.dataset.change, key: tr.dataset.package ?? tr.dataset.digest, cells: Array.from(tr.cells, (c) => c.textContent.trim()) }))`,
          );
        const packages = await rows("#compare-packages tbody tr[data-change]");
        const want = [
          ...expected.packages.added.map((p) => `added ${p} - ${p}`),
          ...expected.packages.removed.map((p) => `removed ${p} ${p} -`),
          ...expected.packages.changed.map((c) => `changed ${c.name} ${c.from} ${c.to}`),
        ];
        assert.deepEqual(
          packages.map((p) => `${p.change} ${p.cells.slice(1).join(" ")}`),
          want,
        );
        const layers = await rows("#compare-layers tbody tr[data-change]");
        const changedTo = new Set(expected.layers.changed.map((c) => c.to.digest));
        const changedFrom = new Set(expected.layers.changed.map((c) => c.from.digest));
        assert.deepEqual(
          layers.map((l) => `${l.change} ${l.key}`),
          [
            ...expected.layers.onlyB.filter((l) => !changedTo.has(l.digest)).map((l) => `added ${l.digest}`),
            ...expected.layers.onlyA.filter((l) => !changedFrom.has(l.digest)).map((l) => `removed ${l.digest}`),
            ...expected.layers.changed.map((c) => `changed ${c.to.digest}`),
            ...expected.layers.shared.map((l) => `shared ${l.digest}`),
          ],
        );
        assert.match(
          await text(page, "#compare-summary"),
          new RegExp(
            `packages ${expected.packages.added.length} added, ${expected.packages.removed.length} removed, ${expected.packages.changed.length} changed`,
          ),
        );
        // The pair is in the address: opening it again shows the same comparison.
        const address = page.url();
        assert.ok(
          address.endsWith(`#a=${encodeURIComponent(first.digest)}&b=${encodeURIComponent(third.digest)}`),
          address,
        );
        await page.screenshot({ path: path.join(shotsDir, "history-compare.png"), fullPage: true });
        assert.deepEqual(problems, []);
        await page.close();

        const linked = await browser!.newPage();
        await linked.goto(address, { waitUntil: "load" });
        assert.equal(await inPage<string>(linked, `document.getElementById("compare-a").value`), first.digest);
        assert.equal(
          await inPage<number>(linked, `document.querySelectorAll("#compare-packages tbody tr[data-change]").length`),
          want.length,
        );
        // Builds of two workflows: B becomes modeling's build, and the page still says what diff says.
        await linked.focus("#compare-b");
        await linked.keyboard.press("End");
        const modeling = runCli(["images", "modeling", "--json"], { cwd: studio.dir, env });
        const modelingDigest = (JSON.parse(modeling.stdout) as { digest: string }[])[0]!.digest;
        assert.equal(await inPage<string>(linked, `document.getElementById("compare-b").value`), modelingDigest);
        const across = JSON.parse(
          runCli(["diff", first.digest, modelingDigest, "--json"], { cwd: studio.dir, env }).stdout,
        ) as DiffJson;
        const acrossRows = await inPage<string[]>(
          linked,
          `Array.from(document.querySelectorAll("#compare-packages tbody tr[data-change]"), (tr) => tr.dataset.change + " " + tr.dataset.package)`,
        );
        assert.deepEqual(acrossRows, [
          ...across.packages.added.map((p) => `added ${p}`),
          ...across.packages.removed.map((p) => `removed ${p}`),
          ...across.packages.changed.map((c) => `changed ${c.name}`),
        ]);
        assert.ok(acrossRows.length > 0);
        await linked.close();

        // A link to a build the report does not hold (gc removed it) says so instead of silently showing another pair.
        const gone = `sha256:${"0".repeat(64)}`;
        const stale = await browser!.newPage();
        const staleProblems: string[] = [];
        stale.on("pageerror", (e) => staleProblems.push(`page error: ${String(e)}`));
        stale.on("console", (m) => {
          if (m.type() === "error") staleProblems.push(`console error: ${m.text()}`);
        });
        await stale.goto(
          `${address.split("#")[0]}#a=${encodeURIComponent(gone)}&b=${encodeURIComponent(third.digest)}`,
          {
            waitUntil: "load",
          },
        );
        assert.match(await text(stale, "#compare-stale"), new RegExp(`does not hold: A \\(${gone}\\)`));
        assert.equal(await inPage<string>(stale, `document.getElementById("compare-b").value`), third.digest);
        assert.deepEqual(staleProblems, []);
        await stale.close();
      } finally {
        site = saved;
      }
    } finally {
      fs.writeFileSync(studio.config, config);
    }
  },
);

test("report refuses a missing --html and a folder that is not a report, in one sentence, before any work", () => {
  const none = runCli(["report", "--all"], { cwd: projectRoot });
  assert.equal(none.code, 2);
  assert.match(none.stderr, /^tantalus: error: where to write the report: give --html DIR\n$/);
  const dir = tempDir("tantalus-report-foreign-");
  try {
    fs.writeFileSync(path.join(dir, "notes.txt"), "mine");
    // No configuration here at all: the folder is refused before the studio is looked for.
    const foreign = runCli(["report", "--html", dir], { cwd: dir });
    assert.equal(foreign.code, 1);
    assert.match(
      foreign.stderr,
      /^tantalus: error: cannot write the report to .*: the folder is not empty and holds no earlier report/,
    );
    assert.deepEqual(fs.readdirSync(dir), ["notes.txt"]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test(
  "a workflow that does not resolve: left out of the matrix, its conflicting chains drawn and marked",
  { skip },
  async () => {
    const config = fs.readFileSync(studio.config, "utf8");
    // nuke-14 (through legacy_exr_plugin) needs python-3.9; boost (through usd-24) needs python-3.11.
    fs.writeFileSync(
      studio.config,
      config.replace(/^workflows:\n/m, "workflows:\n  clash:\n    request: [ legacy_exr_plugin, usd-24 ]\n"),
    );
    try {
      const out = path.join(scratch, "clash-site");
      const r = runCli(["report", "--all", "--html", out], {
        cwd: studio.dir,
        env: { TANTALUS_STORE: path.join(scratch, "store") },
      });
      // As plan --all: every other workflow is reported, and the command fails.
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /clash does not resolve/);
      const saved = site;
      site = out;
      try {
        const index = await open("index");
        assert.equal(await count(index.page, "table.matrix tbody tr"), 10);
        assert.match(await text(index.page, "#main"), /Workflows left out[\s\S]*clash/);
        assert.deepEqual(index.problems, []);
        await index.page.close();

        const graph = await open("graph");
        const marked = await attrs(
          graph.page,
          'section.failed[data-workflow="clash"] svg g.node.conflict',
          "data-variant",
        );
        for (const id of ["legacy_exr_plugin-1.4.2", "python-3.9", "usd-24.08", "python-3.11"])
          assert.ok(marked.includes(id), `${id} not marked in ${marked.join(", ")}`);
        assert.ok(
          marked.some((id) => id!.startsWith("nuke-14")),
          marked.join(", "),
        );
        assert.equal(
          await attr(graph.page, 'section.failed[data-workflow="clash"] svg g.node.requested', "data-variant"),
          "request",
        );
        await (await graph.page.$('section.failed[data-workflow="clash"]'))!.screenshot({
          path: path.join(shotsDir, "graph-conflict.png"),
        });
        assert.deepEqual(graph.problems, []);
        await graph.page.close();
      } finally {
        site = saved;
      }
    } finally {
      fs.writeFileSync(studio.config, config);
    }
  },
);
