/**
 * ld.so.conf as ldconfig reads it: '#' comments, one directory per line
 * (an optional "=libc6" style suffix is dropped), `include` lines with
 * glob patterns (relative ones are taken from the including file's
 * directory), `hwcap` lines ignored. Everything is read inside the image.
 * Note that ld.so itself never reads this file: it only consults the cache
 * that ldconfig builds from it.
 */
import type { ImageFs } from "./imagefs.js";
import { imageDirname, resolveImagePath } from "./imagefs.js";

export interface LdConfDirectory {
  /** The directory as written (trailing slashes removed): cache paths use this spelling. */
  path: string;
  /** Its canonical path in the image (symlinks resolved). */
  realPath: string;
  file: string;
  line: number;
}

export interface LdConfProblem {
  file: string;
  line?: number;
  message: string;
}

export interface LdConf {
  /** Existing directories in ldconfig's order, duplicates (same real directory) removed. */
  directories: LdConfDirectory[];
  /** Configuration files read, in order. */
  files: string[];
  problems: LdConfProblem[];
}

/** Include nesting ldconfig would follow before a self-include could loop us forever. */
const MAX_INCLUDE_DEPTH = 32;

function readText(image: ImageFs, p: string): string | null {
  const r = resolveImagePath(image, p);
  if (!r.ok || r.type !== "file") return null;
  const src = image.open(r.path);
  try {
    return Buffer.from(src.read(0, Math.min(src.size, 1 << 20))).toString("utf8");
  } finally {
    src.close();
  }
}

export function parseLdSoConf(image: ImageFs, confPath = "/etc/ld.so.conf"): LdConf {
  const out: LdConf = { directories: [], files: [], problems: [] };
  const seen = new Set<string>();

  const addDir = (raw: string, file: string, line: number): void => {
    let p = raw;
    const eq = p.indexOf("=");
    if (eq >= 0) p = p.slice(0, eq);
    p = p.replace(/\s+$/, "").replace(/\/+$/, "");
    if (p === "") return;
    const r = resolveImagePath(image, p);
    if (!r.ok || r.type !== "dir") {
      out.problems.push({ file, line, message: `directory ${p} does not exist in the image` });
      return;
    }
    if (seen.has(r.path)) return;
    seen.add(r.path);
    out.directories.push({ path: p, realPath: r.path, file, line });
  };

  const parse = (file: string, depth: number): void => {
    const text = readText(image, file);
    if (text === null) {
      if (depth === 0) out.problems.push({ file, message: "configuration file not found in the image" });
      return;
    }
    out.files.push(file);
    const lines = text.split("\n");
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!.split("#")[0]!.replace(/^\s+/, "");
      if (line === "") continue;
      const m = /^include[ \t]/.exec(line);
      if (m) {
        for (const pattern of line.slice(8).split(/[ \t]/)) {
          if (pattern === "") continue;
          if (depth + 1 > MAX_INCLUDE_DEPTH) {
            out.problems.push({ file, line: i + 1, message: `include nesting deeper than ${MAX_INCLUDE_DEPTH}` });
            continue;
          }
          const full = pattern.startsWith("/") ? pattern : `${imageDirname(file)}/${pattern}`;
          for (const match of globImage(image, full)) parse(match, depth + 1);
        }
      } else if (/^hwcap[ \t]/i.test(line)) {
        out.problems.push({ file, line: i + 1, message: "hwcap directive ignored" });
      } else addDir(line, file, i + 1);
    }
  };

  parse(confPath, 0);
  return out;
}

function hasMagic(s: string): boolean {
  return /[*?[]/.test(s);
}

/** fnmatch-style component pattern: *, ?, [...] and [!...]; a leading '.' must be matched literally. */
function componentRegex(pattern: string): RegExp {
  let re = "^";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const close = pattern.indexOf("]", i + 2);
      if (close < 0) re += "\\[";
      else {
        let body = pattern.slice(i + 1, close);
        if (body.startsWith("!")) body = "^" + body.slice(1);
        re += "[" + body.replace(/\\/g, "\\\\") + "]";
        i = close;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(re + "$");
}

/**
 * glob(3) inside the image: matches existing paths, hidden names only when
 * the pattern component starts with '.', results sorted bytewise (ldconfig
 * runs with LC_COLLATE=C).
 */
export function globImage(image: ImageFs, pattern: string): string[] {
  let prefixes = [""];
  const parts = pattern.split("/").filter((p) => p !== "");
  for (const part of parts) {
    const next: string[] = [];
    for (const prefix of prefixes) {
      if (!hasMagic(part)) {
        next.push(`${prefix}/${part}`);
        continue;
      }
      const dir = resolveImagePath(image, prefix === "" ? "/" : prefix);
      if (!dir.ok || dir.type !== "dir") continue;
      const entries = image.list(dir.path);
      if (!entries) continue;
      const re = componentRegex(part);
      for (const name of entries.keys()) {
        if (name.startsWith(".") && !part.startsWith(".")) continue;
        if (re.test(name)) next.push(`${prefix}/${name}`);
      }
    }
    prefixes = next;
  }
  const found = prefixes.filter((p) => resolveImagePath(image, p === "" ? "/" : p).ok);
  return found.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
