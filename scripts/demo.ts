// `npm run demo`: the main job on the embedded sample studio, step by step, with the
// real `tantalus` command. Each step prints what it runs; the first failure stops
// the demo with that step's exit code.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseDocument } from "yaml";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const studio = path.resolve(process.env.TANTALUS_DEMO_DIR ?? path.join(root, "demo-studio"));
const config = path.join(studio, "tantalus.yaml");
const bin = path.join(root, "bin", "tantalus.js");

interface Step {
  title: string;
  /** A `tantalus` command line, or an edit the pipeline engineer makes by hand. */
  args?: string[];
  edit?: () => string;
  /** Steps that report findings (the audit) may fail without stopping the demo. */
  mayFail?: boolean;
}

/** What `tantalus audit --suggest` printed for the studio's undeclared libAlembic, written into tantalus.yaml. */
function applySuggestedRepair(): string {
  const doc = parseDocument(fs.readFileSync(config, "utf8"));
  doc.setIn(["packages", "layout_tools", "add_requires"], ["alembic-1.8"]);
  fs.writeFileSync(config, doc.toString());
  return "packages:\n  layout_tools:\n    add_requires: [alembic-1.8]\n";
}

const steps: Step[] = [
  {
    title: "Generate the sample studio (Rez repository with real ELF payloads + tantalus.yaml)",
    args: ["studio", "generate", studio, "--force"],
  },
  { title: "Load every package of the studio", args: ["repo", "check", "--config", config] },
  {
    title: "Resolve the rough_layout workflow with Rez's semantics and write its context",
    args: [
      "resolve",
      "--config",
      config,
      "-w",
      "rough_layout",
      "-o",
      path.join(studio, "contexts", "rough_layout.json"),
    ],
  },
  {
    title: "Capture the environment the packages' commands() set, as the shell script the image will source",
    args: [
      "env",
      "--config",
      config,
      "--context",
      path.join(studio, "contexts", "rough_layout.json"),
      "--shell",
      "sh",
      "-o",
      path.join(studio, "contexts", "rough_layout.env.sh"),
    ],
  },
  {
    title:
      "Audit every workflow's shared libraries inside its planned image (the studio has deliberate defects: this step reports them)",
    args: ["audit", "--all", "--config", config],
    mayFail: true,
  },
  {
    title: "Ask the audit how to repair rough_layout (layout_tools loads libAlembic without requiring alembic)",
    args: ["audit", "rough_layout", "--suggest", "--config", config],
    mayFail: true,
  },
  { title: "Apply the suggested fix list to tantalus.yaml", edit: applySuggestedRepair },
  { title: "Audit rough_layout again: repaired", args: ["audit", "rough_layout", "--config", config] },
  { title: "Plan the layers of all workflows together", args: ["plan", "--all", "--summary", "--config", config] },
  {
    title: "Build the rough_layout image into the local store, no daemon (the build audits it too)",
    args: ["build", "rough_layout", "--config", config],
  },
  {
    title: "Run launch_app -show=dragon in the rough_layout workflow, as yourself",
    args: ["run", "rough_layout", "--config", config, "-c", "launch_app -show=dragon"],
  },
];

// The run step needs a container runtime: as root, install podman from Debian's
// packages (offline mirrors work too); otherwise `tantalus doctor` says what is missing.
if (!hasRuntime()) {
  if (process.getuid?.() === 0) {
    process.stdout.write(
      "\n[setup] no container runtime found: installing podman from Debian's packages (scripts/setup-host.sh --demo)\n",
    );
    const p = spawnSync("bash", [path.join(root, "scripts", "setup-host.sh"), "--demo"], { stdio: "inherit" });
    if (p.status !== 0) process.exit(p.status ?? 1);
  } else {
    process.stdout.write(
      "\n[setup] no container runtime found and not root: the run step will fail; `tantalus doctor` says what to install\n",
    );
  }
}

for (const [i, step] of steps.entries()) {
  if (step.edit) {
    process.stdout.write(`\n[${i + 1}/${steps.length}] ${step.title}\n`);
    process.stdout.write(step.edit().trimEnd().replace(/^/gm, "+ ") + "\n");
    continue;
  }
  const args = step.args!;
  process.stdout.write(`\n[${i + 1}/${steps.length}] ${step.title}\n$ tantalus ${args.map(quote).join(" ")}\n`);
  const t0 = performance.now();
  const p = spawnSync(process.execPath, [bin, ...args], {
    stdio: "inherit",
    cwd: fs.existsSync(studio) ? studio : root,
  });
  const secs = ((performance.now() - t0) / 1000).toFixed(1);
  if (p.status !== 0 && !step.mayFail) {
    process.stdout.write(`step ${i + 1} failed (exit ${p.status ?? p.signal}) after ${secs} s\n`);
    process.exit(p.status ?? 1);
  }
  process.stdout.write(`(${secs} s)\n`);
}
process.stdout.write(`\nDemo done: the studio is in ${studio}\n`);

/** A runtime that can start containers here: a docker CLI without a reachable engine does not count. */
function hasRuntime(): boolean {
  const has = (t: string) => spawnSync("sh", ["-c", `command -v ${t}`]).status === 0;
  return (
    has("podman") ||
    has("apptainer") ||
    has("ch-run") ||
    (has("docker") && spawnSync("docker", ["info"], { stdio: "ignore" }).status === 0)
  );
}

function quote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
