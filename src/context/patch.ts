import { Requirement, Version } from "../rez/version/index.js";
import type { ResolvedContext } from "./context.js";

/**
 * Rez's `ResolvedContext.get_patched_request` (what `rez-env --patch` resolves):
 * the context's request with `patch` applied. A patch requirement replaces the
 * original one of the same name when both are of the same kind (normal,
 * conflict `!`, weak `~`), else it is appended; `^foo` removes foo's request.
 * `strict` starts from the resolved packages (`name-version`, Rez's qualified_package_name) instead of the
 * request; `rank` > 1 (non-strict) adds `~name<next(version[:rank-1])` for
 * every resolved package not overridden, so only versions from that rank on may rise.
 */
export function patchedRequest(
  ctx: Pick<ResolvedContext, "request" | "resolved">,
  patch: readonly string[],
  opts: { strict?: boolean; rank?: number } = {},
): string[] {
  let request: Requirement[] = opts.strict
    ? ctx.resolved.map((v) => Requirement.parse(v.version ? `${v.name}-${v.version}` : v.name))
    : ctx.request.map((r) => Requirement.parse(r));
  const subtractions = patch.filter((p) => p.startsWith("^")).map((p) => p.slice(1));
  const overrides = patch.filter((p) => !p.startsWith("^")).map((p) => Requirement.parse(p));
  if (subtractions.length) request = request.filter((r) => !subtractions.includes(r.name));
  if (overrides.length) {
    // the request a patch may replace: Rez keeps a dict by name, so of repeated names the last one
    const byName = new Map<string, number>();
    request.forEach((r, i) => byName.set(r.name, i));
    const appended: Requirement[] = [];
    for (const req of overrides) {
      const i = byName.get(req.name);
      if (i !== undefined) {
        const orig = request[i]!;
        if (orig.conflict === req.conflict && orig.weak === req.weak) {
          request[i] = req;
          byName.delete(req.name);
          continue;
        }
      }
      appended.push(req);
    }
    request = [...request, ...appended];
  }
  const out = request.map(String);
  const rank = opts.rank ?? 0;
  if (!opts.strict && rank > 1) {
    const overridden = new Set(overrides.filter((r) => !r.conflict).map((r) => r.name));
    for (const v of ctx.resolved) {
      if (overridden.has(v.name)) continue;
      const version = Version.parse(v.version);
      if (version.length >= rank)
        out.push(
          `~${v.name}<${version
            .trim(rank - 1)
            .next()
            .toString()}`,
        );
    }
  }
  return out;
}
