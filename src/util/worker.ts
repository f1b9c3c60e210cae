/**
 * Starting a worker thread on a module of this package, from the compiled
 * JavaScript (dist/) as users run it, or from the TypeScript source under tsx
 * (tests, benchmarks): a worker cannot start from a .ts file by itself, so tsx
 * is registered in the worker first.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker, type WorkerOptions } from "node:worker_threads";

/** A worker on `js` (a URL of a .js module beside the caller's), or on its .ts source when only that exists. */
export function startWorker(js: URL, opts: Pick<WorkerOptions, "workerData"> = {}): Worker {
  const execArgv = withoutModuleHooks(process.execArgv);
  if (existsSync(fileURLToPath(js))) return new Worker(js, { ...opts, execArgv });
  const ts = js.href.replace(/\.js$/, ".ts");
  const tsx = import.meta.resolve("tsx/esm/api");
  const boot =
    `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(ts)}); })` +
    `.catch((e) => { console.error(e); process.exit(1); });`;
  return new Worker(boot, { ...opts, eval: true, execArgv });
}

/**
 * The parent's flags minus module hooks (--import, --require, --loader): a
 * program run under a TypeScript loader would otherwise start the loader
 * again in every worker (a tenth of a second each) for JavaScript that does
 * not need it. Other flags (profiling, memory) still apply to the workers.
 */
export function withoutModuleHooks(execArgv: readonly string[]): string[] {
  const hooks = /^(--import|--require|-r|--loader|--experimental-loader)$/;
  const out: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i]!;
    if (hooks.test(arg)) {
      i++; // its value
      continue;
    }
    if (hooks.test(arg.split("=")[0]!)) continue;
    out.push(arg);
  }
  return out;
}
