/**
 * A real workflow image for the run tests, made with the image core: busybox
 * (static) as the whole OS, the files ch-run needs to exist, the Tantalus
 * entrypoint and rc files, and an environment.sh exporting what a package's
 * commands() would (STUDIO_SHOW_ROOT) plus a Rez alias as a shell function.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { OciStore, writeImage, writeLayer, type LayerSource } from "../../src/image/index.js";
import { entrypointConfig, entrypointLayerEntries } from "../../src/run/entrypoint.js";

export const TEST_ENVIRONMENT = `# captured environment (as src/rex renders it for sh)
export STUDIO_SHOW_ROOT=/shows
export PATH="/studio/bin:\${PATH}"
layout_hello() { echo "hello from $TANTALUS_WORKFLOW" "$@"; };
`;

export interface FixtureImage {
  storeDir: string;
  tag: string;
  workflow: string;
  manifestDigest: string;
}

function applets(): string[] {
  return execFileSync("/bin/busybox", ["--list"], { encoding: "utf8" }).split("\n").filter((a) => a !== "" && a !== "busybox" && !a.includes("/") && a !== "[[");
}

export async function buildFixtureImage(storeDir: string, workflow = "rough_layout"): Promise<FixtureImage> {
  const store = await OciStore.open(storeDir);
  const base: LayerSource[] = [
    { type: "file", path: "/bin/busybox", content: readFileSync("/bin/busybox"), mode: 0o755 },
    ...applets().map((a): LayerSource => ({ type: "symlink", path: `/bin/${a}`, linkTarget: "busybox" })),
    { type: "file", path: "/etc/passwd", content: "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n" },
    { type: "file", path: "/etc/group", content: "root:x:0:\nnogroup:x:65534:\n" },
    { type: "file", path: "/etc/hosts", content: "127.0.0.1 localhost\n" },
    { type: "file", path: "/etc/resolv.conf", content: "" },
    { type: "directory", path: "/home" },
    { type: "directory", path: "/root", mode: 0o700 },
    { type: "directory", path: "/tmp", mode: 0o1777 },
    { type: "directory", path: "/studio/bin" },
  ];
  const baseLayer = await writeLayer(store, { entries: base });
  const top = await writeLayer(store, { entries: entrypointLayerEntries(workflow, TEST_ENVIRONMENT) });
  const tag = `${workflow}:test`;
  const img = await writeImage(
    store,
    {
      layers: [{ layer: baseLayer.descriptor, createdBy: "busybox" }, { layer: top.descriptor, createdBy: "tantalus entrypoint" }],
      config: { ...entrypointConfig(workflow), Env: ["PATH=/usr/local/bin:/usr/bin:/bin", ...(entrypointConfig(workflow).Env ?? [])] },
    },
    { tag },
  );
  return { storeDir: store.dir, tag, workflow, manifestDigest: img.descriptor.digest };
}
