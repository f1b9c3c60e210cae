/**
 * The resolve graph drawn as SVG. The layout is dagre's (the layered Sugiyama
 * layout Graphviz's dot uses, maintained on npm as @dagrejs/dagre), computed
 * when the report is written: the page carries the finished drawing, so it
 * shows at first paint from file:// with no script and nothing fetched.
 */
import { createHash } from "node:crypto";
import * as dagre from "@dagrejs/dagre";
import type { ResolveGraph } from "./data.js";
import { escapeHtml } from "./html.js";

interface Point {
  x: number;
  y: number;
}

/**
 * The part of dagre's API used here, typed by hand: dagre 3's declaration files
 * import their siblings without extensions, which NodeNext resolution cannot
 * follow, so TypeScript sees `any` there.
 */
interface LayoutGraph {
  setGraph(label: { rankdir: string; nodesep: number; ranksep: number; marginx: number; marginy: number }): void;
  setDefaultEdgeLabel(label: () => object): void;
  setNode(id: string, label: { width: number; height: number }): void;
  setEdge(from: string, to: string): void;
  graph(): { width?: number; height?: number };
  node(id: string): { x: number; y: number; width: number; height: number };
  edge(from: string, to: string): { points?: Point[] } | undefined;
}
const { Graph, layout, version } = dagre as unknown as {
  Graph: new (opts: { multigraph: boolean }) => LayoutGraph;
  layout: (g: LayoutGraph) => void;
  version: string;
};

const CHAR_WIDTH = 7.2;
const NODE_HEIGHT = 28;

export interface GraphOptions {
  /** Mark every node as on the conflict except these (a failed resolve's chains: all but the request). */
  highlightAllBut?: ReadonlySet<string>;
}

/** An SVG of the graph: one `g.node` per resolved variant (data-variant: its qualified name), one path per requirement. */
export function renderGraphSvg(graph: ResolveGraph, opts: GraphOptions = {}): string {
  const g = new Graph({ multigraph: false });
  g.setGraph({ rankdir: "LR", nodesep: 10, ranksep: 60, marginx: 8, marginy: 8 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of graph.nodes)
    g.setNode(n.id, { width: Math.max(60, n.id.length * CHAR_WIDTH + 16), height: NODE_HEIGHT });
  for (const e of graph.edges) g.setEdge(e.from, e.to);
  layout(g);
  const { width = 0, height = 0 } = g.graph();
  const out: string[] = [];
  const titleId = `graph-${graph.workflow}-title`;
  out.push(
    `<svg class="resolve-graph" role="img" aria-labelledby="${escapeHtml(titleId)}" width="${Math.ceil(width)}" height="${Math.ceil(height)}" viewBox="0 0 ${Math.ceil(width)} ${Math.ceil(height)}" xmlns="http://www.w3.org/2000/svg">`,
    `<title id="${escapeHtml(titleId)}">Resolve graph of ${escapeHtml(graph.workflow)}: ${graph.nodes.length} variants, ${graph.edges.length} requirements</title>`,
    `<defs><marker id="arrow-${escapeHtml(graph.workflow)}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z"/></marker></defs>`,
  );
  for (const e of graph.edges) {
    const points = g.edge(e.from, e.to)?.points ?? [];
    if (points.length === 0) continue;
    const d = points.map((p, i) => `${i === 0 ? "M" : "L"}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join("");
    out.push(
      `<path class="edge" d="${d}" marker-end="url(#arrow-${escapeHtml(graph.workflow)})" data-from="${escapeHtml(e.from)}" data-to="${escapeHtml(e.to)}"><title>${escapeHtml(`${e.from} requires ${e.requirement}`)}</title></path>`,
    );
  }
  for (const n of graph.nodes) {
    const box = g.node(n.id);
    const x = box.x - box.width / 2;
    const y = box.y - box.height / 2;
    const classes = [
      "node",
      n.requested ? "requested" : "",
      opts.highlightAllBut && !opts.highlightAllBut.has(n.id) ? "conflict" : "",
    ]
      .filter(Boolean)
      .join(" ");
    out.push(
      `<g class="${classes}" data-variant="${escapeHtml(n.id)}" data-family="${escapeHtml(n.family)}">` +
        `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${box.width.toFixed(1)}" height="${box.height}" rx="4"/>` +
        `<text x="${box.x.toFixed(1)}" y="${(box.y + 4).toFixed(1)}" text-anchor="middle">${escapeHtml(n.id)}</text></g>`,
    );
  }
  out.push("</svg>");
  return out.join("\n");
}

/**
 * What a drawing depends on besides the graph: dagre's version and the drawing
 * code here. Drawings kept between reports (layout-cache.ts) are valid only
 * under the same one.
 */
export const DRAWING_VERSION = createHash("sha256")
  .update(`dagre ${version}\u0000${CHAR_WIDTH}\u0000${NODE_HEIGHT}\u0000${renderGraphSvg.toString()}`)
  .digest("hex")
  .slice(0, 16);
