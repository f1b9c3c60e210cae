/**
 * Resolve graph drawings kept between reports. dagre's layout of the large
 * studio's graphs is a fifth of the report's CPU time, and a graph changes
 * only when its workflow's resolve does: a build host that writes the report
 * after every build redraws the one or two graphs that changed. One file,
 * `<cache>/report/graph-layouts.json`, holding the last drawing of each
 * workflow, keyed by everything the drawing is made from (the graph's nodes
 * and edges, dagre's version and the drawing code: DRAWING_VERSION), each
 * with its digest, checked when read. Anything unreadable is a miss, never an
 * error: the graph is drawn again. Written whole to a temporary name, then
 * renamed.
 */
import fs from "node:fs";
import path from "node:path";
import { createHash } from "node:crypto";
import { writeFileAtomic } from "../util/atomic.js";
import { makeDirsSync } from "../util/dirs.js";
import type { ResolveGraph } from "./data.js";
import { DRAWING_VERSION } from "./graph.js";

interface Drawing {
  key: string;
  svg: string;
  sha256: string;
}

interface LayoutFile {
  drawing: string;
  workflows: Record<string, Drawing>;
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/** What renderGraphSvg draws from: a change in any of it is another drawing. */
function keyOf(graph: ResolveGraph): string {
  return sha256(
    JSON.stringify([
      DRAWING_VERSION,
      graph.workflow,
      graph.nodes.map((n) => [n.id, n.family, n.requested]),
      graph.edges.map((e) => [e.from, e.to, e.requirement]),
    ]),
  );
}

export class GraphLayoutCache {
  private changed = false;

  private constructor(
    readonly file: string,
    private readonly workflows: Record<string, Drawing>,
  ) {}

  /** The cache at `file`; empty when there is none or it cannot be read (or was written by another drawing code). */
  static open(file: string): GraphLayoutCache {
    let workflows: Record<string, Drawing> = {};
    try {
      const parsed = JSON.parse(fs.readFileSync(file, "utf8")) as Partial<LayoutFile>;
      if (parsed.drawing === DRAWING_VERSION && parsed.workflows && typeof parsed.workflows === "object")
        workflows = parsed.workflows;
    } catch {
      // No cache yet, or a damaged one: every graph is drawn again and the file rewritten.
    }
    return new GraphLayoutCache(file, workflows);
  }

  /** The drawing of `graph` kept from an earlier report, when it is this very graph and its bytes are intact. */
  get(graph: ResolveGraph): string | undefined {
    const d = this.workflows[graph.workflow];
    if (!d || typeof d.svg !== "string" || d.key !== keyOf(graph) || d.sha256 !== sha256(d.svg)) return undefined;
    return d.svg;
  }

  set(graph: ResolveGraph, svg: string): void {
    this.workflows[graph.workflow] = { key: keyOf(graph), svg, sha256: sha256(svg) };
    this.changed = true;
  }

  /** Writes the file when a drawing was added; a cache that cannot be written is left as it was (the report does not depend on it). */
  save(): boolean {
    if (!this.changed) return false;
    try {
      makeDirsSync(path.dirname(this.file));
      writeFileAtomic(
        this.file,
        JSON.stringify({ drawing: DRAWING_VERSION, workflows: this.workflows } satisfies LayoutFile),
        { durable: false },
      );
      this.changed = false;
      return true;
    } catch {
      return false;
    }
  }
}
