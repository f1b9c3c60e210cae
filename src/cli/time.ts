import { UsageError } from "../errors.js";

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/**
 * A `--time` value as epoch seconds: epoch seconds, Rez's relative form (`-10s`,
 * `-5m`, `-0.5h`, `-10d`), or an ISO 8601 date.
 */
export function parseTime(text: string, now = Date.now()): number {
  if (/^\d+$/.test(text)) return Number(text);
  const rel = /^-(\d+(?:\.\d+)?)([smhdw])$/.exec(text);
  if (rel) return Math.floor(now / 1000 - Number(rel[1]) * UNITS[rel[2]!]!);
  const ms = Date.parse(text);
  if (!Number.isNaN(ms) && /^\d{4}-\d{2}-\d{2}/.test(text)) return Math.floor(ms / 1000);
  throw new UsageError(
    `--time '${text}': expected epoch seconds, a relative time like -10d or -5h, or an ISO date like 2024-05-01`,
  );
}
