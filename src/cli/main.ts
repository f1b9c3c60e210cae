import { Command, CommanderError } from "@commander-js/extra-typings";
import { TantalusError, describeSystemError } from "../errors.js";
import { VERSION } from "../version.js";
import { registerCommands } from "./commands/index.js";

/** Builds the command tree for `argv`; exported so tests can drive the CLI in-process. */
export async function buildProgram(argv: string[] = process.argv): Promise<Command> {
  const program = new Command()
    .name("tantalus")
    .description("Rez package environments as OCI images, and artists' workflows run in them")
    .version(VERSION, "-V, --version")
    .showHelpAfterError("(add --help for usage)")
    .exitOverride();
  await registerCommands(program, argv);
  return program;
}

/** Runs the CLI and returns the exit code: 0 ok, 1 failure, 2 usage. */
export async function main(argv: string[]): Promise<number> {
  quietOnClosedPipe();
  try {
    const program = await buildProgram(argv);
    await program.parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (err) {
    return reportError(err);
  }
}

function reportError(err: unknown): number {
  if (err instanceof CommanderError) {
    // Help and --version exit through here with code 0; commander already printed.
    if (err.exitCode === 0) return 0;
    return 2;
  }
  if (err instanceof TantalusError) {
    process.stderr.write(`tantalus: error: ${err.message}\n`);
    return err.exitCode;
  }
  // A file the user named, or the disk under it, said no (ENOSPC, EACCES, EISDIR...): that is not a bug.
  const system = describeSystemError(err);
  if (system !== undefined) {
    process.stderr.write(`tantalus: error: ${system}\n`);
    return 1;
  }
  const e = err as Error;
  process.stderr.write(`tantalus: internal error: ${e?.stack ?? String(err)}\n`);
  return 1;
}

/**
 * `tantalus search --versions | head`: once the reader is gone, output is
 * pointless and not an error. A C program would be killed by SIGPIPE and
 * the shell would see 141 (128 + 13); Node ignores SIGPIPE and raises EPIPE
 * instead, so we end quietly with that same status: `set -o pipefail`
 * scripts see what they see from grep or find in the same place, and
 * nothing is printed (there is nowhere useful to print it).
 */
export const CLOSED_PIPE_STATUS = 141;

function quietOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    if (stream.listeners("error").some((l) => (l as { tantalusPipe?: boolean }).tantalusPipe)) continue;
    const onError = (err: NodeJS.ErrnoException) => {
      if (err.code === "EPIPE") process.exit(CLOSED_PIPE_STATUS);
      throw err;
    };
    (onError as { tantalusPipe?: boolean }).tantalusPipe = true;
    stream.on("error", onError);
  }
}
