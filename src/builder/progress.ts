/**
 * The build's display. On a terminal: finished work scrolls up as plain
 * lines while the layers being archived and the blobs being pushed stay in
 * a live block at the bottom, redrawn at most ten times a second. Elsewhere
 * (CI logs, pipes): only the plain lines, one per finished piece of work, so
 * a log reads the same whatever the timing was.
 */
import type { BuildEvent } from "./events.js";

export interface ProgressStream {
  write(chunk: string): boolean;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  /** Redraw live lines (default: the stream is a terminal). */
  live?: boolean;
  /** Print a line for every layer taken from the cache (default true). */
  showReused?: boolean;
}

const REDRAW_MS = 100;

interface LiveItem {
  label: string;
  done: number;
  total: number;
  verb: string;
}

export class ProgressDisplay {
  private readonly live: boolean;
  private readonly showReused: boolean;
  private readonly active = new Map<string, LiveItem>();
  private drawn = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly out: ProgressStream,
    opts: ProgressOptions = {},
  ) {
    this.live = opts.live ?? out.isTTY === true;
    this.showReused = opts.showReused ?? true;
  }

  /** Feed one build event (pass `display.event` as the build's onEvent). */
  readonly event = (e: BuildEvent): void => {
    switch (e.type) {
      case "step":
        this.line(e.message);
        return;
      case "warning":
        this.line(`warning: ${e.message}`);
        return;
      case "layer-start":
        this.active.set(`layer:${e.id}`, { label: e.label, done: 0, total: e.bytes, verb: "archiving" });
        this.schedule();
        return;
      case "layer-progress": {
        const item = this.active.get(`layer:${e.id}`);
        if (item) item.done = e.bytes;
        this.schedule();
        return;
      }
      case "layer-done":
        this.active.delete(`layer:${e.id}`);
        if (e.cached) {
          if (this.showReused) this.line(`  reused   ${e.label}  ${formatBytes(e.size)}`);
        } else {
          this.line(
            `  written  ${e.label}  ${formatBytes(e.uncompressedSize)} -> ${formatBytes(e.size)} in ${e.seconds.toFixed(1)} s`,
          );
        }
        return;
      case "image":
        this.line(
          `image ${e.tag}  ${e.digest}  ${e.layers} layers  ${formatBytes(e.size)}${e.emptyLayers ? `  ${emptyLayerNote(e.emptyLayers)}` : ""}`,
        );
        return;
      case "push-blob": {
        const key = `push:${e.reference}:${e.digest}`;
        if (e.state === "uploading") {
          const item = this.active.get(key) ?? {
            label: `${e.digest.slice(7, 19)} -> ${e.reference}`,
            done: 0,
            total: e.size,
            verb: "pushing",
          };
          item.done = e.bytes;
          this.active.set(key, item);
          this.schedule();
          return;
        }
        this.active.delete(key);
        if (e.state === "uploaded") this.line(`  pushed   ${e.digest.slice(7, 19)}  ${formatBytes(e.size)}`);
        else if (e.state === "mounted") this.line(`  mounted  ${e.digest.slice(7, 19)}  ${formatBytes(e.size)}`);
        else this.schedule();
        return;
      }
      case "pushed":
        this.line(
          `pushed ${e.workflow} to ${e.reference}: ${e.uploaded} blob(s) uploaded, ${e.mounted} mounted, ${e.existing} already there`,
        );
        return;
      case "exported":
        this.line(`exported ${e.workflow} to ${e.destination}`);
        return;
    }
  };

  /** Stop redrawing and leave the terminal clean. */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.active.clear();
    this.clearLive();
  }

  private line(text: string): void {
    this.clearLive();
    this.out.write(text + "\n");
    this.drawLive();
  }

  private schedule(): void {
    if (!this.live || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.clearLive();
      this.drawLive();
    }, REDRAW_MS);
    this.timer.unref();
  }

  private clearLive(): void {
    if (!this.live || this.drawn === 0) return;
    // Up to the first live line, then erase to the end of the screen.
    this.out.write(`\x1b[${this.drawn}A\r\x1b[0J`);
    this.drawn = 0;
  }

  private drawLive(): void {
    if (!this.live || this.active.size === 0) return;
    const width = Math.max(40, (this.out.columns ?? 100) - 1);
    const items = [...this.active.values()];
    const shown = items.slice(0, 8);
    const lines = shown.map((i) =>
      clip(
        `  ${i.verb.padEnd(9)} ${i.label}  ${formatBytes(i.done)}${i.total > 0 ? ` / ${formatBytes(i.total)}` : ""}`,
        width,
      ),
    );
    if (items.length > shown.length) lines.push(`  ... and ${items.length - shown.length} more`);
    this.out.write(lines.join("\n") + "\n");
    this.drawn = lines.length;
  }
}

function clip(s: string, width: number): string {
  return s.length <= width ? s : s.slice(0, width - 1) + "…";
}

/** "12.3 MB" (decimal units, as registries and `du --si` print them). */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  if (n < 1e6) return `${(n / 1e3).toFixed(1)} kB`;
  if (n < 1e9) return `${(n / 1e6).toFixed(1)} MB`;
  return `${(n / 1e9).toFixed(2)} GB`;
}

/**
 * Why an image has fewer layers than its plan showed: planned layers whose
 * variants install no files are left out (an empty tar would only cost a layer).
 */
export function emptyLayerNote(empty: readonly (readonly string[])[]): string {
  return `(${empty.length} planned layer(s) left out, their packages have no files: ${empty.map((l) => l.join(" ")).join("; ")})`;
}
