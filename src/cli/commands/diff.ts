import type { Command } from "@commander-js/extra-typings";
import { TantalusError } from "../../errors.js";
import { printJson } from "../common.js";
import { storeDirOf } from "./images.js";

interface DiffOpts {
  store?: string;
  config?: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command("diff")
    .description(
      "compare two images of the store: packages added, removed and changed, layers shared and different; exit 1 when they differ, 2 when they cannot be compared, as diff(1)",
    )
    .argument("<a>", "a tag or manifest digest in the store")
    .argument("<b>", "another tag or manifest digest")
    .option(
      "--store <dir>",
      "image store (default: TANTALUS_STORE, else the configuration's store, else ~/.cache/tantalus/store)",
    )
    .option(
      "--config <file>",
      "configuration file (default: TANTALUS_CONFIG, else ./tantalus.yaml or the nearest in a parent folder)",
    )
    .option("--json", "print the comparison as JSON")
    .action(async (a, b, opts: DiffOpts) => {
      const [{ OciStore }, build] = await Promise.all([
        import("../../image/layout/store.js"),
        import("../../builder/index.js"),
      ]);
      // As diff(1): 0 when the images are the same, 1 when they differ, 2 when they cannot be compared
      // (an unknown reference, an unreadable store), so `tantalus diff A B || rebuild` never takes a
      // typo for a difference.
      let d: Awaited<ReturnType<typeof build.diffImages>>;
      try {
        const store = await OciStore.open(storeDirOf(opts), { readOnly: true });
        d = await build.diffImages(store, a, b);
      } catch (e) {
        if (e instanceof TantalusError && e.exitCode === 1) throw new TantalusError(e.detail, e.location, 2);
        throw e;
      }
      if (!d.identical) process.exitCode = 1;
      if (opts.json) {
        printJson(d);
        return;
      }
      const fmt = build.formatBytes;
      const out: string[] = [`${a} ${d.a.digest}`, `${b} ${d.b.digest}`];
      if (d.identical) {
        out.push("identical images");
        process.stdout.write(out.join("\n") + "\n");
        return;
      }
      out.push(
        "",
        `packages: ${d.packages.added.length} added, ${d.packages.removed.length} removed, ${d.packages.changed.length} changed, ${d.packages.unchanged} unchanged`,
      );
      for (const p of d.packages.added) out.push(`  + ${p}`);
      for (const p of d.packages.removed) out.push(`  - ${p}`);
      for (const c of d.packages.changed) out.push(`  ~ ${c.from} -> ${c.to}`);
      const layerLine = (sign: string, l: { digest: string; size: number; kind?: string; variants: string[] }) =>
        `  ${sign} ${l.digest.slice(7, 19)}  ${fmt(l.size).padStart(9)}  ${l.kind ?? "base"}${l.variants.length ? `: ${l.variants.join(" ")}` : ""}`;
      out.push(
        "",
        `layers: ${d.layers.shared.length} shared, ${d.layers.onlyA.length} only in ${a}, ${d.layers.onlyB.length} only in ${b} (${fmt(d.layers.bytesToFetch)} to fetch for ${b} when ${a} is present)`,
      );
      // A layer holding the same packages in another version (or the other top layer) is one change, not two.
      const from = new Set(d.layers.changed.map((c) => c.from.digest));
      const to = new Set(d.layers.changed.map((c) => c.to.digest));
      for (const l of d.layers.onlyA) if (!from.has(l.digest)) out.push(layerLine("-", l));
      for (const l of d.layers.onlyB) if (!to.has(l.digest)) out.push(layerLine("+", l));
      for (const c of d.layers.changed)
        out.push(`${layerLine("~", c.to)}  (was ${c.from.digest.slice(7, 19)}, ${fmt(c.from.size)})`);
      if (!d.base.same) out.push("", `base: ${d.base.a ?? "(none)"} -> ${d.base.b ?? "(none)"}`);
      const env = d.env;
      if (env.added.length + env.removed.length + env.changed.length > 0) {
        out.push(
          "",
          `config Env: ${[...env.added.map((k) => `+${k}`), ...env.removed.map((k) => `-${k}`), ...env.changed.map((k) => `~${k}`)].join(" ")}`,
        );
      }
      process.stdout.write(out.join("\n") + "\n");
    });
}
