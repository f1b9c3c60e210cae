import { test } from "node:test";
import assert from "node:assert/strict";
import { UsageError } from "../errors.js";
import { parseBaseReference } from "./base-reference.js";

test("every base spelling users bring from podman, skopeo and docker has its kind", () => {
  assert.deepEqual(parseBaseReference("demo"), { kind: "demo" });
  assert.deepEqual(parseBaseReference("rockylinux:9"), { kind: "registry", reference: "rockylinux:9" });
  assert.deepEqual(parseBaseReference("docker://registry.studio:5000/vfx/base:2024"), {
    kind: "registry",
    reference: "registry.studio:5000/vfx/base:2024",
  });
  assert.deepEqual(parseBaseReference("containers-storage:localhost/vfx/base:2024"), {
    kind: "containers-storage",
    name: "localhost/vfx/base:2024",
  });
  assert.deepEqual(parseBaseReference("containers-storage:[vfs@/g+/r]localhost/b:1"), {
    kind: "containers-storage",
    name: "[vfs@/g+/r]localhost/b:1",
  });
  assert.deepEqual(parseBaseReference("oci-archive:base.tar:v1"), {
    kind: "local",
    reference: "oci-archive:base.tar:v1",
  });
  assert.deepEqual(parseBaseReference("rootfs:rocky9.tar.xz"), { kind: "local", reference: "rootfs:rocky9.tar.xz" });
  // Images that merely share a transport's name are still registry references.
  assert.deepEqual(parseBaseReference("docker:24-dind"), { kind: "registry", reference: "docker:24-dind" });
});

test("a spelling Tantalus does not read is refused with every spelling that exists, never 'pull it first'", () => {
  const refused = (spec: string) => {
    try {
      parseBaseReference(spec);
    } catch (e) {
      assert.ok(e instanceof UsageError);
      assert.doesNotMatch(e.message, /pull it/);
      assert.match(
        e.message,
        /; a base is one of: demo; REGISTRY\/REPO\[:TAG\]\[@DIGEST\] \(or docker:\/\/REGISTRY\/REPO\[:TAG\]\); containers-storage:NAME .*; oci:DIR\[:REF\]; oci-archive:FILE\[:REF\]; docker-archive:FILE\[:NAME:TAG\]; rootfs:FILE/,
      );
      return e.message.replace(/; a base is one of: .*$/, "");
    }
    assert.fail(`${spec} was accepted`);
  };
  assert.equal(
    refused("docker-daemon:rockylinux:9"),
    'base image "docker-daemon:rockylinux:9": docker-daemon: is not a transport Tantalus reads (docker save NAME -o FILE.tar, then docker-archive:FILE.tar)',
  );
  assert.equal(
    refused("dir:/images/base"),
    'base image "dir:/images/base": dir: is not a transport Tantalus reads (skopeo copy dir:DIR oci:LAYOUT, then oci:LAYOUT)',
  );
  assert.equal(
    refused("podman:localhost/base"),
    'base image "podman:localhost/base": podman: is not a transport Tantalus reads (use containers-storage:NAME)',
  );
  assert.equal(
    refused("https://registry.studio/base"),
    'base image "https://registry.studio/base": https:// is not a transport Tantalus reads',
  );
  assert.equal(
    refused("containers-storage:"),
    'base image "containers-storage:": containers-storage: needs an image name, as podman lists it (podman images)',
  );
  assert.match(
    refused("docker://Not/Valid"),
    /^base image "docker:\/\/Not\/Valid": repository names must be lowercase/,
  );
});
