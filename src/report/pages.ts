/**
 * The report's pages, each a pure function of ReportData. Everything a reader
 * needs is in the HTML itself (tables, lists, SVG drawn when the report is
 * written); the scripts only add the layer selection and the comparison of
 * any two builds (whose consecutive pairs are in the tables already), so the
 * pages read the same with scripts off, in a screen reader, or printed.
 */
import { formatBytes } from "../plan/format.js";
import type { PlannedLayer, Strategy } from "../plan/types.js";
import type { AuditFinding, WorkflowAudit } from "../audit/workflow/audit.js";
import type { MigrationFix, MigrationReport, MigrationStatus } from "../audit/migrate.js";
import type { BuildRecord } from "../builder/build-record.js";
import { conflictGraph, type ReportData, type ImageView } from "./data.js";
import { renderGraphSvg } from "./graph.js";
import { html, raw, type Html, type PageLink } from "./html.js";

export interface Page extends PageLink {
  body: Html;
}

const STRATEGY_TITLES: Record<Strategy, string> = {
  shared: "studio plan (shared)",
  "per-tier": "one layer per tier",
  popularity: "Nix popularity, per image",
};

/** "usd-24.08[1]@/repo" → "usd-24.08[1]". */
function shortId(id: string): string {
  const at = id.lastIndexOf("@");
  return at > 0 ? id.slice(0, at) : id;
}

/** A stable, readable name for a planned layer: its tier and position among the tier's layers. */
function layerNames(layers: readonly PlannedLayer[], tiers: readonly string[]): Map<string, string> {
  const counts = new Map<string, number>();
  const names = new Map<string, string>();
  for (const l of orderedLayers(layers, tiers)) {
    const n = (counts.get(l.tier) ?? 0) + 1;
    counts.set(l.tier, n);
    names.set(l.key, `${l.tier}-${n}`);
  }
  return names;
}

/** Layers grouped by tier (tiers bottom first), plan order within a tier. */
function orderedLayers(layers: readonly PlannedLayer[], tiers: readonly string[]): PlannedLayer[] {
  const rank = (t: string) => {
    const i = tiers.indexOf(t);
    return i < 0 ? tiers.length : i;
  };
  return layers
    .map((l, i) => ({ l, i }))
    .sort((a, b) => rank(a.l.tier) - rank(b.l.tier) || a.i - b.i)
    .map((x) => x.l);
}

function anchor(prefix: string, name: string): string {
  return `${prefix}-${name.replace(/[^A-Za-z0-9_-]/g, "_")}`;
}

// ---------------------------------------------------------------- studio

function studioPage(d: ReportData): Page {
  const plan = d.plan;
  const layers = orderedLayers(plan.layers, plan.tiers);
  const names = layerNames(plan.layers, plan.tiers);
  const maxBytes = Math.max(1, ...layers.map((l) => l.bytes));
  // Cell shade by log bytes: a 10 KiB layer is still visible beside a 2 GiB one.
  const shade = (b: number) => (0.15 + 0.85 * (Math.log1p(b) / Math.log1p(maxBytes))).toFixed(2);
  const tierGroups = plan.tiers
    .map((t) => ({ tier: t, count: layers.filter((l) => l.tier === t).length }))
    .filter((g) => g.count > 0);
  const headTiers = tierGroups.map((g) => html`<th scope="colgroup" colspan="${g.count}" class="tier">${g.tier}</th>`);
  const headLayers = layers.map(
    (l) =>
      html`<th scope="col">
        <button
          type="button"
          class="layer"
          data-layer="${l.key}"
          aria-pressed="false"
          aria-describedby="layer-help"
          title="${`${names.get(l.key)}: ${formatBytes(l.bytes)}, ${l.variants.length} variants, in ${l.images.length} images`}"
        >
          ${names.get(l.key) ?? l.key}
        </button>
      </th>`,
  );
  const rows = plan.images.map((image) => {
    const carried = new Set(image.layers);
    const cells = layers.map((l) =>
      carried.has(l.key)
        ? html`<td class="has" data-layer="${l.key}" style="${`--shade:${shade(l.bytes)}`}">
            <span class="sr-only">carries ${names.get(l.key)}, </span>${formatBytes(l.bytes)}
          </td>`
        : html`<td data-layer="${l.key}"><span class="sr-only">does not carry ${names.get(l.key)}</span></td>`,
    );
    return html`<tr data-image="${image.name}">
      <th scope="row"><a href="images.html#${anchor("image", image.name)}">${image.name}</a></th>
      ${cells}
    </tr>`;
  });

  const strategies = Object.keys(d.reports) as Strategy[];
  const chartMax = Math.max(1, ...strategies.map((s) => d.reports[s].imageBytes));
  const barRows = strategies.map((s, i) => {
    const r = d.reports[s];
    const y = 10 + i * 62;
    const w = (n: number) => ((520 * n) / chartMax).toFixed(1);
    return html`<g class="bar-group"
      ><text x="0" y="${y + 12}">${STRATEGY_TITLES[s]}</text>
      <rect class="bar unique" x="0" y="${y + 18}" width="${w(r.uniqueBytes)}" height="16"></rect
      ><text x="${Number(w(r.uniqueBytes)) + 6}" y="${y + 31}">${formatBytes(r.uniqueBytes)} stored</text>
      <rect class="bar pulled" x="0" y="${y + 36}" width="${w(r.imageBytes)}" height="16"></rect
      ><text x="${Number(w(r.imageBytes)) + 6}" y="${y + 49}"
        >${formatBytes(r.imageBytes)} pulled image by image</text
      ></g
    >`;
  });
  const chartHeight = 20 + strategies.length * 62;
  const tableRows = strategies.map((s) => {
    const r = d.reports[s];
    return html`<tr>
      <th scope="row">${STRATEGY_TITLES[s]}</th>
      <td>${formatBytes(r.uniqueBytes)}</td>
      <td>${formatBytes(r.imageBytes)}</td>
      <td>${r.ratio.toFixed(3)}×</td>
      <td>${r.distinctLayers}</td>
      <td>${r.sharedLayers}</td>
      <td>${r.layersPerImage.min}–${r.layersPerImage.max}</td>
    </tr>`;
  });
  const own = plan.images.map((image) => {
    const v = d.images.find((i) => i.name === image.name);
    return html`<tr>
      <th scope="row"><a href="images.html#${anchor("image", image.name)}">${image.name}</a></th>
      <td>${image.layers.length}</td>
      <td>${formatBytes(v?.plannedBytes ?? 0)}</td>
      <td>${formatBytes(v?.ownBytes ?? 0)}</td>
    </tr>`;
  });
  const layerList = layers.map(
    (l) =>
      html`<li id="${anchor("layer", names.get(l.key) ?? l.key)}">
        <details>
          <summary>
            ${names.get(l.key)} · ${formatBytes(l.bytes)} · ${l.variants.length} variants · in ${l.images.length} of
            ${plan.images.length} images
          </summary>
          <p>Images: ${l.images.join(", ")}</p>
          <ul class="packages">
            ${l.variants.map((v) => html`<li>${shortId(v)} <span class="muted">${formatBytes(d.variants[v]?.bytes ?? 0)}</span></li>`)}
          </ul>
        </details>
      </li>`,
  );
  const failed = d.failed.length
    ? html`<section aria-labelledby="failed-h">
        <h2 id="failed-h">Workflows left out</h2>
        <ul>
          ${d.failed.map((f) => html`<li><strong>${f.workflow}</strong>: ${f.message} (<a href="graph.html#${anchor("graph", f.workflow)}">resolve</a>)</li>`)}
        </ul>
      </section>`
    : "";
  return {
    id: "index",
    title: "Studio",
    body: html`<h1>Studio: ${plan.images.length} workflow images, ${plan.layers.length} planned layers</h1>
      <p>
        Configuration <code>${d.configFile}</code>; at most ${plan.budget} layers per image (base ${d.baseLayers.count}:
        ${d.baseLayers.source}); tiers bottom first: ${plan.tiers.join(", ")}.
      </p>
      ${failed}
      <section aria-labelledby="matrix-h">
        <h2 id="matrix-h">Which images carry which layers</h2>
        <p id="layer-help">
          Select a layer (its button in the header) to highlight the images that carry it; select it again to clear.
          Cell shade grows with the layer's bytes.
        </p>
        <p id="layer-status" role="status" aria-live="polite"></p>
        <div class="scroll" tabindex="0" role="region" aria-labelledby="matrix-h">
          <table class="matrix">
            <caption>
              Workflow images (rows) × planned layers (columns, grouped by tier)
            </caption>
            <thead>
              <tr>
                <td rowspan="2"></td>
                ${headTiers}
              </tr>
              <tr>
                ${headLayers}
              </tr>
            </thead>
            <tbody>
              ${rows}
            </tbody>
          </table>
        </div>
      </section>
      <section aria-labelledby="chart-h">
        <h2 id="chart-h">The plan against its baselines</h2>
        <figure>
          <svg
            class="chart"
            role="img"
            aria-labelledby="chart-title"
            aria-describedby="chart-table"
            viewBox="0 0 760 ${chartHeight}"
            width="760"
            height="${chartHeight}"
            xmlns="http://www.w3.org/2000/svg"
          >
            <title id="chart-title">
              Bytes stored once per distinct layer, and bytes pulled image by image, for the studio plan and its two
              baselines
            </title>
            ${barRows}
          </svg>
          <figcaption>The same numbers as a table:</figcaption>
        </figure>
        <table id="chart-table">
          <thead>
            <tr>
              <th scope="col">strategy</th>
              <th scope="col">stored (distinct layers)</th>
              <th scope="col">pulled image by image</th>
              <th scope="col">stored ÷ packages</th>
              <th scope="col">layers</th>
              <th scope="col">shared layers</th>
              <th scope="col">layers per image</th>
            </tr>
          </thead>
          <tbody>
            ${tableRows}
          </tbody>
        </table>
      </section>
      <section aria-labelledby="own-h">
        <h2 id="own-h">What each image adds to a node that has the others</h2>
        <table>
          <thead>
            <tr>
              <th scope="col">image</th>
              <th scope="col">planned layers</th>
              <th scope="col">planned bytes</th>
              <th scope="col">bytes no other image carries</th>
            </tr>
          </thead>
          <tbody>
            ${own}
          </tbody>
        </table>
      </section>
      <section aria-labelledby="layers-h">
        <h2 id="layers-h">Layers and their packages</h2>
        <ol class="layers">
          ${layerList}
        </ol>
      </section>`,
  };
}

// ---------------------------------------------------------------- images

function imageSection(d: ReportData, v: ImageView, names: Map<string, string>): Html {
  const byKey = new Map(d.plan.layers.map((l) => [l.key, l]));
  const stack = [
    html`<tr>
      <th scope="row">base</th>
      <td>${v.baseLayers} layer(s)</td>
      <td>${d.baseLayers.source}</td>
      <td></td>
    </tr>`,
    ...v.layers.map((k) => {
      const l = byKey.get(k);
      return html`<tr>
        <th scope="row"><a href="index.html#${anchor("layer", names.get(k) ?? k)}">${names.get(k) ?? k}</a></th>
        <td>${formatBytes(l?.bytes ?? 0)}</td>
        <td>${(l?.variants ?? []).map(shortId).join(" ")}</td>
        <td>${l ? `${l.images.length} images` : ""}</td>
      </tr>`;
    }),
    html`<tr>
      <th scope="row">repair</th>
      <td>reserved</td>
      <td>libraries the audit repairs, when it asks for any</td>
      <td></td>
    </tr>`,
    html`<tr>
      <th scope="row">top</th>
      <td></td>
      <td>environment, entrypoint, context, workflow</td>
      <td></td>
    </tr>`,
  ];
  const s = v.stored;
  const stored = s
    ? html`<h3>Stored image</h3>
        <dl class="facts">
          <dt>reference</dt>
          <dd><code>${s.ref}</code></dd>
          <dt>digest</dt>
          <dd><code class="digest">${s.digest}</code></dd>
          <dt>created</dt>
          <dd>${s.created ?? "-"}</dd>
          <dt>size</dt>
          <dd>${formatBytes(s.size)} in ${s.layers.length} layers</dd>
          <dt>platform</dt>
          <dd>${s.platform}</dd>
          <dt>entrypoint</dt>
          <dd><code>${JSON.stringify(s.entrypoint)}</code> cmd <code>${JSON.stringify(s.cmd)}</code></dd>
          <dt>base</dt>
          <dd>${s.base ? [s.base.name, s.base.digest].filter(Boolean).join(" ") : "-"}</dd>
        </dl>
        ${v.build ? buildTimes(v.build) : ""}
        <table class="stored-layers">
          <caption>
            Stored layers, bottom first
          </caption>
          <thead>
            <tr>
              <th scope="col">digest</th>
              <th scope="col">size</th>
              <th scope="col">kind</th>
              <th scope="col">packages</th>
            </tr>
          </thead>
          <tbody>
            ${s.layers.map(
              (l) =>
                html`<tr>
                  <td><code>${l.digest.slice(7, 19)}</code></td>
                  <td>${formatBytes(l.size)}</td>
                  <td>${l.kind ?? "-"}${l.tier ? ` (${l.tier})` : ""}</td>
                  <td>${l.packages.join(" ")}</td>
                </tr>`,
            )}
          </tbody>
        </table>
        <details>
          <summary>Labels (${Object.keys(s.labels).length})</summary>
          <table>
            <tbody>
              ${Object.entries(s.labels)
                .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
                .map(
                  ([k, val]) =>
                    html`<tr>
                      <th scope="row"><code>${k}</code></th>
                      <td><code>${val}</code></td>
                    </tr>`,
                )}
            </tbody>
          </table>
        </details>`
    : html`<p class="muted">
        Not built in this store${d.storeDir ? html` (<code>${d.storeDir}</code>)` : ""}: the stack below is the plan's;
        <code>tantalus build ${v.name}</code> writes it.
      </p>`;
  return html`<section id="${anchor("image", v.name)}" aria-labelledby="${anchor("image-h", v.name)}" class="image">
    <h2 id="${anchor("image-h", v.name)}">${v.name}</h2>
    <p>
      ${v.baseLayers + v.layers.length + v.topLayers} layers: ${formatBytes(v.plannedBytes)} of packages in
      ${v.layers.length} planned layers; ${formatBytes(v.ownBytes)} that no other image carries.
      <a href="graph.html#${anchor("graph", v.name)}">Resolve graph</a> ·
      <a href="audit.html#${anchor("audit", v.name)}">audit</a>
    </p>
    ${stored}
    <table class="stack">
      <caption>
        Planned layer stack, bottom first
      </caption>
      <thead>
        <tr>
          <th scope="col">layer</th>
          <th scope="col">size</th>
          <th scope="col">packages</th>
          <th scope="col">shared by</th>
        </tr>
      </thead>
      <tbody>
        ${stack}
      </tbody>
    </table>
    <details>
      <summary>Environment the image ships (${v.environment.length} variables)</summary>
      <pre>${(s?.env.length ? s.env : v.environment).join("\n")}</pre>
    </details>
  </section>`;
}

function imagesPage(d: ReportData): Page {
  const names = layerNames(d.plan.layers, d.plan.tiers);
  const toc = d.images.map((v) => html`<li><a href="#${anchor("image", v.name)}">${v.name}</a></li>`);
  return {
    id: "images",
    title: "Images",
    body: html`<h1>Workflow images</h1>
      <nav aria-label="Images">
        <ul class="toc">
          ${toc}
        </ul>
      </nav>
      ${d.images.map((v) => imageSection(d, v, names))}`,
  };
}

// ---------------------------------------------------------------- resolve graph

function graphPage(d: ReportData): Page {
  const toc = [...d.graphs.map((g) => g.workflow), ...d.failed.map((f) => f.workflow)]
    .sort()
    .map((w) => html`<li><a href="#${anchor("graph", w)}">${w}</a></li>`);
  const sections = d.graphs.map(
    (g) =>
      html`<section
        id="${anchor("graph", g.workflow)}"
        class="graph"
        data-workflow="${g.workflow}"
        aria-labelledby="${anchor("graph-h", g.workflow)}"
      >
        <h2 id="${anchor("graph-h", g.workflow)}">${g.workflow}</h2>
        <p>
          Request: <code>${g.request.join(" ")}</code>. ${g.nodes.length} resolved variants, ${g.edges.length}
          requirements met; requested packages are outlined.
        </p>
        <div class="scroll" tabindex="0" role="region" aria-label="${`Resolve graph of ${g.workflow}`}">
          ${raw(g.svg ?? renderGraphSvg(g))}
        </div>
        <details>
          <summary>As a list</summary>
          <ul>
            ${g.nodes.map(
              (n) =>
                html`<li>
                  ${n.id}${n.requested ? " (requested)" : ""}: requires
                  ${
                    g.edges
                      .filter((e) => e.from === n.id)
                      .map((e) => e.requirement)
                      .join(", ") || "nothing resolved"
                  }
                </li>`,
            )}
          </ul>
        </details>
      </section>`,
  );
  const failed = d.failed.map(
    (f) =>
      html`<section
        id="${anchor("graph", f.workflow)}"
        class="graph failed"
        data-workflow="${f.workflow}"
        aria-labelledby="${anchor("graph-h", f.workflow)}"
      >
        <h2 id="${anchor("graph-h", f.workflow)}">${f.workflow}: does not resolve</h2>
        <pre class="conflict">${f.message}</pre>
        ${
          f.conflicts?.length
            ? html`<p>The conflicting chains, from the request to the two requirements that clash (marked):</p>
                <div class="scroll" tabindex="0" role="region" aria-label="${`Conflicting chains of ${f.workflow}`}">
                  ${raw(renderGraphSvg(conflictGraph(f), { highlightAllBut: new Set(["request"]) }))}
                </div>`
            : ""
        }
      </section>`,
  );
  return {
    id: "graph",
    title: "Resolve graph",
    body: html`<h1>Resolve graphs</h1>
      <p>
        One node per resolved variant, an arrow from each variant to the variants its requirements resolved to, laid out
        with dagre when the report was written.
      </p>
      <nav aria-label="Workflows">
        <ul class="toc">
          ${toc}
        </ul>
      </nav>
      ${failed}${sections}`,
  };
}

// ---------------------------------------------------------------- audit

/** Who needs which library, where the linker found it or did not: root → … → file needs name → provider. */
function chainOf(f: AuditFinding): Html {
  const roots = f.roots.filter((r) => r !== f.file);
  const steps: Html[] = [];
  if (roots.length)
    steps.push(
      html`<li>
        loaded by
        <code>${roots.join(", ")}</code>${f.rootCount > roots.length ? ` and ${f.rootCount - roots.length} more` : ""}
      </li>`,
    );
  steps.push(html`<li><code>${f.file}</code>${f.package ? html` <span class="muted">(${f.package})</span>` : ""}</li>`);
  if (f.name) steps.push(html`<li>needs <code>${f.name}</code></li>`);
  if (f.provider)
    steps.push(
      html`<li>
        found at <code>${f.provider.path}</code> <span class="muted">(${f.provider.package ?? "base image"})</span>
      </li>`,
    );
  else if (f.name) steps.push(html`<li class="not-found">not found in the image</li>`);
  for (const o of f.others ?? [])
    steps.push(
      html`<li>
        also <code>${o.path}</code>
        <span class="muted">(${o.package ?? "base image"})</span>${o.detail ? `: ${o.detail}` : ""}
      </li>`,
    );
  return html`<ol class="chain">
    ${steps}
  </ol>`;
}

function auditSection(a: WorkflowAudit): Html {
  const byPackage = new Map<string, AuditFinding[]>();
  for (const f of a.findings) {
    const key = f.package ?? "(base image or workflow)";
    byPackage.set(key, [...(byPackage.get(key) ?? []), f]);
  }
  const packages = [...byPackage].map(
    ([pkg, findings]) =>
      html`<section class="package" aria-label="${`${a.workflow}: ${pkg}`}">
        <h3>${pkg}</h3>
        <ul class="findings">
          ${findings.map(
            (f) =>
              html`<li
                class="finding ${f.severity}${f.ignored ? " ignored" : ""}"
                data-kind="${f.kind}"
                data-package="${f.package ?? ""}"
                data-file="${f.file}"
              >
                <p>
                  <span class="badge ${f.severity}">${f.ignored ? "ignored" : f.severity}</span>
                  <strong>${f.kind}</strong>: ${f.message}
                </p>
                ${chainOf(f)}${f.ignored ? html`<p class="muted">ignored by ${f.ignored.rule} (${f.ignored.source}): ${f.ignored.reason}</p>` : ""}
              </li>`,
          )}
        </ul>
      </section>`,
  );
  return html`<section
    id="${anchor("audit", a.workflow)}"
    class="audit"
    data-workflow="${a.workflow}"
    aria-labelledby="${anchor("audit-h", a.workflow)}"
  >
    <h2 id="${anchor("audit-h", a.workflow)}">
      ${a.workflow}:
      ${a.errors === 0 ? "clean" : `${a.errors} error(s)`}${a.warnings ? `, ${a.warnings} warning(s)` : ""}
    </h2>
    <p>
      ${a.audited} dynamically linked objects of ${a.files} files audited in ${a.base} (${a.profile});
      ${a.packages.length} packages${a.repaired ? "; configured repairs applied" : ""}.
    </p>
    ${packages.length ? packages : html`<p>No finding.</p>`}
  </section>`;
}

function auditPage(d: ReportData): Page {
  const failing = d.audits.filter((a) => a.errors > 0);
  const suggestions = d.suggestedYaml
    ? html`<section aria-labelledby="fix-h">
        <h2 id="fix-h">Fix list</h2>
        <p>What <code>tantalus audit --all --suggest</code> proposes for <code>tantalus.yaml</code>:</p>
        <pre class="yaml" id="fix-list">${d.suggestedYaml}</pre>
        <ul>
          ${d.suggestions.map((s) => html`<li><strong>${s.packageName}</strong> (${s.workflow}): <code>${s.soname}</code>: ${s.note}</li>`)}
        </ul>
      </section>`
    : html`<section aria-labelledby="fix-h">
        <h2 id="fix-h">Fix list</h2>
        <p>Nothing to propose.</p>
      </section>`;
  const body = d.auditSkipped
    ? html`<h1>Library audit</h1>
        <p class="warning">Not audited: ${d.auditSkipped}</p>`
    : html`<h1>
          Library audit:
          ${failing.length === 0 ? "all clean" : `${failing.length} of ${d.audits.length} workflows with errors`}
        </h1>
        <nav aria-label="Workflows">
          <ul class="toc">
            ${d.audits.map((a) => html`<li><a href="#${anchor("audit", a.workflow)}">${a.workflow}</a> ${a.errors ? html`<span class="badge error">${a.errors}</span>` : ""}</li>`)}
          </ul>
        </nav>
        ${suggestions} ${d.audits.map(auditSection)}`;
  return { id: "audit", title: "Audit", body };
}

// ---------------------------------------------------------------- history

function historyPage(d: ReportData): Page {
  const workflows = Object.keys(d.history).sort();
  const body = workflows.length
    ? workflows.map((w) => {
        const rows = d.history[w]!.map(
          (e) =>
            html`<tr>
              <td><code>${e.tag}</code></td>
              <td>${e.tagged ?? e.created ?? "-"}</td>
              <td>${formatBytes(e.size)}</td>
              <td>${e.change ? formatBytes(e.change.bytesToFetch) : "first"}</td>
              <td>
                ${e.change ? [...e.change.packages.added.map((p) => `+${p}`), ...e.change.packages.removed.map((p) => `−${p}`), ...e.change.packages.changed.map((c) => `${c.name} ${c.from} → ${c.to}`)].join(", ") || "no package change" : ""}
              </td>
            </tr>`,
        );
        return html`<section id="${anchor("history", w)}" aria-labelledby="${anchor("history-h", w)}">
          <h2 id="${anchor("history-h", w)}">${w}</h2>
          <table>
            <thead>
              <tr>
                <th scope="col">image</th>
                <th scope="col">tagged</th>
                <th scope="col">size</th>
                <th scope="col">bytes added (vs previous)</th>
                <th scope="col">packages changed</th>
              </tr>
            </thead>
            <tbody>
              ${rows}
            </tbody>
          </table>
        </section>`;
      })
    : [
        html`<p>
          The store${d.storeDir ? html` <code>${d.storeDir}</code>` : ""} holds no workflow image yet:
          <code>tantalus build</code> writes them, and each build appears here with what it changed.
        </p>`,
      ];
  return {
    id: "history",
    title: "History",
    body: html`<h1>Images over time</h1>
      ${body} ${compareSection(d)}`,
  };
}

/**
 * Any two builds side by side: two labelled selects (every build of every
 * workflow, grouped by workflow), the builds' facts as JSON, and the script
 * (assets/compare.js) that compares them with `tantalus diff`'s own function.
 * Hidden until the script runs: without scripts, the tables above (each build
 * against the one before it) are the comparison.
 */
function compareSection(d: ReportData): Html | string {
  const builds = d.storedBuilds.builds;
  if (builds.length < 2) return "";
  // Preselected: the two newest builds of the first workflow that has two, else the two newest of any.
  const workflows = [...new Set(builds.map((b) => b.workflow))];
  const twice = workflows.find((w) => builds.filter((b) => b.workflow === w).length >= 2);
  const pair = twice ? builds.filter((b) => b.workflow === twice) : builds;
  const [newest, previous] = [pair[0]!, pair[1]!];
  const options = (selected: string) =>
    workflows.map(
      (w) =>
        html`<optgroup label="${w}">
          ${builds
            .filter((b) => b.workflow === w)
            .map(
              (b) =>
                html`<option value="${b.digest}" ${b.digest === selected ? raw("selected") : ""}>
                  ${w} ${b.tag}${b.tagged ? ` (${b.tagged})` : ""}
                </option>`,
            )}
        </optgroup>`,
    );
  // JSON inside <script>: "<" escaped so no value can close the element.
  const json = JSON.stringify(d.storedBuilds).replace(/</g, "\\u003c");
  return html`<section id="compare" aria-labelledby="compare-h" hidden>
      <h2 id="compare-h">Compare any two builds</h2>
      <p>
        Packages and layers of build B against build A, as <code>tantalus diff A B</code> computes them; the address of
        this page keeps the pair, to link to it.
      </p>
      <form class="compare" aria-describedby="compare-h">
        <label
          >Build A (from)
          <select id="compare-a" name="a">
            ${options(previous.digest)}
          </select></label
        >
        <label
          >Build B (to)
          <select id="compare-b" name="b">
            ${options(newest.digest)}
          </select></label
        >
      </form>
      <p id="compare-summary" role="status"></p>
      <div id="compare-result"></div>
    </section>
    <noscript>
      <p>
        Comparing any two builds needs scripts; each build above is compared with the one before it, and
        <code>tantalus diff A B</code> compares any two.
      </p>
    </noscript>
    <script type="application/json" id="builds-data">
      ${raw(json)}
    </script>
    <script src="assets/compare.js" defer></script>`;
}

/** Where the build that made the stored image spent its time (builder/build-record.ts). */
function buildTimes(b: BuildRecord): Html {
  const steps: [string, number][] = [
    ["resolve", b.seconds.resolve],
    ["base image", b.seconds.base],
    ["layer plan", b.seconds.plan],
    ["library audit", b.seconds.audit],
    ["package layers", b.seconds.layers],
    ["image layers and manifests (while package layers are written)", b.seconds.images],
  ];
  const with_ =
    b.workflows.length > 1 ? ` (one build of ${b.workflows.length} workflows: ${b.workflows.join(", ")})` : "";
  return html`<table class="build-times">
    <caption>
      Where the build's time went: ${b.seconds.total.toFixed(2)} s${with_}, ${b.layersWritten} layers written,
      ${b.layersReused} reused, ${formatBytes(b.bytesArchived)} archived
    </caption>
    <thead>
      <tr>
        <th scope="col">step</th>
        <th scope="col">seconds</th>
      </tr>
    </thead>
    <tbody>
      ${steps.map(
        ([step, sec]) =>
          html`<tr>
            <th scope="row">${step}</th>
            <td>${sec.toFixed(2)}</td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

// ---------------------------------------------------------------- migration

/**
 * The two-base migration report, shown when `report --migration FILE` gives
 * one: `tantalus audit --base A --base B --json`'s report is laid out side by
 * side (below); any other JSON is shown faithfully, objects as definition
 * lists and arrays of records as tables.
 */
function jsonView(v: unknown, depth = 0): Html {
  if (typeof v === "string") return html`${v}`;
  if (v === null || typeof v !== "object") return html`<code>${JSON.stringify(v)}</code>`;
  if (Array.isArray(v)) {
    const records = v.every((x) => x !== null && typeof x === "object" && !Array.isArray(x));
    if (records && v.length > 0) {
      const keys = [...new Set(v.flatMap((x) => Object.keys(x as object)))];
      return html`<table>
        <thead>
          <tr>
            ${keys.map((k) => html`<th scope="col">${k}</th>`)}
          </tr>
        </thead>
        <tbody>
          ${v.map(
            (x) =>
              html`<tr>
                ${keys.map((k) => html`<td>${jsonView((x as Record<string, unknown>)[k], depth + 1)}</td>`)}
              </tr>`,
          )}
        </tbody>
      </table>`;
    }
    return html`<ul>
      ${v.map((x) => html`<li>${jsonView(x, depth + 1)}</li>`)}
    </ul>`;
  }
  return html`<dl class="json">
    ${Object.entries(v).map(
      ([k, x]) =>
        html`<dt>${k}</dt>
          <dd>${jsonView(x, depth + 1)}</dd>`,
    )}
  </dl>`;
}

/** Is this `tantalus audit --base A --base B --json`'s report (issue 19)? Anything else is shown as JSON. */
function isMigrationReport(v: unknown): v is MigrationReport {
  if (v === null || typeof v !== "object") return false;
  const r = v as Partial<MigrationReport>;
  return (
    typeof r.version === "number" &&
    typeof r.from?.base === "string" &&
    typeof r.to?.base === "string" &&
    Array.isArray(r.workflows) &&
    r.summary !== undefined
  );
}

const MIGRATION_STATUS: Record<MigrationStatus, string> = {
  clean: "clean on both",
  broken: "newly broken",
  fixed: "fixed",
  "still-broken": "broken on both",
};

function migrationFixItem(f: MigrationFix): Html {
  const on = html` <span class="muted">(${f.workflows.join(", ")})</span>`;
  switch (f.action) {
    case "rebuild":
      return html`<li>rebuild <strong>${f.package}</strong> for the new base: needs ${f.needs.join("; ")}${on}</li>`;
    case "add-to-base":
      return html`<li>add <code>${f.library}</code> to the base (needed by ${f.packages.join(", ")})${on}</li>`;
    case "set-os":
      return html`<li>set the <code>os</code> of <strong>${f.package}</strong>: ${f.message}${on}</li>`;
    case "review":
      return html`<li>review ${f.package ?? "the base"} (${f.kind}): ${f.message}${on}</li>`;
  }
}

/** The two bases side by side: one row per workflow, the problems that appear on B, and the fix list. */
function migrationReportBody(m: MigrationReport): Html {
  const order: MigrationStatus[] = ["broken", "still-broken", "fixed", "clean"];
  const rows = [...m.workflows].sort(
    (a, b) => order.indexOf(a.status) - order.indexOf(b.status) || (a.workflow < b.workflow ? -1 : 1),
  );
  return html`<h1>Migration: ${m.from.base} → ${m.to.base}</h1>
    <p>
      From <strong>${m.from.description}</strong> to <strong>${m.to.description}</strong>: ${m.summary.clean.length}
      clean on both, ${m.summary.broken.length} newly broken, ${m.summary.fixed.length} fixed,
      ${m.summary.stillBroken.length} broken on both.
    </p>
    <table id="migration-table">
      <caption>
        Each workflow resolved once and audited on both bases (errors / warnings)
      </caption>
      <thead>
        <tr>
          <th scope="col">workflow</th>
          <th scope="col">verdict</th>
          <th scope="col">${m.from.base}</th>
          <th scope="col">${m.to.base}</th>
          <th scope="col">what appears on ${m.to.base}</th>
        </tr>
      </thead>
      <tbody>
        ${rows.map(
          (w) =>
            html`<tr data-status="${w.status}">
              <th scope="row">${w.workflow}</th>
              <td>${MIGRATION_STATUS[w.status]}</td>
              <td>${w.from.errors} / ${w.from.warnings}</td>
              <td>${w.to.errors} / ${w.to.warnings}</td>
              <td>
                ${
                  w.appeared.length === 0
                    ? "—"
                    : html`<ul>
                        ${w.appeared.map(
                          (p) => html`<li class="${p.severity}"><code>${p.file}</code>: ${p.message}</li>`,
                        )}
                      </ul>`
                }
              </td>
            </tr>`,
        )}
      </tbody>
    </table>
    ${
      m.fixes && m.fixes.length > 0
        ? html`<section aria-labelledby="migration-fix-h">
            <h2 id="migration-fix-h">What would repair ${m.to.base}</h2>
            <ul>
              ${m.fixes.map(migrationFixItem)}
            </ul>
          </section>`
        : ""
    }
    ${
      m.failed && m.failed.length > 0
        ? html`<section aria-labelledby="migration-failed-h">
            <h2 id="migration-failed-h">Not audited</h2>
            <ul>
              ${m.failed.map((f) => html`<li><strong>${f.workflow}</strong>: ${f.message}</li>`)}
            </ul>
          </section>`
        : ""
    }`;
}

function migrationPage(d: ReportData): Page {
  return {
    id: "migration",
    title: "Migration",
    body: isMigrationReport(d.migration)
      ? migrationReportBody(d.migration)
      : html`<h1>Migration to another base</h1>
          ${jsonView(d.migration)}`,
  };
}

/** Every page of the report, in navigation order; the migration page only when its data is there. */
export function renderPages(d: ReportData): Page[] {
  const pages = [studioPage(d), imagesPage(d), graphPage(d), auditPage(d), historyPage(d)];
  if (d.migration !== undefined) pages.push(migrationPage(d));
  return pages;
}
