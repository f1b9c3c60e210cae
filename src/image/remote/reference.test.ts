import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  InvalidReferenceError,
  endpointHost,
  familiarReference,
  formatReference,
  manifestReference,
  parseReference,
  parseRepositoryName,
} from "./reference.js";

const D = `sha256:${"ab".repeat(32)}`;

describe("image references follow docker's normalisation", () => {
  const cases: [string, { registry: string; repository: string; tag?: string; digest?: string }][] = [
    ["rockylinux:9", { registry: "docker.io", repository: "library/rockylinux", tag: "9" }],
    ["rockylinux", { registry: "docker.io", repository: "library/rockylinux" }],
    ["docker.io/library/rockylinux:9", { registry: "docker.io", repository: "library/rockylinux", tag: "9" }],
    ["index.docker.io/library/rockylinux:9", { registry: "docker.io", repository: "library/rockylinux", tag: "9" }],
    ["docker.io/rockylinux", { registry: "docker.io", repository: "library/rockylinux" }],
    ["myorg/tool:1.2", { registry: "docker.io", repository: "myorg/tool", tag: "1.2" }],
    ["foo.bar", { registry: "docker.io", repository: "library/foo.bar" }],
    ["registry.studio:5000/vfx/base:2024", { registry: "registry.studio:5000", repository: "vfx/base", tag: "2024" }],
    [`localhost:5000/x@${D}`, { registry: "localhost:5000", repository: "x", digest: D }],
    ["localhost/x", { registry: "localhost", repository: "x" }],
    [`ghcr.io/org/img:tag@${D}`, { registry: "ghcr.io", repository: "org/img", tag: "tag", digest: D }],
    ["Registry.Studio:5000/vfx/base", { registry: "Registry.Studio:5000", repository: "vfx/base" }],
    ["127.0.0.1:5000/a/b/c:v_1.0-rc", { registry: "127.0.0.1:5000", repository: "a/b/c", tag: "v_1.0-rc" }],
    ["reg.io/a__b/c-d/e.f-g", { registry: "reg.io", repository: "a__b/c-d/e.f-g" }],
  ];
  for (const [input, want] of cases) {
    it(`parses ${input}`, () => {
      assert.deepEqual({ ...parseReference(input) }, want);
    });
  }

  it("prints the familiar and fully qualified forms docker prints", () => {
    assert.equal(familiarReference(parseReference("docker.io/library/rockylinux:9")), "rockylinux:9");
    assert.equal(familiarReference(parseReference("myorg/tool:1")), "myorg/tool:1");
    assert.equal(familiarReference(parseReference("ghcr.io/org/img:t")), "ghcr.io/org/img:t");
    assert.equal(formatReference(parseReference("rockylinux:9")), "docker.io/library/rockylinux:9");
    assert.equal(formatReference(parseReference(`ghcr.io/org/img:tag@${D}`)), `ghcr.io/org/img:tag@${D}`);
  });

  it("connects to registry-1.docker.io for Docker Hub and to the named host otherwise", () => {
    assert.equal(endpointHost(parseReference("rockylinux:9").registry), "registry-1.docker.io");
    assert.equal(endpointHost(parseReference("index.docker.io/x/y").registry), "registry-1.docker.io");
    assert.equal(endpointHost(parseReference("registry.studio:5000/vfx/base").registry), "registry.studio:5000");
  });

  it("reads by digest when both tag and digest are given, and defaults to latest", () => {
    assert.equal(manifestReference(parseReference(`ghcr.io/org/img:tag@${D}`)), D);
    assert.equal(manifestReference(parseReference("ghcr.io/org/img:tag")), "tag");
    assert.equal(manifestReference(parseReference("ghcr.io/org/img")), "latest");
  });

  it("validates sibling repository names on the same registry", () => {
    assert.equal(parseRepositoryName("docker.io", "rockylinux"), "library/rockylinux");
    assert.equal(parseRepositoryName("127.0.0.1:5000", "vfx/base"), "vfx/base");
    assert.throws(() => parseRepositoryName("127.0.0.1:5000", "vfx/base:1"), InvalidReferenceError);
  });
});

describe("invalid references are rejected with the reason", () => {
  const bad: [string, RegExp][] = [
    ["", /empty/],
    ["a".repeat(64).replace(/a/g, "f"), /image ID/],
    ["UPPER/x", /lowercase/],
    ["localhost:5000/X", /lowercase/],
    ["reg.io/a//b", /empty component/],
    ["reg.io/-x", /component "-x"/],
    ["reg.io/x:", /tag ""/],
    ["reg.io/x:-bad", /tag "-bad"/],
    [`reg.io/x:${"t".repeat(129)}`, /at most 128/],
    ["reg.io/x@sha256:abc", /not a digest/],
    [`reg.io/x@md5:${"a".repeat(32)}`, /unsupported digest algorithm "md5"/],
    [`reg.io/x@sha256:${"a".repeat(63)}`, /64 hex digits, this one has 63/],
    [`reg.io/x@sha256:${"A".repeat(64)}`, /lowercase/],
    ["re_g.io/x", /not a valid registry/],
    [`reg.io/${"a".repeat(250)}`, /at most 255/],
  ];
  for (const [input, reason] of bad) {
    it(`rejects ${JSON.stringify(input.length > 40 ? `${input.slice(0, 40)}…` : input)}`, () => {
      assert.throws(
        () => parseReference(input),
        (err: unknown) => {
          assert.ok(err instanceof InvalidReferenceError, String(err));
          assert.match(err.message, reason);
          assert.ok(err.message.includes(JSON.stringify(input)), err.message);
          return true;
        },
      );
    });
  }
});
