/**
 * A real workflow image for the run tests, made with the image core:
 * busybox (static) as the OS plus the host's bash and the libraries it
 * needs, the files ch-run binds over, the Tantalus entrypoint and rc files,
 * and an environment.sh exporting what a package's commands() would
 * (STUDIO_SHOW_ROOT, a PATH prepend) with a Rez alias as a shell function.
 */
import { execFileSync } from "node:child_process";
import { lstatSync, readFileSync, realpathSync } from "node:fs";
import { OciStore, writeImage, writeLayer, type LayerSource } from "../../src/image/index.js";
import { entrypointConfig, entrypointLayerEntries } from "../../src/image/entrypoint.js";

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
  configDigest: string;
}

function applets(): string[] {
  return execFileSync("/bin/busybox", ["--list"], { encoding: "utf8" })
    .split("\n")
    .filter((a) => /^[a-z0-9_.-]+$/.test(a) && a !== "busybox");
}

/** A host executable and the shared libraries `ldd` says it loads, at the same paths (symlinks kept). */
export function hostProgramEntries(program: string): LayerSource[] {
  const paths = [program];
  for (const line of execFileSync("ldd", [program], { encoding: "utf8" }).split("\n")) {
    const m = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
    if (m) paths.push(m[1]!);
  }
  const out: LayerSource[] = [];
  const seen = new Set<string>();
  for (const p of paths) {
    for (const file of lstatSync(p).isSymbolicLink() ? [p, realpathSync(p)] : [p]) {
      if (seen.has(file)) continue;
      seen.add(file);
      out.push({ type: "hostFile", source: file, path: file });
    }
  }
  return out;
}

export async function buildFixtureImage(
  storeDir: string,
  opts: { workflow?: string; extra?: LayerSource[] } = {},
): Promise<FixtureImage> {
  const workflow = opts.workflow ?? "rough_layout";
  const store = await OciStore.open(storeDir);
  const base: LayerSource[] = [
    { type: "file", path: "/bin/busybox", content: readFileSync("/bin/busybox"), mode: 0o755 },
    ...applets().map((a): LayerSource => ({ type: "symlink", path: `/bin/${a}`, linkTarget: "busybox" })),
    ...hostProgramEntries("/bin/bash"),
    {
      type: "file",
      path: "/etc/passwd",
      content: "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
    },
    { type: "file", path: "/etc/group", content: "root:x:0:\nnogroup:x:65534:\n" },
    { type: "file", path: "/etc/hosts", content: "127.0.0.1 localhost\n" },
    { type: "file", path: "/etc/resolv.conf", content: "" },
    { type: "directory", path: "/home" },
    { type: "directory", path: "/root", mode: 0o700 },
    { type: "directory", path: "/tmp", mode: 0o1777 },
    { type: "directory", path: "/studio/bin" },
  ];
  const layers = [await writeLayer(store, { entries: base })];
  if (opts.extra) layers.push(await writeLayer(store, { entries: opts.extra }));
  layers.push(await writeLayer(store, { entries: entrypointLayerEntries(workflow, TEST_ENVIRONMENT) }));
  const cfg = entrypointConfig(workflow);
  const tag = `${workflow}:test`;
  const img = await writeImage(
    store,
    {
      layers: layers.map((l) => ({ layer: l.descriptor })),
      config: { ...cfg, Env: ["PATH=/usr/local/bin:/usr/bin:/bin", ...(cfg.Env ?? [])] },
    },
    { tag },
  );
  return {
    storeDir: store.dir,
    tag,
    workflow,
    manifestDigest: img.descriptor.digest,
    configDigest: img.configDescriptor.digest,
  };
}
