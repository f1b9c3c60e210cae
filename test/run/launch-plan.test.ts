import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import {
  RUNTIMES,
  applyFlags,
  buildLaunchPlan,
  containerPathOf,
  defaultRunSettings,
  licenceHosts,
  parseIdOutput,
  parseVolume,
  planGpu,
  selectPassthrough,
  shellJoin,
  type GpuInfo,
  type Identity,
  type LaunchPlan,
  type PlanInput,
  type RuntimeInfo,
} from "../../src/run/index.js";

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "tantalus-run-plan-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const NO_GPU: GpuInfo = { nvidiaDevices: [], cdiSpecs: [], cdiAll: false };
const NVIDIA_CDI: GpuInfo = {
  nvidiaDevices: ["/dev/nvidia0", "/dev/nvidiactl"],
  cdiSpecs: ["/etc/cdi/nvidia.yaml"],
  cdiAll: true,
};

function info(name: RuntimeInfo["name"], extra: Partial<RuntimeInfo> = {}): RuntimeInfo {
  return { name, available: true, path: `/usr/bin/${name}`, problems: [], fixes: [], details: {}, ...extra };
}

async function setup(t: { after: (fn: () => Promise<void>) => void }) {
  const dir = await tempDir(t);
  const home = join(dir, "home", "alice");
  const shows = join(dir, "shows");
  await mkdir(join(home, "shots", "sh010"), { recursive: true });
  await mkdir(shows, { recursive: true });
  const identity: Identity = {
    uid: 1234,
    gid: 1234,
    user: "alice",
    group: "alice",
    home,
    shell: "/bin/zsh",
    groups: [{ gid: 2001, name: "dragon" }],
    viaSudo: false,
  };
  const input = (over: Partial<PlanInput> = {}): PlanInput => ({
    workflow: "rough_layout",
    command: "launch_app -show=dragon",
    settings: applyFlags(defaultRunSettings(), {
      volumes: [`${shows}:/shows:ro`],
      env: ["STUDIO=dragon", "EXTRA_FROM_HOST"],
    }),
    identity,
    env: {
      HOME: home,
      PATH: "/usr/bin",
      LD_LIBRARY_PATH: "/opt/leak",
      foundry_LICENSE: "4101@lic1.studio",
      redshift_LICENSE: "5054@lic2.studio",
      EXTRA_FROM_HOST: "yes",
      TERM: "xterm-256color",
      SECRET: "no",
    },
    cwd: join(home, "shots", "sh010"),
    tty: false,
    cacheDir: join(dir, "cache"),
    runtime: info("podman", { rootless: true, details: { ociRuntime: "crun" } }),
    imageEnv: ["PATH=/usr/bin:/bin", "TANTALUS_WORKFLOW=rough_layout"],
    gpu: NO_GPU,
    ...over,
  });
  return { dir, home, shows, identity, input };
}

test("the plan mounts home and asset volumes at the same paths, keeps the working directory, and passes only chosen variables", async (t) => {
  const { home, shows, input } = await setup(t);
  const plan = await buildLaunchPlan(input());
  assert.deepEqual(plan.mounts, [
    { source: home, target: home, readOnly: false },
    { source: shows, target: "/shows", readOnly: true },
  ]);
  assert.equal(plan.workdir, join(home, "shots", "sh010"));
  const env = Object.fromEntries(plan.env);
  assert.equal(env.HOME, home);
  assert.equal(env.USER, "alice");
  assert.equal(env.LOGNAME, "alice");
  assert.equal(env.SHELL, "/bin/zsh");
  assert.equal(env.TANTALUS_WORKFLOW, "rough_layout");
  assert.equal(env.foundry_LICENSE, "4101@lic1.studio");
  assert.equal(env.redshift_LICENSE, "5054@lic2.studio", "RLM <isv>_LICENSE pattern");
  assert.equal(env.TERM, "xterm-256color");
  assert.equal(env.STUDIO, "dragon");
  assert.equal(env.EXTRA_FROM_HOST, "yes");
  assert.equal(env.PATH, undefined, "host PATH never leaks in");
  assert.equal(env.LD_LIBRARY_PATH, undefined);
  assert.equal(env.SECRET, undefined);
  assert.deepEqual(plan.args, ["-c", "launch_app -show=dragon"]);
  assert.deepEqual(plan.addHosts, [], "host network needs no host entries");
});

test("a working directory outside every mount starts the command in the home directory, with a note", async (t) => {
  const { dir, home, input } = await setup(t);
  const plan = await buildLaunchPlan(input({ cwd: join(dir, "elsewhere") }));
  assert.equal(plan.workdir, home);
  assert.match(plan.onceNotes.map((n) => n.note).join("\n"), /not mounted in the container: starting in/);
});

test("a bridged network adds host entries for the licence servers named by the licence variables", async (t) => {
  const { input } = await setup(t);
  const base = input();
  const resolved: string[] = [];
  const plan = await buildLaunchPlan({
    ...base,
    settings: { ...base.settings, network: "bridge", licenceServers: ["27000@flex.studio"] },
    resolveHost: (h) => {
      resolved.push(h);
      return Promise.resolve(h === "nowhere.studio" ? undefined : `10.0.0.${resolved.length}`);
    },
  });
  assert.deepEqual(plan.addHosts, [
    { host: "lic1.studio", address: "10.0.0.1" },
    { host: "lic2.studio", address: "10.0.0.2" },
    { host: "flex.studio", address: "10.0.0.3" },
  ]);
});

test("licence values name hosts as port@host lists, bare hosts and never paths or ports", () => {
  assert.deepEqual(
    licenceHosts(["27000@lic-a:27000@lic-b", "/opt/flexlm/license.dat", "lic-c", "5053@10.1.2.3;4101@lic-d", "27000"]),
    ["lic-a", "lic-b", "lic-c", "lic-d"],
  );
});

test("passthrough patterns select licence variables but never the host's PATH or identity", () => {
  const env = { FOO_LICENSE: "1@a", PATH: "/x", HOME: "/h", LC_ALL: "C", ADSKFLEX_LICENSE_FILE: "2@b", OTHER: "o" };
  assert.deepEqual(
    selectPassthrough(env, ["*_LICENSE", "*_LICENSE_FILE", "LC_*", "*"]).map(([k]) => k),
    ["FOO_LICENSE", "LC_ALL", "ADSKFLEX_LICENSE_FILE", "OTHER"],
  );
  assert.deepEqual(
    selectPassthrough(env, ["PATH"]).map(([k]) => k),
    ["PATH"],
    "an exact name is the user's explicit choice",
  );
});

test("-v parses SRC[:DST][:ro] like docker and podman; the container path is translated through the longest mount", () => {
  assert.deepEqual(parseVolume("/a/b:/x:ro"), { source: "/a/b", target: "/x", readOnly: true });
  assert.deepEqual(parseVolume("/a/b"), { source: "/a/b", target: "/a/b", readOnly: false });
  assert.deepEqual(parseVolume("rel:/y:rw", "/base"), { source: "/base/rel", target: "/y", readOnly: false });
  assert.throws(() => parseVolume("/a:relative"), /must be absolute/);
  assert.throws(() => parseVolume("/a:/b:/c:ro"), /SRC\[:DST\]/);
  const mounts = [
    { source: "/home/a", target: "/home/a", readOnly: false },
    { source: "/home/a/proj", target: "/proj", readOnly: false },
  ];
  assert.equal(containerPathOf("/home/a/proj/shot", mounts), "/proj/shot");
  assert.equal(containerPathOf("/home/a", mounts), "/home/a");
  assert.equal(containerPathOf("/home/ab", mounts), undefined);
});

test("id output with and without names gives the identity's numbers and groups", () => {
  assert.deepEqual(parseIdOutput("uid=1001(alice) gid=1001(alice) groups=1001(alice),27(sudo),2001(dragon show)\n"), {
    uid: 1001,
    user: "alice",
    gid: 1001,
    group: "alice",
    groups: [
      { gid: 1001, name: "alice" },
      { gid: 27, name: "sudo" },
      { gid: 2001, name: "dragon show" },
    ],
  });
  assert.deepEqual(parseIdOutput("uid=1234 gid=1234 groups=1234"), { uid: 1234, gid: 1234, groups: [{ gid: 1234 }] });
});

test("rootless podman: keep-id identity, supplementary groups with crun, host network, CDI GPU, the image by ID", async (t) => {
  const { home, shows, input } = await setup(t);
  const rt = info("podman", { rootless: true, details: { ociRuntime: "crun" } });
  const plan = await buildLaunchPlan(input({ runtime: rt, gpu: NVIDIA_CDI }));
  const argv = RUNTIMES.podman.command(plan, { ref: "abc123", steps: [], loaded: false }, rt);
  assert.deepEqual(argv, [
    "/usr/bin/podman",
    "run",
    "--rm",
    "--init",
    "--interactive",
    "--entrypoint",
    "/etc/tantalus/entrypoint.sh",
    "--security-opt",
    "label=disable",
    "--userns=keep-id",
    "--group-add",
    "keep-groups",
    "--network=host",
    "--tz=local",
    "--volume",
    `${home}:${home}`,
    "--volume",
    `${shows}:/shows:ro`,
    "--env",
    `HOME=${home}`,
    "--env",
    "USER=alice",
    "--env",
    "LOGNAME=alice",
    "--env",
    "SHELL=/bin/zsh",
    "--env",
    "TANTALUS_WORKFLOW=rough_layout",
    "--env",
    "foundry_LICENSE=4101@lic1.studio",
    "--env",
    "redshift_LICENSE=5054@lic2.studio",
    "--env",
    "EXTRA_FROM_HOST=yes",
    "--env",
    "TERM=xterm-256color",
    "--env",
    "STUDIO=dragon",
    "--workdir",
    join(home, "shots", "sh010"),
    "--device",
    "nvidia.com/gpu=all",
    "abc123",
    "-c",
    "launch_app -show=dragon",
  ]);
  assert.equal(shellJoin(argv.slice(-3)), "abc123 -c 'launch_app -show=dragon'");
});

test("rootful podman for a non-root user and docker run --user with generated accounts and the user's groups", async (t) => {
  const { input } = await setup(t);
  const accounts = { passwd: "/cache/accounts/k/passwd", group: "/cache/accounts/k/group" };
  for (const [name, rt] of [
    ["podman", info("podman", { rootless: false })],
    ["docker", info("docker", { rootless: false })],
  ] as const) {
    const plan: LaunchPlan = { ...(await buildLaunchPlan(input({ runtime: rt, tty: true }))), accounts };
    assert.ok(RUNTIMES[name].needsAccountFiles(rt, plan.identity));
    const argv = RUNTIMES[name].command(plan, { ref: "sha256:abc", steps: [], loaded: false }, rt);
    const s = argv.join(" ");
    assert.match(s, / --tty /);
    assert.match(s, / --user 1234:1234 --group-add 2001 /);
    assert.match(
      s,
      / --volume \/cache\/accounts\/k\/passwd:\/etc\/passwd:ro --volume \/cache\/accounts\/k\/group:\/etc\/group:ro/,
    );
    assert.ok(!s.includes("keep-id"));
  }
});

test("docker asks for all NVIDIA driver capabilities with --gpus; a bridged network carries the host entries", async (t) => {
  const { input } = await setup(t);
  const rt = info("docker", { rootless: false });
  const gpu: GpuInfo = { ...NVIDIA_CDI, containerToolkit: "/usr/bin/nvidia-container-runtime-hook" };
  const base = input({ runtime: rt, gpu });
  const plan = await buildLaunchPlan({
    ...base,
    settings: { ...base.settings, network: "bridge" },
    resolveHost: () => Promise.resolve("10.9.9.9"),
  });
  const s = RUNTIMES.docker.command(plan, { ref: "sha256:abc", steps: [], loaded: false }, rt).join(" ");
  assert.match(s, / --network=bridge --add-host lic1.studio:10.9.9.9 --add-host lic2.studio:10.9.9.9 /);
  assert.match(s, / --gpus all --env NVIDIA_DRIVER_CAPABILITIES=all sha256:abc /);
});

test("apptainer binds with -B, keeps the host environment out and adds --nv; ch-run sets the image's Env before ours", async (t) => {
  const { home, shows, input } = await setup(t);
  const app = info("apptainer", { rootless: true });
  const p1 = await buildLaunchPlan(input({ runtime: app, gpu: NVIDIA_CDI }));
  const a = RUNTIMES.apptainer.command(p1, { ref: "/c/x.sif", steps: [], loaded: false }, app);
  assert.deepEqual(a.slice(0, 5), ["/usr/bin/apptainer", "exec", "--cleanenv", "--home", home]);
  assert.ok(a.includes(`${shows}:/shows:ro`));
  assert.deepEqual(a.slice(-7), [
    "--pwd",
    join(home, "shots", "sh010"),
    "--nv",
    "/c/x.sif",
    "/etc/tantalus/entrypoint.sh",
    "-c",
    "launch_app -show=dragon",
  ]);
  const ch = info("ch-run", { rootless: true });
  const p2 = await buildLaunchPlan(input({ runtime: ch }));
  const c = RUNTIMES["ch-run"].command(p2, { ref: "/c/img", steps: [], loaded: false }, ch);
  assert.deepEqual(c.slice(0, 5), [
    "/usr/bin/ch-run",
    "--unset-env=*",
    "--env-no-expand",
    "--set-env=PATH=/usr/bin:/bin",
    "--set-env=TANTALUS_WORKFLOW=rough_layout",
  ]);
  assert.ok(c.includes(`--bind=${shows}:/shows`));
  assert.deepEqual(c.slice(-5), ["/c/img", "--", "/etc/tantalus/entrypoint.sh", "-c", "launch_app -show=dragon"]);
  await assert.rejects(
    buildLaunchPlan({ ...input({ runtime: ch, gpu: NVIDIA_CDI }), settings: { ...input().settings, gpu: "all" } }),
    /ch-run cannot give containers the NVIDIA driver/,
  );
});

test("--gpu all fails with what to install; auto passes the GPU only where the runtime can", () => {
  const notes: string[] = [];
  assert.throws(() => planGpu("all", NO_GPU, info("podman"), notes), /no NVIDIA GPU/);
  assert.throws(
    () => planGpu("all", { ...NVIDIA_CDI, cdiAll: false }, info("podman"), notes),
    /nvidia-ctk cdi generate/,
  );
  assert.deepEqual(planGpu("auto", { ...NVIDIA_CDI, cdiAll: false }, info("podman"), notes), { nvidia: false });
  assert.match(notes.join(), /not passing the NVIDIA GPU/);
  assert.deepEqual(planGpu("auto", NVIDIA_CDI, info("podman"), []), { nvidia: true });
  assert.deepEqual(planGpu("none", NVIDIA_CDI, info("podman"), []), { nvidia: false });
  assert.deepEqual(planGpu("auto", { ...NO_GPU, dri: "/dev/dri" }, info("docker"), []), {
    nvidia: false,
    dri: "/dev/dri",
  });
});

test("CDI specs declaring nvidia.com/gpu=all are found in the CDI directories", async (t) => {
  const dir = await tempDir(t);
  const { detectGpu } = await import("../../src/run/index.js");
  await mkdir(join(dir, "dev"));
  await writeFile(join(dir, "dev", "nvidia0"), "");
  await writeFile(join(dir, "dev", "nvidiactl"), "");
  await mkdir(join(dir, "cdi"));
  await writeFile(
    join(dir, "cdi", "nvidia.yaml"),
    'cdiVersion: 0.5.0\nkind: nvidia.com/gpu\ndevices:\n  - name: "0"\n  - name: all\ncontainerEdits: {}\n',
  );
  await writeFile(join(dir, "cdi", "other.yaml"), "cdiVersion: 0.5.0\nkind: vendor.com/fpga\ndevices: [{name: all}]\n");
  const gpu = detectGpu({ PATH: "" }, join(dir, "dev"), [join(dir, "cdi")]);
  assert.deepEqual(gpu.nvidiaDevices, [join(dir, "dev", "nvidia0"), join(dir, "dev", "nvidiactl")]);
  assert.deepEqual(gpu.cdiSpecs, [join(dir, "cdi", "nvidia.yaml")]);
  assert.equal(gpu.cdiAll, true);
});
