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
