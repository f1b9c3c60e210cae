/**
 * The workflow stamp behind `tantalus run`'s "is the image current?": an
 * unchanged workflow is answered without resolving; a change to a package
 * the resolve read, to tantalus.yaml or to the variables that override it
 * makes `run` resolve (and rebuild when the image changes); a change to a
 * package the workflow never reads does not.
 */
import assert from "node:assert/strict";
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { workflowImageBuilder } from "../src/build/index.js";
import { currentStampedManifest } from "../src/build/stamp.js";
import { loadConfig } from "../src/config/index.js";
import { OciStore } from "../src/image/index.js";
import { removeDir, sampleStudio, scratchDir, setImageOption, type Studio } from "./build/fixture.js";

let scratch: string;
let studio: Studio;

before(async () => {
  scratch = scratchDir("build-stamp");
  studio = await sampleStudio(scratch);
  setImageOption(studio, "compression", "none");
});

after(() => removeDir(scratch));

const WF = "rough_layout";

async function ensure(store: OciStore, opts: { noBuild?: boolean } = {}): Promise<{ result: { tag: string; built: boolean } | undefined; log: string[] }> {
  const log: string[] = [];
  // A fresh configuration each time, as each `tantalus run` reads it.
  const builder = workflowImageBuilder(loadConfig(studio.config), { workers: false });
  const result = await builder.ensureBuilt(WF, store, { noBuild: opts.noBuild === true, log: (l) => log.push(l) });
  return { result, log };
}

function editDescription(file: string, text: string): void {
  const src = readFileSync(file, "utf8");
  assert.match(src, /^description = '.*'$/m);
  writeFileSync(file, src.replace(/^description = '.*'$/m, `description = '${text}'`));
}

test("run's image check: unchanged is answered from the stamp; a change the resolve can see rebuilds; others do not", async () => {
  const store = await OciStore.open(join(scratch, "store"));
  const stampOf = () => currentStampedManifest(store.metaDir, WF, studio.config);
  assert.equal(stampOf(), undefined, "no stamp before the first build");

  const first = await ensure(store);
  assert.deepEqual(first.result, { tag: WF, built: true });
  assert.ok(first.log.some((l) => /resolving/.test(l)), "the first time resolves");
  const digest1 = (await store.resolve(WF))!.digest;
  assert.equal(stampOf(), digest1, "the build stamps the image it tagged");

  const again = await ensure(store);
  assert.deepEqual(again.result, { tag: WF, built: false });
  assert.deepEqual(again.log, [], "an unchanged workflow is not resolved again");

  // A package the workflow never reads (nuke is not in rough_layout's resolve).
  editDescription(join(studio.packages, "nuke", "15.1v3", "package.py"), "edited, unrelated to layout");
  assert.equal(stampOf(), digest1);

  // A definition the resolve read: the image records it, so it is rebuilt and stamped anew.
  editDescription(join(studio.packages, "layout_tools", "2.3.1", "package.py"), "edited by a TD");
  assert.equal(stampOf(), undefined);
  assert.equal((await ensure(store, { noBuild: true })).result, undefined, "--no-build: out of date");
  const rebuilt = await ensure(store);
  assert.deepEqual(rebuilt.result, { tag: WF, built: true });
  const digest2 = (await store.resolve(WF))!.digest;
  assert.notEqual(digest2, digest1);
  assert.equal(stampOf(), digest2);

  // tantalus.yaml touched without a change that matters: resolved again, same image, stamped again.
  appendFileSync(studio.config, "# a comment\n");
  assert.equal(stampOf(), undefined);
  const same = await ensure(store);
  assert.deepEqual(same.result, { tag: WF, built: false });
  assert.ok(same.log.some((l) => /resolving/.test(l)));
  assert.equal(stampOf(), digest2);

  // Variables that override the configuration are part of the key.
  assert.equal(currentStampedManifest(store.metaDir, WF, studio.config, { ...process.env, TANTALUS_PACKAGES_PATH: "/elsewhere" }), undefined);
  assert.equal(currentStampedManifest(store.metaDir, WF, studio.config, { ...process.env, SOURCE_DATE_EPOCH: "1700000000" }), undefined);

  // The tag moved by something else (another build, a pull): the stamp no longer vouches for it.
  const other = (await store.readIndex()).manifests.find((d) => d.digest === digest1)!;
  await store.tag(WF, other);
  assert.equal((await ensure(store, { noBuild: true })).result, undefined);
  assert.ok(existsSync(join(store.metaDir, "stamps", `${WF}.json`)));
});
