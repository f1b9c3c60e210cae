/**
 * Authentication against real registries: htpasswd (HTTP Basic) and token
 * auth (a JWT token server of ours, trusted by the registry through its
 * rootcertbundle), with credentials given explicitly or found in
 * docker/podman files and credential helpers.
 */
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  MemoryStore,
  countingFetch,
  makeImage,
  makeSigningKey,
  startFlakyProxy,
  startRegistry,
  startTokenServer,
  tempDir,
  writeHtpasswd,
  type RunningRegistry,
  type TestImage,
  type TokenServer,
} from "../../../test/image-remote/harness.js";
import {
  Credential,
  RegistryAuthError,
  pullImage,
  pushImage,
  type CredentialLookupOptions,
  type PushOptions,
} from "./index.js";

const dir = tempDir("registry-auth");
const USER = "artist";
const PASSWORD = "correct-horse-battery";
const WRONG = "wrong-password-xyz";
const fast = { retry: { baseDelayMs: 5 } };

let image: TestImage;
before(async () => {
  image = await makeImage([{ "etc/motd": "auth test\n" }, { "opt/tool": "x" }]);
});
after(() => rmSync(dir, { recursive: true, force: true }));

function push(ref: string, opts: PushOptions) {
  return pushImage(
    ref,
    { manifest: image.manifest, mediaType: image.mediaType, blobs: new MemoryStore(image.blobs) },
    { insecure: true, ...fast, ...opts },
  );
}

let sandboxes = 0;
/** A home without any credential files, plus an environment pointing at it. */
function emptyLookup(extraEnv: NodeJS.ProcessEnv = {}): CredentialLookupOptions & { home: string } {
  const home = join(dir, `home${sandboxes++}`);
  mkdirSync(join(home, "run"), { recursive: true });
  return { home, homeDir: home, env: { XDG_RUNTIME_DIR: join(home, "run"), PATH: process.env.PATH, ...extraEnv } };
}

describe("HTTP Basic authentication (htpasswd)", () => {
  let reg: RunningRegistry;
  before(async () => {
    reg = await startRegistry({ htpasswd: writeHtpasswd(dir, USER, PASSWORD) });
  });
  after(async () => reg?.stop());

  it("pushes and pulls with explicit credentials", async () => {
    const cred = Credential.basic(USER, PASSWORD);
    const pushed = await push(`${reg.host}/basic/img:1`, { credential: cred });
    assert.equal(pushed.digest, image.manifestDigest);
    const pulled = await pullImage(`${reg.host}/basic/img:1`, new MemoryStore(), {
      insecure: true,
      credential: cred,
      ...fast,
    });
    assert.equal(pulled.manifestDigest, image.manifestDigest);
  });

  it("says the password is wrong, naming the user but not the password", async () => {
    await assert.rejects(
      push(`${reg.host}/basic/img:2`, { credential: Credential.basic(USER, WRONG) }),
      (err: unknown) => {
        assert.ok(err instanceof RegistryAuthError, String(err));
        assert.equal(err.status, 401);
        assert.match(
          err.message,
          /authentication failed with basic credentials for user "artist" from explicit credentials: wrong username or password/,
        );
        assert.doesNotMatch(err.message + String(err.stack), new RegExp(WRONG));
        return true;
      },
    );
  });

  it("says where it looked when there are no credentials", async () => {
    const lookup = emptyLookup();
    await assert.rejects(push(`${reg.host}/basic/img:3`, { credentialLookup: lookup }), (err: unknown) => {
      assert.ok(err instanceof RegistryAuthError);
      assert.match(
        err.message,
        /requires authentication and no credentials were found \(looked in .*\.docker\/config\.json\)/,
      );
      assert.ok(err.message.includes(join(lookup.home, ".config/containers/auth.json")));
      return true;
    });
  });

  it("uses credentials from $DOCKER_CONFIG/config.json", async () => {
    const dockerConfig = join(dir, "docker-config");
    mkdirSync(dockerConfig, { recursive: true });
    writeFileSync(
      join(dockerConfig, "config.json"),
      JSON.stringify({
        auths: { [reg.host]: { auth: Buffer.from(`${USER}:${PASSWORD}`).toString("base64") } },
      }),
    );
    const pushed = await push(`${reg.host}/basic/fromconfig:1`, {
      credentialLookup: emptyLookup({ DOCKER_CONFIG: dockerConfig }),
    });
    assert.equal(pushed.digest, image.manifestDigest);
  });

  it("uses credentials from podman's auth.json via REGISTRY_AUTH_FILE", async () => {
    const authFile = join(dir, "podman-auth.json");
    writeFileSync(
      authFile,
      JSON.stringify({
        auths: { [`${reg.host}/basic`]: { auth: Buffer.from(`${USER}:${PASSWORD}`).toString("base64") } },
      }),
    );
    const pulled = await pullImage(`${reg.host}/basic/img:1`, new MemoryStore(), {
      insecure: true,
      credentialLookup: emptyLookup({ REGISTRY_AUTH_FILE: authFile }),
      ...fast,
    });
    assert.equal(pulled.manifestDigest, image.manifestDigest);
  });

  it("follows a blob redirect to storage on another origin without sending it our credentials", async () => {
    const basic = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString("base64")}`;
    const front = await startFlakyProxy(reg.port, { redirectBlobs: { storageAuthorization: basic } });
    try {
      const sink = new MemoryStore();
      const pulled = await pullImage(`${front.host}/basic/img:1`, sink, {
        insecure: true,
        credential: Credential.basic(USER, PASSWORD),
        ...fast,
      });
      assert.equal(pulled.manifestDigest, image.manifestDigest);
      for (const [d, bytes] of image.blobs) assert.deepEqual(sink.blobs.get(d), bytes);
      assert.deepEqual(front.storageAuthorizations, ["none", "none", "none"]);
    } finally {
      await front.close();
    }
  });

  it("uses a docker credential helper named in credHelpers", async () => {
    const lookup = emptyLookup();
    const bin = join(lookup.home, "bin");
    mkdirSync(bin);
    const helper = join(bin, "docker-credential-tantalus-test");
    writeFileSync(
      helper,
      `#!/bin/sh\nread server\n[ "$server" = "${reg.host}" ] || { echo "credentials not found in native keychain"; exit 1; }\nprintf '{"ServerURL":"%s","Username":"${USER}","Secret":"${PASSWORD}"}' "$server"\n`,
    );
    chmodSync(helper, 0o755);
    mkdirSync(join(lookup.home, ".docker"));
    writeFileSync(
      join(lookup.home, ".docker/config.json"),
      JSON.stringify({ credHelpers: { [reg.host]: "tantalus-test" } }),
    );
    lookup.env = { ...lookup.env, PATH: `${bin}:${process.env.PATH}` };
    const pushed = await push(`${reg.host}/basic/fromhelper:1`, { credentialLookup: lookup });
    assert.equal(pushed.digest, image.manifestDigest);
  });
});

describe("bearer token authentication", () => {
  let reg: RunningRegistry;
  let tokens: TokenServer;
  const REFRESH = "identity-token-of-artist";
  before(async () => {
    const key = makeSigningKey(dir);
    tokens = await startTokenServer(key, { [USER]: PASSWORD }, { [REFRESH]: USER });
    reg = await startRegistry({
      token: { realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, rootCertBundle: key.certFile },
    });
  });
  after(async () => {
    await reg?.stop();
    await tokens?.close();
  });

  it("fetches one token for a whole push and sends it to every request", async () => {
    tokens.requests.length = 0;
    const counter = countingFetch();
    const pushed = await push(`${reg.host}/tok/img:1`, {
      credential: Credential.basic(USER, PASSWORD),
      fetch: counter.fetch,
    });
    assert.equal(pushed.digest, image.manifestDigest);
    assert.deepEqual(tokens.requests, [{ user: USER, scopes: ["repository:tok/img:pull,push"] }]);
    assert.equal(counter.count("GET", /^\/token$/), 1);
    // Three blobs and a manifest went through without a single 401 round trip.
    assert.equal(counter.count("HEAD", /\/blobs\//), 3);
    assert.equal(counter.count("PUT", /\/manifests\//), 1);
  });

  it("asks for pull on the source repository too when mounting, and mounts", async () => {
    tokens.requests.length = 0;
    const pushed = await push(`${reg.host}/tok/other:1`, {
      credential: Credential.basic(USER, PASSWORD),
      mountFrom: ["tok/img"],
    });
    assert.deepEqual(
      pushed.blobs.map((b) => b.outcome),
      ["mounted", "mounted", "mounted"],
    );
    assert.deepEqual(tokens.requests, [
      { user: USER, scopes: ["repository:tok/img:pull", "repository:tok/other:pull,push"] },
    ]);
  });

  it("gets a new token when the registry rejects an expired one", async () => {
    tokens.requests.length = 0;
    tokens.expireNext(1);
    const pulled = await pullImage(`${reg.host}/tok/img:1`, new MemoryStore(), {
      insecure: true,
      credential: Credential.basic(USER, PASSWORD),
      ...fast,
    });
    assert.equal(pulled.manifestDigest, image.manifestDigest);
    assert.equal(tokens.requests.length, 2);
  });

  it("exchanges a docker identitytoken from config.json at the OAuth2 endpoint", async () => {
    tokens.requests.length = 0;
    const lookup = emptyLookup();
    mkdirSync(join(lookup.home, ".docker"));
    writeFileSync(
      join(lookup.home, ".docker/config.json"),
      JSON.stringify({
        auths: { [reg.host]: { auth: Buffer.from(`${USER}:`).toString("base64"), identitytoken: REFRESH } },
      }),
    );
    const pushed = await push(`${reg.host}/tok/oauth:1`, { credentialLookup: lookup });
    assert.equal(pushed.digest, image.manifestDigest);
    assert.deepEqual(tokens.requests, [{ user: USER, scopes: ["repository:tok/oauth:pull,push"] }]);
  });

  it("pulls anonymously when the token server allows it, and explains a denied anonymous push", async () => {
    const pulled = await pullImage(`${reg.host}/tok/img:1`, new MemoryStore(), {
      insecure: true,
      credential: null,
      ...fast,
    });
    assert.equal(pulled.manifestDigest, image.manifestDigest);
    await assert.rejects(push(`${reg.host}/tok/anon:1`, { credential: null }), (err: unknown) => {
      assert.ok(err instanceof RegistryAuthError, String(err));
      assert.match(err.message, /denied anonymously \(no credentials found\) \(HTTP 401: UNAUTHORIZED/);
      assert.match(err.message, /the account is not allowed repository:tok\/anon:pull,push/);
      return true;
    });
  });

  it("reports a token server that rejects the password without echoing it", async () => {
    await assert.rejects(
      push(`${reg.host}/tok/img:2`, { credential: Credential.basic(USER, WRONG) }),
      (err: unknown) => {
        assert.ok(err instanceof RegistryAuthError, String(err));
        assert.match(
          err.message,
          new RegExp(
            `the token server ${tokens.realm.replace(/[.:/]/g, "\\$&")} rejected basic credentials for user "artist" from explicit credentials \\(HTTP 401: UNAUTHORIZED: invalid username or password\\)`,
          ),
        );
        assert.doesNotMatch(err.message, new RegExp(WRONG));
        return true;
      },
    );
  });
});
