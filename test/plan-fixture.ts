// A tiny studio for the layer-plan tests: a Rez repository with real payload files and its tantalus.yaml.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const made: string[] = [];

/** Removes every fixture made so far (call from after()). */
export function removeFixtures(): void {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/** A tiny Rez repository with real payload files, and its tantalus.yaml. */
export function fixtureStudio(): { dir: string; repo: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tantalus-plan-"));
  made.push(dir);
  const repo = path.join(dir, "packages");
  const pkg = (name: string, version: string, body: string, files: Record<string, number>): void => {
    const base = path.join(repo, name, version);
    fs.mkdirSync(base, { recursive: true });
    fs.writeFileSync(path.join(base, "package.py"), `name = '${name}'\nversion = '${version}'\n${body}`);
    for (const [file, bytes] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(base, file)), { recursive: true });
      fs.writeFileSync(path.join(base, file), Buffer.alloc(bytes, 1));
    }
  };
  pkg("python", "3.11", "tantalus = {'layer': 'platform'}\n", { "bin/python": 5000, "lib/libpython.so": 3000 });
  pkg("usd", "24.08", "requires = ['python']\n", { "lib/libusd.so": 7000 });
  pkg("maya", "2025", "requires = ['python', 'usd']\n", { "bin/maya": 20000 });
  pkg("nuke", "15", "requires = ['python']\n", { "bin/nuke": 15000 });
  // Says "apps", but tantalus.yaml forces it into "rest".
  pkg("launcher", "1.0", "tantalus = {'layer': 'apps'}\n@late()\ndef requires():\n    return ['python-3']\n", {
    "bin/launch": 100,
  });
  pkg("notes", "2.0", "tantalus = {'layer': 'nowhere'}\n", { README: 50 });
  // A hard link counts once; a symlink is not followed.
  fs.linkSync(path.join(repo, "nuke", "15", "bin", "nuke"), path.join(repo, "nuke", "15", "bin", "nuke-alias"));
  fs.symlinkSync("/etc", path.join(repo, "nuke", "15", "etc-link"));
  fs.writeFileSync(
    path.join(dir, "tantalus.yaml"),
    [
      "packages_path: [packages]",
      "implicit_packages: []",
      "layers:",
      "  budget: 100",
      "  tiers:",
      "    - { name: platform, packages: [usd] }",
      "    - { name: apps, packages: [maya, nuke] }",
      "    - { name: rest, packages: ['*'] }",
      "packages:",
      "  launcher: { layer: rest }",
      "workflows:",
      "  layout: { request: [maya, launcher, notes] }",
      "  comp: { request: [nuke, launcher] }",
      "",
    ].join("\n"),
  );
  return { dir, repo };
}
