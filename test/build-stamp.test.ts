/**
 * The workflow stamp behind `tantalus run`'s "is the image current?": an
 * unchanged workflow is answered without resolving; a change to a package
 * the resolve read, to tantalus.yaml or to the variables that override it
 * makes `run` resolve (and rebuild when the image changes); a change to a
 * package the workflow never reads does not. What `run` builds is what
 * `tantalus build` builds: audited, so a refused image is not written.
 */
import assert from "node:assert/strict";
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { parseDocument } from "yaml";
import { workflowImageBuilder } from "../src/builder/index.js";
import { currentStampedManifest } from "../src/builder/stamp.js";
import { loadConfig } from "../src/config/index.js";
import { OciStore } from "../src/image/index.js";
import { removeDir, sampleStudio, scratchDir, setImageOption, tantalusOk, type Studio } from "./builder/fixture.js";
import { makeLibtiffDonor } from "./donor.js";

let scratch: string;
let studio: Studio;

before(async () => {
  scratch = scratchDir("build-stamp");
  studio = await sampleStudio(scratch);
  setImageOption(studio, "compression", "none");
  // The repair the audit suggests for the studio's deliberate defect in rough_layout.
  const doc = parseDocument(readFileSync(studio.config, "utf8"));
  doc.setIn(["packages", "layout_tools", "add_requires"], ["alembic-1.8"]);
  writeFileSync(studio.config, doc.toString());
});

after(() => removeDir(scratch));

const WF = "rough_layout";

async function ensure(
  store: OciStore,
  opts: { noBuild?: boolean; workflow?: string } = {},
): Promise<{ result: { tag: string; built: boolean } | undefined; log: string[] }> {
  const log: string[] = [];
  // A fresh configuration each time, as each `tantalus run` reads it.
  const builder = workflowImageBuilder(loadConfig(studio.config), { workers: false });
  const result = await builder.ensureBuilt(opts.workflow ?? WF, store, {
    noBuild: opts.noBuild === true,
    log: (l) => log.push(l),
  });
  return { result, log };
}

function editDescription(file: string, text: string): void {
  const src = readFileSync(file, "utf8");
  assert.match(src, /^description = '.*'$/m);
  writeFileSync(file, src.replace(/^description = '.*'$/m, `description = '${text}'`));
}

test("run's image check: unchanged is answered from the stamp; a change the resolve can see rebuilds; others do not", async () => {
  const store = await OciStore.open(join(scratch, "store"));
  const stampOf = () => currentStampedManifest(store.metaDir, WF, [studio.config]);
  assert.equal(stampOf(), undefined, "no stamp before the first build");

  const first = await ensure(store);
  assert.deepEqual(first.result, { tag: WF, built: true });
  assert.ok(
    first.log.some((l) => /resolving/.test(l)),
    "the first time resolves",
  );
  assert.ok(
    first.log.some((l) => /auditing 1 image/.test(l)),
    "audited as `tantalus build` audits",
  );
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
  await assert.rejects(
    ensure(store, { noBuild: true }),
    /out of date \(layout_tools-2\.3\.1 changed .*\), and --no-build forbids building it/,
    "--no-build: out of date",
  );
  const rebuilt = await ensure(store);
  assert.deepEqual(rebuilt.result, { tag: WF, built: true });
  assert.match(rebuilt.log[0]!, /^building rough_layout: layout_tools-2\.3\.1 changed \(/, "one line says why");
  const digest2 = (await store.resolve(WF))!.digest;
  assert.notEqual(digest2, digest1);
  assert.equal(stampOf(), digest2);

  // tantalus.yaml touched without a change that matters: resolved again, same image, stamped again.
  appendFileSync(studio.config, "# a comment\n");
  assert.equal(stampOf(), undefined);
  const same = await ensure(store);
  assert.deepEqual(same.result, { tag: WF, built: false });
  assert.equal(same.log[0], "building rough_layout: tantalus.yaml changed");
  assert.ok(same.log.some((l) => /resolving/.test(l)));
  assert.equal(stampOf(), digest2);

  // Variables that override the configuration are part of the key.
  assert.equal(
    currentStampedManifest(store.metaDir, WF, [studio.config], {
      ...process.env,
      TANTALUS_PACKAGES_PATH: "/elsewhere",
    }),
    undefined,
  );
  assert.equal(
    currentStampedManifest(store.metaDir, WF, [studio.config], { ...process.env, SOURCE_DATE_EPOCH: "1700000000" }),
    undefined,
  );

  // The tag moved by something else (another build, a pull): the stamp no longer vouches for it.
  const other = (await store.readIndex()).manifests.find((d) => d.digest === digest1)!;
  await store.tag(WF, other);
  await assert.rejects(
    ensure(store, { noBuild: true }),
    /out of date \(the tag rough_layout was moved to another image\)/,
  );
  assert.ok(existsSync(join(store.metaDir, "stamps", `${WF}.json`)));
});

test("run does not build an image the audit refuses (review's flipbook misses libtiff), and stamps nothing for it", async () => {
  const store = await OciStore.open(join(scratch, "store-refused"));
  await assert.rejects(
    ensure(store, { workflow: "review" }),
    /audit found errors.*tantalus build --allow-audit-errors[\s\S]*flipbook-3\.1\.0: missing: libtiff\.so\.5/,
  );
  assert.equal(await store.resolve("review"), undefined);
  assert.equal(existsSync(join(store.metaDir, "stamps", "review.json")), false);
});

test("the image run builds is the image `tantalus build` builds, repair layer included: same digest", async () => {
  // review's flipbook misses libtiff.so.5: repaired from a donor directory into the image's repair layer.
  const donor = await makeLibtiffDonor(join(scratch, "donor"), join(scratch, "elf"));
  const doc = parseDocument(readFileSync(studio.config, "utf8"));
  doc.setIn(["packages", "flipbook", "repair"], { system_libraries: ["libtiff.so.5"], donor_dirs: [donor] });
  writeFileSync(studio.config, doc.toString());

  const store = await OciStore.open(join(scratch, "store-run"));
  assert.deepEqual((await ensure(store, { workflow: "review" })).result, { tag: "review", built: true });
  const viaRun = (await store.resolve("review"))!.digest;
  const out = tantalusOk([
    "build",
    "review",
    "--store",
    join(scratch, "store-cli"),
    "--config",
    studio.config,
    "--no-progress",
    "--json",
  ]);
  const built = JSON.parse(out.stdout) as {
    images: { workflow: string; digest: string; layers: { kind: string }[] }[];
  };
  const review = built.images.find((i) => i.workflow === "review")!;
  assert.ok(
    review.layers.some((l) => l.kind === "repair"),
    "the CLI build has a repair layer",
  );
  assert.equal(review.digest, viaRun);
});
