import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import {
  cookiesForDisplay,
  mergeGroup,
  mergePasswd,
  parseDisplay,
  parseXauthority,
  planDisplay,
  serializeXauthority,
  type Identity,
} from "../../src/run/index.js";
import { which } from "../../src/run/which.js";

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "tantalus-run-disp-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const COOKIE0 = "00112233445566778899aabbccddeeff";
const COOKIE10 = "ffeeddccbbaa99887766554433221100";

test(
  "the X cookie for the display is copied as a FamilyWild entry that xauth itself reads back",
  { skip: which("xauth") ? false : "xauth is not installed (apt-get install xauth)" },
  async (t) => {
    const dir = await tempDir(t);
    const auth = join(dir, "Xauthority");
    execFileSync("xauth", ["-f", auth, "add", "workstation/unix:0", "MIT-MAGIC-COOKIE-1", COOKIE0]);
    execFileSync("xauth", ["-f", auth, "add", "workstation/unix:10", "MIT-MAGIC-COOKIE-1", COOKIE10]);
    const entries = parseXauthority(await readFile(auth));
    assert.equal(entries.length, 2);
    assert.deepEqual(serializeXauthority(entries), await readFile(auth), "parse and serialize are exact inverses");

    await mkdir(join(dir, "x11"));
    const plan = planDisplay({
      env: { DISPLAY: ":10.0", XAUTHORITY: auth },
      home: dir,
      uid: 4321,
      cacheDir: join(dir, "cache"),
      hostNetwork: true,
      x11SocketDir: join(dir, "x11"),
    });
    const env = Object.fromEntries(plan.env);
    assert.equal(env.DISPLAY, ":10.0");
    assert.equal(env.QT_X11_NO_MITSHM, "1");
    const copy = env.XAUTHORITY!;
    assert.ok(copy.startsWith(join(dir, "cache", "display")));
    assert.equal((await stat(copy)).mode & 0o777, 0o600, "the cookie copy is private");
    assert.deepEqual(plan.mounts, [
      { source: join(dir, "x11"), target: "/tmp/.X11-unix", readOnly: true },
      { source: copy, target: copy, readOnly: true },
    ]);
    // xauth lists the copy as a wildcard-address entry for display 10 only, with the same cookie.
    const listed = execFileSync("xauth", ["-f", copy, "nlist"], { encoding: "utf8" }).trim();
    assert.equal(listed, `ffff 0000  0002 3130 0012 4d49542d4d414749432d434f4f4b49452d31 0010 ${COOKIE10}`);
  },
);

test("display numbers and hosts are read from DISPLAY; cookies of other displays are not copied", () => {
  assert.deepEqual(parseDisplay(":0"), { host: "", number: "0" });
  assert.deepEqual(parseDisplay("unix:1.0"), { host: "", number: "1" });
  assert.deepEqual(parseDisplay("localhost:10.0"), { host: "localhost", number: "10" });
  assert.equal(parseDisplay("wayland-0"), undefined);
  const e = (n: string) => ({
    family: 256,
    address: Buffer.from("h"),
    number: n,
    name: "MIT-MAGIC-COOKIE-1",
    data: Buffer.from(n),
  });
  assert.deepEqual(
    cookiesForDisplay([e("0"), e("1")], "1").map((c) => [c.family, c.number, c.address.length]),
    [[65535, "1", 0]],
  );
});

test("a TCP display on this machine needs the host network; Wayland's socket is bound with its runtime dir", async (t) => {
  const dir = await tempDir(t);
  const bridged = planDisplay({
    env: { DISPLAY: "localhost:10.0" },
    home: dir,
    uid: 1,
    cacheDir: dir,
    hostNetwork: false,
  });
  assert.match(bridged.notes.join(), /reachable only with the host network/);
  const runtimeDir = join(dir, "run");
  await mkdir(runtimeDir);
  const server = (await import("node:net")).createServer();
  await new Promise<void>((r) => server.listen(join(runtimeDir, "wayland-1"), r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const w = planDisplay({
    env: { WAYLAND_DISPLAY: "wayland-1", XDG_RUNTIME_DIR: runtimeDir },
    home: dir,
    uid: 1,
    cacheDir: dir,
    hostNetwork: true,
  });
  assert.deepEqual(w.mounts, [
    { source: join(runtimeDir, "wayland-1"), target: join(runtimeDir, "wayland-1"), readOnly: false },
  ]);
  assert.deepEqual(w.env, [
    ["WAYLAND_DISPLAY", "wayland-1"],
    ["XDG_RUNTIME_DIR", runtimeDir],
  ]);
});

const alice: Identity = {
  uid: 1234,
  gid: 1234,
  user: "alice",
  group: "artists",
  home: "/home/alice",
  groups: [
    { gid: 2001, name: "dragon" },
    { gid: 100, name: "users" },
    { gid: 3000, name: "daemon" },
  ],
  viaSudo: false,
};

test("generated accounts keep the image's entries, replace a clash of name or ID, and make the user a member of their groups", () => {
  const passwd =
    "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/old:/bin/sh\nsvc:x:1234:1234::/srv:/bin/false\nnobody:x:65534:65534::/:/bin/false\n";
  assert.equal(
    mergePasswd(passwd, alice),
    "root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534::/:/bin/false\nalice:x:1234:1234:alice:/home/alice:/bin/sh\n",
  );
  const group = "root:x:0:\ndaemon:x:1:\nusers:x:100:bob\nartists:x:999:\nsvc:x:1234:\n";
  assert.equal(
    mergeGroup(group, alice),
    "root:x:0:\ndaemon:x:1:\nusers:x:100:bob,alice\nartists:x:1234:\ndragon:x:2001:alice\nhost-daemon:x:3000:alice\n",
  );
  assert.equal(mergePasswd(undefined, alice), "alice:x:1234:1234:alice:/home/alice:/bin/sh\n");
});
