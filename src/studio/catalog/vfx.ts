import type { PackageSpec, PythonAbi } from "../model.js";
import {
  KB,
  SITE_PACKAGES_COMMAND,
  boostPython,
  exe,
  extSuffix,
  filler,
  lib,
  libpython,
  link,
  mod,
  py,
  sitePackages,
  sources,
  text,
} from "./helpers.js";

/**
 * VFX Reference Platform CY2022-CY2024, with the versions aswf-docker pins
 * (research/peers.md section 4). Each calendar year pairs one Python with its
 * Boost, OpenEXR, OpenColorIO, OpenImageIO, USD, Qt and NumPy builds; packages
 * compiled against Python have one variant per Python, as Rez studios build them.
 */
const PLATFORM = { layer: "platform" };
const PLAT_VARIANT = [["platform-linux", "arch-x86_64"]];

interface Year {
  cy: number;
  python: string;
  boost: string;
  imath: string;
  openexr: string;
  ocio: string;
  oiio: string;
  usd: string;
  materialx?: string;
  openvdb?: string;
  qt: string;
  numpy: string;
}

export const YEARS: Year[] = [
  {
    cy: 2022,
    python: "3.9.15",
    boost: "1.76.0",
    imath: "3.1.5",
    openexr: "3.1.5",
    ocio: "2.1.1",
    oiio: "2.4.5.0",
    usd: "22.11",
    qt: "5.15.2",
    numpy: "1.20.3",
  },
  {
    cy: 2023,
    python: "3.10.20",
    boost: "1.80.0",
    imath: "3.1.12",
    openexr: "3.1.13",
    ocio: "2.2.1",
    oiio: "2.4.17.0",
    usd: "23.08",
    materialx: "1.38.7",
    openvdb: "10.1.0",
    qt: "5.15.2",
    numpy: "1.23.5",
  },
  {
    cy: 2024,
    python: "3.11.13",
    boost: "1.82.0",
    imath: "3.1.12",
    openexr: "3.2.9",
    ocio: "2.3.2",
    oiio: "2.5.19.1",
    usd: "24.08",
    materialx: "1.39.1",
    openvdb: "11.0.0",
    qt: "6.5.6",
    numpy: "1.24.3",
  },
];

const mmOf = (v: string) => v.split(".").slice(0, 2).join(".");
const abiOf = (pyVersion: string): PythonAbi => ({ mm: mmOf(pyVersion), tag: mmOf(pyVersion).replace(".", "") });

/** OpenEXR 3 SONAME parts: "3_1" and 30 for 3.1.x, "3_2" and 31 for 3.2.x. */
export function exrSoname(lib: string, exrVersion: string): string {
  const [maj, min] = exrVersion.split(".");
  const soversion = 29 + Number(min);
  return `lib${lib}-${maj}_${min}.so.${soversion}`;
}

export const IMATH_SONAME = "libImath-3_1.so.29";
export const ocioSoname = (v: string) => `libOpenColorIO.so.${mmOf(v)}`;
export const oiioSoname = (v: string) => `libOpenImageIO.so.${mmOf(v)}`;
export const materialxSoname = (lib: string, v: string) => `libMaterialX${lib}.so.${v}`;
export const openvdbSoname = (v: string) => `libopenvdb.so.${mmOf(v)}`;
export const qtSoname = (mod: string, qtVersion: string) =>
  `libQt${qtVersion.split(".")[0]}${mod}.so.${qtVersion.split(".")[0]}`;

export function vfxPackages(): PackageSpec[] {
  const out: PackageSpec[] = [];
  for (const y of YEARS) out.push(python(y));
  for (const y of YEARS) out.push(boost(y));
  out.push(tbb());
  out.push(imath("3.1.5", ["3.9"], "2022-05-02"), imath("3.1.12", ["3.10", "3.11"], "2024-01-20"));
  out.push(ilmbase(), openexr2());
  for (const y of YEARS) out.push(openexr3(y));
  for (const y of YEARS) out.push(opencolorio(y));
  out.push(libjpegTurbo(), libpng(), libtiff());
  for (const y of YEARS) out.push(openimageio(y));
  out.push(alembic());
  for (const y of YEARS) if (y.materialx) out.push(materialx(y));
  for (const y of YEARS) if (y.openvdb) out.push(openvdb(y));
  for (const y of YEARS) out.push(usd(y));
  out.push(qt("5.15.2", "2022-02-14"), qt("6.5.6", "2024-06-03"));
  out.push(pyside("5.15.2", ["3.9", "3.10"], "2022-03-01"), pyside("6.5.6", ["3.11"], "2024-06-10"));
  for (const y of YEARS) out.push(numpy(y));
  out.push(acesConfig("1.2.0", "2022-09-01"), acesConfig("1.3.0", "2023-11-15"));
  return out;
}

function python(y: Year): PackageSpec {
  const abi = abiOf(y.python);
  const exe_ = `python${abi.mm}`;
  return {
    name: "python",
    version: y.python,
    description: `CPython ${abi.mm} interpreter and standard library (VFX Reference Platform CY${y.cy}).`,
    authors: ["Python Software Foundation"],
    tools: ["python", "python3", exe_],
    variants: PLAT_VARIANT,
    tantalus: PLATFORM,
    commands: `env.PATH.prepend("{root}/bin")
env.LD_LIBRARY_PATH.prepend("{root}/lib")
env.PYTHONNOUSERSITE = "1"
setenv("PYTHONDONTWRITEBYTECODE", "1")`,
    released: `${y.cy - 1}-12-01`,
    payload: () => [
      exe(`bin/${exe_}`, `Python ${y.python}`, [libpython(abi)], {
        runpath: ["$ORIGIN/../lib"],
        program: "python",
        weight: 40 * KB,
      }),
      link("bin/python3", exe_),
      link("bin/python", exe_),
      lib("lib", libpython(abi), `python-${y.python} libpython${abi.mm}`, { needs: ["libm.so.6"], weight: 1400 * KB }),
      lib("lib", "libpython3.so", `python-${y.python} stable ABI`, { needs: [libpython(abi)], dev: false }),
      mod(`lib/python${abi.mm}/lib-dynload/math${extSuffix(abi)}`, `python-${y.python} math`, ["libm.so.6"]),
      sources(`lib/python${abi.mm}`, "stdlib", ".py", 160, 2600 * KB, "python"),
      text(
        `include/python${abi.mm}/Python.h`,
        `/* Python ${y.python} API header (sample studio stand-in) */\n#define PY_VERSION "${y.python}"\n`,
      ),
    ],
  };
}

function boost(y: Year): PackageSpec {
  const abi = abiOf(y.python);
  const v = y.boost;
  return {
    name: "boost",
    version: v,
    description: `Boost C++ libraries ${v}, built per Python for Boost.Python (CY${y.cy}).`,
    authors: ["boost.org"],
    variants: [[`python-${abi.mm}`]],
    tantalus: PLATFORM,
    commands: `env.LD_LIBRARY_PATH.prepend("{root}/lib")
env.BOOST_ROOT = "{root}"`,
    released: `${y.cy - 1}-12-10`,
    payload: () => [
      lib("lib", `libboost_python${abi.tag}.so.${v}`, `boost-${v} boost_python${abi.tag}`, {
        needs: [libpython(abi)],
        weight: 300 * KB,
      }),
      lib("lib", `libboost_iostreams.so.${v}`, `boost-${v} boost_iostreams`, { weight: 150 * KB }),
      text(
        "include/boost/version.hpp",
        `#define BOOST_VERSION ${v
          .split(".")
          .map((p, i) => Number(p) * [100000, 100, 1][i]!)
          .reduce((a, b) => a + b)}\n`,
      ),
      sources("include/boost", "header", ".hpp", 40, 800 * KB, "config"),
    ],
  };
}

function tbb(): PackageSpec {
  return {
    name: "tbb",
    version: "2020.3",
    description: "Intel Threading Building Blocks 2020 Update 3 (CY2022-CY2024).",
    authors: ["Intel"],
    variants: PLAT_VARIANT,
    tantalus: PLATFORM,
    commands: `env.LD_LIBRARY_PATH.prepend("{root}/lib")
env.TBB_ROOT = "{root}"`,
    released: "2021-11-02",
    payload: () => [
      lib("lib", "libtbb.so.2", "tbb-2020.3 libtbb", { weight: 300 * KB }),
      lib("lib", "libtbbmalloc.so.2", "tbb-2020.3 libtbbmalloc"),
      lib("lib", "libtbbmalloc_proxy.so.2", "tbb-2020.3 libtbbmalloc_proxy", { needs: ["libtbbmalloc.so.2"] }),
    ],
  };
}

function imath(version: string, pythons: string[], released: string): PackageSpec {
  const patch = version.split(".")[2];
  return {
    name: "imath",
    version,
    description: `Imath ${version}: half, vector and matrix types, with PyImath per Python.`,
    authors: ["Academy Software Foundation"],
    requires: [pythons.includes("3.9") ? "boost-1.76" : "boost-1.80+<1.83"],
    variants: pythons.map((p) => [`python-${p}`]),
    tantalus: PLATFORM,
    commands: `env.LD_LIBRARY_PATH.prepend("{root}/lib")
${SITE_PACKAGES_COMMAND}`,
    released,
    payload: (v) => {
      const abi = py(v);
      const pyimath = `libPyImath_Python${abi.mm.replace(".", "_")}-3_1.so.29`;
      return [
        lib("lib", IMATH_SONAME, `imath-${version} libImath`, {
          real: `${IMATH_SONAME}.${patch}.0`,
          needs: ["libm.so.6"],
          weight: 120 * KB,
        }),
        lib("lib", pyimath, `imath-${version} PyImath for python ${abi.mm}`, {
          real: `${pyimath}.${patch}.0`,
          needs: [IMATH_SONAME, boostPython(abi), libpython(abi)],
        }),
      ];
    },
  };
}

/** IlmBase 2.5: Half, Iex, IlmThread and Imath before they moved into Imath/OpenEXR 3. */
function ilmbase(): PackageSpec {
  const v = "2.5.5";
  const l = (name: string, needs: string[]) =>
    lib("lib", `lib${name}-2_5.so.25`, `ilmbase-${v} lib${name}`, { real: `lib${name}-2_5.so.25.0.4`, needs });
  return {
    name: "ilmbase",
    version: v,
    description: "IlmBase 2.5 (Half, Iex, IlmThread, Imath 2), the pre-OpenEXR-3 base libraries.",
    authors: ["Academy Software Foundation"],
    tantalus: PLATFORM,
    commands: `env.LD_LIBRARY_PATH.prepend("{root}/lib")`,
    released: "2021-02-12",
    payload: () => [
      l("Half", []),
      l("Iex", []),
      l("IlmThread", ["libIex-2_5.so.25"]),
      l("Imath", ["libIex-2_5.so.25", "libm.so.6"]),
    ],
  };
}

function openexr2(): PackageSpec {
  const v = "2.5.5";
  return {
    name: "openexr",
    version: v,
    description: "OpenEXR 2.5 (libIlmImf), kept for shows still on CY2021.",
    authors: ["Academy Software Foundation"],
    requires: ["ilmbase-2.5.5"],
    tantalus: PLATFORM,
    tools: ["exrheader"],
    commands: `env.PATH.prepend("{root}/bin")
env.LD_LIBRARY_PATH.prepend("{root}/lib")`,
    released: "2021-02-12",
    payload: () => [
      lib("lib", "libIlmImf-2_5.so.25", `openexr-${v} libIlmImf`, {
        real: "libIlmImf-2_5.so.25.0.4",
        needs: ["libHalf-2_5.so.25", "libIex-2_5.so.25", "libIlmThread-2_5.so.25", "libImath-2_5.so.25"],
        weight: 300 * KB,
      }),
      exe("bin/exrheader", `openexr-${v} exrheader`, ["libIlmImf-2_5.so.25", "libHalf-2_5.so.25"]),
    ],
  };
}

function openexr3(y: Year): PackageSpec {
  const v = y.openexr;
  const so = (l: string) => exrSoname(l, v);
  const real = (l: string) => `${so(l)}.${v}`;
  const l = (name: string, needs: string[], weight?: number) =>
    lib("lib", so(name), `openexr-${v} lib${name}`, { real: real(name), needs, weight });
  return {
    name: "openexr",
    version: v,
    description: `OpenEXR ${v} (VFX Reference Platform CY${y.cy}).`,
    authors: ["Academy Software Foundation"],
    requires: ["imath-3.1"],
    tools: ["exrheader"],
    tantalus: PLATFORM,
    commands: `env.PATH.prepend("{root}/bin")
env.LD_LIBRARY_PATH.prepend("{root}/lib")`,
    released: `${y.cy}-02-01`,
    payload: () => [
      l("Iex", []),
      l("IlmThread", [so("Iex")]),
      l("OpenEXRCore", ["libm.so.6"], 250 * KB),
      l("OpenEXR", [so("Iex"), so("IlmThread"), so("OpenEXRCore"), IMATH_SONAME], 500 * KB),
      exe("bin/exrheader", `openexr-${v} exrheader`, [so("OpenEXR"), IMATH_SONAME]),
    ],
  };
}

function opencolorio(y: Year): PackageSpec {
  const v = y.ocio;
  const abiMm = mmOf(y.python);
  return {
    name: "opencolorio",
    version: v,
    description: `OpenColorIO ${v} with PyOpenColorIO (CY${y.cy}).`,
    authors: ["Academy Software Foundation"],
    requires: ["imath-3.1"],
    variants: [[`python-${abiMm}`]],
    tools: ["ociocheck"],
    tantalus: PLATFORM,
    commands: `env.PATH.prepend("{root}/bin")
env.LD_LIBRARY_PATH.prepend("{root}/lib")
${SITE_PACKAGES_COMMAND}`,
    released: `${y.cy - 1}-11-20`,
    payload: (vi) => {
      const abi = py(vi);
      return [
        lib("lib", ocioSoname(v), `opencolorio-${v} libOpenColorIO`, {
          real: `libOpenColorIO.so.${v}`,
          needs: [IMATH_SONAME],
          weight: 600 * KB,
        }),
        mod(
          `${sitePackages(abi)}/PyOpenColorIO.so`,
          `opencolorio-${v} PyOpenColorIO`,
          [ocioSoname(v), libpython(abi)],
          { entry: "PyInit_PyOpenColorIO" },
        ),
        exe("bin/ociocheck", `opencolorio-${v} ociocheck`, [ocioSoname(v)]),
      ];
    },
  };
}

function libjpegTurbo(): PackageSpec {
  const v = "2.1.5";
  return {
    name: "libjpeg_turbo",
    version: v,
    description: "libjpeg-turbo 2.1.5 (installed to lib64, as its CMake does on RHEL-like systems).",
    tantalus: PLATFORM,
    tools: ["cjpeg"],
    commands: `env.PATH.append("{root}/bin")
env.LD_LIBRARY_PATH.prepend("{root}/lib64")`,
    released: "2023-02-07",
    payload: () => [
      lib("lib64", "libjpeg.so.62", `libjpeg_turbo-${v} libjpeg`, { real: "libjpeg.so.62.3.0", weight: 120 * KB }),
      lib("lib64", "libturbojpeg.so.0", `libjpeg_turbo-${v} libturbojpeg`, { real: "libturbojpeg.so.0.2.0" }),
      exe("bin/cjpeg", `libjpeg_turbo-${v} cjpeg`, ["libjpeg.so.62"], { runpath: ["$ORIGIN/../lib64"] }),
    ],
  };
}

function libpng(): PackageSpec {
  const v = "1.6.40";
  return {
    name: "libpng",
    version: v,
    description: "libpng 1.6.40.",
    tantalus: PLATFORM,
    commands: `env.LD_LIBRARY_PATH.prepend("{root}/lib")`,
    released: "2023-06-21",
    payload: () => [
      lib("lib", "libpng16.so.16", `libpng-${v} libpng16`, {
        real: "libpng16.so.16.40.0",
        needs: ["libm.so.6"],
        weight: 100 * KB,
      }),
    ],
  };
}

function libtiff(): PackageSpec {
  const v = "4.5.1";
  return {
    name: "libtiff",
    version: v,
    description: "libtiff 4.5.1 (SONAME libtiff.so.6), packaged so the studio does not depend on the OS copy.",
    requires: ["libjpeg_turbo-2"],
    tantalus: PLATFORM,
    tools: ["tiffinfo"],
    commands: `env.PATH.append("{root}/bin")
env.LD_LIBRARY_PATH.prepend("{root}/lib")`,
    released: "2023-06-13",
    payload: () => [
      lib("lib", "libtiff.so.6", `libtiff-${v} libtiff`, {
        real: "libtiff.so.6.0.1",
        needs: ["libjpeg.so.62", "libm.so.6"],
        weight: 200 * KB,
      }),
      exe("bin/tiffinfo", `libtiff-${v} tiffinfo`, ["libtiff.so.6"]),
    ],
  };
}

function openimageio(y: Year): PackageSpec {
  const v = y.oiio;
  const abiMm = mmOf(y.python);
  const util = `libOpenImageIO_Util.so.${mmOf(v)}`;
  return {
    name: "openimageio",
    version: v,
    description: `OpenImageIO ${v} (CY${y.cy}).`,
    authors: ["Academy Software Foundation"],
    requires: [
      `openexr-${mmOf(y.openexr)}`,
      "imath-3.1",
      `opencolorio-${mmOf(y.ocio)}`,
      "libtiff-4.5",
      "libjpeg_turbo-2",
      "libpng-1.6",
    ],
    variants: [[`python-${abiMm}`]],
    tools: ["oiiotool", "maketx"],
    tantalus: PLATFORM,
    commands: `env.PATH.prepend("{root}/bin")
env.LD_LIBRARY_PATH.prepend("{root}/lib")
${SITE_PACKAGES_COMMAND}`,
    released: `${y.cy}-03-01`,
    payload: (vi) => {
      const abi = py(vi);
      const core = oiioSoname(v);
      const ver3 = v.split(".").slice(0, 3).join(".");
      return [
        lib("lib", util, `openimageio-${v} libOpenImageIO_Util`, {
          real: `libOpenImageIO_Util.so.${ver3}`,
          needs: ["libm.so.6"],
          weight: 300 * KB,
        }),
        lib("lib", core, `openimageio-${v} libOpenImageIO`, {
          real: `libOpenImageIO.so.${ver3}`,
          needs: [
            util,
            exrSoname("OpenEXR", y.openexr),
            exrSoname("OpenEXRCore", y.openexr),
            IMATH_SONAME,
            ocioSoname(y.ocio),
            "libtiff.so.6",
            "libjpeg.so.62",
            "libpng16.so.16",
          ],
          weight: 1200 * KB,
        }),
        mod(
          `${sitePackages(abi)}/OpenImageIO/OpenImageIO${extSuffix(abi)}`,
          `openimageio-${v} python module`,
          [core, util, libpython(abi)],
          { entry: "PyInit_OpenImageIO" },
        ),
        text(`${sitePackages(abi)}/OpenImageIO/__init__.py`, "from .OpenImageIO import *  # noqa: F401,F403\n"),
        exe("bin/oiiotool", `openimageio-${v} oiiotool`, [core, util]),
        exe("bin/maketx", `openimageio-${v} maketx`, [core, util]),
      ];
    },
  };
}

function alembic(): PackageSpec {
  const v = "1.8.8";
  return {
    name: "alembic",
    version: v,
    description: "Alembic 1.8.8 geometry caches (CY2022-CY2024).",
    authors: ["Sony Pictures Imageworks", "Industrial Light & Magic"],
    requires: ["imath-3.1"],
    tools: ["abcls"],
    tantalus: PLATFORM,
    commands: `env.PATH.append("{root}/bin")
env.LD_LIBRARY_PATH.prepend("{root}/lib")`,
    released: "2023-12-08",
    payload: () => [
      lib("lib", "libAlembic.so.1.8", `alembic-${v} libAlembic`, {
        real: `libAlembic.so.${v}`,
        needs: [IMATH_SONAME],
        weight: 500 * KB,
      }),
      exe("bin/abcls", `alembic-${v} abcls`, ["libAlembic.so.1.8"]),
    ],
  };
}

function materialx(y: Year): PackageSpec {
  const v = y.materialx!;
  const abiMm = mmOf(y.python);
  const so = (l: string) => materialxSoname(l, v);
  return {
    name: "materialx",
    version: v,
    description: `MaterialX ${v} (CY${y.cy}).`,
    authors: ["Academy Software Foundation"],
    variants: [[`python-${abiMm}`]],
    tantalus: PLATFORM,
    commands: `env.LD_LIBRARY_PATH.prepend("{root}/lib")
env.PYTHONPATH.append("{root}/python")
env.MATERIALX_SEARCH_PATH = "{root}/libraries"`,
    released: `${y.cy}-01-15`,
    payload: (vi) => {
      const abi = py(vi);
      return [
        lib("lib", so("Core"), `materialx-${v} MaterialXCore`, {
          needs: [],
          weight: 250 * KB,
          dev: `libMaterialXCore.so`,
        }),
        lib("lib", so("Format"), `materialx-${v} MaterialXFormat`, {
          needs: [so("Core")],
          dev: `libMaterialXFormat.so`,
        }),
        lib("lib", so("GenShader"), `materialx-${v} MaterialXGenShader`, {
          needs: [so("Core"), so("Format")],
          weight: 200 * KB,
          dev: `libMaterialXGenShader.so`,
        }),
        mod(
          `python/MaterialX/PyMaterialXCore${extSuffix(abi)}`,
          `materialx-${v} PyMaterialXCore`,
          [so("Core"), libpython(abi)],
          { entry: "PyInit_PyMaterialXCore" },
        ),
        text("python/MaterialX/__init__.py", "from .PyMaterialXCore import *  # noqa: F401,F403\n"),
        sources("libraries/stdlib", "stdlib_defs", ".mtlx", 20, 400 * KB, "config"),
      ];
    },
  };
}

function openvdb(y: Year): PackageSpec {
  const v = y.openvdb!;
  const abiMm = mmOf(y.python);
  return {
    name: "openvdb",
    version: v,
    description: `OpenVDB ${v} sparse volumes (CY${y.cy}).`,
    authors: ["Academy Software Foundation"],
    requires: ["tbb-2020", "imath-3.1", `boost-${mmOf(y.boost)}`],
    variants: [[`python-${abiMm}`]],
    tools: ["vdb_print"],
    tantalus: PLATFORM,
    commands: `env.PATH.append("{root}/bin")
env.LD_LIBRARY_PATH.prepend("{root}/lib")
${SITE_PACKAGES_COMMAND}`,
    released: `${y.cy}-02-20`,
    payload: (vi) => {
      const abi = py(vi);
      const so = openvdbSoname(v);
      return [
        lib("lib", so, `openvdb-${v} libopenvdb`, {
          real: `libopenvdb.so.${v}`,
          needs: ["libtbb.so.2", IMATH_SONAME, `libboost_iostreams.so.${y.boost}`],
          weight: 900 * KB,
        }),
        mod(`${sitePackages(abi)}/pyopenvdb${extSuffix(abi)}`, `openvdb-${v} pyopenvdb`, [
          so,
          boostPython(abi),
          libpython(abi),
        ]),
        exe("bin/vdb_print", `openvdb-${v} vdb_print`, [so]),
      ];
    },
  };
}

function usd(y: Year): PackageSpec {
  const v = y.usd;
  const abiMm = mmOf(y.python);
  const mtlx = y.materialx;
  const requires = [`boost-${mmOf(y.boost)}`, "tbb-2020"];
  if (mtlx) requires.push(`materialx-${mmOf(mtlx)}`);
  return {
    name: "usd",
    version: v,
    description: `Pixar Universal Scene Description ${v} (CY${y.cy}), with Python bindings.`,
    authors: ["Pixar Animation Studios"],
    requires,
    variants: [[`python-${abiMm}`]],
    tools: ["usdcat", "usdview", "usdedit"],
    tantalus: PLATFORM,
    commands: `env.PATH.prepend("{root}/bin")
env.LD_LIBRARY_PATH.prepend("{root}/lib")
env.PXR_PLUGINPATH_NAME.append("{root}/lib/usd")
if "python" in resolve:
    env.PYTHONPATH.append("{root}/lib/python")`,
    released: `${y.cy}-08-20`,
    payload: (vi) => {
      const abi = py(vi);
      const u = (n: string) => `libusd_${n}.so`;
      const l = (n: string, needs: string[], weight?: number) =>
        lib("lib", u(n), `usd-${v} ${n}`, { needs, weight, dev: false });
      const items = [
        l("tf", [boostPython(abi), libpython(abi), "libtbb.so.2", "libm.so.6"], 700 * KB),
        l("vt", [u("tf")], 400 * KB),
        l("ar", [u("tf"), u("vt")]),
        l("sdf", [u("tf"), u("vt"), u("ar")], 900 * KB),
        l("usd", [u("tf"), u("vt"), u("ar"), u("sdf"), "libtbb.so.2"], 1100 * KB),
        l("usdGeom", [u("tf"), u("vt"), u("sdf"), u("usd")], 600 * KB),
        l("usdShade", [u("tf"), u("sdf"), u("usd")], 300 * KB),
        mod(
          `lib/python/pxr/Usd/_usd.so`,
          `usd-${v} pxr.Usd`,
          [u("usd"), u("sdf"), u("tf"), boostPython(abi), libpython(abi)],
          { entry: "PyInit__usd" },
        ),
        mod(
          `lib/python/pxr/UsdGeom/_usdGeom.so`,
          `usd-${v} pxr.UsdGeom`,
          [u("usdGeom"), u("usd"), u("tf"), boostPython(abi), libpython(abi)],
          { entry: "PyInit__usdGeom" },
        ),
        text("lib/python/pxr/__init__.py", ""),
        text("lib/python/pxr/Usd/__init__.py", "from . import _usd\n"),
        text("lib/python/pxr/UsdGeom/__init__.py", "from . import _usdGeom\n"),
        exe("bin/usdcat", `usd-${v} usdcat`, [u("usd"), u("sdf"), u("tf")]),
        text(
          "bin/usdview",
          `#!/usr/bin/env python${abi.mm}\n# usdview ${v} launcher\nimport sys\nfrom pxr.Usdviewq import Launcher\nsys.exit(Launcher().Run())\n`,
          0o755,
        ),
        text("bin/usdedit", `#!/usr/bin/env python${abi.mm}\n# usdedit ${v}\nimport sys\nfrom pxr import Usd\n`, 0o755),
        text("lib/usd/plugInfo.json", `{\n    "Includes": [ "*/resources/" ]\n}\n`),
        text(
          "lib/usd/usd/resources/plugInfo.json",
          `{\n    "Plugins": [ { "Name": "usd", "Type": "library", "LibraryPath": "../../libusd_usd.so" } ]\n}\n`,
        ),
      ];
      if (mtlx) {
        items.push(
          l(
            "usdMtlx",
            [
              u("tf"),
              u("sdf"),
              u("usd"),
              u("usdShade"),
              materialxSoname("Core", mtlx),
              materialxSoname("Format", mtlx),
            ],
            200 * KB,
          ),
        );
      }
      items.push(sources("lib/python/pxr/Usdviewq", "usdviewq", ".py", 40, 600 * KB, "python"));
      return items;
    },
  };
}

function qt(v: string, released: string): PackageSpec {
  const major = v.split(".")[0]!;
  const so = (m: string) => qtSoname(m, v);
  const l = (m: string, needs: string[], weight: number) =>
    lib("lib", so(m), `qt-${v} Qt${major}${m}`, { real: `libQt${major}${m}.so.${v}`, needs, weight });
  return {
    name: "qt",
    version: v,
    description: `Qt ${v} (VFX Reference Platform ${major === "5" ? "CY2022-CY2023" : "CY2024"}).`,
    authors: ["The Qt Company"],
    variants: PLAT_VARIANT,
    tools: ["uic"],
    tantalus: PLATFORM,
    commands: `env.LD_LIBRARY_PATH.prepend("{root}/lib")
env.QT_PLUGIN_PATH.prepend("{root}/plugins")
env.PATH.append("{root}/bin")`,
    released,
    payload: () => [
      l("Core", ["libm.so.6"], 1600 * KB),
      l("Gui", [so("Core")], 1800 * KB),
      l("Widgets", [so("Gui"), so("Core")], 1600 * KB),
      l("XcbQpa", [so("Gui"), so("Core")], 300 * KB),
      mod("plugins/platforms/libqxcb.so", `qt-${v} xcb platform plugin`, [so("XcbQpa"), so("Gui"), so("Core")], {
        entry: "qt_plugin_instance",
        runpath: ["$ORIGIN/../../lib"],
      }),
      exe("bin/uic", `qt-${v} uic`, [so("Core")], { runpath: ["$ORIGIN/../lib"] }),
      sources("translations", "qtbase", ".qm", 30, 900 * KB, "config"),
    ],
  };
}

/** PySide2 for Qt 5, PySide6 for Qt 6; the abi3 libraries are the same for every Python. */
function pyside(v: string, pythons: string[], released: string): PackageSpec {
  const major = v.split(".")[0]!;
  const n = major === "5" ? "2" : "6";
  const mm = mmOf(v);
  const shiboken = `libshiboken${n}.abi3.so.${mm}`;
  const pysideLib = `libpyside${n}.abi3.so.${mm}`;
  return {
    name: `pyside${n}`,
    version: v,
    description: `PySide${n} ${v}: Qt for Python, one variant per Python.`,
    authors: ["The Qt Company"],
    requires: [`qt-${mm}`],
    variants: pythons.map((p) => [`python-${p}`]),
    tantalus: PLATFORM,
    commands: `env.LD_LIBRARY_PATH.prepend("{root}/lib")
env.PYTHONPATH.append("{root}/lib/python{resolve.python.version.major}.{resolve.python.version.minor}/site-packages")`,
    released,
    payload: (vi) => {
      const abi = py(vi);
      const site = `${sitePackages(abi)}/PySide${n}`;
      return [
        lib("lib", shiboken, `pyside${n}-${v} shiboken${n}`, {
          real: `libshiboken${n}.abi3.so.${v}`,
          weight: 200 * KB,
        }),
        lib("lib", pysideLib, `pyside${n}-${v} pyside${n}`, {
          real: `libpyside${n}.abi3.so.${v}`,
          needs: [shiboken, qtSoname("Core", v)],
          weight: 300 * KB,
        }),
        mod(`${site}/QtCore.abi3.so`, `pyside${n}-${v} QtCore`, [pysideLib, shiboken, qtSoname("Core", v)], {
          entry: "PyInit_QtCore",
          weight: 400 * KB,
        }),
        mod(
          `${site}/QtWidgets.abi3.so`,
          `pyside${n}-${v} QtWidgets`,
          [pysideLib, shiboken, qtSoname("Widgets", v), qtSoname("Gui", v), qtSoname("Core", v)],
          { entry: "PyInit_QtWidgets", weight: 400 * KB },
        ),
        text(`${site}/__init__.py`, `__version__ = "${v}"\n`),
      ];
    },
  };
}

function numpy(y: Year): PackageSpec {
  const v = y.numpy;
  const abiMm = mmOf(y.python);
  return {
    name: "numpy",
    version: v,
    description: `NumPy ${v} (CY${y.cy}).`,
    authors: ["NumPy Developers"],
    variants: [[`python-${abiMm}`]],
    tantalus: PLATFORM,
    commands: `env.PYTHONPATH.append("{root}/lib/python{resolve.python.version.major}.{resolve.python.version.minor}/site-packages")`,
    released: `${y.cy}-01-10`,
    payload: (vi) => {
      const abi = py(vi);
      const site = `${sitePackages(abi)}/numpy`;
      return [
        mod(`${site}/core/_multiarray_umath${extSuffix(abi)}`, `numpy-${v} _multiarray_umath`, ["libm.so.6"], {
          weight: 900 * KB,
        }),
        mod(`${site}/linalg/_umath_linalg${extSuffix(abi)}`, `numpy-${v} _umath_linalg`, ["libm.so.6"], {
          weight: 300 * KB,
        }),
        text(`${site}/__init__.py`, `__version__ = "${v}"\n`),
        sources(site, "numpy_module", ".py", 50, 700 * KB, "python"),
      ];
    },
  };
}

/** Colour configuration, data only: written as package.yaml like many older studio packages. */
function acesConfig(v: string, released: string): PackageSpec {
  return {
    name: "aces_ocio_config",
    version: v,
    description: `ACES ${v.split(".").slice(0, 2).join(".")} OpenColorIO studio configuration.`,
    format: "yaml",
    tantalus: PLATFORM,
    commands: `env.OCIO = "{root}/config.ocio"`,
    released,
    payload: () => [
      text(
        "config.ocio",
        `ocio_profile_version: 2\n# ACES ${v} studio config (sample studio)\nsearch_path: luts\nroles:\n  scene_linear: ACES - ACEScg\n  rendering: ACES - ACEScg\n`,
      ),
      sources("luts", "aces_lut", ".spi3d", 12, 600 * KB, "config"),
      filler("luts/aces_display.lut", 200 * KB),
    ],
  };
}
