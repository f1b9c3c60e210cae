import assert from "node:assert/strict";
import { chmodSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { inspect } from "node:util";
import { tempDir } from "../../../test/image-remote/harness.js";
import { Credential, credentialFiles, findCredential, normalizeRegistryKey } from "./credentials.js";

const root = tempDir("creds");
after(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
/** A fresh home + environment where only the files a test writes exist. */
function sandbox(): { home: string; env: NodeJS.ProcessEnv; runtime: string; bin: string } {
  const home = join(root, `home${n++}`);
  const runtime = join(home, "run");
  const bin = join(home, "bin");
  mkdirSync(runtime, { recursive: true });
  mkdirSync(bin, { recursive: true });
  return { home, runtime, bin, env: { XDG_RUNTIME_DIR: runtime, PATH: `${bin}:/usr/bin:/bin` } };
}

function writeJson(file: string, data: unknown): void {
  mkdirSync(join(file, ".."), { recursive: true });
  writeFileSync(file, JSON.stringify(data));
}

const b64 = (s: string): string => Buffer.from(s).toString("base64");

describe("registry credentials from docker and podman files", () => {
  it("consults REGISTRY_AUTH_FILE alone, else podman's files before docker's", () => {
    const { home, env, runtime } = sandbox();
    assert.deepEqual(credentialFiles({ env: { ...env, REGISTRY_AUTH_FILE: "/x/auth.json" }, homeDir: home }), [
      "/x/auth.json",
    ]);
    assert.deepEqual(credentialFiles({ env, homeDir: home }), [
      join(runtime, "containers/auth.json"),
      join(home, ".config/containers/auth.json"),
      join(home, ".docker/config.json"),
    ]);
    assert.equal(credentialFiles({ env: { ...env, DOCKER_CONFIG: "/d" }, homeDir: home })[2], "/d/config.json");
  });

  it("decodes a base64 auth entry from $DOCKER_CONFIG/config.json", async () => {
    const { home, env } = sandbox();
    const dockerConfig = join(home, "dockercfg");
    writeJson(join(dockerConfig, "config.json"), {
      auths: { "127.0.0.1:5000": { auth: b64("artist:s3cret:with:colons") } },
    });
    const cred = await findCredential("127.0.0.1:5000", "vfx/base", {
      env: { ...env, DOCKER_CONFIG: dockerConfig },
      homeDir: home,
    });
    assert.ok(cred);
    assert.equal(cred.kind, "basic");
    assert.equal(cred.username, "artist");
    assert.equal(cred.secret, "s3cret:with:colons");
    assert.equal(cred.source, join(dockerConfig, "config.json"));
    assert.equal(
      await findCredential("other.io", undefined, { env: { ...env, DOCKER_CONFIG: dockerConfig }, homeDir: home }),
      undefined,
    );
  });

  it("maps docker's Hub key https://index.docker.io/v1/ and URL-style keys to registries", async () => {
    assert.equal(normalizeRegistryKey("https://index.docker.io/v1/"), "docker.io");
    assert.equal(normalizeRegistryKey("http://registry.studio:5000/v2/"), "registry.studio:5000");
    assert.equal(normalizeRegistryKey("registry.studio/team"), "registry.studio/team");
    const { home, env } = sandbox();
    writeJson(join(home, ".docker/config.json"), {
      auths: { "https://index.docker.io/v1/": { username: "hubuser", password: "hubpass" } },
    });
    const cred = await findCredential("docker.io", "library/rockylinux", { env, homeDir: home });
    assert.equal(cred?.username, "hubuser");
  });

  it("prefers podman's most specific namespace key, and podman's file over docker's", async () => {
    const { home, env, runtime } = sandbox();
    writeJson(join(runtime, "containers/auth.json"), {
      auths: {
        "reg.io": { auth: b64("general:p1") },
        "reg.io/team": { auth: b64("team:p2") },
        "reg.io/team/app": { auth: b64("app:p3") },
      },
    });
    writeJson(join(home, ".docker/config.json"), { auths: { "reg.io": { auth: b64("docker:p4") } } });
    const lookup = { env, homeDir: home };
    assert.equal((await findCredential("reg.io", "team/app", lookup))?.username, "app");
    assert.equal((await findCredential("reg.io", "team/other", lookup))?.username, "team");
    assert.equal((await findCredential("reg.io", "teams/x", lookup))?.username, "general");
    assert.equal((await findCredential("reg.io", undefined, lookup))?.username, "general");
  });

  it("uses only REGISTRY_AUTH_FILE when it is set", async () => {
    const { home, env } = sandbox();
    const file = join(home, "my-auth.json");
    writeJson(file, { auths: { "reg.io": { auth: b64("fromfile:pw") } } });
    writeJson(join(home, ".docker/config.json"), { auths: { "other.io": { auth: b64("docker:pw") } } });
    const lookup = { env: { ...env, REGISTRY_AUTH_FILE: file }, homeDir: home };
    assert.equal((await findCredential("reg.io", undefined, lookup))?.username, "fromfile");
    assert.equal(await findCredential("other.io", undefined, lookup), undefined);
  });

  it("recognises identity tokens and registry tokens", async () => {
    const { home, env } = sandbox();
    writeJson(join(home, ".docker/config.json"), {
      auths: { "a.io": { auth: b64("u:"), identitytoken: "refresh-me" }, "b.io": { registrytoken: "bearer-me" } },
    });
    const a = await findCredential("a.io", undefined, { env, homeDir: home });
    assert.equal(a?.kind, "identity-token");
    assert.equal(a?.secret, "refresh-me");
    const b = await findCredential("b.io", undefined, { env, homeDir: home });
    assert.equal(b?.kind, "registry-token");
  });

  it("runs docker-credential-<helper> get for credHelpers and credsStore", async () => {
    const { home, env, bin } = sandbox();
    const helper = join(bin, "docker-credential-studio");
    // Answers for the server URL read on stdin, like the real helpers do.
    writeFileSync(
      helper,
      `#!/bin/sh
[ "$1" = get ] || exit 3
read server
case "$server" in
  helped.io) printf '{"ServerURL":"%s","Username":"robot","Secret":"helper-secret"}' "$server" ;;
  https://index.docker.io/v1/) printf '{"ServerURL":"%s","Username":"<token>","Secret":"hub-identity"}' "$server" ;;
  *) echo "credentials not found in native keychain"; exit 1 ;;
esac
`,
    );
    chmodSync(helper, 0o755);
    writeJson(join(home, ".docker/config.json"), {
      credHelpers: { "helped.io": "studio" },
      credsStore: "studio",
      auths: { "stored.io": {} },
    });
    const lookup = { env, homeDir: home };
    const helped = await findCredential("helped.io", undefined, lookup);
    assert.equal(helped?.kind, "basic");
    assert.equal(helped?.username, "robot");
    assert.equal(helped?.secret, "helper-secret");
    assert.equal(helped?.source, "docker-credential-studio");
    const hub = await findCredential("docker.io", undefined, lookup);
    assert.equal(hub?.kind, "identity-token");
    assert.equal(hub?.secret, "hub-identity");
    // credsStore answers "not found" for a registry it has nothing for: anonymous, not an error.
    assert.equal(await findCredential("stored.io", undefined, lookup), undefined);
  });

  it("reports a missing or failing helper by name", async () => {
    const { home, env, bin } = sandbox();
    writeJson(join(home, ".docker/config.json"), { credHelpers: { "a.io": "absent", "b.io": "broken" } });
    const broken = join(bin, "docker-credential-broken");
    writeFileSync(broken, "#!/bin/sh\necho 'keychain locked' >&2\nexit 2\n");
    chmodSync(broken, 0o755);
    await assert.rejects(
      findCredential("a.io", undefined, { env, homeDir: home }),
      /docker-credential-absent is not on PATH/,
    );
    await assert.rejects(
      findCredential("b.io", undefined, { env, homeDir: home }),
      /docker-credential-broken failed for b\.io \(exit 2\): keychain locked/,
    );
  });

  it("never shows a secret when printed, serialised, or when the file is malformed", async () => {
    const cred = Credential.basic("artist", "hunter2-very-secret", "/home/a/.docker/config.json");
    assert.doesNotMatch(inspect(cred), /hunter2/);
    assert.doesNotMatch(JSON.stringify(cred), /hunter2/);
    assert.doesNotMatch(String(cred.describe()), /hunter2/);
    assert.match(inspect(cred), /artist/);

    const { home, env } = sandbox();
    mkdirSync(join(home, ".docker"), { recursive: true });
    writeFileSync(join(home, ".docker/config.json"), '{"auths": {"x.io": {"auth": "hunter2-very-secret"}');
    await assert.rejects(findCredential("x.io", undefined, { env, homeDir: home }), (err: Error) => {
      assert.match(err.message, /config\.json: not valid JSON/);
      assert.doesNotMatch(err.message, /hunter2/);
      return true;
    });
  });
});
