/** Pieces shared by the runtimes. */
import { readFileSync } from "node:fs";
import { userInfo } from "node:os";
import { UsageError } from "../../errors.js";
import type { Mount } from "../mounts.js";
import type { RuntimeInfo, RuntimeName } from "./types.js";

export function unavailable(name: RuntimeName, problem: string, fix: string): RuntimeInfo {
  return { name, available: false, problems: [problem], fixes: [fix], details: {} };
}

/** `-v SRC:DST[:ro]` (podman, docker, apptainer's -B): the syntax cannot carry ":" or "," in paths. */
export function volumeArg(m: Mount, ro = ":ro"): string {
  for (const p of [m.source, m.target]) {
    if (p.includes(":") || p.includes(","))
      throw new UsageError(`cannot bind ${JSON.stringify(p)}: paths with ":" or "," cannot be passed to the runtime`);
  }
  return `${m.source}:${m.target}${m.readOnly ? ro : ""}`;
}

export function envArgs(flag: string, env: ReadonlyArray<readonly [string, string]>): string[] {
  const out: string[] = [];
  for (const [k, v] of env) out.push(flag, `${k}=${v}`);
  return out;
}

/** The last value for each name, in first-appearance order. */
export function dedupeEnv(env: ReadonlyArray<readonly [string, string]>): Array<[string, string]> {
  const m = new Map<string, string>();
  for (const [k, v] of env) m.set(k, v);
  return [...m.entries()];
}

/** Whether `user` (or their UID) has a range in /etc/subuid-style `file`. */
export function hasSubordinateRange(file: string, user = userInfo().username, uid = process.getuid?.() ?? 0): boolean {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return false;
  }
  return text.split("\n").some((l) => {
    const [who, , count] = l.trim().split(":");
    return (who === user || who === String(uid)) && Number(count) > 0;
  });
}

export function firstLine(s: string): string {
  return s.trim().split("\n")[0] ?? "";
}
