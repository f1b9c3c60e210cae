// zstd-napi is optional (its install needs GitHub or a compiler and Node's headers, which an
// offline build host lacks): without it gzip builds give the same bytes as with it, and asking
// for zstd, to write or to read, is one sentence saying what is missing.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { parseDocument } from "yaml";
import { projectRoot, tempDir, type CliResult } from "./helpers.js";
import { sampleStudio, setImageOption, type Studio } from "./builder/fixture.js";

let work: string;
let withoutZstd: string;
let studio: Studio;

/**
 * An install of the tool as `npm ci` leaves it when zstd-napi's addon could not be built:
 * the compiled tool and every other package, but no zstd-napi.
 */
function installWithoutZstd(dir: string): string {
  fs.mkdirSync(path.join(dir, "node_modules"), { recursive: true });
  fs.cpSync(path.join(projectRoot, "dist"), path.join(dir, "dist"), { recursive: true });
  fs.cpSync(path.join(projectRoot, "bin"), path.join(dir, "bin"), { recursive: true });
  fs.copyFileSync(path.join(projectRoot, "package.json"), path.join(dir, "package.json"));
  for (const name of fs.readdirSync(path.join(projectRoot, "node_modules"))) {
    if (name === "zstd-napi" || name.startsWith(".")) continue;
    fs.symlinkSync(path.join(projectRoot, "node_modules", name), path.join(dir, "node_modules", name));
  }
  return dir;
}

function cli(root: string, args: string[], env: NodeJS.ProcessEnv = {}): CliResult {
  const p = spawnSync(process.execPath, [path.join(root, "bin", "tantalus.js"), ...args], {
    cwd: studio.dir,
    env: { ...process.env, ...env },
    encoding: "utf8",
  });
  return { code: p.status ?? 128, stdout: p.stdout, stderr: p.stderr };
}

function builtDigest(root: string, store: string, extra: string[] = []): string {
  const r = cli(root, ["build", "rough_layout", "--config", studio.config, "--store", store, "--json", ...extra]);
  assert.equal(r.code, 0, r.stderr);
  const images = (JSON.parse(r.stdout) as { images: { workflow: string; digest: string }[] }).images;
  return images.find((i) => i.workflow === "rough_layout")!.digest;
}

before(async () => {
  work = tempDir("tantalus-zstd-optional-");
  withoutZstd = installWithoutZstd(path.join(work, "tool"));
  studio = await sampleStudio(work);
  // The repair npm run demo applies: without it the build's audit refuses rough_layout.
  const doc = parseDocument(fs.readFileSync(studio.config, "utf8"));
  doc.setIn(["packages", "layout_tools", "add_requires"], ["alembic-1.8"]);
  fs.writeFileSync(studio.config, doc.toString());
});

after(() => fs.rmSync(work, { recursive: true, force: true }));

describe("without zstd-napi", () => {
  it("builds gzip layers with the same digests as an install that has it", () => {
    const a = builtDigest(projectRoot, path.join(work, "store-full"));
    const b = builtDigest(withoutZstd, path.join(work, "store-nozstd"));
    assert.equal(b, a);
  });

  it("refuses --compression zstd and image.compression: zstd in one sentence, before any work", () => {
    const store = path.join(work, "store-refused");
    const r = cli(withoutZstd, [
      "build",
      "rough_layout",
      "--config",
      studio.config,
      "--store",
      store,
      "--compression",
      "zstd",
    ]);
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      /^tantalus: error: --compression zstd needs zstd, and the optional package zstd-napi is not installed here .*; use gzip \(the default\) or none, or run `npm install zstd-napi`/,
    );
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.doesNotMatch(r.stdout, /writing/, "refused before writing layers");

    const copy = path.join(work, "studio-zstd");
    fs.cpSync(studio.dir, copy, { recursive: true });
    setImageOption(
      { dir: copy, config: path.join(copy, "tantalus.yaml"), packages: path.join(copy, "packages") },
      "compression",
      "zstd",
    );
    const r2 = cli(withoutZstd, [
      "build",
      "rough_layout",
      "--config",
      path.join(copy, "tantalus.yaml"),
      "--store",
      store,
    ]);
    assert.notEqual(r2.code, 0);
    assert.match(
      r2.stderr,
      /^tantalus: error: image\.compression: zstd in .*tantalus\.yaml needs zstd, and the optional package zstd-napi is not installed here/,
    );
  });

  it("says so when it must read a zstd layer another install wrote", () => {
    const store = path.join(work, "store-zstd");
    builtDigest(projectRoot, store, ["--compression", "zstd"]);
    // The audit unpacks a stored base image: every layer is read.
    const r = cli(withoutZstd, ["audit", "rough_layout", "--config", studio.config, "--base", "rough_layout"], {
      TANTALUS_STORE: store,
      TANTALUS_CACHE_DIR: path.join(work, "cache"),
    });
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stdout, "", "no report from an audit that could not read its base");
    assert.match(
      r.stderr,
      /^tantalus: error: reading a zstd-compressed layer needs zstd, and the optional package zstd-napi is not installed here/,
    );
    // With zstd-napi the same audit reads it.
    const ok = cli(projectRoot, ["audit", "rough_layout", "--config", studio.config, "--base", "rough_layout"], {
      TANTALUS_STORE: store,
      TANTALUS_CACHE_DIR: path.join(work, "cache"),
    });
    assert.ok(ok.code === 0 || ok.code === 1, ok.stderr);
  });
});
