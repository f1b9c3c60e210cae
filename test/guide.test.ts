/**
 * docs/guide.md cannot rot: its `sh` blocks run, in order, in one bash
 * session on a fresh sample studio (blocks after a `<!-- not run: why -->`
 * line are skipped, and must say why), with `tantalus` on the PATH as the
 * built command; every `yaml` block is validated by `tantalus config --check`.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { which } from "../src/run/which.js";
import { projectRoot, runCli, tempDir } from "./helpers.js";

interface Block {
  lang: string;
  text: string;
  line: number;
  skipped?: string;
}

function blocks(markdown: string): Block[] {
  const out: Block[] = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w+)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== "```"; i++) body.push(lines[i]!);
    const note = /^<!-- not run: (.+) -->$/.exec(lines[start - 1] ?? "");
    out.push({ lang: open[1]!, text: body.join("\n"), line: start + 1, ...(note ? { skipped: note[1]! } : {}) });
  }
  return out;
}

const GUIDE = path.join(projectRoot, "docs", "guide.md");

test("every yaml block of the guide is a valid tantalus.yaml", () => {
  const yaml = blocks(fs.readFileSync(GUIDE, "utf8")).filter((b) => b.lang === "yaml");
  assert.ok(yaml.length > 0);
  const dir = tempDir("tantalus-guide-yaml-");
  for (const b of yaml) {
    const file = path.join(dir, `guide-${b.line}.yaml`);
    fs.writeFileSync(file, b.text + "\n");
    const r = runCli(["config", "--check", file], { env: { TANTALUS_SITE_CONFIG: "" } });
    assert.equal(r.code, 0, `docs/guide.md:${b.line}: ${r.stderr}`);
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

test(
  "the guide's shell blocks run in order on the sample studio",
  { skip: which("podman") ? false : "podman is not installed (the guide runs a workflow)", timeout: 600_000 },
  () => {
    const all = blocks(fs.readFileSync(GUIDE, "utf8"));
    const sh = all.filter((b) => b.lang === "sh");
    for (const b of sh.filter((x) => x.skipped !== undefined))
      assert.ok(b.skipped!.length > 5, `docs/guide.md:${b.line}: say why the block is not run`);
    const run = sh.filter((b) => b.skipped === undefined);
    assert.ok(run.length >= 4, "the guide has blocks to run");
    const work = tempDir("tantalus-guide-");
    const bin = path.join(work, "bin");
    fs.mkdirSync(bin);
    fs.writeFileSync(
      path.join(bin, "tantalus"),
      `#!/bin/sh\nexec "${process.execPath}" "${path.join(projectRoot, "bin", "tantalus.js")}" "$@"\n`,
      { mode: 0o755 },
    );
    // Each block is announced, so a failure names the block it is in.
    const script = ["set -euo pipefail", ...run.map((b) => `echo "### docs/guide.md:${b.line}" >&2\n${b.text}`)].join(
      "\n",
    );
    const r = spawnSync("bash", ["-c", script], {
      cwd: work,
      encoding: "utf8",
      env: {
        PATH: `${bin}:${process.env.PATH}`,
        HOME: process.env.HOME,
        XDG_CACHE_HOME: path.join(work, "cache"),
        TANTALUS_STUDIO_CACHE:
          process.env.TANTALUS_STUDIO_CACHE ?? path.join(process.env.HOME ?? work, ".cache", "tantalus", "studio-elf"),
        TANTALUS_SITE_CONFIG: "",
        LANG: "C.UTF-8",
      },
      maxBuffer: 64 << 20,
    });
    const failedIn = [...r.stderr.matchAll(/^### (docs\/guide\.md:\d+)$/gm)].pop()?.[1];
    assert.equal(r.status, 0, `${failedIn ?? "docs/guide.md"} failed:\n${r.stderr.slice(-3000)}`);
    // What the blocks promise.
    assert.match(r.stdout, /launch_app: show=dragon/);
    assert.match(
      r.stdout,
      /^file:.*site\/tantalus\.yaml:\d+ +store=.*\/site\/stores\/main$/m,
      "the site's store, relative to the site file",
    );
    assert.ok(
      fs.existsSync(path.join(work, "site", "stores", "main", "oci-layout")),
      "the build wrote the site's store",
    );
    fs.rmSync(work, { recursive: true, force: true });
  },
);
