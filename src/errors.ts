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

/**
 * The stored image of a workflow is not what the configuration and the
 * repositories now make, and this command may not build it (`run --no-build`,
 * or a store this user cannot write). `reason` says what changed.
 */
export class ImageOutOfDateError extends TantalusError {
  constructor(
    readonly workflow: string,
    readonly reason: string,
  ) {
    super(
      `the image of workflow ${workflow} is out of date (${reason}), and --no-build forbids building it: run \`tantalus build ${workflow}\`, or \`tantalus run --tag ${workflow}\` to start the stored image anyway`,
    );
  }
}

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

/** Words for the errno codes a user meets on their own files; the code stays in parentheses for searching. */
const ERRNO_TEXT: Record<string, string> = {
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ENOENT: "no such file or directory",
  ENOTDIR: "a component of the path is not a directory",
  EISDIR: "is a directory",
  ENOSPC: "no space left on device",
  EDQUOT: "disk quota exceeded",
  EROFS: "read-only file system",
  EEXIST: "already exists",
  ELOOP: "too many levels of symbolic links",
  ENAMETOOLONG: "name too long",
  EMFILE: "too many open files",
  EXDEV: "crosses file systems",
  EIO: "input/output error",
  EBUSY: "busy",
  ENOTEMPTY: "directory not empty",
  EINVAL: "invalid argument",
};

/** "permission denied (EACCES)" for a Node system error; its message otherwise. */
export function systemErrorText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const code = e?.code;
  if (typeof code === "string" && ERRNO_TEXT[code]) return `${ERRNO_TEXT[code]} (${code})`;
  return typeof code === "string"
    ? `${e.message.replace(/^[A-Z]+: /, "").replace(/, \w+ '.*'$/, "")} (${code})`
    : String(e?.message ?? err);
}

const SYSCALL_TEXT: Record<string, string> = {
  open: "cannot open",
  write: "cannot write",
  read: "cannot read",
  rename: "cannot rename",
  mkdir: "cannot create directory",
  mkdtemp: "cannot create the temporary directory",
  scandir: "cannot list",
  opendir: "cannot list",
  stat: "cannot read",
  lstat: "cannot read",
  unlink: "cannot remove",
  rmdir: "cannot remove",
  rm: "cannot remove",
  copyfile: "cannot copy",
  link: "cannot link",
  symlink: "cannot create the symbolic link",
  readlink: "cannot read the link",
  fsync: "cannot flush",
  close: "cannot close",
  utime: "cannot set the times of",
  chmod: "cannot change the mode of",
};

/**
 * One sentence for a Node system error that names a path (ENOSPC, EACCES,
 * EISDIR... from fs): what was done to which file and why; undefined for
 * anything else. `step` says what Tantalus was doing ("writing layers").
 */
export function describeSystemError(err: unknown, step?: string, where?: string): string | undefined {
  const e = err as NodeJS.ErrnoException & { dest?: string };
  if (!e || typeof e !== "object" || typeof e.code !== "string" || typeof e.syscall !== "string") return undefined;
  // A write goes to a temporary name first and is renamed over the user's file: name the user's file.
  const path = e.path === undefined ? undefined : finalName(e.path);
  const dest = e.dest === undefined ? undefined : finalName(e.dest);
  let what = SYSCALL_TEXT[e.syscall] ?? (e.syscall.startsWith("spawn") ? "cannot run" : `${e.syscall} failed on`);
  let target = path === undefined ? "" : ` ${path}`;
  if (e.syscall === "rename" && dest !== undefined) {
    what = "cannot write";
    target = ` ${dest}`;
  } else if (path !== undefined && path !== e.path) {
    what = "cannot write";
  }
  const during = step ? ` (step: ${step})` : "";
  // A write on an open descriptor carries no path: `where` says what was being written.
  const head = target ? what + target : where ? `${what} ${where}` : `${e.syscall} failed`;
  return `${head}: ${systemErrorText(e)}${during}`;
}

/** The file a temporary name stands for: ".NAME.tmp-PID-HEX" (writeFileAtomic) and ".NAME.vm~…part" (archives) name NAME. */
function finalName(p: string): string {
  const m = /^(.*\/)?\.(.+?)(?:\.tmp-\d+-[0-9a-f]+|\.vm~.*\.part)$/.exec(p);
  return m ? `${m[1] ?? ""}${m[2]}` : p;
}
