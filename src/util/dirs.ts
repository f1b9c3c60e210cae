/**
 * The one way Tantalus creates a directory and its missing parents.
 *
 * Node's `mkdir(p, { recursive: true })` loops forever at 100% CPU when the
 * kernel answers ENOENT for a path whose parent exists (any name under /proc
 * or /sys: `--store /proc/nope`, `--output oci:/proc/x`): its native
 * implementation takes ENOENT to mean "make the parent first", finds the
 * parent there, and tries the child again. Here every missing component is
 * created once, from the deepest existing ancestor down, and any refusal
 * becomes one sentence naming the directory, never a retry.
 */
import fs from "node:fs";
import path from "node:path";
import { TantalusError, systemErrorText } from "../errors.js";

/** Why `dir` cannot be made, as a sentence, for a failure on `at` (dir itself or an ancestor); `why` is a phrase ("is not a directory") or an errno text. */
function refusal(dir: string, at: string, why: string): TantalusError {
  const phrase = /^is /.test(why);
  if (at === dir)
    return new TantalusError(
      phrase ? `cannot create directory ${dir}: it ${why}` : `cannot create directory ${dir}: ${why}`,
    );
  return new TantalusError(
    phrase ? `cannot create directory ${dir}: ${at} ${why}` : `cannot create directory ${dir}: ${at}: ${why}`,
  );
}

function danglingText(at: string, target: string): string {
  return `is a symbolic link to ${target}, which does not exist`;
}

/** Creates `dir` and its missing parents (mode for the ones created); a no-op when it is a directory already. */
export function makeDirsSync(dir: string, mode?: number): void {
  const abs = path.resolve(dir);
  const missing: string[] = [];
  for (let p = abs; ; p = path.dirname(p)) {
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw refusal(abs, p, systemErrorText(e));
    }
    if (st) {
      if (!st.isDirectory()) throw refusal(abs, p, "is not a directory");
      break;
    }
    missing.push(p);
    if (path.dirname(p) === p) break;
  }
  for (const p of missing.reverse()) {
    try {
      fs.mkdirSync(p, mode === undefined ? {} : { mode });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "EEXIST") {
        const l = fs.lstatSync(p, { throwIfNoEntry: false });
        if (l?.isSymbolicLink() && !fs.statSync(p, { throwIfNoEntry: false }))
          throw refusal(abs, p, danglingText(p, fs.readlinkSync(p)));
        if (fs.statSync(p, { throwIfNoEntry: false })?.isDirectory()) continue; // made meanwhile by another process
        throw refusal(abs, p, "is not a directory");
      }
      throw refusal(abs, p, systemErrorText(e));
    }
  }
}

/**
 * makeDirsSync for async callers: the same walk and the same refusals. It
 * creates at most a few folders, rarely, so a second copy of the walk on
 * promises bought nothing but a chance to drift.
 */
// eslint-disable-next-line @typescript-eslint/require-await -- async so that a refusal reaches callers as a rejection
export async function makeDirs(dir: string, mode?: number): Promise<void> {
  makeDirsSync(dir, mode);
}
