/**
 * The demo base image in the store: the content src/image/demo-base.ts
 * takes from the build host, written as one layer through the layer cache
 * keyed by those files' metadata (the same host gives the same base, byte
 * for byte), under a config with a shell and a PATH.
 */
import {
  DEMO_BASE_LIBRARIES,
  FALLBACK_TOOLS,
  demoBaseContent,
  findLibrary,
  findProgram,
  libraryDirectories,
  type DemoBaseContent,
} from "../image/demo-base.js";
import type { ImageStore, PrivateArea } from "../image/layout/interfaces.js";
import { writeImage } from "../image/mutate.js";
import { Annotation, type LayerCompression, type ResolvedImage } from "../image/types.js";
import type { BuildEventSink } from "./events.js";
import { Label } from "../image/contract.js";
import { fingerprintPath } from "./fingerprint.js";
import { writeOneLayer } from "./layers.js";
import { StoreMemo, memoKey } from "./memo.js";

const PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export interface DemoBaseOptions {
  /** More SONAMEs to take from the host (non-glob entries of audit.allow_system). */
  libraries?: readonly string[];
  compression: LayerCompression;
  level?: number;
  mtime: Date;
  created: string;
  onEvent: BuildEventSink;
}

/** The demo base in the store (its layer from the cache when the host files did not change). */
export async function demoBaseImage(store: ImageStore, opts: DemoBaseOptions): Promise<ResolvedImage> {
  const content = await rememberedContent(store, opts.libraries ?? []);
  for (const message of content.warnings) opts.onEvent({ type: "warning", message });
  const layer = await writeOneLayer(store, content.spec, {
    ...opts,
    id: "demo-base",
    kind: "base",
    label: "demo base (host shell and system libraries)",
    expectedBytes: 0,
    annotations: { [Label.LayerKind]: "base" },
    comment: `demo base: ${content.shell} and the build host's system libraries`,
  });
  const built = await writeImage(store, {
    layers: [{ layer: layer.descriptor, createdBy: "tantalus demo base", comment: layer.comment }],
    config: {
      Env: [PATH_ENV],
      Cmd: ["/bin/sh"],
      Labels: {
        [Label.Base]: "demo",
        [Annotation.Title]: "tantalus demo base",
        [Annotation.Description]:
          "A shell and the build host's C/C++ runtime libraries, for trying Tantalus without a registry",
      },
    },
    created: opts.created,
    annotations: { [Label.Base]: "demo" },
  });
  return store.loadImage(built.descriptor);
}

interface RememberedContent extends DemoBaseContent {
  /** Fingerprint of every host file of the spec when it was assembled. */
  files: Record<string, string>;
}

/**
 * demoBaseContent, remembered in the store: assembling it runs busybox and
 * reads every ELF file's dynamic section. The entry is used while the host
 * files it names (and the candidates it would look for) are unchanged.
 */
async function rememberedContent(store: PrivateArea, libraries: readonly string[]): Promise<DemoBaseContent> {
  const wanted = [...new Set([...DEMO_BASE_LIBRARIES, ...libraries.filter((l) => !/[*?[]/.test(l))])].sort();
  const dirs = libraryDirectories();
  const candidates = {
    arch: process.arch,
    wanted,
    programs: ["busybox", "sh", ...FALLBACK_TOOLS].map((t) => stamp(t === "sh" ? "/bin/sh" : findProgram(t))),
    libraries: wanted.map((l) => stamp(findLibrary(l, dirs))),
  };
  const memo = new StoreMemo<RememberedContent>(store, "demo-base-cache");
  const key = memoKey("demo-base/v1", candidates);
  const hit = await memo.get(key);
  if (hit && Object.entries(hit.files).every(([f, fp]) => stamp(f) === fp)) return hit;
  const content = demoBaseContent(libraries);
  const files: Record<string, string> = {};
  for (const e of content.spec.entries) if (e.type === "hostFile") files[e.source] = stamp(e.source);
  await memo.put(key, { ...content, files });
  return content;
}

/** What lstat says about a host path (its fingerprint), or "absent". */
function stamp(path: string | undefined): string {
  if (path === undefined) return "absent";
  try {
    return fingerprintPath(path, { followRoot: false });
  } catch {
    return `absent:${path}`;
  }
}
