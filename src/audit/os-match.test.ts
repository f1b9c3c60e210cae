import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { directoryImageFs } from "../linker/imagefs.js";
import { DEBIAN_AARCH64, DEBIAN_X86_64 } from "../linker/profile.js";
import { baseOsFindings, parseOsRelease, releaseMatches, releaseOfRezOs } from "./os-match.js";

const dirs: string[] = [];
after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** A root file system with only an os-release (as a link, as Debian's is) and its image. */
function baseWith(osRelease: string | null) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "osm-"));
  dirs.push(root);
  fs.mkdirSync(path.join(root, "etc"));
  fs.mkdirSync(path.join(root, "usr/lib"), { recursive: true });
  if (osRelease !== null) {
    fs.writeFileSync(path.join(root, "usr/lib/os-release"), osRelease);
    fs.symlinkSync("../usr/lib/os-release", path.join(root, "etc/os-release"));
  }
  return directoryImageFs(root);
}

const BULLSEYE = `PRETTY_NAME="Debian GNU/Linux 11 (bullseye)"\nNAME="Debian GNU/Linux"\nVERSION_ID="11"\nID=debian\n`;
const ROCKY = `NAME="Rocky Linux"\nVERSION_ID="9.3"\nID="rocky"\nID_LIKE="rhel centos fedora"\nPRETTY_NAME="Rocky Linux 9.3 (Blue Onyx)"\n`;
const pkgs = (osName: string, arch = "x86_64") => [
  { name: "platform", version: "linux", id: "platform-linux" },
  { name: "arch", version: arch, id: `arch-${arch}` },
  { name: "os", version: osName, id: `os-${osName}` },
];

describe("the base against the os package", () => {
  it("reads os-release fields, quoted or not", () => {
    assert.deepEqual(parseOsRelease(ROCKY), {
      id: "rocky",
      idLike: ["rhel", "centos", "fedora"],
      versionId: "9.3",
      prettyName: "Rocky Linux 9.3 (Blue Onyx)",
    });
  });

  it("reads Rez OS names as distribution and version, unless the configuration maps them", () => {
    assert.deepEqual(releaseOfRezOs("Rocky-9.3"), { id: "rocky", version: "9.3" });
    assert.deepEqual(releaseOfRezOs("Debian-11.11"), { id: "debian", version: "11.11" });
    assert.deepEqual(releaseOfRezOs("CentOS-7.9.2009", { "CentOS-7.9.2009": "centos 7" }), {
      id: "centos",
      version: "7",
    });
  });

  it("matches versions as far as both go", () => {
    const debian11 = parseOsRelease(BULLSEYE);
    assert.ok(releaseMatches({ id: "debian", version: "11.11" }, debian11));
    assert.ok(releaseMatches({ id: "debian", version: "11" }, debian11));
    assert.ok(!releaseMatches({ id: "debian", version: "12" }, debian11));
    assert.ok(!releaseMatches({ id: "rocky", version: "9.3" }, debian11));
    assert.ok(releaseMatches({ id: "rocky", version: "9" }, parseOsRelease(ROCKY)));
    assert.ok(!releaseMatches({ id: "rocky", version: "9.4" }, parseOsRelease(ROCKY)));
  });

  it("reports a workflow resolved for Rocky 9.3 on Debian 11, and none once the names agree", () => {
    const image = baseWith(BULLSEYE);
    const [f, ...rest] = baseOsFindings(image, DEBIAN_X86_64, pkgs("Rocky-9.3"));
    assert.deepEqual(rest, []);
    assert.equal(f?.kind, "os-mismatch");
    assert.equal(f?.package, "os-Rocky-9.3");
    assert.match(f.message, /resolves for Rocky-9\.3 \(rocky 9\.3\) but the base is Debian GNU\/Linux 11 \(bullseye\)/);
    assert.deepEqual(baseOsFindings(image, DEBIAN_X86_64, pkgs("Debian-11.11")), []);
    assert.deepEqual(baseOsFindings(image, DEBIAN_X86_64, pkgs("Rocky-9.3"), { "Rocky-9.3": "debian 11" }), []);
  });

  it("says nothing for a base without os-release, and an architecture the base's loader does not run is an error", () => {
    assert.deepEqual(baseOsFindings(baseWith(null), DEBIAN_X86_64, pkgs("Rocky-9.3")), []);
    const arm = baseOsFindings(baseWith(BULLSEYE), DEBIAN_AARCH64, pkgs("Debian-11", "x86_64"));
    assert.deepEqual(
      arm.map((f) => [f.kind, f.package]),
      [["wrong-architecture", "arch-x86_64"]],
    );
    assert.match(arm[0]!.message, /resolves for arch x86_64 but the base's loader \(\S+\) runs aarch64 programs/);
  });
});
