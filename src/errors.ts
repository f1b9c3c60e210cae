/**
 * Errors that reach a user. Every error that comes from reading a file carries
 * the file and line, so a pipeline engineer can go straight to the cause.
 */
export interface SourceLocation {
  file: string;
  line?: number;
  column?: number;
}

export class TantalusError extends Error {
  readonly location?: SourceLocation;
  /** Exit code the CLI uses: 1 = failure, 2 = usage. */
  readonly exitCode: number;
  /** The message without the location prefix. */
  readonly detail: string;

  constructor(message: string, location?: SourceLocation, exitCode = 1) {
    super(location ? `${formatLocation(location)}: ${message}` : message);
    this.name = new.target.name;
    this.location = location;
    this.detail = message;
    this.exitCode = exitCode;
  }
}

/** Bad input from a file the user controls (package.py, tantalus.yaml, a context). */
export class InputError extends TantalusError {}

/** Bad command-line usage: exit code 2. */
export class UsageError extends TantalusError {
  constructor(message: string) {
    super(message, undefined, 2);
  }
}

export function formatLocation(loc: SourceLocation): string {
  if (loc.line === undefined) return loc.file;
  return loc.column === undefined ? `${loc.file}:${loc.line}` : `${loc.file}:${loc.line}:${loc.column}`;
}
