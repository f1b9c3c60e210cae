/**
 * The requirement closure of each package within a workflow's resolve: what
 * the audit asks when it decides whether a package may load a library of
 * another (it may when it requires it, directly or not).
 */
import type { WorkflowResolve } from "../../workflow/resolve.js";

/**
 * Requirement closures within the resolve, by package qualified name: a
 * package requires itself, what it requires (not weakly: `~foo` only limits
 * foo's version), and what those require.
 */
export function requirementClosures(resolve: WorkflowResolve): Map<string, Set<string>> {
  const idOf = new Map(resolve.variants.map((v) => [v.name, v.package.qualifiedName]));
  const direct = new Map<string, string[]>();
  for (const v of resolve.variants) {
    const deps = (resolve.requires.get(v.name) ?? v.requires)
      .filter((r) => !r.weak && !r.conflict && idOf.has(r.name))
      .map((r) => idOf.get(r.name)!);
    direct.set(v.package.qualifiedName, deps);
  }
  const closures = new Map<string, Set<string>>();
  for (const id of direct.keys()) {
    const seen = new Set<string>([id]);
    const stack = [id];
    while (stack.length > 0) {
      for (const d of direct.get(stack.pop()!) ?? []) {
        if (seen.has(d)) continue;
        seen.add(d);
        stack.push(d);
      }
    }
    closures.set(id, seen);
  }
  return closures;
}
