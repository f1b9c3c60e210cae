/**
 * The Slurm pieces that do not need a cluster: the script's quoting and
 * refusals, and reading scontrol's and sacct's answers (sacct needs
 * accounting, which the test cluster does not run: its format is recorded
 * from Slurm 22.05's documentation of `-P -n -X -o JobID,State,ExitCode,NodeList`).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { defaultRunSettings } from "../run/settings.js";
import { parseSacct, parseScontrolJobs, slurmScript, type SlurmJobSpec } from "./slurm.js";

const job = (over: Partial<SlurmJobSpec> = {}): SlurmJobSpec => ({
  workflow: "comp",
  image: "registry.studio/tantalus/comp@sha256:" + "a".repeat(64),
  settings: defaultRunSettings(),
  command: "nuke -x 'shot 010.nk' -F $SLURM_ARRAY_TASK_ID",
  sbatchOptions: [],
  nodeStore: "/var/tmp/node store",
  tantalus: ["/opt/tantalus/bin/tantalus"],
  insecure: false,
  comments: ["resolve: nuke-15[]"],
  ...over,
});

test("the job script passes the command and the settings to the node unchanged through the shell", () => {
  const script = slurmScript(job({ array: "1-10%2", partition: "comp", sbatchOptions: ["--time=30"] }));
  // Run the script's last lines with `tantalus` replaced by printf, as sh on the node would.
  const body = script
    .split("\n")
    .filter((l) => l.startsWith("TANTALUS_NODE_STORE=") || l.startsWith("exec "))
    .join("\n")
    .replace("exec /opt/tantalus/bin/tantalus", "exec printf '%s\\n'");
  const node = (env: Record<string, string>) =>
    spawnSync("sh", ["-c", body], {
      encoding: "utf8",
      env: { PATH: process.env.PATH!, SLURM_ARRAY_TASK_ID: "4", ...env },
    }).stdout.split("\n");
  const argv = node({});
  assert.equal(
    argv[argv.indexOf("-c") + 1],
    "nuke -x 'shot 010.nk' -F $SLURM_ARRAY_TASK_ID",
    "expanded in the container, not by the job script",
  );
  const settings = JSON.parse(argv[argv.indexOf("--settings") + 1]!) as { display: boolean; runtime: string };
  assert.equal(settings.display, false);
  assert.equal(argv[argv.indexOf("--node-store") + 1], "/var/tmp/node store");
  const elsewhere = node({ TANTALUS_NODE_STORE: "/scratch/local/store" });
  assert.equal(elsewhere[elsewhere.indexOf("--node-store") + 1], "/scratch/local/store", "the node's own setting wins");
  assert.match(script, /^#SBATCH --array=1-10%2$/m);
  assert.match(script, /^#SBATCH --partition=comp$/m);
  assert.match(script, /^#SBATCH --time=30$/m);
  assert.match(script, /^TANTALUS_NODE_STORE=\$\{TANTALUS_NODE_STORE:-'\/var\/tmp\/node store'\}$/m);
});

test("the job script refuses an array spec, an option or a value that would inject lines", () => {
  assert.throws(() => slurmScript(job({ array: "1-3\n#SBATCH --uid=0" })), /--array .*expected sbatch's syntax/);
  assert.throws(() => slurmScript(job({ sbatchOptions: ["time=30"] })), /expected an option/);
  assert.throws(() => slurmScript(job({ partition: "a\nb" })), /has a line break/);
});

test("scontrol's one-line records become tasks with exit statuses (signals as 128+N), unfinished ones without", () => {
  const text = [
    "JobId=12 ArrayJobId=10 ArrayTaskId=2 JobName=t JobState=FAILED Reason=NonZeroExitCode ExitCode=7:0 BatchHost=n1 StdOut=/l/10_2.txt",
    "JobId=10 ArrayJobId=10 ArrayTaskId=3 JobName=t JobState=CANCELLED Reason=None ExitCode=0:15 BatchHost=n2 StdOut=/l/10_3.txt",
    "JobId=11 ArrayJobId=10 ArrayTaskId=1 JobName=t JobState=COMPLETED Reason=None ExitCode=0:0 BatchHost=n1 StdOut=/l/10_1.txt",
    "JobId=13 ArrayJobId=10 ArrayTaskId=4 JobName=t JobState=RUNNING Reason=None ExitCode=0:0 BatchHost=n1 StdOut=/l/10_4.txt",
    "",
  ].join("\n");
  assert.deepEqual(
    parseScontrolJobs(text).map((t) => [t.id, t.state, t.exitStatus, t.node, t.reason]),
    [
      ["10_1", "COMPLETED", 0, "n1", undefined],
      ["10_2", "FAILED", 7, "n1", "NonZeroExitCode"],
      ["10_3", "CANCELLED", 143, "n2", undefined],
      ["10_4", "RUNNING", undefined, "n1", undefined],
    ],
  );
});

test("sacct's parsable lines become tasks", () => {
  const text = "10_1|COMPLETED|0:0|n1\n10_2|FAILED|7:0|n1\n10_3|PENDING|0:0|None assigned\n";
  assert.deepEqual(
    parseSacct(text).map((t) => [t.id, t.arrayTaskId, t.state, t.exitStatus, t.node]),
    [
      ["10_1", "1", "COMPLETED", 0, "n1"],
      ["10_2", "2", "FAILED", 7, "n1"],
      ["10_3", "3", "PENDING", undefined, undefined],
    ],
  );
});
