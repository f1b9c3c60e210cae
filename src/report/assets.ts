/**
 * The report's style sheet and its one script, written beside the pages
 * (assets/), so the site is self-contained: nothing is fetched from anywhere
 * else, and it works from file:// as from any web server.
 */

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
