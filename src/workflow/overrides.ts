/**
 * `add_requires` (packages.<name>.add_requires in tantalus.yaml): requirements
 * added to a package the studio cannot edit, so the solver pulls in what the
 * package forgot to declare. They belong to the resolve, not to the audit that
 * proposes them: every command that resolves a workflow (plan, audit, build,
 * run, env -w, resolve -w) sees the same packages, or their verdicts differ.
 * A package whose requires is a plain list gets them through a wrapping
 * PackageSource; one whose requires is a `@late()` function gets them through
 * the late-requires hook, since its list only exists once the function ran.
 */
import type { LoadedConfig } from "../config/index.js";
import { Package, type PackageSummary } from "../rez/package.js";
import type { LateRequiresHook, PackageSource } from "../solver/index.js";

/** The tantalus.yaml fields the overrides read. */
export type OverrideConfig = Pick<LoadedConfig, "packages">;

function addRequiresByName(config: OverrideConfig): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const [name, o] of Object.entries(config.packages)) if (o.add_requires.length > 0) m.set(name, o.add_requires);
  return m;
}

/** One overridden source per (repositories, configuration): the solver shares its family cache per source object. */
const overriddenSources = new WeakMap<PackageSource, WeakMap<OverrideConfig, PackageSource>>();

/**
 * The repositories as the solver should see them with `add_requires`
 * applied: the named packages' requirements include the added ones, without
 * touching their files. A package whose requires is a `@late()` function
 * gets the additions from `overrideLateRequires` instead. The same source
 * and configuration always give the same object, so the resolves of one
 * command (every workflow) share the solver's family cache.
 */
export function applyPackageOverrides(source: PackageSource, config: OverrideConfig): PackageSource {
  let byConfig = overriddenSources.get(source);
  const known = byConfig?.get(config);
  if (known) return known;
  const added = addRequiresByName(config);
  if (added.size === 0) return source;
  const overridden = overrideSource(source, added);
  if (!byConfig) overriddenSources.set(source, (byConfig = new WeakMap()));
  byConfig.set(config, overridden);
  return overridden;
}

function overrideSource(source: PackageSource, added: ReadonlyMap<string, readonly string[]>): PackageSource {
  const memo = new Map<string, Package[] | undefined>();
  // The solver's "did you mean" asks the source for its family names: a studio with any add_requires
  // must not lose it.
  const names = (source as { familyNames?: () => string[] }).familyNames;
  return {
    paths: (source as { paths?: readonly string[] }).paths,
    ...(typeof names === "function" ? { familyNames: () => names.call(source) } : {}),
    family(name: string): Package[] | undefined {
      if (memo.has(name)) return memo.get(name);
      const pkgs = source.family(name);
      const extra = added.get(name);
      const out = pkgs && extra ? pkgs.map((p) => withAddedRequires(p, extra)) : pkgs;
      memo.set(name, out);
      return out;
    },
  };
}

function withAddedRequires(p: Package, extra: readonly string[]): Package {
  const requires = p.summary.requires;
  if (requires === "late") return p;
  const summary: PackageSummary = {
    ...p.summary,
    requires: [...requires, ...extra.filter((r) => !requires.includes(r))],
  };
  return new Package(summary, p.name, p.version, p.repository, p.base, () => p.definition);
}

/** A `@late()` requires hook that also returns the package's `add_requires`. */
export function overrideLateRequires(hook: LateRequiresHook, config: OverrideConfig): LateRequiresHook;
export function overrideLateRequires(
  hook: LateRequiresHook | undefined,
  config: OverrideConfig,
): LateRequiresHook | undefined;
export function overrideLateRequires(
  hook: LateRequiresHook | undefined,
  config: OverrideConfig,
): LateRequiresHook | undefined {
  const added = addRequiresByName(config);
  if (!hook || added.size === 0) return hook;
  return (pkg, ctx) => {
    const base = hook(pkg, ctx);
    const extra = added.get(pkg.name);
    return extra ? [...base, ...extra.filter((r) => !base.includes(r))] : base;
  };
}
