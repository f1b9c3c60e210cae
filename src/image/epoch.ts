/**
 * Build timestamps. Layers and configs use one fixed instant so rebuilds are
 * bit-identical; by default 1970-01-01T00:00:01Z (see DEFAULT_LAYER_MTIME and
 * DEFAULT_CREATED). Pipelines that want a meaningful date set
 * SOURCE_DATE_EPOCH (reproducible-builds.org convention) and pass the result
 * as `mtime` to writeLayer and `created` to writeImage.
 */
import { TantalusError } from "../errors.js";

/** SOURCE_DATE_EPOCH as a Date, or undefined when unset. */
export function sourceDateEpoch(env: NodeJS.ProcessEnv = process.env): Date | undefined {
  const raw = env.SOURCE_DATE_EPOCH;
  if (raw === undefined || raw === "") return undefined;
  if (!/^\d{1,12}$/.test(raw))
    throw new TantalusError(`SOURCE_DATE_EPOCH=${JSON.stringify(raw)}: expected whole seconds since 1970-01-01`);
  return new Date(Number(raw) * 1000);
}

/** RFC 3339 in UTC without fractional seconds, the form image configs use. */
export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}
