/**
 * The report's style sheet and its one script, written beside the pages
 * (assets/), so the site is self-contained: nothing is fetched from anywhere
 * else, and it works from file:// as from any web server.
 */
import { compareImageFacts } from "../builder/inventory.js";
import { formatBytes } from "../plan/format.js";

export const REPORT_CSS = `:root { --fg: #1b1f23; --muted: #5a6270; --accent: #0b5cad; --bg: #fff; --line: #d0d7de; --hit: #f6c344; --err: #b42318; --warn: #9a6700; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; flex-wrap: wrap; align-items: center; gap: 1rem; padding: .5rem 1rem; border-bottom: 1px solid var(--line); }
.brand { font-weight: 600; margin: 0; }
nav ul { list-style: none; display: flex; flex-wrap: wrap; gap: .25rem 1rem; margin: 0; padding: 0; }
nav a[aria-current="page"] { font-weight: 700; text-decoration: underline; }
a { color: var(--accent); }
a:focus-visible, button:focus-visible, [tabindex]:focus-visible, summary:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
main { padding: 1rem; max-width: 100%; }
.skip { position: absolute; left: -999px; }
.skip:focus { left: 1rem; top: .5rem; background: var(--bg); padding: .25rem .5rem; z-index: 2; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.muted { color: var(--muted); }
.scroll { overflow: auto; max-width: 100%; border: 1px solid var(--line); }
table { border-collapse: collapse; margin: .5rem 0 1rem; }
th, td { border: 1px solid var(--line); padding: .2rem .4rem; text-align: left; vertical-align: top; }
caption { text-align: left; font-weight: 600; padding: .25rem 0; }
.matrix td { min-width: 4.5rem; font-size: 12px; text-align: right; }
.matrix td.has { background: rgba(11, 92, 173, var(--shade)); color: #fff; }
.matrix th.tier { text-align: center; background: #f3f5f7; }
.matrix button.layer { font: inherit; font-size: 12px; padding: .1rem .3rem; cursor: pointer; background: #fff; border: 1px solid var(--line); border-radius: 3px; }
.matrix button.layer[aria-pressed="true"] { background: var(--hit); border-color: #7a5a00; font-weight: 700; }
.matrix td.selected { outline: 2px solid #7a5a00; outline-offset: -2px; }
.matrix tr.carries th { background: var(--hit); }
.matrix tr.carries td.selected.has { background: #7a5a00; }
.matrix tr.dimmed { opacity: .45; }
.chart text { font-size: 12px; fill: var(--fg); }
.chart .unique { fill: var(--accent); }
.chart .pulled { fill: #8fb3d9; }
.resolve-graph .node rect { fill: #f3f5f7; stroke: #6e7781; }
.resolve-graph .node.requested rect { stroke: var(--accent); stroke-width: 2.5; }
.resolve-graph .node.conflict rect { fill: #ffe4e0; stroke: var(--err); stroke-width: 2.5; }
.resolve-graph .node text { font: 12px ui-monospace, monospace; fill: var(--fg); }
.resolve-graph .edge { fill: none; stroke: #8c959f; stroke-width: 1.2; }
.resolve-graph marker path { fill: #8c959f; }
pre { background: #f6f8fa; padding: .5rem; overflow: auto; }
pre.conflict { border-left: 4px solid var(--err); white-space: pre-wrap; }
.badge { display: inline-block; padding: 0 .4rem; border-radius: 8px; font-size: 12px; color: #fff; background: var(--muted); }
.badge.error { background: var(--err); }
.badge.warning { background: var(--warn); }
.finding { margin-bottom: .75rem; }
.chain { margin: .25rem 0; padding-left: 1.5rem; }
.chain .not-found { color: var(--err); font-weight: 600; }
.toc { display: flex; flex-wrap: wrap; gap: .25rem 1rem; list-style: none; padding: 0; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; }
code.digest { word-break: break-all; }
form.compare { display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; align-items: end; }
form.compare label { display: flex; flex-direction: column; font-weight: 600; }
form.compare select { font: inherit; min-width: 18rem; }
#compare-result tr.added td:first-child { color: #1a7f37; font-weight: 600; }
#compare-result tr.removed td:first-child { color: var(--err); font-weight: 600; }
#compare-result tr.changed td:first-child { color: var(--warn); font-weight: 600; }
#compare-result tr.shared { color: var(--muted); }
.warning { color: var(--warn); }
`;

/**
 * Selecting a layer: its column and the rows of the images that carry it are
 * marked, the others dimmed, and a status line (announced by screen readers)
 * says which images carry it. Buttons, so the keyboard works as everywhere.
 */
export const REPORT_JS = `"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var table = document.querySelector("table.matrix");
  if (!table) return;
  var status = document.getElementById("layer-status");
  var buttons = Array.prototype.slice.call(table.querySelectorAll("button.layer"));
  function clear() {
    buttons.forEach(function (b) { b.setAttribute("aria-pressed", "false"); });
    table.querySelectorAll("td.selected").forEach(function (c) { c.classList.remove("selected"); });
    table.querySelectorAll("tbody tr").forEach(function (r) { r.classList.remove("carries", "dimmed"); });
  }
  function select(button) {
    var key = button.getAttribute("data-layer");
    var wasOn = button.getAttribute("aria-pressed") === "true";
    clear();
    if (wasOn) { if (status) status.textContent = ""; return; }
    button.setAttribute("aria-pressed", "true");
    var carriers = [];
    table.querySelectorAll("tbody tr").forEach(function (row) {
      var cell = row.querySelector('td[data-layer="' + key + '"]');
      if (!cell) return;
      cell.classList.add("selected");
      var has = cell.classList.contains("has");
      row.classList.add(has ? "carries" : "dimmed");
      if (has) carriers.push(row.getAttribute("data-image"));
    });
    if (status) status.textContent = button.textContent + " is carried by " + carriers.length + " image(s): " + carriers.join(", ");
  }
  buttons.forEach(function (b) { b.addEventListener("click", function () { select(b); }); });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape") { clear(); if (status) status.textContent = ""; }
  });
});
`;

/**
 * The history page's comparison of any two builds. The diff itself is
 * `compareImageFacts`, the function `tantalus diff` runs, embedded by its
 * source (it is self-contained for this), and so is the byte formatting of
 * the other pages: the page only picks the two builds and draws the result.
 * The builds' facts are the JSON the page embeds (#builds-data). The chosen
 * pair lives in the URL fragment (#a=DIGEST&b=DIGEST), so a comparison can be linked.
 */
export function compareScript(): string {
  return `"use strict";
// Under a transpiler that keeps function names (tsx in the tests) the embedded sources may call __name.
var __name = function (f) { return f; };
${formatBytes.toString()}
${compareImageFacts.toString()}
document.addEventListener("DOMContentLoaded", function () {
  var section = document.getElementById("compare");
  var source = document.getElementById("builds-data");
  if (!section || !source) return;
  var data = JSON.parse(source.textContent);
  var selectA = document.getElementById("compare-a");
  var selectB = document.getElementById("compare-b");
  var out = document.getElementById("compare-result");
  // The summary is the live region (role=status): a screen reader hears the one sentence, not the tables.
  var status = document.getElementById("compare-summary");
  var byDigest = {};
  data.builds.forEach(function (b) { byDigest[b.digest] = b; });
  function facts(b) {
    var f = { ref: b.tag, digest: b.digest, workflow: b.workflow, packages: b.packages, env: b.env,
      layers: b.layers.map(function (d) { return Object.assign({ digest: d }, data.layers[d]); }) };
    if (b.base !== undefined) f.base = b.base;
    return f;
  }
  function el(name, attrs, children) {
    var e = document.createElement(name);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) { e.append(c); });
    return e;
  }
  function label(b) { return b.workflow + " " + b.tag + (b.tagged ? " (" + b.tagged + ")" : ""); }
  function table(id, caption, heads, rows) {
    var head = el("tr", {}, heads.map(function (h) { return el("th", { scope: "col" }, [h]); }));
    var body = rows.length ? rows : [el("tr", {}, [el("td", { colspan: String(heads.length) }, ["none"])])];
    return el("table", { id: id }, [el("caption", {}, [caption]), el("thead", {}, [head]), el("tbody", {}, body)]);
  }
  function pkgRow(change, name, from, to) {
    return el("tr", { "class": change, "data-change": change, "data-package": name },
      [el("td", {}, [change]), el("th", { scope: "row" }, [name]), el("td", {}, [from || "-"]), el("td", {}, [to || "-"])]);
  }
  function layerRow(change, a, b) {
    var l = b || a;
    // A changed layer shows both digests; one the images share, once.
    var both = a && b && a.digest !== b.digest;
    var digest = el("code", { "class": "digest", title: both ? a.digest + " -> " + b.digest : l.digest },
      [both ? a.digest.slice(7, 19) + " \\u2192 " + b.digest.slice(7, 19) : l.digest.slice(7, 19)]);
    return el("tr", { "class": change, "data-change": change, "data-digest": l.digest },
      [el("td", {}, [change]), el("td", {}, [digest]), el("td", {}, [l.kind || "base"]),
       el("td", {}, [a ? formatBytes(a.size) : "-"]), el("td", {}, [b ? formatBytes(b.size) : "-"]),
       el("td", {}, [l.variants.join(", ")])]);
  }
  function render() {
    var a = byDigest[selectA.value];
    var b = byDigest[selectB.value];
    out.textContent = "";
    status.textContent = "";
    if (!a || !b) return;
    var d = compareImageFacts(facts(a), facts(b));
    var changedFrom = {};
    var changedTo = {};
    d.layers.changed.forEach(function (c) { changedFrom[c.from.digest] = true; changedTo[c.to.digest] = true; });
    var packages = []
      .concat(d.packages.added.map(function (q) { return pkgRow("added", q, "", q); }))
      .concat(d.packages.removed.map(function (q) { return pkgRow("removed", q, q, ""); }))
      .concat(d.packages.changed.map(function (c) { return pkgRow("changed", c.name, c.from, c.to); }));
    var layers = []
      .concat(d.layers.onlyB.filter(function (l) { return !changedTo[l.digest]; }).map(function (l) { return layerRow("added", undefined, l); }))
      .concat(d.layers.onlyA.filter(function (l) { return !changedFrom[l.digest]; }).map(function (l) { return layerRow("removed", l, undefined); }))
      .concat(d.layers.changed.map(function (c) { return layerRow("changed", c.from, c.to); }))
      .concat(d.layers.shared.map(function (l) { return layerRow("shared", l, l); }));
    var summary = d.identical
      ? "The same image: " + label(a) + " and " + label(b) + " have one manifest."
      : "From " + label(a) + " to " + label(b) + ": packages " + d.packages.added.length + " added, " +
        d.packages.removed.length + " removed, " + d.packages.changed.length + " changed, " + d.packages.unchanged +
        " unchanged; layers " + (d.layers.onlyB.length - d.layers.changed.length) + " added, " +
        (d.layers.onlyA.length - d.layers.changed.length) + " removed, " + d.layers.changed.length + " changed, " +
        d.layers.shared.length + " shared; a node holding A fetches " + formatBytes(d.layers.bytesToFetch) + " for B.";
    var notes = [];
    if (!d.base.same) notes.push("base: " + (d.base.a || "(none)") + " \\u2192 " + (d.base.b || "(none)"));
    var env = [].concat(d.env.added.map(function (k) { return "+" + k; }), d.env.removed.map(function (k) { return "\\u2212" + k; }), d.env.changed.map(function (k) { return "~" + k; }));
    if (env.length) notes.push("environment: " + env.join(" "));
    status.textContent = summary;
    notes.forEach(function (n) { out.append(el("p", {}, [n])); });
    out.append(table("compare-packages", "Packages of B against A", ["change", "package", "in A", "in B"], packages));
    out.append(table("compare-layers", "Layers of B against A, by digest", ["change", "digest", "kind", "size in A", "size in B", "packages"], layers));
  }
  // A link may name a build this report does not hold (gc removed it, or it is another store's):
  // say so beside the comparison shown instead, rather than silently comparing another pair.
  var stale = [];
  function fromFragment() {
    var params = new URLSearchParams(location.hash.slice(1));
    var a = params.get("a");
    var b = params.get("b");
    stale = [];
    if (a && byDigest[a]) selectA.value = a;
    else if (a) stale.push("A (" + a + ")");
    if (b && byDigest[b]) selectB.value = b;
    else if (b) stale.push("B (" + b + ")");
  }
  function showStale() {
    if (!stale.length) return;
    out.prepend(el("p", { id: "compare-stale", "class": "stale", role: "alert" }, [
      "This link names a build this report does not hold: " + stale.join(" and ") +
      ". It may have been removed by gc, or be another store's; the selection below is shown instead."]));
  }
  function changed() {
    stale = [];
    var fragment = "#a=" + encodeURIComponent(selectA.value) + "&b=" + encodeURIComponent(selectB.value);
    if (location.hash !== fragment) history.replaceState(null, "", fragment);
    render();
  }
  fromFragment();
  selectA.addEventListener("change", changed);
  selectB.addEventListener("change", changed);
  window.addEventListener("hashchange", function () { fromFragment(); render(); showStale(); });
  section.hidden = false;
  render();
  showStale();
});
`;
}
