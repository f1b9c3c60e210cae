// run --dev's launch decisions without a container runtime (test/run/dev-run.test.ts runs them under podman):
// what is mounted, what forces a throwaway image, when the kept resolve is reused and the line that says why not.
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { OciStore } from "../image/layout/store.js";
import { pathStamp } from "../rez/repository/observation.js";
import { devPrompt, prepareDevLaunch, type DevResolveInfo, type DevRunInput, type DevVariantInfo } from "./dev.js";
import { bashrcScript, shrcScript, zshrcScript } from "../image/entrypoint.js";

let dir: string;
let store: OciStore;
let devRepo: string;
let studioRepo: string;

function root(repo: string, family: string, version: string): string {
  const r = path.join(repo, family, version);
  fs.mkdirSync(r, { recursive: true });
  fs.writeFileSync(path.join(r, "package.py"), `name = '${family}'\nversion = '${version}'\n`);
  return r;
}

function variant(repo: string, family: string, version: string): DevVariantInfo {
  const r = root(repo, family, version);
  return { qualifiedName: `${family}-${version}[]`, name: family, repository: repo, root: r, imagePath: `/opt${r}` };
}

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "tantalus-devlaunch-"));
  store = await OciStore.open(path.join(dir, "store"));
  devRepo = path.join(dir, "dev");
  studioRepo = path.join(dir, "studio");
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function input(
  variants: DevVariantInfo[],
  cache: string,
  calls: { resolve: number; build: number },
  log: string[],
  env = "export A=1\n",
): DevRunInput {
  const resolved = (): DevResolveInfo => ({
    packagePaths: [devRepo, studioRepo],
    variants,
    environment: "#!/bin/sh\nexport DEV=1\n",
    contextJson: "{}\n",
    observation: {
      roots: [devRepo],
      families: {
        tool: [
          {
            dir: pathStamp(path.join(devRepo, "tool")),
            files: { "2.0/package.py": pathStamp(path.join(devRepo, "tool", "2.0", "package.py")) },
          },
        ],
      },
    },
  });
  return {
    workflow: "wf",
    paths: [devRepo],
    store,
    image: {
      ref: "wf",
      digest: "sha256:" + "a".repeat(64),
      labels: { "io.tantalus.resolve": "base-1.0[] tool-1.0[] lib-1.0[]" },
      environment: () =>
        Promise.resolve(`${env}\n# repaired libraries (library audit)\nexport LD_LIBRARY_PATH=/repair\n`),
    },
    configKey: "key",
    cacheDir: cache,
    home: dir,
    log: (l) => log.push(l),
    resolver: {
      defaultPaths: () => Promise.resolve([devRepo]),
      resolve: () => {
        calls.resolve++;
        return Promise.resolve(resolved());
      },
      buildThrowaway: () => {
        calls.build++;
        return Promise.resolve("wf:dev-ana-0123456789ab");
      },
    },
  };
}

test("dev variants and a newer version of a family the image has are mounted; the environment keeps the image's repair lines; an unchanged launch does not resolve", async () => {
  const cache = path.join(dir, "cache-1");
  const calls = { resolve: 0, build: 0 };
  const log: string[] = [];
  const tool = variant(devRepo, "tool", "2.0");
  const lib = variant(studioRepo, "lib", "1.1");
  const base = variant(studioRepo, "base", "1.0");
  const launch = await prepareDevLaunch(input([base, tool, lib], cache, calls, log));
  assert.equal(launch.resolved, true);
  assert.equal(calls.build, 0, "no throwaway image");
  assert.equal(launch.ref, "wf", "the workflow's image as it is");
  assert.deepEqual(launch.fromDev, [{ variant: "tool-2.0", repository: "~/dev" }]);
  assert.deepEqual(launch.env, [["TANTALUS_DEV", "tool-2.0"]]);
  const byTarget = new Map(launch.mounts.map((m) => [m.target, m]));
  assert.equal(byTarget.get(tool.imagePath)?.source, tool.root, "the dev root at its mapped path");
  assert.equal(byTarget.get(lib.imagePath)?.source, lib.root, "lib-1.1 from its repository");
  assert.ok(!byTarget.has(base.imagePath), "in the image already");
  assert.ok(launch.mounts.every((m) => m.readOnly));
  const envFile = byTarget.get("/etc/tantalus/environment.sh")!.source;
  assert.equal(
    fs.readFileSync(envFile, "utf8"),
    "#!/bin/sh\nexport DEV=1\n\n# repaired libraries (library audit)\nexport LD_LIBRARY_PATH=/repair\n",
  );
  assert.match(fs.readFileSync(byTarget.get("/etc/tantalus/bashrc")!.source, "utf8"), /dev: \$TANTALUS_DEV/);

  const again = await prepareDevLaunch(input([base, tool, lib], cache, calls, log));
  assert.equal(again.resolved, false);
  assert.equal(calls.resolve, 1, "the kept resolve held: no second resolve");
  assert.deepEqual(again.mounts, launch.mounts);
  assert.deepEqual(log, []);

  // An edited definition: resolved again, with one line naming the file.
  const pkg = path.join(tool.root, "package.py");
  fs.writeFileSync(pkg, "name = 'tool'\nversion = '2.0'\nrequires = ['lib-1.1']\n");
  await prepareDevLaunch(input([base, tool, lib], cache, calls, log));
  assert.equal(calls.resolve, 2);
  assert.deepEqual(log, [`dev: resolving wf again: tool-2.0 changed (${pkg})`]);

  // Other paths on the command line, or the image moved: resolved again too.
  log.length = 0;
  const other = input([base, tool, lib], cache, calls, log);
  other.image.digest = "sha256:" + "b".repeat(64);
  await prepareDevLaunch(other);
  assert.deepEqual(log, ["dev: resolving wf again: the image of wf changed"]);
});

test("a family the image lacks gets the throwaway image, with the dev roots still mounted over it", async () => {
  const calls = { resolve: 0, build: 0 };
  const log: string[] = [];
  const tool = variant(devRepo, "tool", "2.0");
  const extra = variant(studioRepo, "newfam", "1.0");
  const launch = await prepareDevLaunch(input([tool, extra], path.join(dir, "cache-2"), calls, log));
  assert.equal(calls.build, 1);
  assert.equal(launch.ref, "wf:dev-ana-0123456789ab");
  assert.equal(launch.throwaway, "wf:dev-ana-0123456789ab");
  assert.deepEqual(log, [
    "dev: newfam-1.0[] is not in the image of wf: building a throwaway image (the workflow's tag does not move)",
  ]);
  const targets = launch.mounts.map((m) => m.target);
  assert.ok(targets.includes(tool.imagePath), "payload edits stay live");
  assert.ok(!targets.includes("/etc/tantalus/environment.sh"), "the throwaway image has this resolve's environment");
  assert.ok(!targets.includes(extra.imagePath), "built into the image, not mounted");
});

test("the prompt of every interactive shell names the dev packages", () => {
  for (const rc of [bashrcScript(), shrcScript(), zshrcScript()])
    assert.match(devPrompt(rc), /\[\$\{TANTALUS_WORKFLOW:-workflow\}\$\{TANTALUS_DEV:\+ dev: \$TANTALUS_DEV\}\]/);
});
