/**
 * The migration report: the question a TD asks before moving a studio to a
 * new OS ("if the base becomes B, which workflows still run, and what
 * exactly breaks?"). Every workflow is resolved once and audited against
 * both bases (auditResolve); the two audits are compared problem by problem
 * and each workflow lands in one bucket: clean on both, newly broken on B,
 * fixed on B, broken on both. What is new on B says why (symbol version,
 * missing library, OS mismatch...) and gives the fix list: the packages to
 * rebuild for B, the system libraries B lacks that A gave.
 *
 * The report is plain data (MigrationReport), so the CLI prints it as text
 * or JSON and the HTML report shows it as it is.
 */
import { TantalusError, UsageError } from "../errors.js";
import { resolveWorkflow } from "../workflow/resolve.js";
import type { FindingKind, SymbolVersionGap } from "./findings.js";
import type { BaseImage } from "./workflow/base.js";
import {
  auditResolve,
  type AuditConfig,
  type AuditFinding,
  type AuditWorkflowOptions,
  type WorkflowAudit,
} from "./workflow/audit.js";

export const MIGRATION_JSON_VERSION = 1;

/** Where a workflow lands when its base changes from A to B. */
export type MigrationStatus = "clean" | "broken" | "fixed" | "still-broken";

/** Why a problem is one, in the words of the report. */
export type ProblemReason =
  | "symbol version"
  | "missing library"
  | "library from the base OS"
  | "OS mismatch"
  | "architecture"
  | "undeclared library"
  | "conflict"
  | "host path"
  | "unloadable"
  | "unreadable";

const REASONS: Record<FindingKind, ProblemReason> = {
  "missing-version": "symbol version",
  missing: "missing library",
  system: "library from the base OS",
  "os-mismatch": "OS mismatch",
  "wrong-architecture": "architecture",
  undeclared: "undeclared library",
  conflict: "conflict",
  "host-leak": "host path",
  unloadable: "unloadable",
  unreadable: "unreadable",
};

export interface MigrationProblem {
  reason: ProblemReason;
  kind: FindingKind;
  severity: "error" | "warning";
  /** Package at fault (null: the base image; for variables, the package that set it). */
  package: string | null;
  file: string;
  /** The library concerned, when there is one. */
  name?: string;
  version?: SymbolVersionGap;
  message: string;
}

export interface WorkflowMigration {
  workflow: string;
  status: MigrationStatus;
  from: { errors: number; warnings: number };
  to: { errors: number; warnings: number };
  /** Problems on B that A did not have (errors and warnings). */
  appeared: MigrationProblem[];
  /** Problems of A that B does not have. */
  resolved: MigrationProblem[];
}

/** One thing that would repair B, with the workflows it repairs part of. */
export type MigrationFix =
  | {
      action: "rebuild";
      /** The package to rebuild on (or for) the new OS. */
      package: string;
      /** What it needs that B lacks: "GLIBC_2.34 of libc.so.6 (B defines up to GLIBC_2.30)". */
      needs: string[];
      files: string[];
      workflows: string[];
    }
  | {
      action: "add-to-base";
      /** A library B lacks that A provided (or a package relied on). */
      library: string;
      /** The packages that need it. */
      packages: string[];
      workflows: string[];
    }
  | { action: "set-os"; package: string; message: string; workflows: string[] }
  | { action: "review"; package: string | null; kind: FindingKind; message: string; workflows: string[] };

export interface MigrationReport {
  version: number;
  from: { base: string; description: string };
  to: { base: string; description: string };
  workflows: WorkflowMigration[];
  summary: {
    workflows: number;
    clean: string[];
    broken: string[];
    fixed: string[];
    stillBroken: string[];
  };
  /** With suggestions asked for: what would repair B. */
  fixes?: MigrationFix[];
  /** Workflows that could not be audited (they do not resolve...). */
  failed?: { workflow: string; message: string }[];
}

/**
 * Resolves each workflow once (as the build would, with the configured
 * add_requires unless repairs are off) and audits the one resolve on both
 * bases: the report compares images that differ only in their base.
 * A workflow that does not resolve is reported in `failed` (or stops the
 * report with failFast).
 */
export function auditMigration(
  config: AuditConfig,
  workflows: readonly string[],
  opts: {
    from: { reference: string; image: BaseImage };
    to: { reference: string; image: BaseImage };
    audit?: Omit<AuditWorkflowOptions, "base">;
    suggest?: boolean;
    failFast?: boolean;
  },
): MigrationReport {
  const onA: WorkflowAudit[] = [];
  const onB: WorkflowAudit[] = [];
  const failed: { workflow: string; message: string }[] = [];
  const common = opts.audit ?? {};
  for (const name of workflows) {
    try {
      const resolve = resolveWorkflow(config, name, { ...common, overrides: common.repairs ?? true });
      onA.push(auditResolve(config, resolve, opts.from.image, common));
      onB.push(auditResolve(config, resolve, opts.to.image, common));
    } catch (e) {
      if (opts.failFast || !(e instanceof TantalusError) || e instanceof UsageError) throw e;
      failed.push({ workflow: name, message: e.message });
    }
  }
  return migrationReport(
    {
      from: { base: opts.from.reference, description: opts.from.image.description },
      to: { base: opts.to.reference, description: opts.to.image.description },
    },
    onA,
    onB,
    { suggest: opts.suggest, failed },
  );
}

/** A problem's identity across two bases: not its message (paths of the base's own files differ) nor its provider. */
function identity(f: AuditFinding): string {
  return [f.kind, f.package ?? "", f.file, f.name ?? "", f.version?.needed ?? ""].join("\0");
}

function problem(f: AuditFinding): MigrationProblem {
  return {
    reason: REASONS[f.kind],
    kind: f.kind,
    severity: f.severity,
    package: f.package,
    file: f.file,
    ...(f.name !== undefined ? { name: f.name } : {}),
    ...(f.version ? { version: f.version } : {}),
    message: f.message,
  };
}

function live(a: WorkflowAudit): AuditFinding[] {
  return a.findings.filter((f) => !f.ignored);
}

/** Compares one workflow's audit on A with its audit on B. */
export function compareAudits(onA: WorkflowAudit, onB: WorkflowAudit): WorkflowMigration {
  const a = new Map(live(onA).map((f) => [identity(f), f]));
  const b = new Map(live(onB).map((f) => [identity(f), f]));
  const appeared = [...b].filter(([k]) => !a.has(k)).map(([, f]) => problem(f));
  const resolved = [...a].filter(([k]) => !b.has(k)).map(([, f]) => problem(f));
  const brokenA = onA.errors > 0;
  const brokenB = onB.errors > 0;
  const status: MigrationStatus =
    !brokenA && !brokenB ? "clean" : !brokenA ? "broken" : !brokenB ? "fixed" : "still-broken";
  return {
    workflow: onA.workflow,
    status,
    from: { errors: onA.errors, warnings: onA.warnings },
    to: { errors: onB.errors, warnings: onB.warnings },
    appeared,
    resolved,
  };
}

/** The migration report of workflows audited on A and on B (same workflows, same order). */
export function migrationReport(
  bases: { from: { base: string; description: string }; to: { base: string; description: string } },
  onA: readonly WorkflowAudit[],
  onB: readonly WorkflowAudit[],
  opts: { suggest?: boolean; failed?: { workflow: string; message: string }[] } = {},
): MigrationReport {
  const byName = new Map(onB.map((a) => [a.workflow, a]));
  const workflows = onA.flatMap((a) => {
    const b = byName.get(a.workflow);
    return b ? [compareAudits(a, b)] : [];
  });
  const named = (s: MigrationStatus) => workflows.filter((w) => w.status === s).map((w) => w.workflow);
  return {
    version: MIGRATION_JSON_VERSION,
    from: bases.from,
    to: bases.to,
    workflows,
    summary: {
      workflows: workflows.length,
      clean: named("clean"),
      broken: named("broken"),
      fixed: named("fixed"),
      stillBroken: named("still-broken"),
    },
    ...(opts.suggest ? { fixes: migrationFixes(workflows, onA) } : {}),
    ...(opts.failed && opts.failed.length > 0 ? { failed: opts.failed } : {}),
  };
}

/**
 * What would repair B: every error that appeared on B, grouped by what
 * repairs it. A symbol version B's libraries lack is a package to rebuild for
 * B; a library B lacks that A provided from its own files is one to add to B
 * (or to take into the image's repair layer); an OS mismatch is the
 * resolve's `os`; anything else is listed to review, with the audit's words.
 */
export function migrationFixes(workflows: readonly WorkflowMigration[], onA: readonly WorkflowAudit[]): MigrationFix[] {
  const rebuild = new Map<string, Extract<MigrationFix, { action: "rebuild" }>>();
  const add = new Map<string, Extract<MigrationFix, { action: "add-to-base" }>>();
  const other = new Map<string, MigrationFix>();
  const fromBase = baseProvided(onA);
  const push = (list: string[], x: string) => {
    if (!list.includes(x)) list.push(x);
  };
  for (const w of workflows) {
    for (const p of w.appeared) {
      if (p.kind === "missing-version" && p.package !== null && p.version) {
        const fix = rebuild.get(p.package) ?? {
          action: "rebuild",
          package: p.package,
          needs: [],
          files: [],
          workflows: [],
        };
        rebuild.set(p.package, fix);
        push(
          fix.needs,
          `${p.version.needed} of ${p.name ?? "?"} (the new base defines ${p.version.newest ? `up to ${p.version.newest}` : "none of its series"})`,
        );
        push(fix.files, p.file);
        push(fix.workflows, w.workflow);
      } else if ((p.kind === "missing" || p.kind === "system") && p.name !== undefined && p.severity === "error") {
        // "system" on B alone: B has it where A's packages did not need it: still the base's to give.
        const fix = add.get(p.name) ?? { action: "add-to-base", library: p.name, packages: [], workflows: [] };
        add.set(p.name, fix);
        if (p.package !== null) push(fix.packages, p.package);
        push(fix.workflows, w.workflow);
      } else if (p.kind === "os-mismatch" && p.package !== null) {
        const key = `os\0${p.package}`;
        const fix = (other.get(key) as Extract<MigrationFix, { action: "set-os" }> | undefined) ?? {
          action: "set-os",
          package: p.package,
          message: p.message,
          workflows: [],
        };
        other.set(key, fix);
        push(fix.workflows, w.workflow);
      } else if (p.severity === "error") {
        const key = `review\0${p.kind}\0${p.package ?? ""}\0${p.message}`;
        const fix = (other.get(key) as Extract<MigrationFix, { action: "review" }> | undefined) ?? {
          action: "review",
          package: p.package,
          kind: p.kind,
          message: p.message,
          workflows: [],
        };
        other.set(key, fix);
        push(fix.workflows, w.workflow);
      }
    }
  }
  // A missing library A took from its own files is one B should carry too; say so in the order a TD acts.
  const adds = [...add.values()].sort(
    (x, y) => Number(fromBase.has(y.library)) - Number(fromBase.has(x.library)) || x.library.localeCompare(y.library),
  );
  return [...[...rebuild.values()].sort((x, y) => x.package.localeCompare(y.package)), ...adds, ...other.values()];
}

/** Libraries A's base image provided to some package (from the audits' load trees as findings show them). */
function baseProvided(audits: readonly WorkflowAudit[]): Set<string> {
  const out = new Set<string>();
  for (const a of audits) for (const f of a.findings) if (f.kind === "system" && f.name !== undefined) out.add(f.name);
  return out;
}

/** The report for people: one line per bucket, then what broke and why, then the fixes. */
export function formatMigrationReport(r: MigrationReport): string {
  const lines: string[] = [];
  lines.push(`Migration from ${r.from.base} to ${r.to.base}: ${r.summary.workflows} workflows`);
  lines.push(`  A: ${r.from.description}`, `  B: ${r.to.description}`, "");
  const list = (names: string[]) => (names.length > 0 ? names.join(", ") : "none");
  lines.push(`  clean on both (${r.summary.clean.length}): ${list(r.summary.clean)}`);
  lines.push(`  newly broken on B (${r.summary.broken.length}): ${list(r.summary.broken)}`);
  lines.push(`  fixed on B (${r.summary.fixed.length}): ${list(r.summary.fixed)}`);
  lines.push(`  broken on both (${r.summary.stillBroken.length}): ${list(r.summary.stillBroken)}`);
  for (const w of r.workflows) {
    const shown = w.appeared.filter((p) => p.severity === "error" || w.status !== "clean");
    if (shown.length === 0 && w.resolved.length === 0) continue;
    lines.push("", `${w.workflow}: ${label(w.status)} (A: ${counts(w.from)}; B: ${counts(w.to)})`);
    for (const p of shown) lines.push(`  new on B   ${p.severity === "error" ? "ERROR  " : "WARNING"}  ${describe(p)}`);
    for (const p of w.resolved)
      lines.push(`  gone on B  ${p.severity === "error" ? "ERROR  " : "WARNING"}  ${describe(p)}`);
  }
  if (r.fixes) {
    lines.push("", r.fixes.length === 0 ? "Nothing to repair on B." : "To repair B:");
    for (const f of r.fixes) {
      if (f.action === "rebuild")
        lines.push(`  rebuild ${f.package} for the new OS: it needs ${f.needs.join("; ")} (${f.workflows.join(", ")})`);
      else if (f.action === "add-to-base")
        lines.push(
          `  add ${f.library} to the base (or to the packages' repair.system_libraries)${f.packages.length ? `: needed by ${f.packages.join(", ")}` : ""} (${f.workflows.join(", ")})`,
        );
      else if (f.action === "set-os") lines.push(`  ${f.package}: ${f.message} (${f.workflows.join(", ")})`);
      else
        lines.push(`  review ${f.package ?? "the base image"} (${f.kind}): ${f.message} (${f.workflows.join(", ")})`);
    }
  }
  for (const f of r.failed ?? []) lines.push(`not audited: ${f.workflow}: ${f.message}`);
  return lines.join("\n") + "\n";
}

/** One problem in a line: a symbol version as file, version and what the base has; others in the audit's words. */
function describe(p: MigrationProblem): string {
  const who = p.package ?? "base image";
  if (p.kind === "missing-version" && p.version)
    return `${p.reason}  ${who}  ${p.file} needs ${p.version.needed} of ${p.name ?? "?"} (the base has ${p.version.newest ? `up to ${p.version.newest}` : "none of that series"})`;
  return `${p.reason}  ${who}  ${p.message}`;
}

function label(s: MigrationStatus): string {
  return s === "clean"
    ? "clean on both"
    : s === "broken"
      ? "newly broken on B"
      : s === "fixed"
        ? "fixed on B"
        : "broken on both";
}

function counts(c: { errors: number; warnings: number }): string {
  return `${c.errors} error${c.errors === 1 ? "" : "s"}, ${c.warnings} warning${c.warnings === 1 ? "" : "s"}`;
}

/** Exit status: 1 when a workflow is broken on B. */
export function migrationExitCode(r: MigrationReport): number {
  return r.summary.broken.length > 0 || r.summary.stillBroken.length > 0 || (r.failed?.length ?? 0) > 0 ? 1 : 0;
}
