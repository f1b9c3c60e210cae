import type { PackageSpec } from "../model.js";
import { pyRepr } from "../render/pyrepr.js";
import { KB, exe, filler, lib, libpython, mod, py, sources, text } from "./helpers.js";
import { materialxSoname, ocioSoname, oiioSoname, openvdbSoname, qtSoname } from "./vfx.js";

/**
 * The studio's own packages: the launcher and its library, show
 * configurations, asset libraries and one toolset per department. Three of
 * them carry the deliberate defects listed in defects.ts (layout_tools,
 * flipbook, legacy_exr_plugin); the others are clean.
 */
const STUDIO = { layer: "studio" };
const STUDIO_CORE = "libstudio_core.so.1";
const MAYA_PLUGIN = { entry: "initializePlugin" };

export const SHOWS: Record<string, string[]> = {
  "2023.11.0": ["dragon", "kraken"],
  "2024.03.1": ["dragon", "kraken", "phoenix"],
};

export function toolPackages(): PackageSpec[] {
  return [
    studioCore(),
    launchApp("1.3.2", "2023-10-02", ["studio_core-1.2+<2"]),
    launchApp("1.4.0", "2024-04-15", ["studio_core-1.2+<2"]),
    // A release that was pulled: it needs a studio_core that was never released.
    { ...launchApp("1.5.0", "2024-09-30", ["studio_core-2"]), ignored: true },
    showConfig("2023.11.0", "2023-11-06"),
    showConfig("2024.03.1", "2024-03-18"),
    studioAssets(),
    layoutTools(),
    animTools(),
    modelingTools(),
    lookdevTools(),
    lightingTools(),
    fxTools(),
    compTools(),
    renderSubmit(),
    flipbook(),
    legacyExrPlugin(),
  ];
}

function studioCore(): PackageSpec {
  const v = "1.2.0";
  return {
    name: "studio_core",
    version: v,
    description: "Studio core library: show lookup and environment helpers used by every studio tool.",
    authors: ["pipeline"],
    requires: ["studio_base-1"],
    tantalus: STUDIO,
    commands: `env.LD_LIBRARY_PATH.prepend("{root}/lib")
env.PYTHONPATH.append("{root}/python")
env.STUDIO_CORE_VERSION = "{version}"`,
    released: "2024-01-22",
    payload: () => [
      lib("lib", STUDIO_CORE, `studio_core-${v} libstudio_core`, {
        real: `libstudio_core.so.${v}`,
        program: "studio_core",
        weight: 40 * KB,
      }),
      text("python/studio_core/__init__.py", `"""Studio core ${v}."""\n__version__ = "${v}"\n`),
      sources("python/studio_core", "core", ".py", 10, 120 * KB, "python"),
    ],
  };
}

function launchApp(v: string, released: string, requires: string[]): PackageSpec {
  return {
    name: "launch_app",
    version: v,
    description: "Starts an artist's application for a show: `launch_app -show=NAME`.",
    authors: ["pipeline"],
    requires,
    tools: ["launch_app"],
    tantalus: STUDIO,
    commands: `env.PATH.prepend("{root}/bin")`,
    released,
    payload: () => [exe("bin/launch_app", `launch_app ${v}`, [STUDIO_CORE], { program: "launch_app" })],
  };
}

function showConfig(v: string, released: string): PackageSpec {
  const year = Number(v.split(".")[0]);
  const shows = SHOWS[v]!;
  const aces = year >= 2024 ? "aces_ocio_config-1.3" : "aces_ocio_config-1.2";
  return {
    name: "show_config",
    version: v,
    description: "Per-show configuration (frame rate, resolution, colour) for the shows in production.",
    authors: ["pipeline"],
    // What the @late requires below evaluates to for this version.
    requires: ["studio_core-1.2+", aces],
    extraPy: `@early()
def shows():
    # Shows configured in this release, one shows/<name>.yaml each.
    return ${pyRepr(shows)}

@late()
def requires():
    # The colour pipeline follows the VFX Reference Platform year of the release.
    if int(str(this.version.major)) >= 2024:
        return ["studio_core-1.2+", "aces_ocio_config-1.3"]
    return ["studio_core-1.2+", "aces_ocio_config-1.2"]`,
    tantalus: STUDIO,
    commands: `env.SHOW_CONFIG_ROOT = "{root}"
env.STUDIO_SHOWS = ",".join(this.shows)
info("show_config {version}: shows " + ", ".join(this.shows))`,
    released,
    payload: () =>
      shows.map((s, i) =>
        text(
          `shows/${s}.yaml`,
          `show: ${s}\nvfx_platform: CY${year}\nfps: ${[24, 25, 24][i % 3]}\nresolution: [${[2048, 4096, 1920][i % 3]}, ${[858, 1716, 1080][i % 3]}]\ncolour:\n  config: aces\n  working_space: ACEScg\n`,
        ),
      ),
  };
}

function studioAssets(): PackageSpec {
  const v = "3.0.2";
  return {
    name: "studio_assets",
    version: v,
    description: "Asset library: USD asset resolver and Python asset API.",
    authors: ["pipeline"],
    requires: ["usd", "alembic-1.8", "studio_core-1.2+"],
    variants: [["python-3.10"], ["python-3.11"]],
    tantalus: STUDIO,
    commands: `env.PXR_PLUGINPATH_NAME.append("{root}/plugin/usd")
env.PYTHONPATH.append("{root}/python")
env.STUDIO_ASSET_RESOLVER = "studioAssetResolver"`,
    released: "2024-05-06",
    payload: (vi) => {
      const abi = py(vi);
      return [
        mod(
          "plugin/usd/studioAssetResolver.so",
          `studio_assets-${v} USD asset resolver (python ${abi.mm})`,
          ["libusd_ar.so", "libusd_sdf.so", "libusd_tf.so", "libAlembic.so.1.8", STUDIO_CORE],
          { entry: "studioAssetResolver_register", weight: 120 * KB },
        ),
        text(
          "plugin/usd/plugInfo.json",
          `{\n    "Plugins": [ { "Name": "studioAssetResolver", "Type": "library", "LibraryPath": "studioAssetResolver.so" } ]\n}\n`,
        ),
        text("python/studio_assets/__init__.py", `"""Studio asset API ${v}."""\n`),
        sources("python/studio_assets", "assets", ".py", 25, 300 * KB, "python"),
      ];
    },
  };
}

/** DEFECT (undeclared): liblayout_core links libAlembic but layout_tools does not require alembic. */
function layoutTools(): PackageSpec {
  const v = "2.3.1";
  return {
    name: "layout_tools",
    version: v,
    description: "Rough layout toolset for Maya: shot layout, camera publishing.",
    authors: ["layout TDs"],
    requires: ["usd", "studio_core-1.2+"],
    variants: [["maya-2024"], ["maya-2025"]],
    tools: ["layout_publish"],
    tantalus: STUDIO,
    commands: `env.PATH.prepend("{root}/bin")
env.LD_LIBRARY_PATH.prepend("{root}/lib")
env.MAYA_PLUG_IN_PATH.append("{root}/plug-ins")
env.PYTHONPATH.append("{root}/python")`,
    released: "2024-06-12",
    payload: (vi) => [
      lib("lib", "liblayout_core.so.2", `layout_tools-${v} liblayout_core (${vi.requires[0]})`, {
        real: `liblayout_core.so.${v}`,
        needs: ["libusd_usd.so", "libusd_usdGeom.so", "libAlembic.so.1.8", STUDIO_CORE],
        weight: 150 * KB,
      }),
      exe("bin/layout_publish", `layout_tools-${v} layout_publish`, ["liblayout_core.so.2", STUDIO_CORE], {
        runpath: ["$ORIGIN/../lib"],
      }),
      mod(
        "plug-ins/layoutTools.so",
        `layout_tools-${v} Maya plug-in (${vi.requires[0]})`,
        ["liblayout_core.so.2", "libOpenMaya.so"],
        { ...MAYA_PLUGIN, runpath: ["$ORIGIN/../lib"] },
      ),
      sources("python/layout_tools", "layout", ".py", 20, 200 * KB, "python"),
    ],
  };
}

function animTools(): PackageSpec {
  const v = "1.8.0";
  return {
    name: "anim_tools",
    version: v,
    description: "Animation toolset for Maya: pose library, retiming, playblast publishing.",
    authors: ["animation TDs"],
    requires: ["studio_core-1.2+"],
    variants: [["maya-2024"], ["maya-2025"]],
    tantalus: STUDIO,
    commands: `env.MAYA_PLUG_IN_PATH.append("{root}/plug-ins")
env.MAYA_SCRIPT_PATH.append("{root}/scripts")
env.PYTHONPATH.append("{root}/python")`,
    released: "2024-07-08",
    payload: (vi) => [
      mod(
        "plug-ins/animTools.so",
        `anim_tools-${v} Maya plug-in (${vi.requires[0]})`,
        ["libOpenMayaAnim.so", "libOpenMaya.so", STUDIO_CORE],
        { ...MAYA_PLUGIN, weight: 100 * KB },
      ),
      sources("scripts", "anim", ".mel", 30, 300 * KB, "mel"),
      sources("python/anim_tools", "anim", ".py", 20, 200 * KB, "python"),
    ],
  };
}

function modelingTools(): PackageSpec {
  const v = "0.9.4";
  return {
    name: "modeling_tools",
    version: v,
    description: "Modeling toolset for Maya: topology checks and asset publishing.",
    authors: ["modeling TDs"],
    requires: ["studio_core-1.2+"],
    variants: [["maya-2024"], ["maya-2025"]],
    tantalus: STUDIO,
    commands: `env.MAYA_PLUG_IN_PATH.append("{root}/plug-ins")
env.PYTHONPATH.append("{root}/python")`,
    released: "2024-02-26",
    payload: (vi) => [
      mod(
        "plug-ins/modelingTools.so",
        `modeling_tools-${v} Maya plug-in (${vi.requires[0]})`,
        ["libOpenMaya.so", "libFoundation.so", STUDIO_CORE],
        { ...MAYA_PLUGIN, weight: 80 * KB },
      ),
      sources("python/modeling_tools", "modeling", ".py", 15, 150 * KB, "python"),
    ],
  };
}

function lookdevTools(): PackageSpec {
  const v = "2.1.0";
  return {
    name: "lookdev_tools",
    version: v,
    description: "Look development in Maya with the Photon renderer and MaterialX.",
    authors: ["lookdev TDs"],
    requires: ["maya-2025", "photon-4", "materialx-1.39", "studio_core-1.2+"],
    tantalus: STUDIO,
    commands: `env.MAYA_PLUG_IN_PATH.append("{root}/plug-ins")
env.PYTHONPATH.append("{root}/python")
env.MATERIALX_SEARCH_PATH.append("{root}/mtlx")`,
    released: "2024-08-19",
    payload: () => [
      mod(
        "plug-ins/lookdevTools.so",
        `lookdev_tools-${v} Maya plug-in`,
        [
          "libOpenMaya.so",
          "libphoton.so.4",
          materialxSoname("Core", "1.39.1"),
          materialxSoname("GenShader", "1.39.1"),
          STUDIO_CORE,
        ],
        { ...MAYA_PLUGIN, weight: 100 * KB },
      ),
      sources("mtlx", "studio_material", ".mtlx", 15, 150 * KB, "config"),
      sources("python/lookdev_tools", "lookdev", ".py", 15, 150 * KB, "python"),
    ],
  };
}

function lightingTools(): PackageSpec {
  const v = "1.2.0";
  return {
    name: "lighting_tools",
    version: v,
    description: "Lighting toolset for Houdini with Photon: light rigs and render setup.",
    authors: ["lighting TDs"],
    requires: ["houdini-20.5", "photon-4", "studio_core-1.2+"],
    tantalus: STUDIO,
    commands: `env.HOUDINI_PATH.prepend("{root}/houdini")
env.PYTHONPATH.append("{root}/python")`,
    released: "2024-09-02",
    payload: () => [
      mod(
        "houdini/dso/lightingTools.so",
        `lighting_tools-${v} Houdini DSO`,
        ["libHoudiniOPZ.so", "libHoudiniUT.so", "libphoton.so.4", STUDIO_CORE],
        { entry: "newSopOperator", weight: 100 * KB },
      ),
      filler("houdini/otls/studio_lighting.hda", 300 * KB),
      sources("python/lighting_tools", "lighting", ".py", 15, 150 * KB, "python"),
    ],
  };
}

/** Hashed variants: the variant requirement lists are long, as with real per-DCC builds. */
function fxTools(): PackageSpec {
  const v = "3.0.0";
  return {
    name: "fx_tools",
    version: v,
    description: "FX toolset for Houdini: OpenVDB-based volume and simulation tools.",
    authors: ["fx TDs"],
    requires: ["studio_core-1.2+"],
    variants: [
      ["houdini-20.5", "python-3.10", "openvdb-10.1"],
      ["houdini-20.5", "python-3.11", "openvdb-11.0"],
    ],
    hashedVariants: true,
    tantalus: STUDIO,
    commands: `env.HOUDINI_PATH.prepend("{root}/houdini")
env.PYTHONPATH.append("{root}/python")`,
    released: "2024-09-16",
    payload: (vi) => {
      const abi = py(vi);
      const vdb = vi.requires.find((r) => r.startsWith("openvdb-"))!.slice("openvdb-".length);
      return [
        mod(
          "houdini/dso/fxTools.so",
          `fx_tools-${v} Houdini DSO (python ${abi.mm})`,
          ["libHoudiniGEO.so", "libHoudiniUT.so", openvdbSoname(`${vdb}.0`), "libtbb.so.2", STUDIO_CORE],
          { entry: "newSopOperator", weight: 150 * KB },
        ),
        filler("houdini/otls/studio_fx.hda", 400 * KB),
        text("variant.txt", `${vi.requires.join(" ")}\n`),
        sources("python/fx_tools", "fx", ".py", 15, 150 * KB, "python"),
      ];
    },
  };
}

function compTools(): PackageSpec {
  const v = "3.4.1";
  return {
    name: "comp_tools",
    version: v,
    description: "Compositing toolset for Nuke: gizmos and an OpenImageIO-based reader.",
    authors: ["comp TDs"],
    requires: ["studio_core-1.2+"],
    variants: [
      ["nuke-14", "openimageio-2.4.5"],
      ["nuke-15", "openimageio-2.4.17"],
    ],
    tantalus: STUDIO,
    commands: `env.NUKE_PATH.append("{root}/plugins")
env.NUKE_PATH.append("{root}/gizmos")`,
    released: "2024-10-01",
    payload: (vi) => [
      mod(
        "plugins/compTools.so",
        `comp_tools-${v} Nuke plug-in (${vi.requires[0]})`,
        ["libDDImage.so", oiioSoname("2.4.17.0"), STUDIO_CORE],
        { entry: "DDImage_plugin_init", weight: 120 * KB },
      ),
      sources("gizmos", "studio", ".gizmo", 25, 250 * KB, "config"),
    ],
  };
}

function renderSubmit(): PackageSpec {
  const v = "2.0.0";
  return {
    name: "render_submit",
    version: v,
    description: "Render farm submission client.",
    authors: ["pipeline"],
    requires: ["studio_core-1.2+"],
    variants: [["python-3.10"], ["python-3.11"]],
    tools: ["render_submit"],
    tantalus: STUDIO,
    commands: `env.PATH.prepend("{root}/bin")
env.PYTHONPATH.append("{root}/python")
env.RENDER_FARM_URL = "https://farm.studio.internal"`,
    released: "2024-03-04",
    payload: (vi) => {
      const abi = py(vi);
      return [
        exe("bin/render_submit", `render_submit-${v} (python ${abi.mm})`, [STUDIO_CORE, libpython(abi)]),
        sources("python/render_submit", "submit", ".py", 15, 150 * KB, "python"),
      ];
    },
  };
}

/** DEFECT (system): bin/flipbook was linked against the workstation OS's libtiff.so.5. */
function flipbook(): PackageSpec {
  const v = "3.1.0";
  return {
    name: "flipbook",
    version: v,
    description: "Flipbook image sequence viewer for dailies review.",
    authors: ["pipeline"],
    requires: ["opencolorio-2.3", "qt-6.5", "studio_core-1.2+"],
    tools: ["flipbook"],
    // Repair hint for the image build: the library this package takes from the OS.
    tantalus: { layer: "studio", repair: { system_libraries: ["libtiff.so.5"] } },
    commands: `env.PATH.prepend("{root}/bin")`,
    released: "2024-04-29",
    payload: () => [
      exe(
        "bin/flipbook",
        `flipbook-${v}`,
        [
          "libtiff.so.5",
          ocioSoname("2.3.2"),
          qtSoname("Widgets", "6.5.6"),
          qtSoname("Gui", "6.5.6"),
          qtSoname("Core", "6.5.6"),
          STUDIO_CORE,
        ],
        { weight: 300 * KB },
      ),
    ],
  };
}

/** DEFECT (mixed): an old Nuke plug-in bundling OpenEXR 2.5's IlmImf next to Nuke's OpenEXR 3.1. */
function legacyExrPlugin(): PackageSpec {
  const v = "1.4.2";
  return {
    name: "legacy_exr_plugin",
    version: v,
    description: "Legacy multi-part EXR reader for Nuke 14, still built against OpenEXR 2.5 (bundles IlmImf).",
    authors: ["comp TDs"],
    requires: ["nuke-14", "ilmbase-2.5"],
    tantalus: STUDIO,
    commands: `env.NUKE_PATH.append("{root}/plugins")
info("legacy_exr_plugin {version}: OpenEXR 2.5 reader for Nuke {resolve.nuke.version}")`,
    released: "2022-03-14",
    payload: () => [
      lib("lib", "libIlmImf-2_5.so.25", `legacy_exr_plugin-${v} bundled libIlmImf 2.5`, {
        real: "libIlmImf-2_5.so.25.0.4",
        needs: ["libHalf-2_5.so.25", "libIex-2_5.so.25", "libIlmThread-2_5.so.25", "libImath-2_5.so.25"],
        dev: false,
        weight: 300 * KB,
      }),
      mod(
        "plugins/exrReaderLegacy.so",
        `legacy_exr_plugin-${v} exrReaderLegacy`,
        ["libIlmImf-2_5.so.25", "libHalf-2_5.so.25", "libDDImage.so"],
        {
          entry: "DDImage_plugin_init",
          runpath: ["$ORIGIN/../lib"],
        },
      ),
    ],
  };
}
