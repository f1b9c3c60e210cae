import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawnSync } from "node:child_process";
import type { Command } from "@commander-js/extra-typings";
import {
  interpretResolvedContext,
  isShellKind,
  renderShell,
  hostHomeResolver,
  SHELL_KINDS,
  type ShellKind,
} from "../../rex/index.js";
import { TantalusError, UsageError, systemErrorText } from "../../errors.js";
import { saveRxt } from "../../context/rxt.js";
import { acquireContext, addRezEnvOptions, definedEnv, shellOption, type ContextSourceOpts } from "./env.js";
import { afterDoubleDash } from "../argv.js";

interface ShellOpts extends ContextSourceOpts {
  shell?: string;
  command?: string;
  norc?: boolean;
}

/**
 * rez-env's prompt mark (the shell plugins' `prompt` in rezplugins/shell/rezconfig.py),
 * appended to REZ_ENV_PROMPT once per nesting level: ">" for sh, bash, csh and tcsh;
 * zsh's is "%", which Rez's zsh escaping writes as "%%" (a literal % in a prompt).
 */
function promptMark(shell: ShellKind): string {
  return shell === "zsh" ? "%%" : ">";
}

/**
 * How each shell is started so that it sources the context first (Rez's
 * package_commands_sourced_first), then the user's own startup file.
 */
interface Launch {
  program: string;
  args: string[];
  env: Record<string, string>;
}

export function register(program: Command): void {
  const cmd = program
    .command("shell")
    .description("open a sub-shell on this host with the environment of a resolve, like rez-env (no container)")
    .argument("[request...]", "requirements to resolve")
    .option("--paths <paths>", "package search paths, colon-separated")
    .option(
      "--config <file>",
      "configuration file (default: TANTALUS_CONFIG, else ./tantalus.yaml or the nearest in a parent folder)",
    )
    .option("--context <file>", "use this resolved context (a Tantalus lock or a Rez .rxt) instead of resolving")
    .option("-w, --workflow <name>", "resolve a workflow's request from tantalus.yaml")
    .option("--no-implicit", "do not add the implicit packages (~platform, ~arch, ~os)")
    .option("--time <time>", "ignore packages released after this time")
    .option("--shell <shell>", `${SHELL_KINDS.join(", ")} (default: $SHELL when supported, else bash)`)
    .option(
      "-c, --command <command>",
      "run this command in the environment and exit with its status, instead of an interactive shell",
    )
    .option("--norc", "do not read the shell's startup files (~/.bashrc, ~/.zshrc...), as rez-env --norc")
    .addHelpText(
      "after",
      "\nAfter --, a command and its arguments run in the environment, as `rez-env REQ -- cmd args`.",
    );
  addRezEnvOptions(cmd).action((request, opts: ShellOpts, self) => {
    // Commander gives the words after `--` as more request words: split them off (rez-env's extra arg group).
    const dashed = afterDoubleDash(self, request);
    if (dashed !== null) {
      if (opts.command !== undefined) throw new UsageError("give either -c COMMAND or a command after --, not both");
      if (dashed.length === 0) throw new UsageError("nothing after --: give a command, or leave out --");
      request = request.slice(0, request.length - dashed.length);
      opts = { ...opts, command: dashed.map(shellQuote(shellOption(opts.shell, defaultShell()))).join(" ") };
    }
    const shell = shellOption(opts.shell, defaultShell());
    const acquired = acquireContext(request, opts);
    const parentEnv = definedEnv(process.env);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tantalus-shell-"));
    try {
      // As rez-env, the shell knows its context (REZ_RXT_FILE): `tantalus shell --patch` inside it patches this one.
      let rxtFile = acquired.rxtFile;
      if (!rxtFile) {
        rxtFile = path.join(dir, "context.rxt");
        saveRxt(rxtFile, acquired.ctx);
      }
      const result = interpretResolvedContext(acquired.ctx, acquired.repos, { parentEnv, shell, rxtFile });
      const contextFile = path.join(dir, `context.${extension(shell)}`);
      fs.writeFileSync(contextFile, renderShell(result.actions, shell, { home: hostHomeResolver() }));
      const norc = opts.norc === true;
      const launch =
        opts.command !== undefined
          ? commandLaunch(shell, contextFile, opts.command, dir)
          : interactiveLaunch(shell, contextFile, dir, norc, parentEnv);
      const p = spawnSync(launch.program, launch.args, {
        stdio: "inherit",
        // REZ_ENV_PROMPT grows by one mark per nested shell, as Rez's executor sets it
        env: {
          ...parentEnv,
          ...launch.env,
          REZ_CONTEXT_FILE: contextFile,
          REZ_ENV_PROMPT: `${parentEnv.REZ_ENV_PROMPT ?? ""}${promptMark(shell)}`,
        },
      });
      if (p.error) {
        // The usual cause is a shell this host lacks (--shell tcsh, or $SHELL's): say that, not spawnSync's words.
        if ((p.error as NodeJS.ErrnoException).code === "ENOENT")
          throw new TantalusError(
            `cannot start the shell ${launch.program}: it is not installed on this host (not found on PATH); ` +
              `--shell chooses another (bash, sh, zsh, tcsh, csh, pwsh)`,
          );
        throw new TantalusError(`cannot start the shell ${launch.program}: ${systemErrorText(p.error)}`);
      }
      process.exitCode = p.status ?? 1;
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}

/** Quotes one argument for the shell the command runs in. */
function shellQuote(shell: ShellKind): (word: string) => string {
  return (w) => {
    if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(w)) return w;
    if (shell === "pwsh") return `'${w.replace(/'/g, "''")}'`;
    return `'${w.replace(/'/g, `'"'"'`)}'`;
  };
}

function defaultShell(): ShellKind {
  const name = path.basename(process.env.SHELL ?? "");
  return isShellKind(name) ? name : "bash";
}

function extension(shell: ShellKind): string {
  return shell === "pwsh" ? "ps1" : shell === "tcsh" || shell === "csh" ? "csh" : "sh";
}

function sourceLine(shell: ShellKind, file: string): string {
  const q = `'${file.replace(/'/g, `'"'"'`)}'`;
  if (shell === "tcsh" || shell === "csh") return `source ${q}`;
  if (shell === "pwsh") return `. "${file.replace(/[`"$]/g, "`$&")}"`;
  return `. ${q}`;
}

/** A script that sources the context, then runs the command on a line of its own (csh expands aliases per line). */
function commandLaunch(shell: ShellKind, contextFile: string, command: string, dir: string): Launch {
  const runner = path.join(dir, `run.${extension(shell)}`);
  fs.writeFileSync(runner, `${sourceLine(shell, contextFile)}\n${command}\n`);
  switch (shell) {
    case "bash":
      return { program: "bash", args: ["--norc", "--noprofile", runner], env: {} };
    case "zsh":
      return { program: "zsh", args: ["-f", runner], env: {} };
    case "tcsh":
    case "csh":
      return { program: shell, args: ["-f", runner], env: {} };
    case "pwsh":
      return { program: "pwsh", args: ["-NoLogo", "-NoProfile", "-File", runner], env: {} };
    default:
      return { program: "sh", args: [runner], env: {} };
  }
}

/**
 * Rez's marked prompt (sh.py / zsh.py `_bind_interactive_rez`, set_prompt and
 * prefix_prompt on by default): after the startup files, the prompt they set is
 * kept once in REZ_STORED_PROMPT_SH and prefixed with $REZ_ENV_PROMPT in bold.
 */
function promptLines(shell: ShellKind): string {
  const mark =
    shell === "zsh"
      ? "%{%B%}$REZ_ENV_PROMPT%{%b%}"
      : shell === "bash"
        ? "\\[\\e[1m\\]$REZ_ENV_PROMPT\\[\\e[0m\\]"
        : "$REZ_ENV_PROMPT";
  return `if [ -z "$REZ_STORED_PROMPT_SH" ]; then export REZ_STORED_PROMPT_SH="$PS1"; fi\nexport PS1="${mark} $REZ_STORED_PROMPT_SH"\n`;
}

/**
 * Rez's csh/tcsh prompt (csh.py `_bind_interactive_rez`): decided when the
 * shell starts, from Rez's own environment, not from what the startup files
 * set: the stored prompt (REZ_STORED_PROMPT_CSH, exported by an outer rez-env
 * shell), else $prompt, else "[%m %c]%# ", after "$REZ_ENV_PROMPT ". The first
 * shell stores its prompt with the double quotes around it, so a nested shell's
 * prompt shows them: Rez does exactly that, and so does this.
 */
function cshPromptLines(parentEnv: Readonly<Record<string, string>>): string {
  // csh.py's escape_string for an expandable value: double-quoted, `"` and `!` escaped.
  const quote = (s: string) => `"${s.replace(/"/g, '"\\""').replace(/!/g, "\\!")}"`;
  const stored = parentEnv.REZ_STORED_PROMPT_CSH;
  const current = stored ? stored : (parentEnv.prompt ?? "[%m %c]%# ");
  const store = stored ? "" : `setenv REZ_STORED_PROMPT_CSH ${quote(`"${current}"`)}\n`;
  return `${store}set prompt=${quote(`$REZ_ENV_PROMPT ${current}`)}\n`;
}

function interactiveLaunch(
  shell: ShellKind,
  contextFile: string,
  dir: string,
  norc: boolean,
  parentEnv: Readonly<Record<string, string>>,
): Launch {
  const home = process.env.HOME ?? os.homedir();
  const src = sourceLine(shell, contextFile);
  switch (shell) {
    case "bash": {
      const rc = path.join(dir, "bashrc");
      fs.writeFileSync(rc, `${src}\n${norc ? "" : "[ -f ~/.bashrc ] && . ~/.bashrc\n"}${promptLines(shell)}`);
      return { program: "bash", args: ["--rcfile", rc, "-i"], env: {} };
    }
    case "zsh": {
      // zsh reads $ZDOTDIR/.zshrc: ours sources the context, then the user's.
      fs.writeFileSync(
        path.join(dir, ".zshrc"),
        `${src}\nunset ZDOTDIR\n${norc ? "" : "[ -f ~/.zshrc ] && . ~/.zshrc\n"}${promptLines(shell)}`,
      );
      return { program: "zsh", args: norc ? ["-i", "--no-globalrcs"] : ["-i"], env: { ZDOTDIR: dir } };
    }
    case "tcsh":
    case "csh": {
      // csh reads ~/.tcshrc or ~/.cshrc only: start it with HOME pointing at ours, which restores HOME.
      // The user's rc by its path: bsd-csh crashes on `~` in a test right after HOME is set in a .cshrc.
      const q = (p: string) => `'${p.replace(/'/g, `'"'"'`)}'`;
      const userRc = q(path.join(home, `.${shell}rc`));
      const rc =
        `setenv HOME ${q(home)}\n${src}\n` +
        (norc ? "" : `if ( -f ${userRc} ) source ${userRc}\n`) +
        cshPromptLines(parentEnv);
      fs.writeFileSync(path.join(dir, `.${shell}rc`), rc);
      return { program: shell, args: ["-i"], env: { HOME: dir } };
    }
    case "pwsh":
      return {
        program: "pwsh",
        args: norc
          ? ["-NoLogo", "-NoProfile", "-NoExit", "-File", contextFile]
          : ["-NoLogo", "-NoExit", "-File", contextFile],
        env: {},
      };
    default: {
      // sh reads only $ENV when interactive: ours, which never sources the user's (so --norc changes nothing).
      const env = path.join(dir, "env.sh");
      fs.writeFileSync(env, `${src}\n${promptLines(shell)}`);
      return { program: "sh", args: ["-i"], env: { ENV: env } };
    }
  }
}
