/**
 * Reading the command line beyond what commander gives: a module of its own, with no imports, so
 * that `run` (whose start-up is measured) can use it without loading the configuration code.
 */

/**
 * The operands that came after a `--` on the command line, when it has one (they end `operands`):
 * commander merges them into the command's other operands, and only the program's raw arguments
 * still tell them apart.
 */
export function afterDoubleDash(command: { parent: unknown }, operands: readonly string[]): string[] | null {
  const rawArgs = (command.parent as { rawArgs?: string[] } | null)?.rawArgs ?? [];
  const i = rawArgs.indexOf("--");
  if (i < 0) return null;
  const n = rawArgs.length - i - 1;
  return n <= operands.length ? operands.slice(operands.length - n) : null;
}
