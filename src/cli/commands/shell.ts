import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawnSync } from "node:child_process";
import type { Command } from "@commander-js/extra-typings";
import { interpretResolvedContext, isShellKind, renderShell, hostHomeResolver, SHELL_KINDS, type ShellKind } from "../../rex/index.js";
import { TantalusError } from "../../errors.js";
import { acquireContext, definedEnv, shellOption, type ContextSourceOpts } from "./env.js";

interface ShellOpts extends ContextSourceOpts {
  shell?: string;
  command?: string;
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
  program
    .command("shell")
    .description("open a sub-shell on this host with the environment of a resolve, like rez-env (no container)")
    .argument("[request...]", "requirements to resolve")
    .option("--paths <paths>", "package search paths, colon-separated")
    .option("--config <file>", "configuration file (default: TANTALUS_CONFIG, else ./tantalus.yaml or the nearest in a parent folder)")
    .option("--context <file>", "use this resolved context (a Tantalus lock or a Rez .rxt) instead of resolving")
    .option("-w, --workflow <name>", "resolve a workflow's request from tantalus.yaml")
    .option("--no-implicit", "do not add the implicit packages (~platform, ~arch, ~os)")
    .option("--time <time>", "ignore packages released after this time")
    .option("--shell <shell>", `${SHELL_KINDS.join(", ")} (default: $SHELL when supported, else bash)`)
    .option("-c, --command <command>", "run this command in the environment and exit with its status, instead of an interactive shell")
    .action((request, opts: ShellOpts) => {
      const shell = shellOption(opts.shell, defaultShell());
      const acquired = acquireContext(request, opts);
      const parentEnv = definedEnv(process.env);
      const result = interpretResolvedContext(acquired.ctx, acquired.repos, { parentEnv, shell, rxtFile: acquired.rxtFile });
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tantalus-shell-"));
      try {
        const contextFile = path.join(dir, `context.${extension(shell)}`);
        fs.writeFileSync(contextFile, renderShell(result.actions, shell, { home: hostHomeResolver() }));
        const launch = opts.command !== undefined ? commandLaunch(shell, contextFile, opts.command, dir) : interactiveLaunch(shell, contextFile, dir);
        const p = spawnSync(launch.program, launch.args, {
          stdio: "inherit",
          env: { ...parentEnv, ...launch.env, REZ_CONTEXT_FILE: contextFile },
        });
        if (p.error) throw new TantalusError(`cannot start ${launch.program}: ${p.error.message}`);
        process.exitCode = p.status ?? 1;
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
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

function interactiveLaunch(shell: ShellKind, contextFile: string, dir: string): Launch {
  const home = process.env.HOME ?? os.homedir();
  const src = sourceLine(shell, contextFile);
  switch (shell) {
    case "bash": {
      const rc = path.join(dir, "bashrc");
      fs.writeFileSync(rc, `${src}\n[ -f ~/.bashrc ] && . ~/.bashrc\n`);
      return { program: "bash", args: ["--rcfile", rc, "-i"], env: {} };
    }
    case "zsh": {
      // zsh reads $ZDOTDIR/.zshrc: ours sources the context, then the user's.
      fs.writeFileSync(path.join(dir, ".zshrc"), `${src}\nunset ZDOTDIR\n[ -f ~/.zshrc ] && . ~/.zshrc\n`);
      return { program: "zsh", args: ["-i"], env: { ZDOTDIR: dir } };
    }
    case "tcsh":
    case "csh": {
      // csh reads ~/.tcshrc or ~/.cshrc only: start it with HOME pointing at ours, which restores HOME.
      const rc = `setenv HOME '${home.replace(/'/g, `'"'"'`)}'\n${src}\nif ( -f ~/.${shell}rc ) source ~/.${shell}rc\n`;
      fs.writeFileSync(path.join(dir, `.${shell}rc`), rc);
      return { program: shell, args: ["-i"], env: { HOME: dir } };
    }
    case "pwsh":
      return { program: "pwsh", args: ["-NoLogo", "-NoExit", "-File", contextFile], env: {} };
    default: {
      const env = path.join(dir, "env.sh");
      fs.writeFileSync(env, `${src}\n`);
      return { program: "sh", args: ["-i"], env: { ENV: env } };
    }
  }
}
