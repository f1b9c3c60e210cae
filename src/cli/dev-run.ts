/**
 * `tantalus run WORKFLOW --dev [PATH...]` from the command line: find the
 * workflow's current image, hand src/run/dev.ts the seam to the build
 * pipeline (src/builder/dev-resolve.ts, loaded only when the kept resolve no
 * longer holds), say which packages come from dev, and return what the launch
 * adds. Modules are loaded lazily: an unchanged dev launch must cost about
 * what a plain `run` costs.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import type { ConfigFiles } from "../config/discover.js";
import type { BlobReader, ImageReader } from "../image/layout/interfaces.js";
import { TantalusError } from "../errors.js";
import type { LoadedConfig } from "../config/index.js";
import type { DevLaunch } from "../run/dev.js";

export interface DevRunContext {
  storeDir: string;
  files: ConfigFiles;
  configFiles: string[];
  env: NodeJS.ProcessEnv;
  home: string;
  noBuild: boolean;
  log?: (line: string) => void;
}

export async function devLaunchFor(workflow: string, pathArgs: string[], ctx: DevRunContext): Promise<DevLaunch> {
  const log = ctx.log ?? ((line: string) => void process.stderr.write(`tantalus: ${line}\n`));
  if (ctx.configFiles.length === 0)
    throw new TantalusError(`run --dev resolves ${workflow} from tantalus.yaml: no configuration file found`);
  const [{ OciStore }, { findWorkflowImage }, { ensureImage }, { stampKey }, dev, { forEachLayerMember, readAll }] =
    await Promise.all([
      import("../image/layout/store.js"),
      import("../image/workflow-image.js"),
      import("../run/image.js"),
      import("../builder/stamp.js"),
      import("../run/dev.js"),
      import("../image/layer/reader.js"),
    ]);
  let config: LoadedConfig | undefined;
  const loadConfig = async () =>
    (config ??= (await import("../config/index.js")).loadConfig(undefined, { files: ctx.files, env: ctx.env }));

  // The workflow's image as it is; built the normal way only when the store has none yet.
  let store: (BlobReader & ImageReader) | undefined = existsSync(join(ctx.storeDir, "oci-layout"))
    ? await OciStore.open(ctx.storeDir, { readOnly: true })
    : undefined;
  let tag = store ? await findWorkflowImage(store, workflow) : undefined;
  if (tag === undefined) {
    const { workflowImageBuilder } = await import("../builder/builder.js");
    const image = await ensureImage(
      { storeDir: ctx.storeDir, builder: workflowImageBuilder(await loadConfig()) },
      workflow,
      { noBuild: ctx.noBuild, log },
    );
    store = image.store;
    tag = image.ref;
  }
  const image = await store!.resolveImage(tag);
  const top = image.manifest.layers[image.manifest.layers.length - 1];

  const launch = await dev.prepareDevLaunch({
    workflow,
    paths: pathArgs.map((p) => resolve(p)),
    store: store!,
    image: {
      ref: tag,
      digest: image.manifestDescriptor.digest,
      labels: image.config.config?.Labels ?? {},
      environment: async () => {
        if (!top) return undefined;
        let text: string | undefined;
        await forEachLayerMember(store!, top, async (m) => {
          if (m.name === "etc/tantalus/environment.sh") text = (await readAll(m.stream)).toString("utf8");
        });
        return text;
      },
    },
    configKey: stampKey(ctx.configFiles, ctx.env),
    cacheDir: (await import("../run/cache.js")).runCacheDir(ctx.env, ctx.env.HOME || ctx.home),
    home: ctx.home,
    log,
    resolver: {
      async defaultPaths() {
        const { configuredDevPaths } = await import("../builder/dev-resolve.js");
        return configuredDevPaths(await loadConfig(), ctx.home);
      },
      async resolve(devPaths) {
        const { resolveForDev } = await import("../builder/dev-resolve.js");
        return resolveForDev(await loadConfig(), workflow, devPaths);
      },
      async buildThrowaway(readOnlyStore, packagePaths, say) {
        const [{ buildDevImage }, { currentIdentity }] = await Promise.all([
          import("../builder/dev-resolve.js"),
          import("../util/identity.js"),
        ]);
        if (ctx.noBuild)
          throw new TantalusError(
            `the dev resolve of ${workflow} needs packages its image lacks, and --no-build forbids building its throwaway image`,
          );
        if (await (await import("../image/layout/store.js")).isReadOnlyStore(readOnlyStore.dir))
          throw new TantalusError(
            `the dev resolve of ${workflow} needs packages its image lacks, and the store ${readOnlyStore.dir} is read-only here: no throwaway image can be built (use --store with a store of your own)`,
          );
        const writable = await OciStore.open(readOnlyStore.dir);
        return buildDevImage(await loadConfig(), workflow, writable, packagePaths, currentIdentity(ctx.env).user, say);
      },
    },
  });
  if (launch.fromDev.length === 0) log(`dev: no package of ${workflow} resolves from the dev paths`);
  for (const d of launch.fromDev) log(`dev: ${d.variant} from ${d.repository}`);
  if (launch.throwaway !== undefined) log(`dev: running ${launch.throwaway}`);
  return launch;
}
