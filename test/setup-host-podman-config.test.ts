import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { projectRoot, tempDir } from "./helpers.js";

// scripts/podman-config.sh, the part of setup-host.sh that configures podman,
// run against a scratch folder in place of /etc/containers.

const script = path.join(projectRoot, "scripts", "podman-config.sh");
const EARLIER =
  '# written by tantalus scripts/setup-host.sh\n[containers]\ndefault_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]\n[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n';

function configure(dir: string) {
  const p = spawnSync("bash", [script, dir], { encoding: "utf8" });
  assert.equal(p.status, 0, p.stderr);
  return { stdout: p.stdout, stderr: p.stderr };
}

function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of fs.readdirSync(dir, { recursive: true, encoding: "utf8" }).sort()) {
    const p = path.join(dir, f);
    if (fs.statSync(p).isFile()) out[f] = `${fs.statSync(p).mtimeMs} ${fs.readFileSync(p, "utf8")}`;
  }
  return out;
}

test("the host's own containers.conf and storage.conf stay byte for byte; the settings go to a drop-in", () => {
  const dir = tempDir();
  const site = '# the site\'s podman\n[engine]\nruntime = "crun"\nnum_locks = 4096\n';
  const storage = '[storage]\ndriver = "vfs"\n';
  fs.writeFileSync(path.join(dir, "containers.conf"), site);
  fs.writeFileSync(path.join(dir, "storage.conf"), storage);
  const first = configure(dir);
  assert.equal(fs.readFileSync(path.join(dir, "containers.conf"), "utf8"), site);
  assert.equal(fs.readFileSync(path.join(dir, "storage.conf"), "utf8"), storage);
  const dropIn = fs.readFileSync(path.join(dir, "containers.conf.d", "tantalus.conf"), "utf8");
  assert.match(dropIn, /^\[containers\]\ndefault_ulimits = \["nofile=20000:20000", "nproc=32768:32768"\]$/m);
  assert.match(dropIn, /^\[engine\]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\nevents_logger = "file"$/m);
  assert.match(first.stdout, /wrote .*containers\.conf\.d\/tantalus\.conf/);
  assert.match(
    first.stderr,
    /storage\.conf is the host's and stays as it is; the tests expect \[storage\] driver = "overlay"/,
  );
  assert.deepEqual(fs.readdirSync(path.join(dir, "containers.conf.d")), ["tantalus.conf"], "no temporary file left");

  // Idempotent: nothing written, nothing said but the storage note.
  const before = snapshot(dir);
  const second = configure(dir);
  assert.equal(second.stdout, "");
  assert.deepEqual(snapshot(dir), before);
});

test("storage.conf is written only where there is none", () => {
  const dir = tempDir();
  configure(dir);
  assert.match(fs.readFileSync(path.join(dir, "storage.conf"), "utf8"), /^driver = "overlay"$/m);
  const before = snapshot(dir);
  assert.deepEqual(configure(dir), { stdout: "", stderr: "" });
  assert.deepEqual(snapshot(dir), before);
});

test("a containers.conf exactly as the earlier script wrote it is replaced by the drop-in; an edited one stays", () => {
  const earlier = tempDir();
  fs.writeFileSync(path.join(earlier, "containers.conf"), EARLIER);
  assert.match(configure(earlier).stdout, /removed the containers\.conf an earlier setup-host\.sh wrote/);
  assert.ok(!fs.existsSync(path.join(earlier, "containers.conf")));
  assert.ok(fs.existsSync(path.join(earlier, "containers.conf.d", "tantalus.conf")));

  const edited = tempDir();
  const text = EARLIER + '[network]\ndefault_subnet = "10.99.0.0/16"\n';
  fs.writeFileSync(path.join(edited, "containers.conf"), text);
  configure(edited);
  assert.equal(fs.readFileSync(path.join(edited, "containers.conf"), "utf8"), text);
});
