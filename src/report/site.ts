/**
 * Writes the report as a folder of static pages, whole or not at all: every
 * file goes into a temporary folder beside DIR (same file system), which then
 * replaces DIR by rename. A reader (a web server publishing DIR) sees the old
 * report or the new one, never a mix; a failure leaves the old one as it was.
 */
import fs from "node:fs";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { TantalusError } from "../errors.js";
import { WriteError, writeFileAtomic } from "../util/atomic.js";
import { makeDirsSync } from "../util/dirs.js";
import { REPORT_CSS, REPORT_JS, compareScript } from "./assets.js";
import type { ReportData } from "./data.js";
import { pageShell } from "./html.js";
import { renderPages } from "./pages.js";

/** Marks a folder as a report this command wrote, so it may be replaced; any other non-empty folder is refused. */
export const REPORT_MARKER = ".tantalus-report";

export interface WrittenSite {
  dir: string;
  pages: string[];
  bytes: number;
}

/** Refuses a target that is a file, or a non-empty folder that holds no earlier report (checked before any work, and again when writing). */
export function checkReportTarget(dir: string): void {
  let entries: string[];
  try {
    entries = fs.readdirSync(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return;
    if (code === "ENOTDIR") throw new TantalusError(`cannot write the report to ${dir}: it is a file, not a folder`);
    throw new WriteError(dir, e);
  }
  if (entries.length > 0 && !entries.includes(REPORT_MARKER)) {
    throw new TantalusError(
      `cannot write the report to ${dir}: the folder is not empty and holds no earlier report (${REPORT_MARKER}); give an empty or new folder`,
    );
  }
}

/** Renders every page of `data` and puts the site at `dir` in one rename. */
export function writeSite(dir: string, data: ReportData): WrittenSite {
  const target = path.resolve(dir);
  checkReportTarget(target);
  const parent = path.dirname(target);
  makeDirsSync(parent);
  const suffix = `${process.pid}~${randomBytes(6).toString("hex")}`;
  const tmp = path.join(parent, `.${path.basename(target)}.report~${suffix}.tmp`);
  const old = path.join(parent, `.${path.basename(target)}.report~${suffix}.old`);
  const pages = renderPages(data);
  let bytes = 0;
  const put = (rel: string, text: string) => {
    writeFileAtomic(path.join(tmp, rel), text, { durable: false });
    bytes += Buffer.byteLength(text);
  };
  try {
    fs.mkdirSync(tmp, { mode: 0o755 });
    put("assets/report.css", REPORT_CSS);
    put("assets/report.js", REPORT_JS);
    put("assets/compare.js", compareScript());
    for (const p of pages) put(`${p.id}.html`, pageShell({ title: data.title, page: p.id, pages, body: p.body }));
    put(REPORT_MARKER, "written by tantalus report; the whole folder is replaced by the next one\n");
    // Two renames: the old report moves aside first, so DIR is never half old, half new.
    const hadOld = fs.existsSync(target);
    if (hadOld) fs.renameSync(target, old);
    try {
      fs.renameSync(tmp, target);
    } catch (e) {
      if (hadOld) fs.renameSync(old, target);
      throw e;
    }
    if (hadOld) fs.rmSync(old, { recursive: true, force: true });
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e instanceof TantalusError ? e : new WriteError(target, e);
  }
  return { dir: target, pages: pages.map((p) => `${p.id}.html`), bytes };
}
