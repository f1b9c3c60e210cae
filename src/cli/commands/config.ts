import path from "node:path";
import type { Command } from "@commander-js/extra-typings";
import {
  checkConfigFile,
  formatConfigPath,
  loadConfig,
  type ConfigPath,
  type LoadedConfig,
  type ValueOrigin,
} from "../../config/index.js";
import { formatLocation } from "../../errors.js";
import { printJson } from "../common.js";

interface ConfigOpts {
  json?: boolean;
  check?: string;
  config?: string;
  paths?: string;
  store?: string;
}

/** One effective value and the layer it comes from. */
export interface EffectiveValue {
  key: string;
  value: unknown;
  origin: ValueOrigin;
}

/**
 * Every leaf of the effective configuration (a scalar, a list, an empty
 * mapping), in the schema's order, with its origin. Lists are one value: a
 * higher layer replaces a list whole.
 */
export function effectiveValues(loaded: LoadedConfig): EffectiveValue[] {
  const out: EffectiveValue[] = [];
  const walk = (value: unknown, p: ConfigPath) => {
    if (typeof value === "object" && value !== null && !Array.isArray(value) && Object.keys(value).length > 0) {
      for (const [k, v] of Object.entries(value)) walk(v, [...p, k]);
      return;
    }
    if (value === undefined) return;
    out.push({ key: formatConfigPath(p), value, origin: loaded.origin(p) });
  };
  walk(loaded.config, []);
  // The store's default is computed, not written in the schema: shown as the value used.
  if (!out.some((v) => v.key === "store"))
    out.push({ key: "store", value: loaded.store, origin: { kind: "default", source: "default" } });
  return out;
}

/** Like `git config --show-origin`: file:PATH:LINE, env:NAME, flag:--NAME or default. */
export function originLabel(o: ValueOrigin): string {
  switch (o.kind) {
    case "site":
    case "project":
      return `file:${o.location ? formatLocation({ file: o.location.file, ...(o.location.line !== undefined ? { line: o.location.line } : {}) }) : o.source}`;
    case "rez":
      // Rez's configuration: a rezconfig file at its line, or a REZ_* variable.
      return o.location?.line !== undefined
        ? `rezconfig:${formatLocation({ file: o.location.file, line: o.location.line })}`
        : `env:${o.source}`;
    case "environment":
      return `env:${o.source}`;
    case "flag":
      return `flag:${o.source}`;
    default:
      return "default";
  }
}

export function register(program: Command): void {
  program
    .command("config")
    .description(
      "print the effective configuration and where each value comes from (default < site file < Rez's rezconfig files and REZ_* variables < the project's tantalus.yaml < TANTALUS_* variables < flags), " +
        "or check one file",
    )
    .option("--json", "print the layers, the effective configuration and each value's origin as JSON")
    .option("--check <file>", "validate this one file on its own: each problem with its line; exit 1 when there is one")
    .option(
      "--config <file>",
      "configuration file (default: TANTALUS_CONFIG, else ./tantalus.yaml or the nearest in a parent folder)",
    )
    .option("--paths <paths>", "package search paths, colon-separated (the flag layer)")
    .option("--store <dir>", "image store (the flag layer)")
    .action((opts: ConfigOpts) => {
      if (opts.check !== undefined) {
        checkConfigFile(path.resolve(opts.check), opts.check);
        if (opts.json) printJson({ file: opts.check, valid: true });
        else process.stdout.write(`${opts.check}: valid\n`);
        return;
      }
      const loaded = loadConfig(opts.config, { flags: { paths: opts.paths, store: opts.store }, required: false });
      const values = effectiveValues(loaded);
      const layers = [
        { kind: "default", source: "default" },
        ...loaded.sources.map((l) => ({
          kind: l.kind,
          source: l.source,
          ...(l.file !== undefined ? { file: l.file } : {}),
        })),
      ];
      if (opts.json) {
        printJson({
          layers,
          config: { ...loaded.config, store: loaded.store },
          values: values.map((v) => ({
            key: v.key,
            value: v.value,
            origin: { ...v.origin, label: originLabel(v.origin) },
          })),
        });
        return;
      }
      const lines = [
        `# layers, lowest first: ${layers.map((l) => (l.kind === "default" ? "default" : `${l.kind} ${l.source}`)).join(" < ")}`,
      ];
      const labels = values.map((v) => originLabel(v.origin));
      const width = Math.max(...labels.map((l) => l.length));
      values.forEach((v, i) =>
        lines.push(
          `${labels[i]!.padEnd(width)}  ${v.key}=${typeof v.value === "string" ? v.value : JSON.stringify(v.value)}`,
        ),
      );
      process.stdout.write(lines.join("\n") + "\n");
    });
}
