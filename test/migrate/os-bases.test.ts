/**
 * scripts/os-bases.sh makes real Debian root file systems (debootstrap
 * minbase), caches them by release and package list, and Tantalus takes them
 * as `rootfs:` bases: their own os-release, loader and glibc generation.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadBaseImage, type BaseImage } from "../../src/audit/workflow/index.js";
import { readElf } from "../../src/linker/elf.js";
import { debianBase, osBasesUnavailable } from "./os-bases.js";

const skip = osBasesUnavailable();
let scratch: string;

before(() => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), "osb-"));
});
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** The file of `base` at image path `p`, following symbolic links inside the base. */
function baseFile(base: BaseImage, p: string): string {
  const m = / unpacked in (\S+)\)$/.exec(base.description);
  assert.ok(m, base.description);
  let dir = m[1]!;
  let rel = p;
  for (let hops = 0; hops < 16; hops++) {
    const full = path.join(dir, rel);
    const st = fs.lstatSync(full);
    if (!st.isSymbolicLink()) return full;
    const target = fs.readlinkSync(full);
    rel = target.startsWith("/") ? target : path.join(path.dirname(rel), target);
    dir = m[1]!;
  }
  throw new Error(`too many links at ${p}`);
}

function newestGlibc(file: string): string {
  const elf = readElf(fs.readFileSync(file));
  assert.ok(elf.ok);
  const names = (elf.dynamic?.versionDefs ?? []).map((d) => d.name).filter((n) => /^GLIBC_\d/.test(n));
  return names.sort((a, b) => a.localeCompare(b, "en", { numeric: true })).at(-1)!;
}

for (const [release, version, glibc] of [
  ["bullseye", "11", "GLIBC_2.30"],
  ["bookworm", "12", "GLIBC_2.36"],
] as const) {
  test(
    `Debian ${version} (${release}) is made once, cached, and read as a rootfs: base with its own glibc`,
    { skip },
    async () => {
      const tar = debianBase(release);
      assert.match(path.basename(tar), new RegExp(`^debian-${release}-[0-9a-f]{12}\\.tar$`));
      const made = fs.statSync(tar).mtimeMs;
      assert.equal(debianBase(release), tar, "a second call gives the cached tarball");
      assert.equal(fs.statSync(tar).mtimeMs, made, "and does not write it again");
      assert.deepEqual(
        fs.readdirSync(path.dirname(tar)).filter((n) => n.startsWith(".") || n.endsWith(".part")),
        [],
        "no temporary left behind",
      );

      const base = await loadBaseImage(`rootfs:${tar}`, { store: path.join(scratch, "store"), configDir: scratch });
      assert.equal(base.profile.name, "debian-x86_64");
      const osRelease = fs.readFileSync(baseFile(base, "/etc/os-release"), "utf8");
      assert.match(osRelease, new RegExp(`^VERSION_ID="${version}"$`, "m"));
      // The loader and C library are Debian's, not the host's: glibc 2.31 defines versions up to GLIBC_2.30.
      assert.equal(newestGlibc(baseFile(base, "/lib/x86_64-linux-gnu/libc.so.6")), glibc);
    },
  );
}
