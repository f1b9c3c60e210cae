import type { ElfSpec, PackageSpec } from "../model.js";
import { appPackages } from "./apps.js";
import { platformPackages } from "./platform.js";
import { toolPackages } from "./tools.js";
import { vfxPackages } from "./vfx.js";

export { STUDIO_OS, OS_VERSIONS } from "./platform.js";

/** Every package of the sample studio, in build order (a library before its users). */
export function studioPackages(): PackageSpec[] {
  return [...platformPackages(), ...vfxPackages(), ...appPackages(), ...toolPackages()];
}

/**
 * Packages whose programs were built for the older OS generation (they need
 * no glibc symbol version newer than GLIBC_2.17, src/studio/elf/older-libc.ts),
 * as a studio builds its in-house launcher for the oldest OS it supports and
 * as the CY2023 vendor releases were: on Debian 11 the `modeling` and
 * `legacy_comp` workflows survive, the CY2024 ones (python 3.11, USD 24,
 * Maya 2025, Houdini, Nuke 15...) need glibc 2.34 and break.
 */
export const OLDER_GENERATION: ReadonlySet<string> = new Set([
  "launch_app-1.4.0",
  "studio_core-1.2.0",
  "python-3.9.15",
  "python-3.10.20",
  "openexr-3.1.13",
  "opencolorio-2.1.1",
  "opencolorio-2.2.1",
  "qt-5.15.2",
  "alembic-1.8.8",
  "usd-23.08",
  "maya-2024.2",
  "nuke-14.1v5",
]);

/**
 * Libraries that exist only on some operating systems and that no package
 * provides. The generator builds them to link against and never installs
 * them, exactly like a binary linked on a workstation whose OS had them.
 */
export const SYSTEM_LINK_STUBS: ElfSpec[] = [
  {
    kind: "lib",
    path: "libtiff.so.5",
    soname: "libtiff.so.5",
    needs: [],
    ident: "libtiff 4.0.9 from the workstation OS (link stub, not installed)",
  },
];
