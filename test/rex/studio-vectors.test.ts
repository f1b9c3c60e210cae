/**
 * The sample studio's workflows against real Rez: the studio is generated as
 * the vectors were (test/data/rex-studio-vectors.json, written by
 * scripts/rez-oracle/rex_studio_vectors.py), each workflow is resolved with
 * Tantalus's solver and interpreted, and must give Rez's resolve, Rez's
 * environ and JSON text, Rez's shell code, and, sourced by the real shells,
 * Rez's environment.
 */
import { before, after, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { generateStudio } from "../../src/studio/index.js";
import { Repositories } from "../../src/rez/repository/index.js";
import { solve } from "../../src/solver/index.js";
import {
  interpretContext,
  lateRequiresHook,
  renderEnvironJson,
  renderShell,
  hostHomeResolver,
  type ShellKind,
} from "../../src/rex/index.js";
import { runCli } from "../helpers.js";
import { STUDIO_VECTORS_FILE, loadVectorFile, optionsFor, variantsOf, type VectorData } from "./vectors.js";

let scratch: string;
let studio: string;
let data: VectorData;
let repos: Repositories;

before(async () => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), "tantalus-rex-studio-"));
  studio = path.join(scratch, "studio");
  const scale = (JSON.parse(fs.readFileSync(STUDIO_VECTORS_FILE, "utf8")) as VectorData).studio!.scale;
  await generateStudio(studio, { scale });
  data = loadVectorFile(STUDIO_VECTORS_FILE, path.join(studio, "packages"));
  repos = new Repositories([data.repo]);
});

after(() => fs.rmSync(scratch, { recursive: true, force: true }));

test("every workflow resolves to Rez's resolve and interprets to Rez's environ and JSON text", () => {
  assert.ok(data.vectors.length >= 10);
  for (const vec of data.vectors) {
    const solved = solve(vec.request, repos, {
      implicitPackages: data.studio!.implicitPackages,
      lateRequires: lateRequiresHook(),
    });
    assert.equal(solved.status, "solved", vec.name);
    assert.deepEqual(
      solved.resolved.map((v) => v.qualifiedName),
      vec.resolved,
      `${vec.name}: resolve`,
    );
    const { environ } = interpretContext(solved.resolved, optionsFor(data, vec));
    assert.deepEqual(environ, vec.environ, vec.name);
    assert.equal(renderEnvironJson(environ), vec.cliJson, `${vec.name}: JSON text`);
  }
});

test("the workflows' bash, tcsh and pwsh code is Rez's, line for line", () => {
  for (const vec of data.vectors) {
    for (const shell of ["bash", "tcsh", "pwsh"] as ShellKind[]) {
      const result = interpretContext(variantsOf(vec, repos), {
        ...optionsFor(data, vec),
        shell,
        systemPaths: data.systemPaths[shell],
      });
      const ours = renderShell(result.actions, shell, {
        executable: data.shellExecutables[shell] ?? undefined,
        home: hostHomeResolver(data.home),
      });
      assert.equal(ours, vec.shells[shell], `${vec.name} (${shell})`);
    }
  }
});

test("tantalus env -w WORKFLOW --json, on the studio's tantalus.yaml, prints Rez's environ", () => {
  for (const name of ["lighting", "legacy_comp"]) {
    const vec = data.vectors.find((v) => v.name === name)!;
    const r = runCli(["env", "--config", path.join(studio, "tantalus.yaml"), "-w", name, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const env = JSON.parse(r.stdout) as Record<string, string>;
    for (const k of ["REZ_USED", "REZ_USED_TIMESTAMP"]) {
      delete env[k];
      delete vec.environ![k];
    }
    assert.deepEqual(env, vec.environ, name);
  }
});

const SHELLS: { kind: ShellKind; program: string; args: string[]; source: string }[] = [
  { kind: "bash", program: "bash", args: ["--norc", "--noprofile"], source: "." },
  { kind: "sh", program: "dash", args: [], source: "." },
  { kind: "zsh", program: "zsh", args: ["-f"], source: "." },
  { kind: "tcsh", program: "tcsh", args: ["-f"], source: "source" },
  { kind: "csh", program: "csh", args: ["-f"], source: "source" },
];

test("sourced by bash, dash, zsh, tcsh and csh, the workflows' scripts give Rez's environment", () => {
  const dir = fs.mkdtempSync(path.join(scratch, "sourcing-"));
  for (const sh of SHELLS) {
    for (const vec of data.vectors) {
      const result = interpretContext(variantsOf(vec, repos), {
        ...optionsFor(data, vec),
        shell: sh.kind,
        systemPaths: data.systemPaths.bash,
      });
      // The studio's houdini sources houdini_setup_bash, as SideFX's package does: a bash script csh cannot read.
      if ((sh.kind === "tcsh" || sh.kind === "csh") && result.actions.some((a) => a.kind === "source")) continue;
      const file = path.join(dir, `ctx.${sh.kind}`);
      const out = path.join(dir, "environ");
      fs.writeFileSync(file, renderShell(result.actions, sh.kind, { home: hostHomeResolver(data.home) }));
      fs.rmSync(out, { force: true });
      const p = spawnSync(
        "/usr/bin/env",
        ["-i", sh.program, ...sh.args, "-c", `${sh.source} ${file}; /usr/bin/env -0 > ${out}`],
        { cwd: dir, encoding: "utf8" },
      );
      assert.ok(fs.existsSync(out), `${vec.name} in ${sh.program}: ${p.stderr}`);
      const actual = new Map(
        fs
          .readFileSync(out, "utf8")
          .split("\0")
          .filter(Boolean)
          .map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)] as const),
      );
      // Every variable Rez computes has Rez's value; scripts a package sources (houdini_setup_bash) may add more.
      for (const [k, v] of Object.entries(vec.environ!))
        assert.equal(actual.get(k), v, `${vec.name} in ${sh.program}: ${k}`);
    }
  }
});
