import type { PackageSpec } from "../model.js";
import {
  KB,
  MB,
  SITE_PACKAGES_COMMAND,
  exe,
  extSuffix,
  filler,
  lib,
  libpython,
  mod,
  py,
  script,
  sources,
  text,
} from "./helpers.js";
import { IMATH_SONAME, exrSoname, materialxSoname, ocioSoname, oiioSoname, openvdbSoname, qtSoname } from "./vfx.js";
import { pyRepr } from "../render/pyrepr.js";

/**
 * The big applications: Maya-, Houdini- and Nuke-like DCCs in two versions
 * each and a renderer. They carry most of the bytes (vendor libraries,
 * scripts, resources), use $ORIGIN RUNPATHs for their own libraries as vendor
 * builds do, and take the platform libraries from the VFX packages.
 */
const APPS = { layer: "apps" };

export function appPackages(): PackageSpec[] {
  return [
    maya({
      version: "2024.2",
      python: "3.10",
      qt: "5.15.2",
      pyside: "pyside2-5.15",
      exr: "3.1.13",
      ocio: "2.2.1",
      released: "2023-08-30",
    }),
    maya({
      version: "2025.1",
      python: "3.11",
      qt: "6.5.6",
      pyside: "pyside6-6.5",
      exr: "3.2.9",
      ocio: "2.3.2",
      released: "2024-05-22",
    }),
    houdini({ version: "19.5.805", pythons: ["3.9"], oldRpath: true, released: "2023-11-09" }),
    houdini({ version: "20.5.332", pythons: ["3.10", "3.11"], oldRpath: false, released: "2024-08-13" }),
    nuke({ version: "14.1v5", python: "3.9", ocio: "2.1.1", released: "2024-02-01" }),
    nuke({ version: "15.1v3", python: "3.10", ocio: "2.2.1", released: "2024-09-10" }),
    photon(),
  ];
}

interface MayaArgs {
  version: string;
  python: string;
  qt: string;
  pyside: string;
  exr: string;
  ocio: string;
  released: string;
}

function maya(a: MayaArgs): PackageSpec {
  const major = a.version.split(".")[0]!;
  const abi = { mm: a.python, tag: a.python.replace(".", "") };
  const mm = (v: string) => v.split(".").slice(0, 2).join(".");
  const qt = (m: string) => qtSoname(m, a.qt);
  const id = (what: string) => `maya-${a.version} ${what}`;
  const own = { runpath: ["$ORIGIN"], dev: false as const };
  return {
    name: "maya",
    version: a.version,
    description: `Autodesk-Maya-like 3D DCC ${major} (sample studio stand-in, not the real product).`,
    authors: ["sample studio"],
    requires: [
      `python-${a.python}`,
      `qt-${mm(a.qt)}`,
      a.pyside,
      `openexr-${mm(a.exr)}`,
      "imath-3.1",
      `opencolorio-${mm(a.ocio)}`,
      "tbb-2020",
    ],
    tools: ["maya", "mayapy"],
    tantalus: APPS,
    commands: `env.MAYA_LOCATION = "{root}"
env.PATH.prepend("{root}/bin")
env.MAYA_VERSION = str(this.version.major)
env.MAYA_DISABLE_CIP = "1"
env.MAYA_MODULE_PATH.append("{root}/modules")
env.MAYA_PLUG_IN_PATH.append("{root}/plug-ins")
env.MAYA_SCRIPT_PATH.append("{root}/scripts/startup")
env.STUDIO_APPS.append("maya-{version}")
alias("maya{version.major}", "{root}/bin/maya")
${SITE_PACKAGES_COMMAND}`,
    released: a.released,
    payload: () => [
      script(
        "bin/maya",
        `#!/bin/sh\n# Maya ${a.version} launcher: run the real binary from this installation.\nMAYA_LOCATION="\${MAYA_LOCATION:-$(cd "$(dirname "$0")/.." && pwd)}"\nexport MAYA_LOCATION\nexec "$MAYA_LOCATION/bin/maya.bin" "$@"\n`,
      ),
      // DT_RPATH, not RUNPATH: the program's RPATH also serves the plug-ins it loads, which
      // take Maya's libraries (libOpenMayaAnim.so...) from the host as real Maya provides them.
      exe(
        "bin/maya.bin",
        id("maya.bin"),
        ["libOpenMaya.so", "libOpenMayaUI.so", "libFoundation.so", libpython(abi), qt("Widgets"), qt("Core")],
        { runpath: ["$ORIGIN/../lib"], oldRpath: true, weight: 5 * MB },
      ),
      exe("bin/mayapy", id("mayapy"), ["libOpenMaya.so", "libFoundation.so", libpython(abi)], {
        runpath: ["$ORIGIN/../lib"],
        oldRpath: true,
        weight: 60 * KB,
      }),
      lib("lib", "libFoundation.so", id("libFoundation"), {
        ...own,
        needs: ["libtbb.so.2", "libm.so.6"],
        weight: 3 * MB,
      }),
      lib("lib", "libOpenMaya.so", id("libOpenMaya"), {
        ...own,
        needs: ["libFoundation.so", exrSoname("OpenEXR", a.exr), IMATH_SONAME, ocioSoname(a.ocio), "libtbb.so.2"],
        weight: 5 * MB,
      }),
      lib("lib", "libOpenMayaAnim.so", id("libOpenMayaAnim"), {
        ...own,
        needs: ["libOpenMaya.so", "libFoundation.so"],
        weight: 1536 * KB,
      }),
      lib("lib", "libOpenMayaRender.so", id("libOpenMayaRender"), {
        ...own,
        needs: ["libOpenMaya.so", "libFoundation.so", exrSoname("OpenEXR", a.exr)],
        weight: 2560 * KB,
      }),
      lib("lib", "libOpenMayaUI.so", id("libOpenMayaUI"), {
        ...own,
        needs: ["libOpenMaya.so", qt("Widgets"), qt("Gui"), qt("Core")],
        weight: 1536 * KB,
      }),
      mod("plug-ins/fbxmaya.so", id("fbxmaya plug-in"), ["libOpenMaya.so", "libFoundation.so"], {
        entry: "initializePlugin",
        runpath: ["$ORIGIN/../lib"],
        weight: 700 * KB,
      }),
      mod(
        "plug-ins/AbcImport.so",
        id("AbcImport plug-in"),
        ["libOpenMaya.so", "libOpenMayaAnim.so", "libFoundation.so"],
        { entry: "initializePlugin", runpath: ["$ORIGIN/../lib"], weight: 300 * KB },
      ),
      mod(
        `lib/python${abi.mm}/site-packages/maya/api/_OpenMaya_py2${extSuffix(abi)}`,
        id("maya.api.OpenMaya"),
        ["libOpenMaya.so", libpython(abi)],
        { entry: "PyInit__OpenMaya_py2", runpath: ["$ORIGIN/../../../../../lib"] },
      ),
      text(`lib/python${abi.mm}/site-packages/maya/__init__.py`, `# maya ${a.version} python package\n`),
      sources(`lib/python${abi.mm}/site-packages/maya/app`, "mayaapp", ".py", 50, 800 * KB, "python"),
      sources("scripts/startup", "startup", ".mel", 150, 2500 * KB, "mel"),
      text("modules/README.txt", "Studio Maya modules are added to MAYA_MODULE_PATH by their own packages.\n"),
      filler("resources/icons.bin", 1500 * KB),
      filler("resources/l10n/maya_en_US.res", 1 * MB),
    ],
  };
}

interface HoudiniArgs {
  version: string;
  pythons: string[];
  oldRpath: boolean;
  released: string;
}

function houdini(a: HoudiniArgs): PackageSpec {
  const [major, minor, build] = a.version.split(".");
  const id = (what: string) => `houdini-${a.version} ${what}`;
  // 19.5 is a CentOS 7 era build: DT_RPATH instead of DT_RUNPATH.
  const rp = { runpath: ["$ORIGIN/../dsolib"], oldRpath: a.oldRpath };
  const dso = { runpath: ["$ORIGIN"], oldRpath: a.oldRpath, dev: false as const };
  return {
    name: "houdini",
    version: a.version,
    description: `SideFX-Houdini-like procedural DCC ${major}.${minor} (sample studio stand-in), one build per Python.`,
    authors: ["sample studio"],
    extraPy: `@early()
def variants():
    # SideFX ships one build per Python ABI; the installed builds are listed here.
    return ${pyRepr(a.pythons.map((p) => [`python-${p}`]))}`,
    variants: a.pythons.map((p) => [`python-${p}`]),
    tools: ["houdini", "hython"],
    tantalus: APPS,
    commands: `env.HFS = "{root}"
env.HOUDINI_MAJOR_RELEASE = str(this.version.major)
source("{root}/houdini_setup_bash")
env.PATH.prepend("{root}/bin")
env.HOUDINI_PATH.append("&")
env.STUDIO_APPS.append("houdini-{version}")`,
    released: a.released,
    payload: (v) => {
      const abi = py(v);
      return [
        text(
          "houdini_setup_bash",
          `# Houdini ${a.version} environment, sourced by the houdini package's commands\n# (the sample studio's stand-in for SideFX's houdini_setup_bash).\nif [ -z "$HFS" ]; then\n    echo "houdini_setup_bash: HFS is not set" >&2\n    return 1\nfi\nexport H="$HFS"\nexport HB="$H/bin"\nexport HDSO="$H/dsolib"\nexport HH="$H/houdini"\nexport HHC="$HH/config"\nexport HHP="$HH/python${abi.mm}libs"\nexport HT="$H/toolkit"\nexport HSB="$HH/sbin"\nexport HOUDINI_BUILD_VERSION=${build}\nexport HOUDINI_PYTHON_VERSION=${abi.mm}\n`,
        ),
        exe(
          "bin/houdini",
          id("houdini"),
          ["libHoudiniUI.so", "libHoudiniOPZ.so", "libHoudiniGEO.so", "libHoudiniUT.so"],
          { ...rp, weight: 1500 * KB },
        ),
        exe(
          "bin/hython",
          id(`hython (python ${abi.mm})`),
          ["libHoudiniOPZ.so", "libHoudiniGEO.so", "libHoudiniUT.so", libpython(abi)],
          { ...rp, weight: 200 * KB },
        ),
        lib("dsolib", "libHoudiniUT.so", id("libHoudiniUT"), { ...dso, needs: ["libm.so.6"], weight: 2560 * KB }),
        lib("dsolib", "libHoudiniGEO.so", id("libHoudiniGEO"), {
          ...dso,
          needs: ["libHoudiniUT.so"],
          weight: 2560 * KB,
        }),
        lib("dsolib", "libHoudiniOPZ.so", id("libHoudiniOPZ"), {
          ...dso,
          needs: ["libHoudiniGEO.so", "libHoudiniUT.so"],
          weight: 2560 * KB,
        }),
        lib("dsolib", "libHoudiniUI.so", id("libHoudiniUI"), {
          ...dso,
          needs: ["libHoudiniOPZ.so", "libHoudiniUT.so"],
          weight: 2 * MB,
        }),
        mod(
          `houdini/python${abi.mm}libs/_hou${extSuffix(abi)}`,
          id(`hou module (python ${abi.mm})`),
          ["libHoudiniOPZ.so", "libHoudiniUT.so", libpython(abi)],
          { entry: "PyInit__hou", runpath: ["$ORIGIN/../../dsolib"], oldRpath: a.oldRpath },
        ),
        text(
          `houdini/python${abi.mm}libs/hou.py`,
          `# hou module loader (houdini ${a.version})\nfrom _hou import *  # noqa: F401,F403\n`,
        ),
        sources(`houdini/python${abi.mm}libs/houpythonportion`, "houpython", ".py", 40, 500 * KB, "python"),
        filler("houdini/otls/OPlibSop.hda", 1500 * KB),
        filler("houdini/otls/OPlibDop.hda", 1 * MB),
        sources("houdini/config/Icons", "icon", ".svg", 40, 300 * KB, "config"),
      ];
    },
  };
}

interface NukeArgs {
  version: string;
  python: string;
  ocio: string;
  released: string;
}

function nuke(a: NukeArgs): PackageSpec {
  const [major, rest] = a.version.split(".");
  const minor = rest!.split("v")[0];
  const exeName = `Nuke${major}.${minor}`;
  const abi = { mm: a.python, tag: a.python.replace(".", "") };
  const exr = exrSoname("OpenEXR", "3.1.13");
  const id = (what: string) => `nuke-${a.version} ${what}`;
  const own = { runpath: ["$ORIGIN"], dev: false as const };
  const plugin = { runpath: ["$ORIGIN/.."] };
  return {
    name: "nuke",
    version: a.version,
    description: `Foundry-Nuke-like compositor ${major}.${minor} (sample studio stand-in).`,
    authors: ["sample studio"],
    requires: [
      `python-${a.python}`,
      "openexr-3.1",
      "imath-3.1",
      `opencolorio-${a.ocio.split(".").slice(0, 2).join(".")}`,
      "tbb-2020",
    ],
    tools: [exeName, "nuke"],
    tantalus: APPS,
    commands: `env.PATH.prepend("{root}")
env.NUKE_PATH.append("{root}/plugins")
env.STUDIO_APPS.append("nuke-{version}")
setenv("foundry_LICENSE", "4101@license.studio.internal")
alias("nuke", "{root}/${exeName}")`,
    released: a.released,
    payload: () => [
      exe(exeName, id(exeName), ["libDDImage.so", "libRIPFramework.so", libpython(abi), "libtbb.so.2"], {
        runpath: ["$ORIGIN"],
        weight: 2 * MB,
      }),
      lib(".", "libDDImage.so", id("libDDImage"), {
        ...own,
        needs: [exr, exrSoname("Iex", "3.1.13"), IMATH_SONAME, ocioSoname(a.ocio), "libtbb.so.2"],
        weight: 3 * MB,
      }),
      lib(".", "libRIPFramework.so", id("libRIPFramework"), { ...own, needs: ["libDDImage.so"], weight: 1536 * KB }),
      mod("plugins/exrReader.so", id("exrReader"), ["libDDImage.so", exr], {
        entry: "DDImage_plugin_init",
        ...plugin,
        weight: 300 * KB,
      }),
      mod("plugins/OCIOColorSpace.so", id("OCIOColorSpace"), ["libDDImage.so", ocioSoname(a.ocio)], {
        entry: "DDImage_plugin_init",
        ...plugin,
        weight: 200 * KB,
      }),
      sources("plugins/nukescripts", "nukescripts", ".py", 40, 600 * KB, "python"),
      sources("plugins/gizmos", "gizmo", ".gizmo", 30, 400 * KB, "config"),
      filler("resources/fonts.bin", 800 * KB),
    ],
  };
}

function photon(): PackageSpec {
  const v = "4.2.0";
  const id = (what: string) => `photon-${v} ${what}`;
  const so = "libphoton.so.4";
  return {
    name: "photon",
    version: v,
    description: "Photon production path tracer 4.2 (sample studio stand-in renderer) with its Hydra delegate.",
    authors: ["sample studio"],
    requires: [
      "openimageio-2.5",
      "opencolorio-2.3",
      "openexr-3.2",
      "imath-3.1",
      "tbb-2020",
      "openvdb-11",
      "materialx-1.39",
      "usd-24",
    ],
    tools: ["photon", "photon_tx"],
    tantalus: APPS,
    commands: `env.PHOTON_ROOT = "{root}"
env.PATH.prepend("{root}/bin")
env.LD_LIBRARY_PATH.prepend("{root}/lib")
env.PXR_PLUGINPATH_NAME.append("{root}/plugin/usd")
env.PHOTON_SHADER_PATH.append("{root}/shaders")
setenv("PHOTON_LICENSE", "5053@license.studio.internal")`,
    released: "2024-07-01",
    payload: () => [
      lib("lib", so, id("libphoton"), {
        real: `libphoton.so.${v}`,
        needs: [
          oiioSoname("2.5.19.1"),
          ocioSoname("2.3.2"),
          exrSoname("OpenEXR", "3.2.9"),
          IMATH_SONAME,
          "libtbb.so.2",
          openvdbSoname("11.0.0"),
          materialxSoname("Core", "1.39.1"),
          "libm.so.6",
        ],
        weight: 4 * MB,
      }),
      lib("lib", "libphoton_osl.so.4", id("libphoton_osl"), {
        real: `libphoton_osl.so.${v}`,
        needs: [so, materialxSoname("GenShader", "1.39.1"), materialxSoname("Core", "1.39.1")],
        weight: 1536 * KB,
      }),
      exe("bin/photon", id("photon"), [so, "libphoton_osl.so.4"], { weight: 500 * KB }),
      exe("bin/photon_tx", id("photon_tx"), [so, oiioSoname("2.5.19.1")], { weight: 80 * KB }),
      mod(
        "plugin/usd/hdPhoton.so",
        id("Hydra render delegate"),
        [so, "libusd_usd.so", "libusd_usdGeom.so", "libusd_sdf.so", "libusd_tf.so"],
        { entry: "hdPhoton_register", weight: 800 * KB },
      ),
      text(
        "plugin/usd/plugInfo.json",
        `{\n    "Plugins": [ { "Name": "hdPhoton", "Type": "library", "LibraryPath": "hdPhoton.so" } ]\n}\n`,
      ),
      sources("shaders", "photon_shader", ".osl", 60, 1 * MB, "shader"),
    ],
  };
}
