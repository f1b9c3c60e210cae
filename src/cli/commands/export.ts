import type { Command } from "@commander-js/extra-typings";
import { printJson } from "../common.js";
import { storeDirOf } from "./images.js";

interface ExportOpts {
  store?: string;
  config?: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command("export")
    .description(
      "write an image already in the store to an OCI layout or an archive, as built (no resolve, no rebuild)",
    )
    .argument("<image>", "a workflow (its newest image), a store tag or a manifest digest")
    .argument(
      "<destination>",
      "oci:DIR[:TAG], oci-archive:FILE[:TAG] or docker-archive:FILE[:NAME:TAG] (default name: the workflow)",
    )
    .option("--store <dir>", "image store (default: the configuration's store, else ~/.cache/tantalus/store)")
    .option("--config <file>", "configuration file (default: ./tantalus.yaml)")
    .option("--json", "print the result as JSON")
    .action(async (image, destination, opts: ExportOpts) => {
      const [{ OciStore }, build] = await Promise.all([
        import("../../image/layout/store.js"),
        import("../../builder/index.js"),
      ]);
      const store = await OciStore.open(storeDirOf(opts), { readOnly: true });
      const found = await build.findStoredImage(store, image);
      let written = destination;
      await build.exportImages(store, [{ workflow: found.workflow ?? image, ref: found.ref }], destination, (e) => {
        if (e.type === "exported") written = e.destination;
      });
      if (opts.json) {
        printJson({
          image: found.ref,
          workflow: found.workflow,
          digest: found.descriptor.digest,
          destination: written,
        });
        return;
      }
      process.stdout.write(`exported ${found.ref} ${found.descriptor.digest} -> ${written}\n`);
    });
}
