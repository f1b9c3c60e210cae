/**
 * Issue 17, the proof: a developer's package change runs inside the
 * workflow's container at the next launch, without a rebuild and without
 * touching the artists' image. Real podman, the sample studio.
 *
 * layout_tools is copied to a dev folder as 2.4.0 with a changed tool and a
 * changed commands(); `run rough_layout --dev DIR` shows the dev tool and the
 * new variable while a plain run still shows the released one; `images` and
 * every store file are unchanged; a second developer sees their own; an edited
 * payload is live, an edited package.py re-resolves with one line saying why;
 * a dev package that needs a family the image lacks gets the throwaway tag,
 * which `gc` removes.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { parseDocument } from "yaml";
import { looksLikeStackTrace, runCliBounded, tempDir } from "../helpers.js";
import { missingTools } from "../builder/fixture.js";

const missing = missingTools("podman");
let dir: string;
let studio: string;
let store: string;

/** A developer: their own home and run cache. */
function developer(name: string): NodeJS.ProcessEnv {
  const home = path.join(dir, "home", name);
  fs.mkdirSync(home, { recursive: true });
  return {
    HOME: home,
    TANTALUS_CACHE_DIR: path.join(home, ".cache", "tantalus"),
    XDG_CACHE_HOME: undefined,
    TANTALUS_STORE: store,
    TANTALUS_CONFIG: undefined,
    TANTALUS_PACKAGES_PATH: undefined,
  };
}

function cli(env: NodeJS.ProcessEnv, ...args: string[]) {
  // audit reads the store of the configuration (it has no --store): TANTALUS_STORE points it at this one.
  const r = runCliBounded(args[0] === "audit" ? args : [...args, "--store", store], {
    cwd: studio,
    env,
    timeoutMs: 240_000,
  });
  assert.ok(!looksLikeStackTrace(r.stderr), r.stderr);
  return r;
}

/** A copy of the released layout_tools as `version` in `repo`, with its own tool and a new variable. */
function devLayoutTools(repo: string, version: string, channel: string, extraRequire?: string): string {
  const released = path.join(studio, "packages", "layout_tools", "2.3.1");
  const root = path.join(repo, "layout_tools", version);
  fs.cpSync(released, root, { recursive: true, verbatimSymlinks: true });
  const file = path.join(root, "package.py");
  let text = fs.readFileSync(file, "utf8").replace("version = '2.3.1'", `version = '${version}'`);
  text = text.replace(
    'env.PYTHONPATH.append("{root}/python")',
    `env.PYTHONPATH.append("{root}/python")\n    env.LAYOUT_TOOLS_CHANNEL = "${channel}"`,
  );
  if (extraRequire) text = text.replace("'studio_core-1.2+'", `'studio_core-1.2+',\n    '${extraRequire}'`);
  fs.writeFileSync(file, text);
  for (const variant of ["maya-2024", "maya-2025"]) {
    fs.mkdirSync(path.join(root, variant, "bin"), { recursive: true });
    fs.writeFileSync(
      path.join(root, variant, "bin", "layout_publish"),
      `#!/bin/sh\necho "layout_publish ${version} (${channel})"\n`,
      { mode: 0o755 },
    );
  }
  return root;
}

/** sha256 of every file under the store, by path. */
function storeChecksums(): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(path.relative(store, p), createHash("sha256").update(fs.readFileSync(p)).digest("hex"));
    }
  };
  walk(store);
  return out;
}

const TOOL = "layout_publish; echo CHANNEL=$LAYOUT_TOOLS_CHANNEL";

before(() => {
  dir = tempDir("tantalus-devrun-");
  studio = path.join(dir, "studio");
  store = path.join(dir, "store");
  const admin = developer("admin");
  const g = runCliBounded(["studio", "generate", studio], { env: admin, timeoutMs: 240_000 });
  assert.equal(g.code, 0, g.stderr);
  // The repair `npm run demo` applies: without it the build's audit refuses rough_layout.
  const config = path.join(studio, "tantalus.yaml");
  const doc = parseDocument(fs.readFileSync(config, "utf8"));
  doc.setIn(["packages", "layout_tools", "add_requires"], ["alembic-1.8"]);
  fs.writeFileSync(config, doc.toString());
  const b = cli(admin, "build", "rough_layout", "--no-progress");
  assert.equal(b.code, 0, b.stderr);
});
after(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe("run --dev on the sample studio (podman)", { skip: missing }, () => {
  test("the dev tool and variable run in the workflow's image; plain run, `images` and every store file are unchanged; a second developer sees their own", () => {
    const ana = developer("ana");
    const ben = developer("ben");
    const anaRepo = path.join(dir, "dev-ana");
    const benRepo = path.join(dir, "dev-ben");
    devLayoutTools(anaRepo, "2.4.0", "ana");
    devLayoutTools(benRepo, "2.4.0", "ben");
    const images = cli(ana, "images").stdout;
    const sums = storeChecksums();

    const dev = cli(ana, "run", "rough_layout", "--runtime", "podman", "--dev", anaRepo, "-c", TOOL);
    assert.equal(dev.code, 0, dev.stderr);
    assert.match(dev.stderr, new RegExp(`^tantalus: dev: layout_tools-2\\.4\\.0 from ${anaRepo}$`, "m"));
    assert.equal(dev.stderr.split("\n")[0], `tantalus: dev: layout_tools-2.4.0 from ${anaRepo}`, "the first line");
    assert.match(dev.stdout, /^layout_publish 2\.4\.0 \(ana\)$/m);
    assert.match(dev.stdout, /^CHANNEL=ana$/m);
    assert.doesNotMatch(dev.stderr, /building|writing/, "nothing is built");

    const plain = cli(ana, "run", "rough_layout", "--runtime", "podman", "-c", TOOL);
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stdout, /layout_tools-2\.3\.1 layout_publish/, "the released tool");
    assert.match(plain.stdout, /^CHANNEL=$/m, "the released commands() sets no channel");
    assert.doesNotMatch(plain.stderr, /dev:/);

    const other = cli(ben, "run", "rough_layout", "--runtime", "podman", "--dev", benRepo, "-c", TOOL);
    assert.equal(other.code, 0, other.stderr);
    assert.match(other.stdout, /^layout_publish 2\.4\.0 \(ben\)$/m);
    assert.match(other.stdout, /^CHANNEL=ben$/m);
    const again = cli(ana, "run", "rough_layout", "--runtime", "podman", "--dev", anaRepo, "-c", TOOL);
    assert.match(again.stdout, /^CHANNEL=ana$/m, "each developer's own, whoever ran last");

    assert.equal(cli(ana, "images").stdout, images, "`tantalus images` is unchanged");
    assert.deepEqual(storeChecksums(), sums, "no file of the store was written, added or removed");
  });

  test("edit loop: a payload edit is live at the next launch; an edited package.py re-resolves with one line saying why; the prompt names the dev package", () => {
    const cy = developer("cy");
    const repo = path.join(dir, "dev-cy");
    const root = devLayoutTools(repo, "2.4.0", "cy");
    const run = (command: string) => {
      const r = cli(cy, "run", "rough_layout", "--runtime", "podman", "--dev", repo, "-c", command);
      assert.equal(r.code, 0, r.stderr);
      return r;
    };
    assert.match(run(TOOL).stdout, /^CHANNEL=cy$/m);

    fs.writeFileSync(path.join(root, "maya-2025", "bin", "layout_publish"), '#!/bin/sh\necho "edited tool"\n');
    const edited = run(TOOL);
    assert.match(edited.stdout, /^edited tool$/m, "the edited file, with no rebuild");
    assert.doesNotMatch(edited.stderr, /resolving .* again/, "a payload edit needs no new resolve");

    const pkg = path.join(root, "package.py");
    fs.writeFileSync(pkg, fs.readFileSync(pkg, "utf8").replace('CHANNEL = "cy"', 'CHANNEL = "cy-2"'));
    const reresolved = run(TOOL);
    assert.match(reresolved.stdout, /^CHANNEL=cy-2$/m);
    const why = reresolved.stderr.split("\n").filter((l) => /again/.test(l));
    assert.deepEqual(why, [`tantalus: dev: resolving rough_layout again: layout_tools-2.4.0 changed (${pkg})`]);
    assert.doesNotMatch(run(TOOL).stderr, /again/, "kept again: the next launch does not resolve");

    const prompt = run('ENV=/etc/tantalus/shrc sh -i -c "echo PROMPT=\\$PS1" </dev/null 2>/dev/null');
    assert.match(prompt.stdout, /^PROMPT=\[rough_layout dev: layout_tools-2\.4\.0\] /m);
  });

  test("a non-dev package the dev resolve changes (an older show_config, of a family the image has) is mounted from its repository too: no build, no store change", () => {
    const gus = developer("gus");
    const repo = path.join(dir, "dev-gus");
    devLayoutTools(repo, "2.4.0", "gus", "show_config-2023");
    const sums = storeChecksums();
    const r = cli(
      gus,
      "run",
      "rough_layout",
      "--runtime",
      "podman",
      "--dev",
      repo,
      "-c",
      'echo "ROOT=$SHOW_CONFIG_ROOT"; ls "$SHOW_CONFIG_ROOT"',
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^show_config 2023\.11\.0: shows /m, "the dev resolve's show_config, its commands() run");
    const root = path.join(studio, "packages", "show_config", "2023.11.0");
    assert.match(r.stdout, new RegExp(`^ROOT=${root}$`, "m"));
    assert.match(r.stdout, /^shows$/m, "its install root is there, mounted from the studio's repository");
    assert.doesNotMatch(r.stderr, /throwaway|building/);
    assert.deepEqual(storeChecksums(), sums);
  });

  test("a dev package that needs a family the image lacks gets a throwaway WORKFLOW:dev-<user>-<hash> image; the workflow's tag stays; gc removes it after the retention", () => {
    const dee = developer("dee");
    const repo = path.join(dir, "dev-dee");
    devLayoutTools(repo, "2.5.0", "dee", "render_submit");
    const index = () =>
      (
        JSON.parse(fs.readFileSync(path.join(store, "index.json"), "utf8")) as {
          manifests: { digest: string; annotations: Record<string, string> }[];
        }
      ).manifests;
    const tagOf = (name: string) => index().find((m) => m.annotations["org.opencontainers.image.ref.name"] === name);
    const released = tagOf("rough_layout")!.digest;

    const r = cli(
      dee,
      "run",
      "rough_layout",
      "--runtime",
      "podman",
      "--dev",
      repo,
      "-c",
      `${TOOL}; command -v render_submit`,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /dev: render_submit-\S+ is not in the image of rough_layout: building a throwaway image/);
    assert.match(r.stdout, /^CHANNEL=dee$/m);
    assert.match(r.stdout, /render_submit\/\S+\/bin\/render_submit$/m);
    const throwaway = index().filter((m) =>
      /^rough_layout:dev-/.test(m.annotations["org.opencontainers.image.ref.name"] ?? ""),
    );
    assert.equal(throwaway.length, 1);
    const tag = throwaway[0]!.annotations["org.opencontainers.image.ref.name"]!;
    assert.match(r.stderr, new RegExp(`dev: running ${tag.replace(/[.]/g, "\\.")}`));
    assert.equal(tagOf("rough_layout")!.digest, released, "the workflow's tag did not move");

    const plain = cli(dee, "run", "rough_layout", "--runtime", "podman", "-c", TOOL);
    assert.match(plain.stdout, /^CHANNEL=$/m, "a plain run still starts the released image");

    const kept = cli(dee, "gc");
    assert.equal(kept.code, 0, kept.stderr);
    assert.ok(tagOf(tag), "younger than dev.retention (7 days): kept");
    const gc = cli(dee, "gc", "--dev-retention", "0", "--min-age", "0");
    assert.equal(gc.code, 0, gc.stderr);
    assert.match(gc.stdout, new RegExp(`untagged ${tag.replace(/[.]/g, "\\.")}`));
    assert.equal(tagOf(tag), undefined);
    assert.equal(tagOf("rough_layout")!.digest, released);
  });
  test("run --request: an ad-hoc request runs in an unnamed image tagged request:<hash>, through the same layer cache; a mount added to tantalus.yaml lifts the audit's host-leak refusal", () => {
    const fay = developer("fay");
    const index = () =>
      (
        JSON.parse(fs.readFileSync(path.join(store, "index.json"), "utf8")) as {
          manifests: { digest: string; annotations: Record<string, string> }[];
        }
      ).manifests.map((m) => [m.annotations["org.opencontainers.image.ref.name"], m.digest] as const);
    const before = new Map(index());
    const adHoc = () =>
      cli(fay, "run", "--runtime", "podman", "--request", "maya-2025 layout_tools", "--", "maya", "-batch");

    // studio_base sets STUDIO_PROJECTS=/studio/projects, which only the workflows mount: the audit refuses the request.
    const refused = adHoc();
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(
      refused.stderr,
      /the image of the request "maya-2025 layout_tools".*run\.mounts.*:\n\s+studio_base-\S+: host-leak: STUDIO_PROJECTS contains \/studio\/projects/,
    );
    // Mounted for every workflow (run.mounts), the same image content passes: the remembered refusal must not stand.
    const config = path.join(studio, "tantalus.yaml");
    const doc = parseDocument(fs.readFileSync(config, "utf8"));
    doc.addIn(["run", "mounts"], { source: "projects", target: "/studio/projects", readonly: true });
    fs.writeFileSync(config, doc.toString());

    const r = adHoc();
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^maya-2025\.1 maya\.bin$/m, "maya ran with its arguments");
    assert.match(r.stderr, /\d+ reused from the layer cache/, "the workflows' layers serve the request too");
    const after = new Map(index());
    const tags = [...after.keys()].filter((t) => /^request:[0-9a-f]{12}$/.test(t ?? ""));
    assert.equal(tags.length, 1, [...after.keys()].join(" "));
    assert.equal(after.get("rough_layout"), before.get("rough_layout"), "no workflow tag moved");
    assert.match(cli(fay, "images").stdout, new RegExp(`^request-[0-9a-f]{12}\\s+${tags[0]}\\s`, "m"));

    const gc = cli(fay, "gc", "--dev-retention", "0", "--min-age", "0");
    assert.match(gc.stdout, new RegExp(`untagged ${tags[0]}`));
    assert.equal(new Map(index()).get(tags[0]), undefined);
  });
});

describe("audit --dev", () => {
  test("audits the resolve run --dev would run: a dev package's missing library is an error before it reaches artists", () => {
    const eve = developer("eve");
    const repo = path.join(dir, "dev-eve");
    const root = devLayoutTools(repo, "2.4.0", "eve");
    // The plug-in's library, left out of the dev package (a forgotten install step).
    fs.rmSync(path.join(root, "maya-2025", "lib", "liblayout_core.so.2"));
    const released = cli(eve, "audit", "rough_layout");
    assert.equal(released.code, 0, released.stdout + released.stderr);
    const dev = cli(eve, "audit", "rough_layout", "--dev", repo);
    assert.equal(dev.code, 1, dev.stdout + dev.stderr);
    assert.match(
      dev.stdout,
      /layout_tools-2\.4\.0\n\s+ERROR\s+missing\s+plug-ins\/layoutTools\.so\s+liblayout_core\.so\.2\s+not found/,
    );
    assert.match(dev.stderr, new RegExp(`dev: auditing with ${repo} searched first`));
  });
});
