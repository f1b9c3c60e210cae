// Loaded by `npm run test:unit` into every test process: a unit test that starts
// a process or opens a network connection fails, naming what it started, so the
// unit suite stays pure as tests are added (scripts/unit-tests.ts picks the files;
// this catches what their imports do not show, e.g. code under test that asks
// the host's gcc). Plain JavaScript: it must not depend on the TypeScript hook.
//
// Only the test files' processes are guarded (node:test marks them with
// NODE_TEST_CONTEXT); the runner itself starts them. esbuild, which tsx runs to
// compile TypeScript when its cache is cold, is the one process allowed.
import child_process from "node:child_process";
import net from "node:net";
import { syncBuiltinESMExports } from "node:module";

if (process.env.NODE_TEST_CONTEXT) {
  const violations = [];
  const refuse = (what) => {
    const message = `a unit test may not ${what}: mark the test file "// integration: WHY" (scripts/unit-tests.ts)`;
    violations.push(message);
    throw new Error(message);
  };
  for (const name of ["spawn", "spawnSync", "exec", "execSync", "execFile", "execFileSync", "fork"]) {
    const original = child_process[name];
    child_process[name] = function guarded(command, ...rest) {
      if (typeof command === "string" && /[\\/]esbuild(\.exe)?$/.test(command))
        return original.call(this, command, ...rest);
      const args = Array.isArray(rest[0]) ? rest[0] : [];
      return refuse(`start a process (${[command, ...args].join(" ")})`);
    };
  }
  const connect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function guarded(...args) {
    const [first] = args;
    const target =
      typeof first === "object" && first !== null ? (first.path ?? `${first.host ?? ""}:${first.port}`) : first;
    // node:test's own IPC with the runner is a pipe it was handed, never a connect.
    if (typeof target === "string" && target.includes("esbuild")) return connect.apply(this, args);
    return refuse(`open a connection (${String(target)})`);
  };
  syncBuiltinESMExports();
  // Code under test may catch the refusal and carry on: the process still fails.
  process.on("exit", () => {
    if (violations.length === 0) return;
    process.stderr.write(`${[...new Set(violations)].join("\n")}\n`);
    process.exitCode = 1;
  });
}
