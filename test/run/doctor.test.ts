import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import { containersConfFiles, hasCapability, podmanHostFindings, tomlSetting } from "../../src/run/host-checks.js";
import { which } from "../../src/run/which.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;

function temp(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), "tantalus-doctor-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test("TOML settings are read per table, the last file winning, comments ignored", (t) => {
  const dir = temp(t);
  writeFileSync(
    join(dir, "a.conf"),
    '[engine]\nruntime = "crun"  # default\n[containers]\ndefault_ulimits = ["nofile=1:1"]\n',
  );
  writeFileSync(join(dir, "b.conf"), '# runtime = "x"\n[engine]\nruntime = "runc"\n');
  assert.equal(tomlSetting([join(dir, "a.conf"), join(dir, "b.conf")], "engine", "runtime"), "runc");
  assert.equal(
    tomlSetting([join(dir, "a.conf"), join(dir, "missing.conf")], "containers", "default_ulimits"),
    '["nofile=1:1"]',
  );
  assert.equal(tomlSetting([join(dir, "b.conf")], "containers", "runtime"), undefined);
});

test("containers.conf drop-ins are read after their file, by name, as podman reads them", (t) => {
  const dir = temp(t);
  const conf = join(dir, "containers", "containers.conf");
  mkdirSync(`${conf}.d`, { recursive: true });
  writeFileSync(join(`${conf}.d`, "50-site.conf"), '[engine]\nruntime = "crun"\n');
  writeFileSync(join(`${conf}.d`, "tantalus.conf"), '[engine]\nruntime = "runc"\n');
  writeFileSync(join(`${conf}.d`, "notes.txt"), '[engine]\nruntime = "ignored"\n');
  const files = containersConfFiles({ XDG_CONFIG_HOME: dir }, true);
  assert.deepEqual(files.slice(-3), [conf, join(`${conf}.d`, "50-site.conf"), join(`${conf}.d`, "tantalus.conf")]);
  assert.equal(tomlSetting(files, "engine", "runtime"), "runc");
});

test("the bounding set decides whether CAP_SYS_RESOURCE is there", () => {
  assert.equal(hasCapability(24, "CapBnd:\t000001ffffffffff\n"), true);
  assert.equal(hasCapability(24, "CapBnd:\t000001fffeffffff\n"), false);
});

test("rootful podman without CAP_SYS_RESOURCE needs default_ulimits in containers.conf; a rootful config without it is reported with the fix", (t) => {
  const dir = temp(t);
  const bare = join(dir, "bare.conf");
  writeFileSync(bare, '[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\n');
  const fixed = join(dir, "fixed.conf");
  writeFileSync(
    fixed,
    '[containers]\ndefault_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]\n[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\n',
  );
  const findings = (conf: string) =>
    podmanHostFindings({ env: { CONTAINERS_CONF: conf }, rootless: false, which: (c) => which(c) }).map(
      (f) => f.problem + " => " + f.fix,
    );
  const ulimit = /RLIMIT_NOFILE.*default_ulimits/;
  if (hasCapability(24))
    assert.ok(!findings(bare).some((f) => ulimit.test(f)), "a machine with CAP_SYS_RESOURCE needs no ulimit fix");
  else
    assert.ok(
      findings(bare).some((f) => ulimit.test(f)),
      findings(bare).join("\n"),
    );
  assert.ok(!findings(fixed).some((f) => ulimit.test(f)));
  const systemdManaged = join(dir, "systemd.conf");
  writeFileSync(systemdManaged, '[engine]\ncgroup_manager = "systemd"\n');
  const hasSystemd = spawnSync("test", ["-d", "/run/systemd/system"]).status === 0;
  assert.equal(
    findings(systemdManaged).some((f) => /cgroup_manager = "cgroupfs"/.test(f)),
    !hasSystemd,
  );
});

test("tantalus doctor --json lists every runtime in order with what to install, and the configured registry's credentials without secrets", (t) => {
  const dir = temp(t);
  writeFileSync(
    join(dir, "auth.json"),
    JSON.stringify({
      auths: { "registry.studio:5000": { auth: Buffer.from("artist:s3cret-pass").toString("base64") } },
    }),
  );
  writeFileSync(join(dir, "tantalus.yaml"), "registry: registry.studio:5000/tantalus\n");
  const r = spawnSync(process.execPath, ["--import", TSX, join(HERE, "cli.ts"), "doctor", "--json"], {
    cwd: dir,
    env: { ...process.env, REGISTRY_AUTH_FILE: join(dir, "auth.json"), DISPLAY: ":77", XAUTHORITY: join(dir, "none") },
    encoding: "utf8",
  });
  assert.ok(r.status === 0 || r.status === 1, r.stderr);
  assert.doesNotMatch(r.stdout, /s3cret/);
  const report = JSON.parse(r.stdout) as {
    runtimes: Array<{ name: string; available: boolean; version?: string; fixes: string[] }>;
    selected?: string;
    display: { ok: boolean; problems: string[] };
    registry: { facts: Record<string, string> };
  };
  assert.deepEqual(
    report.runtimes.map((x) => x.name),
    ["podman", "docker", "apptainer", "ch-run"],
  );
  for (const rt of report.runtimes) {
    const exe = rt.name === "apptainer" ? (which("apptainer") ?? which("singularity")) : which(rt.name);
    if (!exe) {
      assert.equal(rt.available, false);
      assert.ok(rt.fixes.length > 0, `${rt.name}: says what to install`);
    } else if (rt.name !== "docker") assert.match(rt.version ?? "", /^\d+\.\d+/, `${rt.name} version`);
  }
  assert.equal(r.status, report.selected ? 0 : 1);
  assert.equal(report.display.ok, false, "DISPLAY=:77 has no X socket");
  assert.match(report.display.problems.join(), /\/tmp\/.X11-unix\/X77 does not exist/);
  assert.equal(report.registry.facts.registry, "registry.studio:5000/tantalus");
  assert.match(report.registry.facts.credential ?? "", /basic credentials for user "artist"/);
});
