import { Command, CommanderError } from "@commander-js/extra-typings";
import { TantalusError } from "../errors.js";
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
  const e = err as Error;
  process.stderr.write(`tantalus: internal error: ${e?.stack ?? String(err)}\n`);
  return 1;
}
