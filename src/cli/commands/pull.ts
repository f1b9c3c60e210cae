import type { Command } from "@commander-js/extra-typings";
import { checkRegistryReference, printJson } from "../common.js";
import { storeDirOf } from "./images.js";

interface PullOpts {
  tag?: string;
  insecure?: boolean;
  platform?: string;
  store?: string;
  config?: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command("pull")
    .description("pull an image from a registry into the local store (only the blobs the store lacks) and tag it")
    .argument("<reference>", "REGISTRY/REPO[:TAG|@DIGEST], e.g. registry.studio/tantalus/rough_layout:latest")
    .option("--tag <name>", "store tag (default: the reference, fully qualified)")
    .option("--insecure", "allow plain HTTP (a local registry without TLS)")
    .option("--platform <os/arch>", "platform to pick from a multi-platform image (default: this machine's)")
    .option(
      "--store <dir>",
      "image store (default: TANTALUS_STORE, else the configuration's store, else ~/.cache/tantalus/store)",
    )
    .option(
      "--config <file>",
      "configuration file (default: TANTALUS_CONFIG, else ./tantalus.yaml or the nearest in a parent folder)",
    )
    .option("--json", "print the result as JSON")
    .action(async (reference, opts: PullOpts) => {
      await checkRegistryReference("pull", reference);
      const [{ OciStore }, build] = await Promise.all([
        import("../../image/layout/store.js"),
        import("../../builder/index.js"),
      ]);
      const store = await OciStore.open(storeDirOf(opts));
      const pulled = await build.pullIntoStore(store, reference, {
        insecure: opts.insecure === true,
        ...(opts.tag !== undefined ? { tag: opts.tag } : {}),
        ...(opts.platform !== undefined ? { platform: opts.platform } : {}),
      });
      if (opts.json) {
        printJson({
          tag: pulled.tag,
          reference: pulled.reference,
          digest: pulled.descriptor.digest,
          fetched: pulled.fetched,
          present: pulled.present,
          store: store.dir,
        });
        return;
      }
      process.stdout.write(
        `pulled ${pulled.reference} -> ${pulled.tag} ${pulled.descriptor.digest} into ${store.dir}: ` +
          `${pulled.fetched.length} blob(s) fetched, ${pulled.present.length} already present\n`,
      );
    });
}
