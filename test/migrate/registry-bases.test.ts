/**
 * The same OS base however it arrives: Debian 11 as the debootstrap tarball
 * (rootfs:), as `podman save` wrote it after `podman import`
 * (docker-archive:), and pushed with skopeo to a local docker-registry (a
 * registry reference) gives the same audit findings for every workflow and
 * rebuilds the same package layers with the same audit verdict.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { AuditJson } from "../../src/audit/report.js";
import { startRegistry, type RunningRegistry } from "../image-remote/harness.js";
import { missingTools, podman, removeDir, run, sampleStudio, tantalus, type Studio } from "../builder/fixture.js";
import { debianBase, osBasesUnavailable } from "./os-bases.js";

const skip = osBasesUnavailable() || missingTools("podman", "runc", "skopeo", "docker-registry");
let scratch: string;
let studio: Studio;
let reg: RunningRegistry;

before(async () => {
  if (skip) return;
  scratch = path.join(os.tmpdir(), `trg-${process.pid.toString(36)}${Date.now().toString(36)}`);
  fs.mkdirSync(scratch);
  studio = await sampleStudio(scratch);
  reg = await startRegistry();
});
after(async () => {
  await reg?.stop();
  if (scratch) removeDir(scratch);
});

/** What the audit found, without the words that name where the base was unpacked. */
function findings(json: AuditJson): string[] {
  return json.workflows.flatMap((w) =>
    w.findings.map((f) =>
      [w.workflow, f.kind, f.severity, f.package ?? "-", f.file, f.name ?? "", f.version?.needed ?? ""].join(" "),
    ),
  );
}

test(
  "a Debian 11 base from podman save or a registry audits and rebuilds as the rootfs: one",
  { skip, timeout: 10 * 60_000 },
  () => {
    const tar = debianBase("bullseye");
    const p = path.join(scratch, "p");
    podman(p, ["import", tar, "localhost/os/debian:11"]);
    const saved = path.join(scratch, "debian-11.docker.tar");
    podman(p, ["save", "--format", "docker-archive", "-o", saved, "localhost/os/debian:11"]);
    const pushed = `${reg.host}/os/debian:11`;
    run("skopeo", ["copy", "--quiet", "--dest-tls-verify=false", `docker-archive:${saved}`, `docker://${pushed}`]);

    const spellings = [`rootfs:${tar}`, `docker-archive:${saved}`, pushed];
    const audits = spellings.map((base, i) => {
      const r = tantalus(["audit", "--all", "--base", base, "--insecure", "--json"], {
        cwd: studio.dir,
        env: { TANTALUS_STORE: path.join(scratch, `s${i}`) },
      });
      assert.equal(r.code, 1, r.stderr);
      return findings(JSON.parse(r.stdout) as AuditJson);
    });
    assert.ok(audits[0]!.some((f) => / missing-version error python-3\.11\.13 .* libc\.so\.6 GLIBC_2\.34$/.test(f)));
    assert.ok(audits[0]!.some((f) => / os-mismatch warning os-Rocky-9\.3 /.test(f)));
    assert.deepEqual(audits[1], audits[0], "podman save");
    assert.deepEqual(audits[2], audits[0], "registry");

    const builds = spellings.map((base) => {
      const r = tantalus(
        ["build", "animation", "--base", base, "--insecure", "--allow-audit-errors", "--json", "--no-progress"],
        { cwd: studio.dir, env: { TANTALUS_STORE: path.join(scratch, "store") } },
      );
      assert.equal(r.code, 0, r.stderr);
      const img = (
        JSON.parse(r.stdout) as {
          images: { layers: { kind: string; digest: string }[]; audit?: { errors: string[] } }[];
        }
      ).images[0]!;
      return {
        packages: img.layers.filter((l) => l.kind === "packages").map((l) => l.digest),
        errors: (img.audit?.errors ?? []).map((e) => e.replace(/\/lib\/x86_64-linux-gnu\/\S+/g, "LIBC")).sort(),
      };
    });
    assert.ok(builds[0]!.errors.length > 0);
    assert.deepEqual(builds[1], builds[0], "podman save");
    assert.deepEqual(builds[2], builds[0], "registry");
  },
);
