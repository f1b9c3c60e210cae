import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  HostDirLayer,
  LayeredImageFs,
  MemoryLayer,
  directoryImageFs,
  imageRealPath,
  overlayImageFs,
  resolveImagePath,
} from "./imagefs.js";
import { removeDir, tempDir } from "./testkit/toolchain.js";

function write(root: string, rel: string, text = rel): void {
  fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  fs.writeFileSync(path.join(root, rel), text);
}

function read(fsys: LayeredImageFs, p: string): string {
  const r = resolveImagePath(fsys, p);
  assert.ok(r.ok, `${p} resolves`);
  const src = fsys.open(r.path);
  try {
    return Buffer.from(src.read(0, src.size)).toString();
  } finally {
    src.close();
  }
}

describe("directory image filesystem", () => {
  let root: string;
  before(() => {
    root = tempDir();
    // A usrmerge base: /lib is a relative link, /lib64 an absolute one into the image.
    write(root, "usr/lib/x86_64-linux-gnu/libc.so.6", "image libc");
    fs.symlinkSync("usr/lib", path.join(root, "lib"));
    fs.mkdirSync(path.join(root, "lib64"));
    fs.symlinkSync("/lib/x86_64-linux-gnu/libc.so.6", path.join(root, "lib64/libc-abs"));
    fs.symlinkSync("/etc/hostname-not-in-image", path.join(root, "lib64/escape"));
    fs.symlinkSync("loop-b", path.join(root, "lib64/loop-a"));
    fs.symlinkSync("loop-a", path.join(root, "lib64/loop-b"));
    fs.symlinkSync("../usr/lib/x86_64-linux-gnu/../x86_64-linux-gnu/libc.so.6", path.join(root, "lib64/dotdot"));
    write(root, "opt/file", "a file");
  });
  after(() => removeDir(root));

  it("resolves absolute symlink targets inside the image root, never on the host", () => {
    const img = directoryImageFs(root);
    assert.equal(imageRealPath(img, "/lib64/libc-abs"), "/usr/lib/x86_64-linux-gnu/libc.so.6");
    assert.equal(read(img, "/lib64/libc-abs"), "image libc");
    assert.equal(imageRealPath(img, "/lib/x86_64-linux-gnu/libc.so.6"), "/usr/lib/x86_64-linux-gnu/libc.so.6");
    assert.equal(imageRealPath(img, "/lib64/escape"), null);
  });

  it("handles '..' after a symlink, loops and non-directories", () => {
    const img = directoryImageFs(root);
    assert.equal(imageRealPath(img, "/lib64/dotdot"), "/usr/lib/x86_64-linux-gnu/libc.so.6");
    assert.deepEqual(resolveImagePath(img, "/lib64/loop-a"), { ok: false, error: "ELOOP" });
    assert.deepEqual(resolveImagePath(img, "/opt/file/x"), { ok: false, error: "ENOTDIR" });
    assert.deepEqual(resolveImagePath(img, "/lib64/loop-a", false), {
      ok: true,
      path: "/lib64/loop-a",
      type: "symlink",
    });
    // ".." at the root stays at the root, as in the kernel.
    assert.equal(
      imageRealPath(img, "/../../usr/lib/../lib/x86_64-linux-gnu/libc.so.6"),
      "/usr/lib/x86_64-linux-gnu/libc.so.6",
    );
  });
});

describe("layered image filesystem", () => {
  let base: string;
  let upper: string;
  let pkg: string;
  before(() => {
    base = tempDir();
    upper = tempDir();
    pkg = tempDir();
    write(base, "usr/lib/libbase.so.1", "base");
    write(base, "usr/lib/libboth.so.1", "base copy");
    write(base, "etc/conf.d/a.conf");
    write(base, "etc/conf.d/b.conf");
    write(base, "srv/data/x", "dir in base");
    write(base, "var/gone", "whited out");
    write(base, "var/keep", "kept");
    write(base, "home/old/file");
    write(upper, "usr/lib/libboth.so.1", "upper copy");
    write(upper, "usr/lib/libupper.so.1", "upper");
    write(upper, "srv/data", "file hides dir");
    write(upper, "var/.wh.gone", "");
    write(upper, "home/.wh..wh..opq", "");
    write(upper, "home/new/file");
    write(pkg, "lib/libpkg.so.2", "package");
  });
  after(() => {
    for (const d of [base, upper, pkg]) removeDir(d);
  });

  it("merges directories, and later layers win", () => {
    const img = overlayImageFs([base, upper]);
    assert.deepEqual([...img.list("/usr/lib")!.keys()].sort(), ["libbase.so.1", "libboth.so.1", "libupper.so.1"]);
    assert.equal(read(img, "/usr/lib/libboth.so.1"), "upper copy");
    assert.equal(read(img, "/usr/lib/libbase.so.1"), "base");
    assert.equal(img.lstat("/srv/data"), "file");
    assert.equal(resolveImagePath(img, "/srv/data/x").ok, false);
  });

  it("honours OCI whiteouts and opaque directories when asked", () => {
    const plain = overlayImageFs([base, upper]);
    assert.equal(plain.lstat("/var/gone"), "file");
    const oci = overlayImageFs([base, upper], { ociWhiteouts: true });
    assert.equal(oci.lstat("/var/gone"), null);
    assert.equal(oci.lstat("/var/keep"), "file");
    assert.deepEqual([...oci.list("/var")!.keys()], ["keep"]);
    assert.deepEqual([...oci.list("/home")!.keys()], ["new"]);
  });

  it("mounts a package tree at its install prefix", () => {
    const img = new LayeredImageFs([new HostDirLayer(base), new HostDirLayer(pkg, "/opt/rez/pkg/1.0")]);
    assert.equal(read(img, "/opt/rez/pkg/1.0/lib/libpkg.so.2"), "package");
    assert.deepEqual([...img.list("/opt")!.keys()], ["rez"]);
    assert.deepEqual([...img.list("/")!.keys()].sort(), ["etc", "home", "opt", "srv", "usr", "var"]);
    assert.match(img.describe("/opt/rez/pkg/1.0/lib/libpkg.so.2"), new RegExp(`^${pkg}/lib/libpkg.so.2$`));
  });

  it("stacks in-memory files and symlinks over a host tree", () => {
    const mem = new MemoryLayer("decoys")
      .set("usr/lib/libdecoy.so.1", { type: "file", data: Buffer.from("decoy") })
      .set("usr/lib/libbase.so", { type: "symlink", target: "libbase.so.1" });
    const img = new LayeredImageFs([new HostDirLayer(base), mem]);
    assert.equal(read(img, "/usr/lib/libdecoy.so.1"), "decoy");
    assert.equal(imageRealPath(img, "/usr/lib/libbase.so"), "/usr/lib/libbase.so.1");
    assert.equal(img.layerOf("/usr/lib/libbase.so"), 0);
    assert.equal(img.layerOf("/usr/lib/libdecoy.so.1"), 1);
  });
});
