/**
 * The build side of `tantalus run WORKFLOW --dev` (src/run/dev.ts): the
 * workflow resolved with the developer's repositories searched first, and
 * the environment captured for that resolve exactly as the build captures an
 * image's (same root mapping, epoch and workflow variables), so that the
 * script mounted over the image's /etc/tantalus/environment.sh is the one a
 * build of this resolve would have written. And, when the dev resolve needs
 * a package the image does not carry, the throwaway image: built through the
 * normal layer cache and audit, tagged WORKFLOW:dev-<user>-<hash>.
 *
 * The resolve itself is the workflow stage's (src/workflow): this only puts
 * the dev repositories first and captures with the stage's one function.
 */
import type { LoadedConfig } from "../config/index.js";
import { UsageError } from "../errors.js";
import { rfc3339, sourceDateEpoch } from "../image/epoch.js";
import { DEFAULT_LAYER_MTIME } from "../image/layer/tar.js";
import type { OciStore } from "../image/layout/store.js";
import { DEFAULT_CREATED } from "../image/mutate.js";
import type { RepositoryObservation } from "../rez/repository/observation.js";
import { rootMapper } from "../context/root-map.js";
import { captureEnvironment } from "../workflow/environment.js";
import { implicitPackagesOf, openWorkflowRepositories, resolveWorkflow } from "../workflow/resolve.js";
import { buildWorkflowImage } from "./builder.js";
import { imageContextJson } from "./environment.js";

/** One resolved variant, as the dev run needs it. */
export interface DevVariant {
  /** name-version[index] */
  qualifiedName: string;
  name: string;
  /** The repository it was found in (host path). */
  repository: string;
  /** Install root on the host, and where the image has (or would have) it (root_map applied). */
  root: string;
  imagePath: string;
}

export interface DevResolve {
  /** Search paths: the dev repositories, then the configured ones. */
  packagePaths: string[];
  variants: DevVariant[];
  /** /etc/tantalus/environment.sh for this resolve (without the audit's repair lines, which the image keeps). */
  environment: string;
  /** /etc/tantalus/context.json for this resolve. */
  contextJson: string;
  /** What the resolve read, for the next launch's check (observation.ts). */
  observation: RepositoryObservation;
}

/** dev.paths of the configuration (relative to the file that set them), else Rez's local packages path, ~/packages. */
export function configuredDevPaths(config: LoadedConfig, home: string): string[] {
  const paths = config.config.dev.paths;
  if (paths.length === 0) return [`${home}/packages`];
  const dir = config.dirOf(["dev", "paths"]);
  return paths.map((p) =>
    p === "~" ? home : p.startsWith("~/") ? `${home}/${p.slice(2)}` : p.startsWith("/") ? p : `${dir}/${p}`,
  );
}

/** Resolve `workflow` with `devPaths` searched before the configured repositories; capture its environment. */
export function resolveForDev(config: LoadedConfig, workflow: string, devPaths: readonly string[]): DevResolve {
  if (config.packagesPath.length === 0 && devPaths.length === 0)
    throw new UsageError("no package repositories: set packages_path in the configuration");
  const packagePaths = [...devPaths, ...config.packagesPath.filter((p) => !devPaths.includes(p))];
  // Opened as every resolve of the workflow opens them (use_variant_shortlinks, target), dev paths first.
  const repos = openWorkflowRepositories(config, { packagePaths, observe: true });
  const r = resolveWorkflow(config, workflow, { repos, implicitPackages: implicitPackagesOf(config) });
  repos.saveCaches();
  const rootMap = config.config.image.root_map;
  const map = rootMapper(rootMap);
  const epoch = sourceDateEpoch();
  const epochSeconds = Math.floor((epoch ?? DEFAULT_LAYER_MTIME).getTime() / 1000);
  const created = epoch ? rfc3339(epoch) : DEFAULT_CREATED;
  // As the build's top layer captures it (workflow variables a package also sets come after the packages' own).
  const env = captureEnvironment(r, { rootMap, epochSeconds });
  return {
    packagePaths,
    variants: r.context.resolved.map((v, i) => ({
      qualifiedName: r.variants[i]!.qualifiedName,
      name: v.name,
      repository: v.repository,
      root: v.root,
      imagePath: map(v.root),
    })),
    environment: env.script,
    contextJson: imageContextJson(r.context, rootMap, created),
    observation: r.observation ?? { roots: repos.paths, families: {} },
  };
}

/**
 * The throwaway image of a dev resolve: built as `tantalus build` builds (layer
 * cache, audit), tagged WORKFLOW:dev-<user>-<hash> only. Returns the tag.
 */
export async function buildDevImage(
  config: LoadedConfig,
  workflow: string,
  store: OciStore,
  packagePaths: string[],
  user: string,
  log: (line: string) => void,
): Promise<string> {
  const built = await buildWorkflowImage(config, workflow, store, log, { packagePaths, devUser: user });
  return built.tag;
}
