/**
 * Host queries answer for the platform being resolved for: the host by default
 * (as Rez), a target platform through targetPythonHost (the hook an image's
 * platform/arch/os configuration uses), and every answer is recorded with the
 * line that asked.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import os from "node:os";
import { readPackageSource } from "../definition/index.js";
import { realPythonHost, targetPythonHost } from "./index.js";

// integration: the host answers through lsb_release, as it does to Rez

const SOURCE = [
  "import platform, sys",
  "from rez.system import system",
  "name = 'target'",
  "seen = [platform.system(), platform.machine(), sys.platform, platform.release()]",
  "",
  "@early()",
  "def requires():",
  "    return ['winlib'] if platform.system() == 'Windows' else ['unixlib']",
  "",
  "rez_os = system.os",
  "",
].join("\n");

test("by default the host answers, as Rez answers", () => {
  const def = readPackageSource(SOURCE, "/t/package.py", "py")!;
  assert.deepEqual(def.attributes.seen, [os.type(), os.machine(), os.platform(), os.release()]);
});

test("a target platform answers platform.system(), machine() and sys.platform; the kernel stays the host's", () => {
  const host = targetPythonHost({ platform: "windows", arch: "AMD64" });
  const def = readPackageSource(SOURCE, "/t/package.py", "py", {
    host,
    system: { platform: "windows", arch: "AMD64", os: "windows-10" },
  })!;
  assert.deepEqual(def.attributes.seen, ["Windows", "AMD64", "win32", realPythonHost.release()]);
  assert.deepEqual(def.requires, ["winlib"]);
  assert.equal(def.attributes.rez_os, "windows-10");
  assert.deepEqual(
    def.hostQueries!.map((q) => [q.line, q.query, q.answer]),
    [
      [4, "platform.system()", "Windows"],
      [4, "platform.machine()", "AMD64"],
      [4, "sys.platform", "win32"],
      [4, "platform.release()", realPythonHost.release()],
      [10, "system.os", "windows-10"],
      [8, "platform.system()", "Windows"],
    ],
  );
  const linux = readPackageSource(SOURCE, "/t/package.py", "py", {
    host: targetPythonHost({ platform: "linux", arch: "aarch64" }),
  })!;
  assert.deepEqual((linux.attributes.seen as string[]).slice(0, 3), ["Linux", "aarch64", "linux"]);
  assert.deepEqual(linux.requires, ["unixlib"]);
});

test("a definition that asks nothing records nothing", () => {
  const def = readPackageSource("import os\nname = 'p'\nx = os.path.join('a', 'b')\n", "/p/package.py", "py")!;
  assert.equal(def.hostQueries, undefined);
  assert.equal(def.attributes.x, "a/b");
  assert.equal("os" in def.attributes, false);
});
