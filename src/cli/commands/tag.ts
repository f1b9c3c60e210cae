import type { Command } from "@commander-js/extra-typings";
import { storeDirOf } from "./images.js";

interface TagOpts {
  store?: string;
  config?: string;
}

export function register(program: Command): void {
  program
    .command("tag")
    .description("give an image already in the store another tag (it keeps its workflow)")
    .argument("<source>", "a workflow (its newest image), a store tag or a manifest digest")
    .argument("<tag>", "the new store tag, e.g. rough_layout:approved")
    .option("--store <dir>", "image store (default: the configuration's store, else ~/.cache/tantalus/store)")
    .option("--config <file>", "configuration file (default: ./tantalus.yaml)")
    .action(async (source, tag, opts: TagOpts) => {
      const [{ OciStore }, build] = await Promise.all([
        import("../../image/layout/store.js"),
        import("../../builder/index.js"),
      ]);
      const store = await OciStore.open(storeDirOf(opts));
      const tagged = await build.tagStoredImage(store, source, tag);
      process.stdout.write(`tagged ${tagged.descriptor.digest} (${tagged.ref}) as ${tagged.tag}\n`);
    });
}
