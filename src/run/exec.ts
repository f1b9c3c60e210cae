/** Running helper commands (loading images, asking runtimes for facts) with their output captured. */
import { spawn } from "node:child_process";
import { TantalusError } from "../errors.js";
import { shellJoin } from "./quote.js";

export interface Captured {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function capture(
  argv: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<Captured> {
  return new Promise((resolve) => {
    let stdout = "";
    let stderr = "";
    let child;
    try {
      child = spawn(argv[0]!, argv.slice(1), {
        env: opts.env ?? process.env,
        stdio: ["ignore", "pipe", "pipe"],
        timeout: opts.timeoutMs,
      });
    } catch (e) {
      resolve({ status: null, signal: null, stdout: "", stderr: (e as Error).message });
      return;
    }
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", (e) => resolve({ status: null, signal: null, stdout, stderr: stderr + e.message }));
    child.on("close", (status, signal) => resolve({ status, signal, stdout, stderr }));
  });
}

/** Run a step that must succeed; its stderr goes into the error. */
export async function runStep(argv: readonly string[], what: string, env?: NodeJS.ProcessEnv): Promise<string> {
  const r = await capture(argv, { env });
  if (r.status !== 0) {
    const why = r.signal ? `killed by ${r.signal}` : `exit status ${r.status}`;
    throw new TantalusError(
      `${what} failed (${why}): ${shellJoin(argv)}${r.stderr.trim() ? `\n${r.stderr.trim()}` : ""}`,
    );
  }
  return r.stdout;
}
