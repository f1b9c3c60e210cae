import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { formatMigrationReport, migrationReport } from "./migrate.js";
import type { AuditFinding, WorkflowAudit } from "./workflow/audit.js";

function audit(workflow: string, findings: Partial<AuditFinding>[]): WorkflowAudit {
  const full = findings.map((f): AuditFinding => ({
    kind: "missing",
    severity: "error",
    package: null,
    file: "/x",
    message: "m",
    roots: [],
    rootCount: 1,
    ...f,
  }));
  return {
    workflow,
    base: "b",
    profile: "debian-x86_64",
    packages: [],
    files: 0,
    audited: 0,
    ldLibraryPath: "",
    dlopened: [],
    findings: full,
    repairs: { layerFiles: [], envAdditions: [] } as unknown as WorkflowAudit["repairs"],
    repaired: true,
    errors: full.filter((f) => f.severity === "error" && !f.ignored).length,
    warnings: full.filter((f) => f.severity === "warning" && !f.ignored).length,
    ignored: full.filter((f) => f.ignored).length,
    seconds: 0,
  };
}

const bases = { from: { base: "A", description: "a" }, to: { base: "B", description: "b" } };

describe("the migration report", () => {
  it("puts each workflow in one bucket by its errors on A and on B, ignoring what is ignored", () => {
    const tiff = { kind: "missing" as const, package: "flipbook-3", file: "/p/flipbook", name: "libtiff.so.5" };
    const r = migrationReport(
      bases,
      [audit("a", []), audit("b", []), audit("c", [tiff]), audit("d", [tiff]), audit("e", [])],
      [
        audit("a", [{ ...tiff, ignored: { rule: "x", reason: "y", source: "package" } }]),
        audit("b", [tiff]),
        audit("c", []),
        audit("d", [tiff, { ...tiff, name: "libjpeg.so.8" }]),
        audit("e", [{ kind: "os-mismatch", severity: "warning", package: "os-Rocky-9.3", file: "/etc/os-release" }]),
      ],
      { suggest: true },
    );
    assert.deepEqual(r.summary, {
      workflows: 5,
      clean: ["a", "e"],
      broken: ["b"],
      fixed: ["c"],
      stillBroken: ["d"],
    });
    const d = r.workflows.find((w) => w.workflow === "d")!;
    assert.deepEqual(
      d.appeared.map((p) => [p.reason, p.name]),
      [["missing library", "libjpeg.so.8"]],
    );
    assert.deepEqual(
      r.workflows.find((w) => w.workflow === "e")!.appeared.map((p) => p.reason),
      ["OS mismatch"],
    );
    // A library B lacks is one to add to the base (or to the repair layer), with who needs it.
    assert.deepEqual(r.fixes, [
      { action: "add-to-base", library: "libjpeg.so.8", packages: ["flipbook-3"], workflows: ["d"] },
      { action: "add-to-base", library: "libtiff.so.5", packages: ["flipbook-3"], workflows: ["b"] },
      {
        action: "set-os",
        package: "os-Rocky-9.3",
        message: "m",
        workflows: ["e"],
      },
    ]);
    const text = formatMigrationReport(r);
    assert.match(text, /^ {2}fixed on B \(1\): c$/m);
    assert.match(text, /^ {2}add libtiff\.so\.5 to the base .*: needed by flipbook-3 \(b\)$/m);
  });
});
