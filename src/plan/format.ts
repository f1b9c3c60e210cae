import type { StrategyResult } from "./report.js";
import type { LayerPlan, PlannedLayer, Strategy } from "./types.js";

/** Binary units, three significant digits: "812 MiB", "1.21 GiB", "96 B". */
export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  if (u === 0) return `${n} B`;
  return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ${units[u]}`;
}

/** "usd-24.08[1]@/repo" -> "usd-24.08[1]": the repository is the same for most variants and long. */
function shortId(id: string): string {
  const at = id.lastIndexOf("@");
  return at > 0 ? id.slice(0, at) : id;
}

function summarize(layer: PlannedLayer, width: number): string {
  const names = layer.variants.map(shortId);
  let out = "";
  for (let i = 0; i < names.length; i++) {
    const next = (out ? out + " " : "") + names[i];
    const rest = names.length - i - 1;
    if (next.length + (rest > 0 ? ` (+${rest})`.length : 0) > width && out) return `${out} (+${names.length - i})`;
    out = next;
  }
  return out;
}

/** Each image's layers, bottom first: base, planned (tier, size, images sharing it, variants), top. */
export function renderImageLayers(plan: LayerPlan, only?: readonly string[]): string {
  const byKey = new Map(plan.layers.map((l) => [l.key, l]));
  const total = plan.images.length;
  const lines: string[] = [];
  for (const image of plan.images) {
    if (only && only.length > 0 && !only.includes(image.name)) continue;
    const layers = image.layers.map((k) => byKey.get(k)!);
    const bytes = layers.reduce((s, l) => s + l.bytes, 0);
    // The top layer is always there; the layers reserved beside it (a repair layer) only when the audit asks.
    const top = Math.min(image.topLayers, 1);
    const reserved = image.topLayers - top;
    const count = image.baseLayers + layers.length + top;
    lines.push(
      `${image.name}: ${count} layers${reserved > 0 ? ` (+${reserved} reserved for a repair layer)` : ""}, ` +
        `${formatBytes(bytes)} of packages (${formatBytes(image.packageBytes)} its own)`,
    );
    const tierWidth = Math.max(4, ...layers.map((l) => l.tier.length));
    let n = 0;
    const row = (tier: string, size: string, shared: string, what: string): void => {
      lines.push(
        `  ${String(++n).padStart(3)}  ${tier.padEnd(tierWidth)}  ${size.padStart(9)}  ${shared.padStart(7)}  ${what}`,
      );
    };
    for (let b = 0; b < image.baseLayers; b++) row("base", "", "", b === 0 ? "base image" : "");
    for (const l of layers)
      row(l.tier, formatBytes(l.bytes), `${l.images.length}/${total}`, `${l.key.slice(0, 12)}  ${summarize(l, 72)}`);
    if (top > 0) row("top", "", "", "environment, entrypoint, context");
    lines.push("");
  }
  return lines.join("\n");
}

const STRATEGY_LABEL: Record<Strategy, string> = {
  shared: "studio plan (shared)",
  "per-tier": "one layer per tier",
  popularity: "Nix popularity, per image",
};

/** The studio comparison table: Σ image sizes, unique bytes stored and their ratio to the packages' bytes. */
export function renderComparison(results: Partial<Record<Strategy, StrategyResult>>): string {
  const rows = (Object.keys(STRATEGY_LABEL) as Strategy[])
    .filter((s) => results[s])
    .map((s) => [s, results[s]!] as const);
  if (rows.length === 0) return "";
  const first = rows[0]![1].report;
  const header = [
    "strategy",
    "Σ image sizes",
    "unused carried",
    "unique stored",
    "× packages",
    "layers/image",
    "distinct",
    "shared",
    "plan time",
  ];
  const table = rows.map(([s, r]) => [
    STRATEGY_LABEL[s],
    formatBytes(r.report.imageBytes),
    `${((r.report.imageOverhead - 1) * 100).toFixed(2)}%`,
    formatBytes(r.report.uniqueBytes),
    `${r.report.ratio.toFixed(3)}x`,
    `${r.report.layersPerImage.min}-${r.report.layersPerImage.max} (avg ${r.report.layersPerImage.mean.toFixed(1)})`,
    String(r.report.distinctLayers),
    String(r.report.sharedLayers),
    `${r.millis.toFixed(0)} ms`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
  const fmt = (cells: string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [
    `Studio: ${first.images.length} images, ${formatBytes(first.packageBytes)} of distinct packages`,
    fmt(header),
    ...table.map(fmt),
    `(base and top layers not counted; "unused carried": bytes images carry in shared layers without using them, over their own)`,
  ].join("\n");
}
