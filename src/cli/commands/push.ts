import type { Command } from "@commander-js/extra-typings";
import { UsageError } from "../../errors.js";
import { findConfig, printJson } from "../common.js";
import { storeDirOf } from "./images.js";

interface PushOpts {
  insecure?: boolean;
  store?: string;
  config?: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command("push")
    .description(
      "push an image already in the store to a registry, as built (no resolve, no rebuild); prints the reference by digest that farm jobs use",
    )
    .argument("<image>", "a workflow (its newest image), a store tag or a manifest digest")
    .argument(
      "[reference]",
      "REGISTRY/REPO[:TAG] (default tag latest); without it, the configuration's registry/<workflow>:latest",
    )
    .option("--insecure", "allow plain HTTP to the registry (a local registry without TLS)")
    .option("--store <dir>", "image store (default: the configuration's store, else ~/.cache/tantalus/store)")
    .option("--config <file>", "configuration file (default: ./tantalus.yaml)")
    .option("--json", "print the result as JSON")
    .action(async (image, reference, opts: PushOpts) => {
      const [{ OciStore }, build] = await Promise.all([
        import("../../image/layout/store.js"),
        import("../../builder/index.js"),
      ]);
      const store = await OciStore.open(storeDirOf(opts), { readOnly: true });
      const found = await build.findStoredImage(store, image);
      const workflow = found.workflow ?? image;
      let target = reference;
      if (target === undefined) {
        const registry = findConfig(opts)?.config.registry;
        if (!registry)
          throw new UsageError(
            "push without a REFERENCE needs `registry:` in the configuration (or name the target: tantalus push IMAGE REGISTRY/REPO[:TAG])",
          );
        target = registry;
      }
      const [pushed] = await build.pushImages(store, [{ workflow, ref: found.ref }], target, {
        insecure: opts.insecure === true,
        prefix: reference === undefined,
      });
      const p = pushed!;
      const { formatReference, parseReference } = await import("../../image/remote/reference.js");
      const { registry, repository } = parseReference(p.target);
      // Farm jobs name this, never the tag: a tag can move under a running job.
      const pinned = formatReference({ registry, repository, digest: p.result.digest });
      const count = (o: string) => p.result.blobs.filter((b) => b.outcome === o).length;
      if (opts.json) {
        printJson({
          image: found.ref,
          workflow: found.workflow,
          reference: p.target,
          pinned,
          digest: p.result.digest,
          blobs: p.result.blobs,
        });
        return;
      }
      process.stdout.write(
        `pushed ${found.ref} -> ${p.target}: ${count("uploaded")} blob(s) uploaded, ${count("mounted")} mounted, ${count("exists")} already there\n${pinned}\n`,
      );
    });
}
