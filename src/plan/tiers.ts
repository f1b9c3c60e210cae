import type { Package } from "../rez/package.js";

/** One tier of tantalus.yaml `layers.tiers`: a name and package-name globs. */
export interface TierRule {
  name: string;
  packages?: readonly string[];
}

/** Tiers used when the configuration names none: the meeting's OS / platform / DCC / rest split above the base image. */
export const DEFAULT_TIERS: readonly TierRule[] = [{ name: "platform" }, { name: "apps" }, { name: "rest" }];

export type TierSource = "config" | "package" | "pattern" | "default";

export interface TierAssignment {
  tier: string;
  /**
   * Why: "config" (tantalus.yaml packages.<name>.layer), "package" (its package.py
   * tantalus.layer), "pattern" (a tantalus.yaml tier glob) or "default" (the last tier).
   */
  source: TierSource;
  /** Set when the package names a tier the configuration does not have. */
  warning?: string;
}

/**
 * The tier of a package, first match wins:
 * 1. tantalus.yaml `packages.<name>.layer`: the studio overriding one package;
 * 2. the package's own `tantalus = {"layer": ...}` when it names a configured tier
 *    (tier globs usually end with a catch-all "*" that would otherwise hide every hint);
 * 3. the first tier with a glob matching the package name;
 * 4. the last tier.
 */
export class TierAssigner {
  readonly tiers: string[];
  private readonly patterns: { tier: string; re: RegExp }[];
  private readonly overrides: ReadonlyMap<string, string>;

  /** `overrides`: package name -> tier from tantalus.yaml, each already checked to be a tier. */
  constructor(rules: readonly TierRule[], overrides: ReadonlyMap<string, string> = new Map()) {
    const list = rules.length > 0 ? rules : DEFAULT_TIERS;
    this.tiers = list.map((r) => r.name);
    this.patterns = list.flatMap((r) => (r.packages ?? []).map((p) => ({ tier: r.name, re: globRegex(p) })));
    this.overrides = overrides;
  }

  assign(pkg: Package): TierAssignment {
    const forced = this.overrides.get(pkg.name);
    if (forced !== undefined) return { tier: forced, source: "config" };
    const hint = pkg.tantalus?.["layer"];
    let warning: string | undefined;
    if (typeof hint === "string") {
      if (this.tiers.includes(hint)) return { tier: hint, source: "package" };
      warning = `${pkg.file}: tantalus.layer '${hint}' is not a configured tier (${this.tiers.join(", ")}); using the configuration's patterns`;
    }
    const byName = this.tierOfName(pkg.name);
    const found: TierAssignment = byName
      ? { tier: byName, source: "pattern" }
      : { tier: this.tiers[this.tiers.length - 1]!, source: "default" };
    return warning ? { ...found, warning } : found;
  }

  tierOfName(name: string): string | undefined {
    return this.patterns.find((p) => p.re.test(name))?.tier;
  }
}

/** Shell-style glob as Python's fnmatch: `*`, `?`, `[seq]`, `[!seq]`, matched against the whole name. */
export function globRegex(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*") re += ".*";
    else if (c === "?") re += ".";
    else if (c === "[") {
      const end = glob.indexOf("]", i + 2);
      if (end < 0) {
        re += "\\[";
        continue;
      }
      let body = glob.slice(i + 1, end);
      if (body.startsWith("!")) body = "^" + body.slice(1);
      re += `[${body.replace(/\\/g, "\\\\")}]`;
      i = end;
    } else re += c.replace(/[.+^${}()|\\\]]/g, "\\$&");
  }
  return new RegExp(`^${re}$`, "s");
}
