import type { PackageSpec } from "../model.js";
import { text } from "./helpers.js";

/**
 * The system packages `rez-bind platform|arch|os` creates, plus the studio's
 * base package. The studio pins its own OS name (STUDIO_OS) so images never
 * depend on the machine that builds them; Debian-12 is what Rez reports on
 * the development machines, so Rez's default implicit packages still resolve.
 */
export const STUDIO_OS = "Rocky-9.3";
export const OS_VERSIONS = ["Rocky-8.9", STUDIO_OS, "Debian-12"];

const PLATFORM_HINT = { layer: "platform" };

export function platformPackages(): PackageSpec[] {
  const pkgs: PackageSpec[] = [
    {
      name: "platform",
      version: "linux",
      description: "Operating system family (rez-bind platform).",
      tantalus: PLATFORM_HINT,
      released: "2022-01-10",
    },
    {
      name: "arch",
      version: "x86_64",
      description: "CPU architecture (rez-bind arch).",
      tantalus: PLATFORM_HINT,
      released: "2022-01-10",
    },
  ];
  for (const os of OS_VERSIONS) {
    pkgs.push({
      name: "os",
      version: os,
      description: "Operating system distribution and release (rez-bind os).",
      requires: ["platform-linux", "arch-x86_64"],
      tantalus: PLATFORM_HINT,
      released: "2022-01-10",
    });
  }
  pkgs.push({
    name: "studio_base",
    version: "1.0.0",
    description: "Studio base environment: one variant per supported OS, selected by the implicit ~os request.",
    authors: ["pipeline"],
    variants: OS_VERSIONS.map((os) => [`os-${os}`]),
    tantalus: PLATFORM_HINT,
    commands: `env.STUDIO_OS = "{resolve.os.version}"
env.STUDIO_BASE_CONF = "{root}/etc/studio/base.conf"
env.STUDIO_PROJECTS = "/studio/projects"`,
    released: "2023-06-01",
    payload: (v) => [
      text(
        "etc/studio/base.conf",
        `# Studio base for ${v.requires[0]}\nos=${v.requires[0]!.slice(3)}\nprojects=/studio/projects\nlicense_server=license.studio.internal\n`,
      ),
    ],
  });
  return pkgs;
}
