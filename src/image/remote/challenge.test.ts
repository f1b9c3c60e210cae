import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { mergeScopes } from "./auth.js";
import { parseWwwAuthenticate } from "./challenge.js";

describe("WWW-Authenticate challenges", () => {
  it("reads a bearer challenge whose quoted scope contains a comma", () => {
    const [ch, ...rest] = parseWwwAuthenticate(
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/ubuntu:pull,push"',
    );
    assert.equal(rest.length, 0);
    assert.deepEqual(ch, {
      scheme: "bearer",
      params: {
        realm: "https://auth.docker.io/token",
        service: "registry.docker.io",
        scope: "repository:library/ubuntu:pull,push",
      },
    });
  });

  it("reads basic, case-insensitive schemes and names, escapes, and several challenges in one header", () => {
    const chs = parseWwwAuthenticate(
      'BASIC Realm="a \\"quoted\\" realm", Bearer realm="https://t/x", error=invalid_token',
    );
    assert.deepEqual(chs, [
      { scheme: "basic", params: { realm: 'a "quoted" realm' } },
      { scheme: "bearer", params: { realm: "https://t/x", error: "invalid_token" } },
    ]);
  });

  it("reads a scheme without parameters and survives junk", () => {
    assert.deepEqual(parseWwwAuthenticate("Basic"), [{ scheme: "basic", params: {} }]);
    assert.deepEqual(parseWwwAuthenticate(""), []);
    assert.doesNotThrow(() => parseWwwAuthenticate('Bearer realm="unterminated'));
  });
});

describe("token scopes", () => {
  it("merges actions per resource so one token covers a push and its mounts", () => {
    assert.deepEqual(
      mergeScopes(["repository:b:pull,push", "repository:a:pull", "repository:b:pull", "repository:a:pull"]),
      ["repository:a:pull", "repository:b:pull,push"],
    );
  });
});
