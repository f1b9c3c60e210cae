import type { Command } from "@commander-js/extra-typings";
import { printJson } from "../common.js";
import { storeDirOf } from "./images.js";

interface InspectOpts {
  store?: string;
  config?: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command("inspect")
    .description(
      "show an image of the store: labels, packages, layers with the packages in each, environment, base, created, source",
    )
    .argument("<image>", "a workflow (its newest image), a store tag or a manifest digest")
    .option("--store <dir>", "image store (default: the configuration's store, else ~/.cache/tantalus/store)")
    .option("--config <file>", "configuration file (default: ./tantalus.yaml)")
    .option("--json", "print everything as JSON")
    .action(async (image, opts: InspectOpts) => {
      const [{ OciStore }, build] = await Promise.all([
        import("../../image/layout/store.js"),
        import("../../builder/index.js"),
      ]);
      const store = await OciStore.open(storeDirOf(opts), { readOnly: true });
      const i = await build.inspectStoredImage(store, image);
      if (opts.json) {
        printJson(i);
        return;
      }
      const fmt = build.formatBytes;
      const out = [
        `image     ${i.ref}`,
        `digest    ${i.digest}`,
        `workflow  ${i.workflow ?? "-"}`,
        `tags      ${i.tags.join(" ") || "-"}`,
        `created   ${i.created ?? "-"}`,
        `platform  ${i.platform}`,
        `size      ${fmt(i.size)} (${i.layers.length} layers)`,
        `base      ${i.base ? [i.base.name, i.base.digest].filter(Boolean).join(" ") : "-"}`,
        `source    ${i.source ? [i.source.url, i.source.revision].filter(Boolean).join(" ") : "-"}`,
        `request   ${i.request.join(" ") || "-"}`,
        `entrypoint ${JSON.stringify(i.entrypoint)}  cmd ${JSON.stringify(i.cmd)}`,
        "",
        `packages (${i.packages.length}):`,
        ...i.packages.map((p) => `  ${p}`),
        "",
        "layers:",
        ...i.layers.map(
          (l) =>
            `  ${l.digest.slice(7, 19)}  ${fmt(l.size).padStart(9)}  ${l.kind ?? "-"}${l.tier ? ` (${l.tier})` : ""}${l.packages.length ? `: ${l.packages.join(" ")}` : ""}`,
        ),
        "",
        "environment:",
        ...i.env.map((e) => `  ${e}`),
        "",
        "labels:",
        ...Object.entries(i.labels)
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([k, v]) => `  ${k}=${v}`),
      ];
      process.stdout.write(out.join("\n") + "\n");
    });
}
