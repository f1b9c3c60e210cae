import { test } from "node:test";
import assert from "node:assert/strict";
import { auditJson, formatAuditReport } from "./report.js";
import type { WorkflowAudit } from "./workflow/audit.js";

test("the audit names the packages whose commands asked the process's environment, with what the image answered", () => {
  const audit: WorkflowAudit = {
    workflow: "look",
    base: "demo",
    profile: "debian-x86_64",
    packages: [],
    files: 0,
    audited: 0,
    ldLibraryPath: "",
    dlopened: [],
    findings: [],
    repairs: { layerFiles: [], unresolved: [], envAdditions: [] },
    repaired: true,
    hostQueries: [
      {
        package: "prefs-1.0",
        kind: "environment",
        query: 'os.environ["HOME"]',
        answer: "${HOME}",
        file: "/studio/packages/prefs/1.0/package.py",
        line: 5,
      },
      {
        package: "prefs-1.0",
        kind: "filesystem",
        query: 'os.path.isdir("/etc/prefs")',
        answer: "missing",
        file: "/studio/packages/prefs/1.0/package.py",
        line: 6,
        buildHost: true,
      },
    ],
    errors: 0,
    warnings: 0,
    ignored: 0,
    seconds: 0,
  };
  const text = formatAuditReport([audit]);
  assert.match(text, /asked in commands \(answered for the image, which has no build-host environment\):/);
  assert.match(text, /^ {4}prefs-1\.0 {2}package\.py:5 {2}os\.environ\["HOME"\] -> "\$\{HOME\}"$/m);
  // Outside the packages the build host answered for the base image: the report says whose answer it was.
  assert.match(
    text,
    /^ {4}prefs-1\.0 {2}package\.py:6 {2}os\.path\.isdir\("\/etc\/prefs"\) -> "missing" {2}\(the build host's answer: the path is the base image's\)$/m,
  );
  // Asking is not a finding: the workflow stays clean.
  assert.match(text, /^ {2}clean$/m);
  assert.equal(auditJson([audit]).workflows[0]!.hostQueries![0]!.package, "prefs-1.0");
});
