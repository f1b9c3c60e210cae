/**
 * `tantalus run --request "maya-2025 layout_tools" -- maya -batch`: a request
 * with no workflow in tantalus.yaml, run like one. The request becomes an
 * unnamed workflow `request-<hash>` (the `run:` section's settings, no
 * workflow mounts or variables of its own), built through the same pipeline
 * and layer cache as every workflow (planned with the studio's workflows, so
 * it shares their layers), audited the same way, and tagged only
 * `request:<hash of the request>`, marked as a developer's image: it never
 * moves a workflow's tag and `gc` untags it after dev.retention.
 */
import { resolve } from "node:path";
import type { LoadedConfig } from "../config/index.js";
import { TantalusError } from "../errors.js";
import type { RunSettingsFlags } from "./run-settings.js";
import { checkRequestArgs } from "./common.js";

export interface AdHoc {
  /** The unnamed workflow's name, `request-<hash>`. */
  name: string;
  /** Its store tag, `request:<hash>`. */
  tag: string;
  request: string[];
}

/** The request's words, checked as rez-env checks them, and its names. */
export async function adHocRequest(text: string): Promise<AdHoc> {
  const request = text.split(/\s+/).filter(Boolean);
  if (request.length === 0) throw new TantalusError("--request names no package");
  checkRequestArgs(request);
  const { REQUEST_REPOSITORY, shortHash } = await import("../image/dev-tag.js");
  const hash = shortHash(request);
  return { name: `request-${hash}`, tag: `${REQUEST_REPOSITORY}:${hash}`, request };
}

/** The configuration with the request as one more workflow (nothing is written). */
export function withRequestWorkflow(config: LoadedConfig, adHoc: AdHoc): LoadedConfig {
  return {
    ...config,
    workflows: {
      ...config.workflows,
      [adHoc.name]: {
        description: `ad-hoc request: ${adHoc.request.join(" ")}`,
        request: adHoc.request,
        mounts: [],
        env: {},
      },
    },
  };
}

/** What `run` needs for an ad-hoc request: settings, store, and the builder that makes its image. */
export async function adHocRunSettings(adHoc: AdHoc, opts: RunSettingsFlags, env: NodeJS.ProcessEnv = process.env) {
  const [settingsMod, configMod, runConfig, identityMod, discover] = await Promise.all([
    import("../run/settings.js"),
    import("../config/index.js"),
    import("../run/config.js"),
    import("../util/identity.js"),
    import("../config/discover.js"),
  ]);
  const identity = identityMod.currentIdentity(env);
  const files = discover.discoverConfigFiles({ ...(opts.config !== undefined ? { config: opts.config } : {}), env });
  const config = withRequestWorkflow(configMod.loadConfig(undefined, { files, env, required: true }), adHoc);
  const settings = settingsMod.applyFlags(await runConfig.settingsFromConfig(config, adHoc.name, identity.home), {
    runtime: opts.runtime,
    network: opts.network,
    gpu: opts.gpu,
    display: opts.display,
    volumes: opts.volume,
    env: opts.norc ? [...opts.env, "TANTALUS_NORC=1"] : opts.env,
  });
  const storeDir = opts.store !== undefined ? resolve(opts.store) : config.store;
  const source: import("../run/image.js").ImageSource = {
    storeDir,
    builder: {
      async ensureBuilt(wf, store, o) {
        if (o.noBuild) return (await store.resolve(adHoc.tag)) ? { tag: adHoc.tag, built: false } : undefined;
        const { buildWorkflowImage } = await import("../builder/builder.js");
        return buildWorkflowImage(config, wf, store, o.log, { adHocTag: adHoc.tag });
      },
    },
  };
  return { env, identity, settings, source };
}
