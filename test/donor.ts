/**
 * The donor library of the sample studio's `review` defect: flipbook was
 * linked against a workstation's libtiff.so.5, which no package provides.
 * Tests that repair it build a real libtiff.so.5 with gcc into a directory,
 * as a studio would point `donor_dirs` at a workstation's /usr/lib64.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { SYSTEM_LINK_STUBS } from "../src/studio/catalog/index.js";
import { buildElfs } from "../src/studio/elf/build.js";
import { findToolchain } from "../src/studio/elf/toolchain.js";

/** Build libtiff.so.5 into `donorDir` (created); compiler output goes to `workDir`. Returns donorDir. */
export async function makeLibtiffDonor(donorDir: string, workDir: string): Promise<string> {
  const tc = await findToolchain();
  assert.ok(tc, "gcc and ld are needed to build the donor library");
  const stub = SYSTEM_LINK_STUBS.find((s) => s.soname === "libtiff.so.5")!;
  const [built] = await buildElfs([{ spec: stub, seed: "donor/libtiff.so.5", fillerBytes: 0 }], workDir, tc, {
    cacheDir: null,
  });
  fs.mkdirSync(donorDir);
  fs.copyFileSync(built!, path.join(donorDir, "libtiff.so.5"));
  return donorDir;
}
