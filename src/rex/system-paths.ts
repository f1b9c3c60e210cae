/**
 * The system paths Rez appends to PATH at the end of a context ("post system
 * setup"). Rez asks the shell itself: it unsets PATH and runs
 * `SHELL <norc> -c 'echo $PATH'`, so the result is the shell's compiled-in
 * default, then adds os.defpath (/bin:/usr/bin) where missing. The values
 * below are what Rez 3.4 computes on Debian 12 (checked with real Rez, see
 * test/data/rex-vectors.json `systemPaths`):
 *
 * - bash prints its default PATH, which ends with "." (the current directory);
 * - dash rejects `--noprofile`, so sh gets os.defpath only;
 * - zsh prints its own default (with /usr/ucb);
 * - csh and tcsh fail on the unset $PATH, so they get os.defpath only;
 * - pwsh on Linux uses sh's paths.
 *
 * The passive interpretation behind `rez context --interpret -f json` uses the
 * default shell's (bash) paths. An image's paths are an option: pass the
 * image's own standard paths (Rez's `standard_system_paths` setting) when they
 * differ.
 */
import type { ShellKind } from "./shells.js";

const OS_DEFPATH = ["/bin", "/usr/bin"];

export const REZ_SYSTEM_PATHS: Readonly<Record<ShellKind, readonly string[]>> = {
  bash: ["/usr/local/bin", "/usr/local/sbin", "/usr/bin", "/usr/sbin", "/bin", "/sbin", "."],
  sh: OS_DEFPATH,
  zsh: ["/bin", "/usr/bin", "/usr/ucb", "/usr/local/bin"],
  tcsh: OS_DEFPATH,
  csh: OS_DEFPATH,
  pwsh: OS_DEFPATH,
};

/** The shell Rez's passive (JSON) interpretation takes its system paths from: Rez's default_shell. */
export const REZ_DEFAULT_SHELL: ShellKind = "bash";
