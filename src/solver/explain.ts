import {
  reasonDescription,
  requestOf,
  type FailureReason,
  type Provenance,
  type RequirementSource,
  type SolveFailure,
} from "./failure.js";
import type { Requirement } from "../rez/version/index.js";
import { labelOf, type Phase } from "./phase.js";
import type { Scope } from "./scope.js";

/**
 * Turns a failed phase into Rez's description plus an explanation a pipeline
 * engineer can act on: which requirements clash, and which packages (up to the
 * request) brought each one in.
 */
export function explainFailure(reason: FailureReason, phase: Phase): SolveFailure {
  const byName = new Map(phase.scopes.map((s) => [s.name, s] as const));
  const description = reasonDescription(reason);

  const chainFrom = (start: Scope): string[] => {
    const chain: string[] = [];
    const seen = new Set<string>();
    let s: Scope | undefined = start;
    while (s && !seen.has(s.name)) {
      seen.add(s.name);
      chain.push(labelOf(s));
      if (s.origin.kind === "request") break;
      const up: string | undefined = s.origin.requesters[0];
      s = up === undefined ? undefined : byName.get(up);
    }
    return chain;
  };
  const chainsOfScope = (s: Scope): string[][] =>
    s.origin.kind === "request"
      ? []
      : s.origin.requesters
          .map((n) => byName.get(n))
          .filter((x): x is Scope => !!x)
          .map(chainFrom);

  const source = (req: Requirement, from: Provenance): RequirementSource => {
    if (from.kind === "request") return { requirement: req.toString(), requiredBy: [] };
    if (from.kind === "extracted") return { requirement: req.toString(), requiredBy: from.requesters.map(chainFrom) };
    // a scope: show what created it rather than its list of remaining versions
    return { requirement: from.scope.origin.requirement.toString(), requiredBy: chainsOfScope(from.scope) };
  };

  switch (reason.type) {
    case "conflict": {
      const dep = source(reason.dependency, reason.dependencyFrom);
      const conf = source(reason.conflicting, reason.conflictingFrom);
      let explanation = `${sourceText(dep)} conflicts with ${sourceText(conf)}`;
      if (reason.conflictingFrom.kind === "scope" && reason.conflictingFrom.scope.slice) {
        explanation += `, which leaves ${reason.conflicting.toString()}`;
      }
      return { kind: "conflict", description, explanation, conflicts: [{ dependency: dep, conflicting: conf }] };
    }
    case "reduction": {
      const s = reason.reducedScope;
      const reductions = reason.reductions.map((r) => {
        const other = r.conflicting.scope;
        const conflicting: RequirementSource = {
          requirement: requestOf(r.conflicting).toString(),
          requiredBy: chainsOfScope(other),
        };
        return { variant: r.variant.str, dependency: r.dependency.toString(), conflicting };
      });
      const who = chainsOfScope(s);
      const whoText = who.length ? ` (required by ${who.map(chainText).join("; by ")})` : " (requested)";
      const parts = reductions.map(
        (r) => `${r.variant} requires ${r.dependency}, which conflicts with ${sourceText(r.conflicting)}`,
      );
      return {
        kind: "total-reduction",
        description,
        explanation: `no variant of ${labelOf(s)}${whoText} fits: ${parts.join("; ")}`,
        reductions,
      };
    }
    case "cycle": {
      const p = reason.packages;
      const steps = p.map((x, i) => `${x} requires ${p[(i + 1) % p.length]}`);
      return {
        kind: "cycle",
        description,
        explanation: `the packages depend on each other in a cycle: ${steps.join(", ")}`,
        cycle: [...p],
      };
    }
    case "missing-family":
      return {
        kind: "missing-family",
        description,
        explanation: `no package family '${reason.family}' exists (required by ${reason.requesters.join(", ")}), and no other variant avoids it`,
        missing: { requirement: reason.family, requiredBy: reason.requesters.map((n) => [n]) },
      };
  }
}

function chainText(chain: readonly string[]): string {
  const [first, ...rest] = chain;
  return `${first}${rest.length ? ` via ${rest.join(" via ")}` : ""}`;
}

/** "nail-2.1+<3 (required by foo-1.2 via bar-3)" or "nail-1.2+<2 (requested)". */
export function sourceText(s: RequirementSource): string {
  if (s.requiredBy.length === 0) return `${s.requirement} (requested)`;
  return `${s.requirement} (required by ${s.requiredBy.map(chainText).join("; by ")})`;
}
