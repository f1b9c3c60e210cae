/**
 * An environ as a Docker/Podman `--env-file`: one `NAME=value` per line, taken
 * literally (no quotes, no expansion, no continuation lines), so a value with a
 * newline cannot be carried and is refused rather than cut.
 */
import { TantalusError } from "../errors.js";

export function renderDotenv(environ: ReadonlyMap<string, string> | Readonly<Record<string, string>>): string {
  const entries = isMap(environ) ? [...environ.entries()] : Object.entries(environ);
  let out = "";
  for (const [k, v] of entries) {
    if (!/^[^\s=]+$/.test(k))
      throw new TantalusError(`variable name ${JSON.stringify(k)} cannot be written to an env-file`);
    if (/[\n\r]/.test(v)) {
      throw new TantalusError(
        `variable ${k} has a line break in its value, which an env-file cannot carry; use the shell script (--shell) instead`,
      );
    }
    out += `${k}=${v}\n`;
  }
  return out;
}

/** `instanceof Map` alone would widen the entries to `any`. */
function isMap(
  environ: ReadonlyMap<string, string> | Readonly<Record<string, string>>,
): environ is ReadonlyMap<string, string> {
  return environ instanceof Map;
}
