// A studio's site set-up: a build host (root here) writes the store; an artist (a non-root
// user with rootless podman) runs, lists, compares and audits from a read-only bind mount of
// it, and nothing in the store changes. A build on it says the store is read-only.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { parseDocument } from "yaml";
import { projectRoot, runCli, tempDir } from "./helpers.js";

const ROOT = (process.getuid?.() ?? 1) === 0;
const has = (tool: string) => spawnSync("sh", ["-c", `command -v ${tool}`]).status === 0;
const skip = !ROOT
  ? "needs root (a test user, a bind mount)"
  : !has("podman")
    ? "podman is not installed"
    : !has("useradd")
      ? "useradd is missing"
      : false;

let work: string;
let config: string;
let storeRw: string;
let storeRo: string;
let mounted = false;
let user: { name: string; uid: number; home: string } | undefined;

function sh(cmd: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

/** Every file, directory and link of the store with its content digest, mode and modification time. */
function fingerprint(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const e of fs
      .readdirSync(path.join(dir, rel), { withFileTypes: true })
      .sort((a, b) => a.name.localeCompare(b.name))) {
      const r = path.join(rel, e.name);
      const st = fs.lstatSync(path.join(dir, r));
      const what = e.isFile()
        ? createHash("sha256")
            .update(fs.readFileSync(path.join(dir, r)))
            .digest("hex")
        : e.isSymbolicLink()
          ? fs.readlinkSync(path.join(dir, r))
          : "dir";
      out.push(`${r} ${what} ${st.mode.toString(8)} ${st.mtimeMs}`);
      if (e.isDirectory()) walk(r);
    }
  };
  walk("");
  return out;
}

/** `tantalus ARGS` as the test user, with the environment a login of theirs would have. */
function asUser(args: string[], env: Record<string, string> = {}): { code: number; stdout: string; stderr: string } {
  const u = user!;
  const vars = {
    PATH: `${path.dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin`,
    HOME: u.home,
    USER: u.name,
    LOGNAME: u.name,
    SHELL: "/bin/sh",
    ...env,
  };
  const r = spawnSync(
    "runuser",
    [
      "-u",
      u.name,
      "--",
      "env",
      "-i",
      ...Object.entries(vars).map(([k, v]) => `${k}=${v}`),
      process.execPath,
      path.join(projectRoot, "bin", "tantalus.js"),
      ...args,
    ],
    {
      cwd: u.home,
      encoding: "utf8",
    },
  );
  return { code: r.status ?? 128, stdout: r.stdout, stderr: r.stderr };
}

before(() => {
  if (skip) return;
  work = tempDir("tantalus-shared-store-");
  fs.chmodSync(work, 0o755);
  const rootHome = path.join(work, "build-host-home");
  fs.mkdirSync(rootHome);
  const env = { HOME: rootHome, XDG_CACHE_HOME: undefined, TANTALUS_CACHE_DIR: undefined, TANTALUS_STORE: undefined };
  const studio = path.join(work, "studio");
  let r = runCli(["studio", "generate", studio], { env });
  assert.equal(r.code, 0, r.stderr);
  config = path.join(studio, "tantalus.yaml");
  const doc = parseDocument(fs.readFileSync(config, "utf8"));
  doc.setIn(["packages", "layout_tools", "add_requires"], ["alembic-1.8"]);
  fs.writeFileSync(config, doc.toString());
  storeRw = path.join(work, "store");
  r = runCli(["build", "rough_layout", "--config", config, "--store", storeRw], { env });
  assert.equal(r.code, 0, r.stderr);
  sh("chmod", ["-R", "a+rX", work]);

  storeRo = path.join(work, "store-ro");
  fs.mkdirSync(storeRo);
  let m = sh("mount", ["--bind", storeRw, storeRo]);
  assert.equal(m.status, 0, m.stderr);
  mounted = true;
  m = sh("mount", ["-o", "remount,bind,ro", storeRo]);
  assert.equal(m.status, 0, m.stderr);

  const name = `tantalus-s${process.pid % 100000}`;
  const u = sh("useradd", ["-m", "-s", "/bin/sh", name]);
  assert.equal(u.status, 0, u.stderr);
  user = {
    name,
    uid: Number(sh("id", ["-u", name]).stdout.trim()),
    home: sh("getent", ["passwd", name]).stdout.split(":")[5]!,
  };
});

after(() => {
  if (mounted) sh("umount", [storeRo]);
  if (user) {
    // Rootless podman leaves a pause process per user; stop exactly that one.
    for (const pidFile of [
      `/tmp/podman-run-${user.uid}/libpod/tmp/pause.pid`,
      `/run/user/${user.uid}/libpod/tmp/pause.pid`,
    ]) {
      if (!fs.existsSync(pidFile)) continue;
      const pid = Number(fs.readFileSync(pidFile, "utf8").trim());
      if (pid > 1) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          /* already gone */
        }
      }
    }
    if (sh("userdel", ["-r", user.name]).status !== 0) sh("userdel", ["-r", "-f", user.name]);
    fs.rmSync(`/tmp/podman-run-${user.uid}`, { recursive: true, force: true });
  }
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe("a shared read-only store", { skip }, () => {
  test(
    "an artist runs, lists, compares and audits from a read-only mount of the build host's store, which stays unchanged",
    { timeout: 600_000 },
    () => {
      const before = fingerprint(storeRw);

      const images = asUser(["images", "--store", storeRo]);
      assert.equal(images.code, 0, images.stderr);
      assert.match(images.stdout, /rough_layout/);

      const diff = asUser(["diff", "rough_layout", "rough_layout", "--store", storeRo]);
      assert.equal(diff.code, 0, diff.stderr);

      // The audit unpacks the stored image into the artist's own cache.
      const audit = asUser(["audit", "rough_layout", "--config", config, "--base", "rough_layout"], {
        TANTALUS_STORE: storeRo,
      });
      assert.ok(audit.code === 0 || audit.code === 1, audit.stderr);
      assert.match(audit.stdout, /rough_layout/);
      assert.ok(
        fs.readdirSync(path.join(user!.home, ".cache", "tantalus", "audit", "rootfs")).length > 0,
        "the unpacked copy is in the artist's cache",
      );

      const run = asUser([
        "run",
        "rough_layout",
        "--config",
        config,
        "--store",
        storeRo,
        "--runtime",
        "podman",
        "-c",
        "launch_app -show=dragon",
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /launch_app: show=dragon workflow=rough_layout user=[1-9]/);

      const build = asUser(["build", "rough_layout", "--config", config, "--store", storeRo]);
      assert.equal(build.code, 1, build.stderr);
      assert.match(build.stderr, /^tantalus: error: .*store-ro: the image store is read-only for this user;/);
      assert.equal(build.stderr.trim().split("\n").length, 1, build.stderr);

      assert.deepEqual(
        fingerprint(storeRw),
        before,
        "nothing in the store changed: contents, modes, modification times",
      );
    },
  );
});
