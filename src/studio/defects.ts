import type { StudioDefect } from "./model.js";

/**
 * The deliberate faults of the sample studio, each in a package that only its
 * own workflow uses, so every other workflow audits clean. The generator
 * checks each entry against what it compiles and writes them to
 * DIR/.studio-defects.json; paths are relative to the studio directory.
 */
export const STUDIO_DEFECTS: StudioDefect[] = [
  {
    kind: "undeclared",
    workflow: "rough_layout",
    package: "layout_tools",
    version: "2.3.1",
    variant: "maya-2025",
    file: "packages/layout_tools/2.3.1/maya-2025/lib/liblayout_core.so.2.3.1",
    needed: ["libAlembic.so.1.8"],
    runpath: [],
    provider: "alembic",
    summary:
      "liblayout_core.so.2 links libAlembic.so.1.8 from package alembic, which layout_tools does not require; " +
      "it loads only because studio_assets happens to require alembic in the same resolve",
  },
  {
    kind: "system",
    workflow: "review",
    package: "flipbook",
    version: "3.1.0",
    variant: "",
    file: "packages/flipbook/3.1.0/bin/flipbook",
    needed: ["libtiff.so.5"],
    runpath: [],
    summary:
      "bin/flipbook was linked against the workstation OS's libtiff.so.5; no package provides it " +
      "(the studio's libtiff package is 4.5 with SONAME libtiff.so.6), so it fails in a minimal base image",
  },
  {
    kind: "mixed",
    workflow: "legacy_comp",
    package: "legacy_exr_plugin",
    version: "1.4.2",
    variant: "",
    file: "packages/legacy_exr_plugin/1.4.2/plugins/exrReaderLegacy.so",
    needed: ["libIlmImf-2_5.so.25", "libHalf-2_5.so.25", "libDDImage.so"],
    runpath: ["$ORIGIN/../lib"],
    families: {
      "OpenEXR 2": [
        "libIlmImf-2_5.so.25",
        "libHalf-2_5.so.25",
        "libIex-2_5.so.25",
        "libIlmThread-2_5.so.25",
        "libImath-2_5.so.25",
      ],
      "OpenEXR 3": [
        "libOpenEXR-3_1.so.30",
        "libOpenEXRCore-3_1.so.30",
        "libIex-3_1.so.30",
        "libIlmThread-3_1.so.30",
        "libImath-3_1.so.29",
      ],
    },
    summary:
      "plugins/exrReaderLegacy.so loads its bundled OpenEXR 2.5 libIlmImf (and ilmbase 2.5) and, through Nuke's libDDImage.so, " +
      "OpenEXR 3.1: both majors in one load tree",
  },
];
