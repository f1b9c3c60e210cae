import { UsageError } from "../errors.js";

/**
 * How heavy the generated studio is. Weights in the catalog are bytes at
 * factor 1 ("default", about 200 MB); "small" keeps tests under 20 MB and
 * "large" approaches the size of a real DCC-heavy repository.
 */
export const SCALE_PRESETS = { small: 0.05, default: 1, large: 4 } as const;
export type ScalePreset = keyof typeof SCALE_PRESETS;

export interface Scale {
  /** "small", "default", "large", or the number as given. */
  name: string;
  factor: number;
}

export function parseScale(value: string | number | undefined): Scale {
  if (value === undefined) return { name: "default", factor: 1 };
  if (typeof value === "string" && value in SCALE_PRESETS) {
    return { name: value, factor: SCALE_PRESETS[value as ScalePreset] };
  }
  const n = typeof value === "number" ? value : Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 50 || (typeof value === "string" && value.trim() === "")) {
    throw new UsageError(
      `invalid --scale ${JSON.stringify(String(value))}: expected small, default, large or a number in (0, 50]`,
    );
  }
  return { name: String(n), factor: n };
}

/** Bytes of filler for a catalog weight; rounded to 64 bytes so sizes stay tidy. */
export function scaledBytes(weight: number, scale: Scale): number {
  if (weight <= 0) return 0;
  return Math.max(64, Math.round((weight * scale.factor) / 64) * 64);
}

/** Number of generated files (stdlib modules, scripts) for a catalog count. */
export function scaledCount(count: number, scale: Scale): number {
  if (count <= 0) return 0;
  return Math.max(2, Math.round(count * Math.sqrt(scale.factor)));
}
