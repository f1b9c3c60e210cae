import { stringify } from "yaml";
import { STUDIO_OS } from "./catalog/index.js";
import type { WorkflowSpec } from "./model.js";

/** Tiers of the sample studio's images, bottom layer first: the VFX platform, the DCCs, the rest. */
export const STUDIO_TIERS = [
  {
    name: "platform",
    packages: [
      "platform",
      "arch",
      "os",
      "studio_base",
      "python",
      "boost",
      "tbb",
      "imath",
      "ilmbase",
      "openexr",
      "opencolorio",
      "openimageio",
      "libtiff",
      "libjpeg_turbo",
      "libpng",
      "alembic",
      "materialx",
      "openvdb",
      "usd",
      "qt",
      "pyside*",
      "numpy",
      "aces_ocio_config",
    ],
  },
  { name: "apps", packages: ["maya", "houdini", "nuke", "photon"] },
  { name: "studio", packages: ["*"] },
];

/** Libraries every base image has (glibc and the compiler runtime), never flagged by the audit. */
export const STUDIO_ALLOW_SYSTEM = [
  "libc.so.6",
  "libm.so.6",
  "libdl.so.2",
  "libpthread.so.0",
  "librt.so.1",
  "ld-linux-*.so.*",
  "libstdc++.so.6",
  "libgcc_s.so.1",
];

const flow = (value: unknown) => stringify(value, { collectionStyle: "flow", lineWidth: 0 }).trim();

/** The studio's tantalus.yaml, commented for people reading it as an example. */
export function renderStudioConfig(workflows: WorkflowSpec[]): string {
  const wf = workflows
    .map((w) => {
      const lines = [`  ${w.name}:`, `    description: ${flow(w.description)}`, `    request: ${flow(w.request)}`];
      if (w.env && Object.keys(w.env).length) lines.push(`    env: ${flow(w.env)}`);
      if (w.mounts?.length) {
        lines.push("    mounts:");
        for (const m of w.mounts) lines.push(`      - ${flow(m)}`);
      }
      return lines.join("\n");
    })
    .join("\n");
  const tiers = STUDIO_TIERS.map((t) => `    - name: ${t.name}\n      packages: ${flow(t.packages)}`).join("\n");
  return `# Tantalus configuration of the sample studio (written by \`tantalus studio generate\`).
# Relative paths are relative to this file's directory. Schema: schema/tantalus.schema.json.

# Rez package repositories, searched in order (--paths or TANTALUS_PACKAGES_PATH override it).
packages_path: [packages]

# Weak requests added to every workflow, like Rez's implicit_packages. The studio pins its
# OS so images never depend on the machine that builds them.
implicit_packages: ${flow(["~platform==linux", "~arch==x86_64", `~os==${STUDIO_OS}`])}

# Image everything is layered on.
base:
  image: demo

image:
  compression: gzip
  root_map: {}

# Layer tiers, bottom first; a package goes to the first tier whose globs match its name
# (a package's own \`tantalus = {"layer": ...}\` takes precedence).
layers:
  budget: 100
  tiers:
${tiers}

audit:
  allow_system: ${flow(STUDIO_ALLOW_SYSTEM)}

# Per-package fixes applied while building images ("repair"), for example:
#   layout_tools:
#     add_requires: [alembic-1.8]
packages: {}

run:
  runtime: auto
  network: host
  gpu: auto
  display: true
  env: [DISPLAY, XAUTHORITY, TERM, LANG, "LC_*"]
  mounts:
    - { source: "~", target: "~" }

workflows:
${wf}
`;
}
