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
  const { requestNames, shortHash } = await import("../image/dev-tag.js");
  const { workflow, tag } = requestNames(shortHash(request));
  return { name: workflow, tag, request };
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

/**
 * What `run` needs for an ad-hoc request: settings, store, and the builder that makes its image. As for a
 * workflow, the settings come from the run cache while the files are unchanged, and the configuration is
 * loaded (and the request resolved) only when the request's stamp fails.
 */
export async function adHocRunSettings(adHoc: AdHoc, opts: RunSettingsFlags, env: NodeJS.ProcessEnv = process.env) {
  const [settingsMod, runConfig, identityMod, discover, cacheMod] = await Promise.all([
    import("../run/settings.js"),
    import("../run/config.js"),
    import("../util/identity.js"),
    import("../config/discover.js"),
    import("../run/cache.js"),
  ]);
  const identity = identityMod.currentIdentity(env);
  const files = discover.discoverConfigFiles({ ...(opts.config !== undefined ? { config: opts.config } : {}), env });
  const loadConfig = async () =>
    withRequestWorkflow(
      (await import("../config/index.js")).loadConfig(undefined, { files, env, required: true }),
      adHoc,
    );
  // No configuration file: the request has no repositories to resolve in (loadConfig says so).
  if (discover.configFileList(files).length === 0) await loadConfig();
  const cacheDir = cacheMod.runCacheDir(env, env.HOME || identity.home);
  const fromConfig = await runConfig.loadRunConfig(files, adHoc.name, identity.home, env, cacheDir, (loaded) =>
    withRequestWorkflow(loaded, adHoc),
  );
  const settings = settingsMod.applyFlags(fromConfig.settings, {
    runtime: opts.runtime,
    network: opts.network,
    gpu: opts.gpu,
    display: opts.display,
    volumes: opts.volume,
    env: opts.norc ? [...opts.env, "TANTALUS_NORC=1"] : opts.env,
  });
  const storeDir = opts.store !== undefined ? resolve(opts.store) : fromConfig.storeDir;
  const source: import("../run/image.js").ImageSource = {
    storeDir,
    builder: {
      async ensureBuilt(wf, store, o) {
        if (o.noBuild) return (await store.resolve(adHoc.tag)) ? { tag: adHoc.tag, built: false } : undefined;
        // The same request again, with the configuration and repositories unchanged: the stamp says so with
        // stat calls, as for a workflow (the build stamps the request under its unnamed workflow's name).
        const { stampVerdict } = await import("../builder/stamp.js");
        const verdict = await stampVerdict(
          store,
          wf,
          discover.configFilesRead(files, env, process.cwd()),
          env,
          adHoc.tag,
        );
        if (verdict.current) return { tag: adHoc.tag, built: false };
        if (!verdict.missing) o.log(`building the request "${adHoc.request.join(" ")}" again: ${verdict.reason}`);
        const [{ buildWorkflowImage }, { AuditRefusedError }, { WorkflowUnresolvedError }] = await Promise.all([
          import("../builder/builder.js"),
          import("../builder/build.js"),
          import("../workflow/index.js"),
        ]);
        try {
          return await buildWorkflowImage(await loadConfig(), wf, store, o.log, { adHocTag: adHoc.tag });
        } catch (e) {
          // The request is the user's command line, not a workflow of tantalus.yaml: name it, not the
          // unnamed workflow or a line of a file that does not hold it.
          if (e instanceof WorkflowUnresolvedError && e.workflow === adHoc.name)
            throw new TantalusError(`the request "${adHoc.request.join(" ")}" does not resolve: ${e.why}`);
          // The build's advice (build --allow-audit-errors, audit --suggest) takes a workflow name, which a
          // request has not: say what applies to it.
          const refused = e instanceof AuditRefusedError ? e.refused.find((r) => r.name === adHoc.name) : undefined;
          if (refused)
            throw new TantalusError(
              `the audit found errors in the image of the request "${adHoc.request.join(" ")}", so it was not written ` +
                `(a request gets the mounts of run.mounts only: add a path its packages need there; or make it a ` +
                `workflow of tantalus.yaml, which \`tantalus audit --suggest\` and \`build --allow-audit-errors\` take):\n` +
                refused.errors.map((line) => `  ${line}`).join("\n"),
            );
          throw e;
        }
      },
    },
  };
  return { env, identity, settings, source };
}
