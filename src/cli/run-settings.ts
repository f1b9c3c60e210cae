/**
 * A workflow's run settings as `tantalus run` computes them: the configuration
 * files found (without reading them when the validated settings are cached per
 * version of the files), then the command's flags, and the store. `run` and
 * `farm` both launch through these, so an artist's run and a farm task are the
 * same launch. Modules are loaded lazily: `tantalus run` is on the artist's
 * critical path.
 */
import { resolve } from "node:path";

export interface RunSettingsFlags {
  config?: string;
  store?: string;
  runtime?: string;
  network?: string;
  gpu?: string;
  display?: boolean;
  volume: string[];
  env: string[];
  norc?: boolean;
}

export async function runSettingsFor(workflow: string, opts: RunSettingsFlags, env: NodeJS.ProcessEnv = process.env) {
  const [settingsMod, configMod, identityMod, cacheMod, discover] = await Promise.all([
    import("../run/settings.js"),
    import("../run/config.js"),
    import("../util/identity.js"),
    import("../run/cache.js"),
    import("../config/discover.js"),
  ]);
  const identity = identityMod.currentIdentity(env);
  const files = discover.discoverConfigFiles({ ...(opts.config !== undefined ? { config: opts.config } : {}), env });
  const configFiles = discover.configFileList(files);
  const cacheDir = cacheMod.runCacheDir(env, env.HOME || identity.home);
  const fromConfig =
    configFiles.length > 0 ? await configMod.loadRunConfig(files, workflow, identity.home, env, cacheDir) : undefined;
  const settings = settingsMod.applyFlags(fromConfig?.settings ?? settingsMod.defaultRunSettings(), {
    runtime: opts.runtime,
    network: opts.network,
    gpu: opts.gpu,
    display: opts.display,
    volumes: opts.volume,
    // the image's entrypoint skips the user's rc file when TANTALUS_NORC is set (src/builder/entrypoint.ts)
    env: opts.norc ? [...opts.env, "TANTALUS_NORC=1"] : opts.env,
  });
  // Without a file, the layers are the defaults and TANTALUS_STORE: still one way to the store.
  const storeDir =
    opts.store !== undefined
      ? resolve(opts.store)
      : (fromConfig?.storeDir ??
        (await import("../config/index.js")).loadConfig(undefined, { files, env, required: false }).store);
  return { env, identity, files, configFiles, cacheDir, fromConfig, settings, storeDir };
}
