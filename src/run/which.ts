import { accessSync, constants, statSync } from "node:fs";
import { join } from "node:path";

/** The executable `cmd` on PATH (or `cmd` itself when it contains "/"), like `command -v`. */
export function which(cmd: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const candidates = cmd.includes("/")
    ? [cmd]
    : (env.PATH ?? "/usr/local/bin:/usr/bin:/bin")
        .split(":")
        .filter((d) => d !== "")
        .map((d) => join(d, cmd));
  for (const p of candidates) {
    try {
      if (!statSync(p).isFile()) continue;
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      continue;
    }
  }
  return undefined;
}
