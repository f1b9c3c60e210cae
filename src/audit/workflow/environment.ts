/**
 * What the audit checks in a workflow's environment (captured by
 * src/workflow/environment.ts, as the image ships it): values that point
 * outside the image.
 */
import { getWorkflow, type LoadedConfig } from "../../config/index.js";
import { REZ_SYSTEM_PATHS } from "../../rex/index.js";
import type { CapturedEnvironment } from "../../workflow/environment.js";
import type { Finding } from "../findings.js";
import { resolveImagePath } from "../../linker/imagefs.js";
import type { PlannedImage } from "./image.js";

/** Container paths mounted at run time (the workflow's and every workflow's mounts): they exist when it runs. */
export function mountTargets(config: Pick<LoadedConfig, "workflows" | "config">, workflow: string): string[] {
  const wf = getWorkflow(config as LoadedConfig, workflow);
  return [...wf.mounts, ...config.config.run.mounts].map((m) => m.target).filter((t) => t.startsWith("/"));
}

/**
 * Elements of path-like variables that point outside the image: absolute
 * paths that exist neither in the image nor under a mount, and that are not
 * inside a package (a package naming a directory of its own that it does not
 * ship is its business, not a host path). Rez's bookkeeping variables
 * (REZ_*) and the system directories Rez appends to PATH are left out.
 */
export function environmentLeaks(
  env: Pick<CapturedEnvironment, "environ" | "origins">,
  image: PlannedImage,
  mounts: readonly string[],
): Finding[] {
  const out: Finding[] = [];
  const system = new Set(Object.values(REZ_SYSTEM_PATHS).flat());
  const under = (p: string, dir: string) => p === dir || p.startsWith(dir.endsWith("/") ? dir : dir + "/");
  for (const name of Object.keys(env.environ).sort()) {
    if (name.startsWith("REZ_")) continue;
    const value = env.environ[name]!;
    // A URL (scheme://host) is not a list of paths.
    if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(value)) continue;
    const seen = new Set<string>();
    for (const element of value.split(":")) {
      if (!element.startsWith("/") || seen.has(element)) continue;
      seen.add(element);
      if (name === "PATH" && system.has(element)) continue;
      if (mounts.some((m) => under(element, m))) continue;
      if (image.packages.some((p) => under(element, p.imageRoot))) continue;
      if (resolveImagePath(image.fs, element).ok) continue;
      const pkg = env.origins.get(name)?.get(element);
      out.push({
        kind: "host-leak",
        package: pkg,
        file: `$${name}`,
        root: "environment",
        message: `${name} contains ${element}, which is not in the image${pkg ? ` (set by ${pkg})` : " (set by the workflow)"}`,
      });
    }
  }
  return out;
}
