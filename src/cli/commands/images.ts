import { existsSync } from "node:fs";
import type { Command } from "@commander-js/extra-typings";
import { getWorkflow } from "../../config/index.js";
import { findConfig, printJson } from "../common.js";

interface ImagesOpts {
  store?: string;
  config?: string;
  json?: boolean;
}

/** The store directory: --store, else TANTALUS_STORE, else the configuration's, else the default. */
export function storeDirOf(opts: { store?: string; config?: string }): string {
  return findConfig(opts).store;
}

export function register(program: Command): void {
  program
    .command("images")
    .description("list the images in the local store: workflow, tag, digest, size, when built here, and the resolve")
    .argument("[workflow...]", "list only the images of these workflows")
    .option(
      "--store <dir>",
      "image store (default: TANTALUS_STORE, else the configuration's store, else ~/.cache/tantalus/store)",
    )
    .option(
      "--config <file>",
      "configuration file (default: TANTALUS_CONFIG, else ./tantalus.yaml or the nearest in a parent folder)",
    )
    .option("--json", "print the images as JSON")
    .action(async (workflows: string[], opts: ImagesOpts) => {
      const [{ OciStore }, build] = await Promise.all([
        import("../../image/layout/store.js"),
        import("../../builder/index.js"),
      ]);
      const dir = storeDirOf(opts);
      if (!existsSync(`${dir}/oci-layout`)) {
        if (opts.json) printJson([]);
        else process.stdout.write(`no image store at ${dir} yet (tantalus build creates it)\n`);
        return;
      }
      const store = await OciStore.open(dir, { readOnly: true });
      const all = await build.listStoredImages(store);
      // A name no image carries and the configuration does not know is a typo: say which names exist.
      const config = workflows.length > 0 ? findConfig(opts) : undefined;
      for (const w of workflows)
        if (config && config.files.length > 0 && !all.some((i) => i.workflow === w)) getWorkflow(config, w);
      const images =
        workflows.length > 0 ? all.filter((i) => i.workflow !== undefined && workflows.includes(i.workflow)) : all;
      // A broken image is reported and the others are listed; the exit status says something is wrong.
      const broken = images.filter((i) => i.problem !== undefined);
      if (broken.length > 0) process.exitCode = 1;
      for (const i of broken) process.stderr.write(`tantalus: error: image ${i.tag}: ${i.problem}\n`);
      if (opts.json) {
        printJson(images);
        return;
      }
      if (images.length === 0) {
        process.stdout.write(
          workflows.length > 0 ? `no images of ${workflows.join(", ")} in ${dir}\n` : `no images in ${dir}\n`,
        );
        return;
      }
      const rows = images.map((i) => [
        i.workflow ?? (i.role === "base" ? "(base)" : "-"),
        i.tag,
        i.digest.slice(7, 19),
        i.problem ? "broken" : build.formatBytes(i.size),
        i.tagged ? i.tagged.replace("T", " ").replace(/\.\d+Z$/, "Z") : "-",
        i.resolve.length > 0 ? summarize(i.resolve) : "-",
      ]);
      const header = ["WORKFLOW", "TAG", "DIGEST", "SIZE", "BUILT", "RESOLVE"];
      const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
      const line = (r: string[]) => r.map((v, c) => (c === r.length - 1 ? v : v.padEnd(widths[c]!))).join("  ");
      process.stdout.write([line(header), ...rows.map(line)].join("\n") + "\n");
    });
}

function summarize(resolve: string[]): string {
  const text = resolve.join(" ");
  return text.length <= 70 ? text : `${text.slice(0, 67)}... (${resolve.length} packages)`;
}
