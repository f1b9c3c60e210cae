import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { entrypointConfig, entrypointFiles, entrypointLayerEntries } from "../../src/image/entrypoint.js";
import { ENTRYPOINT_PATH, ENVIRONMENT_PATH } from "../../src/image/contract.js";
import { which } from "../../src/run/which.js";

const SHELLS: Array<[string, string[]]> = [
  ["dash", ["/bin/dash", "-n"]],
  ["bash --posix", ["/bin/bash", "--posix", "-n"]],
  ["busybox sh", ["/bin/busybox", "sh", "-n"]],
];

for (const f of entrypointFiles("rough_layout").filter((f) => !f.path.endsWith("/workflow"))) {
  const zsh = f.path.includes("/zsh/");
  const shells: Array<[string, string[]]> = zsh
    ? [["zsh", ["zsh", "-n"]]]
    : f.path.endsWith("bashrc")
      ? [["bash", ["/bin/bash", "-n"]]]
      : SHELLS;
  for (const [name, argv] of shells) {
    const missing = !which(argv[0]!);
    test(`${f.path} is valid ${name} syntax`, { skip: missing ? `${argv[0]} is not installed` : false }, () => {
      const r = spawnSync(argv[0]!, [...argv.slice(1), "-c", f.content], { encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
    });
  }
}

test("the image carries the entrypoint, its rc files and the workflow name; the config runs the entrypoint with no default command", () => {
  const entries = entrypointLayerEntries("rough_layout", "export A=1\n");
  const paths = entries.map((e) => e.path);
  for (const p of [
    ENTRYPOINT_PATH,
    "/etc/tantalus/bashrc",
    "/etc/tantalus/shrc",
    "/etc/tantalus/zsh/.zshrc",
    "/etc/tantalus/workflow",
    ENVIRONMENT_PATH,
  ])
    assert.ok(paths.includes(p), p);
  const ep = entries.find((e) => e.path === ENTRYPOINT_PATH);
  assert.equal(ep?.type === "file" ? ep.mode : undefined, 0o755);
  assert.deepEqual(entrypointConfig("rough_layout"), {
    Entrypoint: [ENTRYPOINT_PATH],
    Cmd: [],
    Env: ["TANTALUS_WORKFLOW=rough_layout"],
    Labels: { "io.tantalus.workflow": "rough_layout" },
  });
});
