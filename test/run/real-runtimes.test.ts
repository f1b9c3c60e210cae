/**
 * `tantalus run` with the real runtimes on a real image: rootful podman
 * (as root, and for a user through sudo's variables), rootless podman as a
 * test user, docker (a dockerd started for the test), charliecloud's ch-run
 * (as root and as the test user); apptainer where installed. Each runs a
 * command that prints its identity, home, a variable from the captured
 * environment and a file of a read-only asset mount, and writes into $HOME;
 * exit statuses 3 and SIGTERM come back; and an interactive shell in a real
 * terminal (tmux) answers a typed command.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync, type SpawnOptions } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createRequire } from "node:module";
import { which } from "../../src/run/which.js";
import { buildFixtureImage, type FixtureImage } from "./fixture.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
const CLI = [process.execPath, "--import", TSX, join(HERE, "cli.ts")];
const ROOT = (process.getuid?.() ?? 1) === 0;
const NODE_PATH_DIR = dirname(process.execPath);

let work: string;
let fixture: FixtureImage;
let assets: string;
let user: { name: string; uid: number; gid: number; home: string } | undefined;
let userSkip: string | false = false;

function sh(
  cmd: string,
  args: string[],
  opts: SpawnOptions = {},
): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: "utf8", ...opts });
  return { status: r.status, stdout: String(r.stdout ?? ""), stderr: String(r.stderr ?? "") };
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), "tantalus-run-rt-"));
  chmodSync(work, 0o755);
  fixture = await buildFixtureImage(join(work, "store"));
  sh("chmod", ["-R", "a+rX", join(work, "store")]);
  assets = join(work, "assets");
  mkdirSync(assets);
  writeFileSync(join(assets, "x"), "asset-content\n");
  chmodSync(assets, 0o755);
  mkdirSync(join(work, "root-home", "shots"), { recursive: true });
  if (!ROOT) userSkip = "needs root to create a test user";
  else if (!which("useradd")) userSkip = "useradd is missing";
  else {
    const name = `tantalus-t${process.pid % 100000}`;
    const r = sh("useradd", ["-m", "-s", "/bin/sh", name]);
    if (r.status !== 0) userSkip = `useradd failed: ${r.stderr.trim()}`;
    else {
      const id = (flag: string) => Number(sh("id", [flag, name]).stdout.trim());
      const home = sh("getent", ["passwd", name]).stdout.split(":")[5]!;
      user = { name, uid: id("-u"), gid: id("-g"), home };
      mkdirSync(join(home, "shots"), { recursive: true });
      sh("chown", ["-R", `${user.uid}:${user.gid}`, home]);
    }
  }
});

after(() => {
  if (ROOT && fixture) sh("podman", ["rmi", "--force", fixture.configDigest.slice("sha256:".length)]);
  if (user) {
    // Rootless podman leaves a pause process per user; stop exactly that one.
    for (const pidFile of [
      `/tmp/podman-run-${user.uid}/libpod/tmp/pause.pid`,
      `/run/user/${user.uid}/libpod/tmp/pause.pid`,
    ]) {
      if (!existsSync(pidFile)) continue;
      const pid = Number(readFileSync(pidFile, "utf8").trim());
      if (pid > 1) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          /* already gone */
        }
      }
    }
    const r = sh("userdel", ["-r", user.name]);
    if (r.status !== 0) sh("userdel", ["-r", "-f", user.name]);
    rmSync(`/tmp/podman-run-${user.uid}`, { recursive: true, force: true });
  }
  if (work) rmSync(work, { recursive: true, force: true });
});

interface As {
  /** Run as this test user (rootless). */
  user?: { name: string; uid: number; gid: number; home: string };
  env?: NodeJS.ProcessEnv;
  home: string;
  cwd: string;
}

/** The environment a login of `who` would have, plus ours for tantalus. */
function envFor(as: As): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = {
    PATH: `${NODE_PATH_DIR}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
    HOME: as.home,
    USER: as.user?.name ?? "root",
    LOGNAME: as.user?.name ?? "root",
    SHELL: "/bin/sh",
    TERM: "xterm",
    TANTALUS_CACHE_DIR: join(as.home, ".cache", "tantalus-test"),
  };
  return { ...base, ...as.env };
}

/** The command line that runs `tantalus ARGS` as `as` (through runuser for the test user). */
function cliArgv(as: As, args: string[]): string[] {
  const env = envFor(as);
  const inner = ["env", "-i", ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...CLI, ...args];
  return as.user ? ["runuser", "-u", as.user.name, "--", ...inner] : inner;
}

function cli(
  as: As,
  args: string[],
  input?: string,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const argv = cliArgv(as, args);
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: as.cwd,
      stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    if (input !== undefined) child.stdin!.end(input);
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

const CHECK =
  'id -u; echo "$HOME"; echo "$STUDIO_SHOW_ROOT"; cat /assets/x; pwd; touch "$HOME/made-by-$R"; (touch /assets/y 2>/dev/null && echo rw || echo ro)';

async function checkCommand(as: As, runtime: string, expectUid: number, roEnforced = true): Promise<void> {
  const args = [
    "run",
    fixture.workflow,
    "--runtime",
    runtime,
    "--store",
    fixture.storeDir,
    "-v",
    `${assets}:/assets:ro`,
    "-e",
    `R=${runtime}`,
    "-c",
    CHECK,
  ];
  const r = await cli(as, args);
  assert.equal(r.status, 0, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
  const lines = r.stdout.trim().split("\n");
  assert.deepEqual(lines.slice(0, 5), [String(expectUid), as.home, "/shows", "asset-content", as.cwd], r.stderr);
  if (roEnforced) assert.equal(lines[5], "ro", "the asset mount is read-only");
  const made = join(as.home, `made-by-${runtime}`);
  assert.equal(statSync(made).uid, expectUid, "the file written into $HOME belongs to the user on the host");
  rmSync(made);
}

async function checkExitStatuses(as: As, runtime: string): Promise<void> {
  const base = ["run", fixture.workflow, "--runtime", runtime, "--store", fixture.storeDir];
  assert.equal((await cli(as, [...base, "-c", "exit 3"])).status, 3);
  assert.equal((await cli(as, [...base, "-c", "kill -TERM $$"])).status, 143, "killed by SIGTERM → 128+15");
}

/** A program after `--` runs directly in the environment; a script piped to stdin runs with the workflow's functions. */
async function checkProgramAndScript(as: As, runtime: string): Promise<void> {
  const base = ["run", fixture.workflow, "--runtime", runtime, "--store", fixture.storeDir];
  const direct = await cli(as, [...base, "--", "env"]);
  assert.equal(direct.status, 0, direct.stderr);
  assert.match(direct.stdout, /^STUDIO_SHOW_ROOT=\/shows$/m);
  const piped = await cli(as, base, "layout_hello piped\nexit 6\n");
  assert.equal(piped.status, 6, piped.stderr);
  assert.equal(piped.stdout.trim(), "hello from rough_layout piped");
}

/** An interactive session in a real terminal: type at the workflow's prompt, read the answer, exit with a status. */
async function checkTerminal(as: As, runtime: string): Promise<void> {
  const session = `rt-${runtime.replace(/[^a-z]/g, "")}-${as.user ? "user" : "root"}`;
  const socket = join(work, `tmux-${session}`);
  const statusFile = join(work, `${session}-${as.user ? "user" : "root"}.status`);
  const argv = cliArgv(as, ["run", fixture.workflow, "--runtime", runtime, "--store", fixture.storeDir]);
  const command = `cd ${as.cwd} && ${argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(" ")}; echo $? > ${statusFile}`;
  const tmux = (...a: string[]) => sh("tmux", ["-S", socket, ...a]);
  assert.equal(tmux("new-session", "-d", "-s", session, "-x", "200", "-y", "50", command).status, 0);
  try {
    const screen = () => tmux("capture-pane", "-p", "-t", session).stdout;
    const waitFor = async (re: RegExp, what: string) => {
      for (let i = 0; i < 240; i++) {
        if (re.test(screen())) return;
        await new Promise((r) => setTimeout(r, 250));
      }
      assert.fail(`no ${what} in the terminal after 60 s:\n${screen()}`);
    };
    await waitFor(/\[rough_layout\] /, "workflow prompt");
    tmux("send-keys", "-t", session, 'echo "show=$STUDIO_SHOW_ROOT user=$(id -u)"; layout_hello there', "Enter");
    const uid = as.user ? as.user.uid : 0;
    await waitFor(new RegExp(`show=/shows user=${uid}`), "answer");
    await waitFor(/hello from rough_layout there/, "answer of the alias function");
    tmux("send-keys", "-t", session, "exit 4", "Enter");
    for (let i = 0; i < 120 && !existsSync(statusFile); i++) await new Promise((r) => setTimeout(r, 250));
    assert.equal(readFileSync(statusFile, "utf8").trim(), "4", "the shell's exit status is tantalus run's");
  } finally {
    tmux("kill-server");
    rmSync(socket, { force: true });
  }
}

function rootAs(): As {
  const home = join(work, "root-home");
  return { home, cwd: join(home, "shots") };
}

// The runtimes are exercised concurrently: most of the time is spent waiting for containers to start.
describe("tantalus run with real runtimes", { concurrency: true }, () => {
  const podmanSkip = !ROOT ? "the rootful checks need root" : !which("podman") ? "podman is not installed" : false;

  test(
    "rootful podman runs the workflow as the calling user with home, assets, environment, exit statuses and a terminal",
    { skip: podmanSkip, timeout: 300_000 },
    async () => {
      const as = rootAs();
      await checkCommand(as, "podman", 0);
      await checkExitStatuses(as, "podman");
      await checkProgramAndScript(as, "podman");
      await checkTerminal(as, "podman");
    },
  );

  test(
    "rootful podman under sudo runs as the user who ran sudo, with their home and generated accounts",
    { skip: podmanSkip || userSkip, timeout: 120_000 },
    async () => {
      const u = user!;
      const as: As = {
        home: u.home,
        cwd: join(u.home, "shots"),
        env: {
          SUDO_UID: String(u.uid),
          SUDO_GID: String(u.gid),
          SUDO_USER: u.name,
          HOME: "/root",
          TANTALUS_CACHE_DIR: join(work, "root-cache"),
        },
      };
      const r = await cli(as, [
        "run",
        fixture.workflow,
        "--runtime",
        "podman",
        "--store",
        fixture.storeDir,
        "-c",
        'id -u; whoami; echo "$HOME"; touch "$HOME/made-under-sudo"',
      ]);
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(r.stdout.trim().split("\n"), [String(u.uid), u.name, u.home]);
      assert.equal(statSync(join(u.home, "made-under-sudo")).uid, u.uid);
      rmSync(join(u.home, "made-under-sudo"));
    },
  );

  test(
    "rootless podman runs the workflow as the test user (keep-id) with the same checks",
    { skip: podmanSkip || userSkip, timeout: 300_000 },
    async () => {
      const u = user!;
      const as: As = { user: u, home: u.home, cwd: join(u.home, "shots") };
      await checkCommand(as, "podman", u.uid);
      await checkExitStatuses(as, "podman");
      await checkTerminal(as, "podman");
    },
  );

  const chSkip = !which("ch-run")
    ? "charliecloud's ch-run is not installed (apt-get install charliecloud-runtime)"
    : !ROOT
      ? "the checks need root to prepare their directories"
      : false;

  test(
    "ch-run runs the workflow unprivileged with the same checks (its binds cannot be read-only)",
    { skip: chSkip, timeout: 300_000 },
    async () => {
      const as = rootAs();
      await checkCommand(as, "ch-run", 0, false);
      await checkExitStatuses(as, "ch-run");
      await checkProgramAndScript(as, "ch-run");
      await checkTerminal(as, "ch-run");
      if (user) {
        const u: As = { user, home: user.home, cwd: join(user.home, "shots") };
        await checkCommand(u, "ch-run", user.uid, false);
      }
    },
  );

  /** A private dockerd, as in the research notes: its own data root, exec root and socket. */
  async function startDockerd(): Promise<{ host: string; stop: () => Promise<void> } | string> {
    if (!ROOT) return "starting dockerd needs root";
    if (!which("dockerd") || !which("docker")) return "docker.io is not installed (dockerd and docker)";
    const dir = mkdtempSync(join(tmpdir(), "tantalus-dockerd-"));
    const socket = join(dir, "docker.sock");
    const log = join(dir, "dockerd.log");
    const child = spawn(
      "dockerd",
      [
        "--data-root",
        join(dir, "root"),
        "--exec-root",
        join(dir, "exec"),
        "--pidfile",
        join(dir, "dockerd.pid"),
        "-H",
        `unix://${socket}`,
      ],
      {
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    let output = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => (output += d));
    const exited = new Promise<void>((r) => child.on("exit", () => r()));
    const stop = async () => {
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
      writeFileSync(log, output);
      // dockerd may leave its network namespace file bind-mounted under the exec root.
      const mounts = readFileSync("/proc/self/mountinfo", "utf8")
        .split("\n")
        .map((l) => l.split(" ")[4] ?? "")
        .filter((m) => m.startsWith(dir + "/"));
      for (const m of mounts.reverse()) sh("umount", ["-l", m]);
      rmSync(dir, { recursive: true, force: true });
    };
    for (let i = 0; i < 120; i++) {
      if (child.exitCode !== null) break;
      if (
        existsSync(socket) &&
        sh("docker", ["-H", `unix://${socket}`, "version", "--format", "{{.Server.Version}}"]).status === 0
      )
        return { host: `unix://${socket}`, stop };
      await new Promise((r) => setTimeout(r, 250));
    }
    await stop();
    return `dockerd did not start: ${output.trim().split("\n").slice(-3).join(" | ")}`;
  }

  test(
    "docker runs the workflow with --user and generated accounts, with the same checks",
    { timeout: 300_000 },
    async (t) => {
      const daemon = await startDockerd();
      if (typeof daemon === "string") {
        t.skip(daemon);
        return;
      }
      try {
        const as: As = { ...rootAs(), env: { DOCKER_HOST: daemon.host } };
        await checkCommand(as, "docker", 0);
        await checkExitStatuses(as, "docker");
        await checkTerminal(as, "docker");
        if (user) {
          const u = user;
          const sudo: As = {
            home: u.home,
            cwd: join(u.home, "shots"),
            env: {
              DOCKER_HOST: daemon.host,
              SUDO_UID: String(u.uid),
              SUDO_GID: String(u.gid),
              SUDO_USER: u.name,
              HOME: "/root",
              TANTALUS_CACHE_DIR: join(work, "root-cache"),
            },
          };
          const r = await cli(sudo, [
            "run",
            fixture.workflow,
            "--runtime",
            "docker",
            "--store",
            fixture.storeDir,
            "-c",
            'id -u; whoami; echo "$HOME"; grep "^root:" /etc/passwd',
          ]);
          assert.equal(r.status, 0, r.stderr);
          assert.deepEqual(
            r.stdout.trim().split("\n"),
            [String(u.uid), u.name, u.home, "root:x:0:0:root:/root:/bin/sh"],
            "the generated passwd keeps the image's entries",
          );
        }
      } finally {
        await daemon.stop();
      }
    },
  );

  const apptainer = which("apptainer") ?? which("singularity");
  test(
    "apptainer runs the workflow from a SIF built once from the store",
    {
      skip: apptainer
        ? false
        : "apptainer/singularity is not installed (Debian 12 has no package; see research container-tools.md §5)",
      timeout: 600_000,
    },
    async () => {
      const as = rootAs();
      await checkCommand(as, "apptainer", 0);
      await checkExitStatuses(as, "apptainer");
    },
  );
});
