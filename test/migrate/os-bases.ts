/**
 * Real Debian root file systems for tests: scripts/os-bases.sh makes them with
 * debootstrap (once per release and package list, cached in the per-user
 * Tantalus cache). Debian 11 (glibc 2.31) and Debian 12 (glibc 2.36) stand in for
 * two OS generations.
 */
import { execFileSync, spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const OS_BASES_SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), "../../scripts/os-bases.sh");

export type DebianRelease = "bullseye" | "bookworm";

/** Why the bases cannot be made here (not root, no debootstrap), or false. */
export function osBasesUnavailable(): string | false {
  if (process.getuid?.() !== 0) return "debootstrap needs root";
  if (spawnSync("sh", ["-c", "command -v debootstrap"]).status !== 0)
    return "needs debootstrap (scripts/setup-host.sh installs it)";
  return false;
}

/** The tarball of `release`'s minbase root file system (made on first use): a base spelled `rootfs:PATH`. */
export function debianBase(release: DebianRelease, packages: readonly string[] = []): string {
  const out = execFileSync("bash", [OS_BASES_SCRIPT, release, ...packages], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 15 * 60_000,
  });
  return out.trim().split("\n").at(-1)!;
}
