import type { Requirement } from "../rez/version/index.js";
import type { Reduction, Scope, ScopeRequest } from "./scope.js";

/*
 * Why a phase (or the solve) failed, with Rez's wording (`failure_description`)
 * and a readable explanation that names the chain of packages behind each
 * requirement.
 */

export type FailureKind =
  | "conflict"
  | "total-reduction"
  | "cycle"
  | "missing-family"
  | "missing-version"
  | "broken-package"
  | "internal-conflict"
  | "max-fails"
  | "time-limit"
  | "error";

/** Who asked for a requirement. */
export interface RequirementSource {
  /** The requirement as it applied at the time. */
  requirement: string;
  /**
   * One chain per package that holds the requirement, each from that package up
   * to the one the request named, e.g. [["foo-1.2", "bar-3"]]; empty when the
   * requirement was requested.
   */
  requiredBy: string[][];
}

/** One pair of incompatible requirements (Rez `DependencyConflict`). */
export interface ConflictDetail {
  dependency: RequirementSource;
  conflicting: RequirementSource;
}

/** One variant a reduction removed (Rez `Reduction`). */
export interface ReductionDetail {
  variant: string;
  dependency: string;
  conflicting: RequirementSource;
}

export interface SolveFailure {
  kind: FailureKind;
  /** Rez's `failure_description()` text. */
  description: string;
  /** Which requirements clash, and through which packages. */
  explanation: string;
  conflicts?: ConflictDetail[];
  reductions?: ReductionDetail[];
  /** For a cycle: the packages in it, each requiring the next. */
  cycle?: string[];
  /** For missing-family / missing-version: the requirement that could not be met. */
  missing?: RequirementSource;
  /** For broken-package: the package whose definition failed to load, and why. */
  broken?: { package: string; file: string; line?: number; message: string };
}

/** What Rez records on a failed phase. */
export type FailureReason =
  | {
      type: "conflict";
      dependency: Requirement;
      conflicting: Requirement;
      dependencyFrom: Provenance;
      conflictingFrom: Provenance;
    }
  | { type: "reduction"; reductions: Reduction[]; reducedScope: Scope }
  | { type: "cycle"; packages: string[] }
  /**
   * A variant requires a family no repository has, and
   * error_on_missing_variant_requires is off: Rez fails the phase without a
   * reason (and tries the other variants); `message` is what it prints.
   */
  | { type: "missing-family"; family: string; requesters: string[]; message: string };

/**
 * Where a requirement came from: the request, or the scopes whose common
 * dependency it is (by family name, looked up in the failing phase).
 */
export type Provenance =
  { kind: "request" } | { kind: "scope"; scope: Scope } | { kind: "extracted"; requesters: readonly Scope[] };

export function reasonDescription(r: FailureReason): string {
  switch (r.type) {
    case "conflict":
      return `The following package conflicts occurred: (${r.dependency.toString()} <--!--> ${r.conflicting.toString()})`;
    case "reduction":
      return `A package was completely reduced: ${r.reductions.map((x) => `(${reductionText(x)})`).join(" ")}`;
    case "cycle":
      return `A cyclic dependency was detected: ${[...r.packages, r.packages[0]!].join(" --> ")}`;
    case "missing-family":
      return "Solver failed with unknown reason.";
  }
}

/** Rez `Reduction.__str__`: `name-version[index] (dep(req) <--!--> request)`. */
export function reductionText(x: Reduction): string {
  return `${x.variant.str} (dep(${x.dependency.toString()}) <--!--> ${requestOf(x.conflicting).toString()})`;
}

export function requestOf(r: ScopeRequest): Requirement {
  return r.kind === "requirement" ? r.requirement : r.scope.request;
}
