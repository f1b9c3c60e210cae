/**
 * How audits are shown: a table per workflow grouped by package, the same
 * as JSON, and the exit status CI acts on (1 when any workflow has a
 * counted error, else 0).
 */
import path from "node:path";
import type { Suggestion } from "./suggest.js";
import { suggestionsYaml } from "./suggest.js";
import type { AuditFinding, WorkflowAudit } from "./workflow/audit.js";

export const AUDIT_JSON_VERSION = 1;

export function auditExitCode(audits: readonly WorkflowAudit[]): number {
  return audits.some((a) => a.errors > 0) ? 1 : 0;
}

export interface AuditJson {
  version: number;
  workflows: WorkflowAudit[];
  summary: { workflows: number; errors: number; warnings: number; ignored: number; clean: string[]; failing: string[] };
  suggestions?: Suggestion[];
  suggestedConfig?: string;
}

export function auditJson(audits: readonly WorkflowAudit[], suggestions?: readonly Suggestion[]): AuditJson {
  const out: AuditJson = {
    version: AUDIT_JSON_VERSION,
    workflows: [...audits],
    summary: {
      workflows: audits.length,
      errors: sum(audits, (a) => a.errors),
      warnings: sum(audits, (a) => a.warnings),
      ignored: sum(audits, (a) => a.ignored),
      clean: audits.filter((a) => a.errors === 0).map((a) => a.workflow),
      failing: audits.filter((a) => a.errors > 0).map((a) => a.workflow),
    },
  };
  if (suggestions) {
    out.suggestions = [...suggestions];
    out.suggestedConfig = suggestionsYaml(suggestions);
  }
  return out;
}

function sum<T>(xs: readonly T[], f: (x: T) => number): number {
  return xs.reduce((n, x) => n + f(x), 0);
}

/** The human report of several workflows, then the suggestions. */
export function formatAuditReport(audits: readonly WorkflowAudit[], suggestions?: readonly Suggestion[]): string {
  const parts = audits.map(formatWorkflow);
  if (audits.length > 1) {
    const failing = audits.filter((a) => a.errors > 0).map((a) => a.workflow);
    parts.push(
      `${audits.length} workflows: ${failing.length === 0 ? "all clean" : `${failing.length} with errors (${failing.join(", ")})`}, ` +
        `${plural(
          sum(audits, (a) => a.errors),
          "error",
        )}, ${plural(
          sum(audits, (a) => a.warnings),
          "warning",
        )}, ${sum(audits, (a) => a.ignored)} ignored\n`,
    );
  }
  if (suggestions) parts.push(formatSuggestions(suggestions));
  return parts.join("\n");
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function formatWorkflow(a: WorkflowAudit): string {
  const lines: string[] = [];
  lines.push(
    `Workflow ${a.workflow}: ${a.audited} ELF objects audited among ${a.files} files of ${a.packages.length} packages (${a.seconds} s)`,
  );
  lines.push(`  base: ${a.base}; ld.so profile ${a.profile}${a.repaired ? "" : "; repairs not applied"}`);
  const roots = new Map(a.packages.map((p) => [p.id, p.root]));
  const groups = new Map<string, AuditFinding[]>();
  for (const f of a.findings) {
    const key = f.package ?? (f.file.startsWith("$") ? "(the workflow's environment)" : "(base image)");
    const list = groups.get(key);
    if (list) list.push(f);
    else groups.set(key, [f]);
  }
  for (const [pkg, findings] of groups) {
    lines.push("");
    lines.push(`  ${pkg}`);
    const root = roots.get(pkg);
    const rows = findings.map((f) => [
      f.ignored ? "ignored" : f.severity.toUpperCase(),
      f.kind,
      displayPath(f.file, root),
      f.name ?? "",
      detail(f, roots),
    ]);
    lines.push(...table(rows).map((l) => `    ${l}`));
  }
  if (a.repairs.layerFiles.length > 0 || a.repairs.unresolved.length > 0) {
    lines.push("");
    lines.push("  repair layer:");
    for (const f of a.repairs.layerFiles)
      lines.push(`    ${f.imagePath}  <- ${f.hostSource}  (${f.soname} for ${f.package})`);
    for (const u of a.repairs.unresolved) lines.push(`    cannot repair ${u.soname} for ${u.package}: ${u.reason}`);
    for (const e of a.repairs.envAdditions) lines.push(`    ${e.name} += ${e.append.join(e.separator)}`);
  }
  if (a.pollution) {
    lines.push("");
    const n = a.pollution.switches.length;
    lines.push(
      `  pollution check: ${a.pollution.decoys} decoy libraries in ${a.pollution.decoyDir}: ` +
        (n === 0 ? "every load is pinned" : `${plural(n, "load")} would switch to a decoy`),
    );
    for (const s of a.pollution.switches) {
      const before = s.before ? `${s.before.path} (${s.before.via})` : "not found";
      lines.push(
        `    ${s.package ?? "(base image)"}  ${displayPath(s.file, s.package ? roots.get(s.package) : undefined)}  ${s.name}: ${before} -> ${s.after.path}`,
      );
    }
  }
  if (a.hostQueries && a.hostQueries.length > 0) {
    // Not findings: Rez reads rez-env's own environment here; the image has none of the build host's to give.
    lines.push("");
    lines.push("  asked in commands (answered for the image, which has no build-host environment):");
    for (const q of a.hostQueries)
      lines.push(
        `    ${q.package}  ${path.basename(q.file)}:${q.line ?? "?"}  ${q.query} -> ${JSON.stringify(q.answer)}` +
          // A path outside the packages is the base image's, which the capture does not have unpacked.
          (q.buildHost ? "  (the build host's answer: the path is the base image's)" : ""),
      );
  }
  lines.push("");
  lines.push(
    a.errors === 0 && a.warnings === 0 && a.ignored === 0
      ? "  clean"
      : `  ${plural(a.errors, "error")}, ${plural(a.warnings, "warning")}, ${a.ignored} ignored`,
  );
  return lines.join("\n") + "\n";
}

function displayPath(file: string, root: string | undefined): string {
  return root && file.startsWith(root + "/") ? file.slice(root.length + 1) : file;
}

function detail(f: AuditFinding, roots: Map<string, string>): string {
  const where = (ref: { path: string; package: string | null }) =>
    ref.package === null
      ? `the base image (${ref.path})`
      : `${ref.package} (${displayPath(ref.path, roots.get(ref.package))})`;
  let text: string;
  switch (f.kind) {
    case "missing":
      text = "not found";
      break;
    case "system":
      text = `only ${where(f.provider!)} provides it`;
      break;
    case "undeclared":
      text = `from ${where(f.provider!)}, not a requirement of ${f.package}`;
      break;
    case "conflict":
      text = f.name
        ? `from ${where(f.provider!)}, hiding ${(f.others ?? []).map(where).join(", ")}`
        : `loads ${(f.others ?? []).map((o) => `${o.detail} from ${o.package ?? "the base image"}`).join(", ")}`;
      break;
    default:
      text = f.message;
  }
  if (f.rootCount > 1) text += ` [seen from ${f.rootCount} objects]`;
  if (f.ignored) text += ` [ignored: ${f.ignored.reason}]`;
  return text;
}

function table(rows: string[][]): string[] {
  if (rows.length === 0) return [];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd(),
  );
}

function formatSuggestions(suggestions: readonly Suggestion[]): string {
  const lines: string[] = ["Suggestions:"];
  if (suggestions.length === 0) lines.push("  nothing to suggest");
  for (const s of suggestions) {
    lines.push(`  ${s.workflow}: ${s.package} ${s.kind} ${s.soname}: ${s.note}`);
    for (const p of s.providers.slice(0, 3))
      lines.push(`    provided by ${p.package}${p.inResolve ? " (in the resolve)" : ""}: ${p.path}`);
    if (s.baseFile) lines.push(`    in the base image: ${s.baseFile}`);
    if (s.donorFile) lines.push(`    in a donor directory: ${s.donorFile}`);
  }
  const yaml = suggestionsYaml(suggestions);
  if (yaml) {
    lines.push("");
    lines.push("Add to tantalus.yaml:");
    lines.push(
      ...yaml
        .trimEnd()
        .split("\n")
        .map((l) => `  ${l}`),
    );
  }
  return lines.join("\n") + "\n";
}
