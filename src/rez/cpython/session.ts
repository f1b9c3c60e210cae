/**
 * One CPython process per Tantalus process, asked synchronously.
 *
 * Package loading and rex are synchronous (a solve reads definitions as it
 * goes, commands() read the environment they are building), so the questions
 * to CPython must be too, and CPython must be able to ask back (a rex binding
 * lives in Tantalus). Node cannot block on a child's pipe, so a worker thread
 * owns the child and its pipes, and the main thread waits on a shared counter
 * with Atomics.wait, taking each message the worker relays with
 * receiveMessageOnPort. Every wait has a deadline: a definition that hangs
 * kills the child and becomes one error sentence, as does a child that dies.
 *
 * The process starts on the first definition the built-in evaluator refuses,
 * so a repository that never needs it never pays for it.
 */
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from "node:worker_threads";
import { InputError, TantalusError } from "../../errors.js";
import { SHIM_SOURCE } from "./shim.js";

/**
 * How long one question (loading one file, running one commands()) may take
 * before the child is killed: 60 s, or TANTALUS_CPYTHON_TIMEOUT seconds.
 */
export function defaultTimeoutMs(): number {
  const s = Number(process.env.TANTALUS_CPYTHON_TIMEOUT);
  return Number.isFinite(s) && s > 0 ? s * 1000 : 60_000;
}

/**
 * The worker, as source (eval'd, so the same code runs under tsx and from dist/).
 * It relays lines between the child's fd 3 / stdin and the main thread's port.
 */
const WORKER_SOURCE = `
const { workerData } = require("node:worker_threads");
const { spawn } = require("node:child_process");
const { port, flag, interpreter, shim } = workerData;
const counter = new Int32Array(flag);
const tell = (msg) => { port.postMessage(msg); Atomics.add(counter, 0, 1); Atomics.notify(counter, 0); };
let child;
try {
  child = spawn(interpreter, ["-c", shim], {
    stdio: ["pipe", 2, 2, "pipe"],
    env: { ...process.env, PYTHONSAFEPATH: "1" },
  });
} catch (err) {
  tell({ fatal: String(err && err.message || err), code: err && err.code });
}
if (child) {
  if (child.pid !== undefined) tell({ pid: child.pid });
  child.on("error", (err) => tell({ fatal: err.message, code: err.code }));
  let buffered = "";
  child.stdio[3].setEncoding("utf8");
  child.stdio[3].on("data", (chunk) => {
    buffered += chunk;
    let nl;
    while ((nl = buffered.indexOf("\\n")) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      tell({ line });
    }
  });
  child.on("exit", (code, signal) => tell({ exit: code, signal }));
  child.stdin.on("error", () => {});
  port.on("message", (msg) => child.stdin.write(msg + "\\n"));
}
`;

/** What CPython says in answer to a request, once any callbacks are done. */
export type Answer =
  | { ok: unknown }
  | { error: { type: string; message: string; line: number | null } }
  | { refused: string; line: number | null }
  | { aborted: true };

/** A question CPython asks back while a request runs; the handler's return value is its answer. */
export interface Callback {
  cb: string;
  args: unknown[];
  line: number | null;
  ns?: Record<string, unknown>;
}

export type CallbackReply = { ret: unknown } | { exc: { type: string; message: string } } | { abort: true };

export class CPythonSession {
  private readonly port: MessagePort;
  private readonly counter: Int32Array;
  private readonly worker: Worker;
  private pid: number | undefined;
  private dead: string | undefined;

  private constructor(
    readonly interpreter: string,
    readonly timeoutMs: number,
  ) {
    CPythonSession.starts++;
    const channel = new MessageChannel();
    this.port = channel.port1;
    const flag = new SharedArrayBuffer(4);
    this.counter = new Int32Array(flag);
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { port: channel.port2, flag, interpreter, shim: SHIM_SOURCE },
      transferList: [channel.port2],
      stdout: false,
      stderr: false,
    });
    // Neither the worker nor its child keeps Tantalus running: at exit the child reads end-of-file and stops.
    this.worker.unref();
    this.port.unref();
    const deadline = Date.now() + this.timeoutMs;
    const first = this.next(deadline, undefined);
    if ("fatal" in first) throw this.startError(first);
    if (!("pid" in first)) throw new TantalusError(`CPython (${interpreter}) did not start`);
    this.pid = first.pid as number;
    // The shim's first line names the Python version; anything else means it could not run.
    const hello = this.next(deadline, undefined);
    const ready = "line" in hello ? (JSON.parse(hello.line as string) as { ready?: number[] }).ready : undefined;
    if (!ready) {
      this.close();
      throw new InputError(
        `the setting 'python: cpython' could not run Tantalus's loader in '${interpreter}' (${"exit" in hello ? `it exited with ${String(hello.signal ?? hello.exit)} before the loader answered` : "no answer"}: is it a Python 3? anything it wrote is just above)`,
      );
    }
    if (ready[0]! < 3 || (ready[0] === 3 && ready[1]! < 7)) {
      this.close();
      throw new InputError(
        `the setting 'python: cpython' needs Python 3.7 or newer, and '${interpreter}' is ${ready.join(".")}`,
      );
    }
  }

  private static sessions = new Map<string, CPythonSession>();

  /** How many definitions CPython was asked to load in this process (the index cache test counts them). */
  static loads = 0;

  /** How many interpreters were started (tests count them). */
  static starts = 0;

  /** Interpreters that could not be started, with why: every file would fail the same way, so it is not tried again. */
  private static unusable = new Map<string, Error>();

  /** The session for this interpreter, started on first use. */
  static for(interpreter: string, timeoutMs = defaultTimeoutMs()): CPythonSession {
    const failed = CPythonSession.unusable.get(interpreter);
    if (failed) throw failed;
    let s = CPythonSession.sessions.get(interpreter);
    if (!s || s.dead) {
      try {
        s = new CPythonSession(interpreter, timeoutMs);
      } catch (err) {
        if (err instanceof InputError) CPythonSession.unusable.set(interpreter, err);
        throw err;
      }
      CPythonSession.sessions.set(interpreter, s);
    }
    return s;
  }

  /** Stops every session (tests; a process that exits needs nothing). */
  static closeAll(): void {
    for (const s of CPythonSession.sessions.values()) s.close();
    CPythonSession.sessions.clear();
    CPythonSession.unusable.clear();
  }

  close(): void {
    this.dead ??= "closed";
    if (this.pid !== undefined) {
      try {
        process.kill(this.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    void this.worker.terminate();
  }

  /**
   * Sends one request and waits for its answer, serving the callbacks CPython
   * makes meanwhile. `what` names the work for error messages ("loading
   * /p/package.py").
   */
  request(msg: Record<string, unknown>, what: string, onCallback?: (cb: Callback) => CallbackReply): Answer {
    if (this.dead) throw new TantalusError(`CPython (${this.interpreter}) is not running: ${this.dead}`);
    const deadline = Date.now() + this.timeoutMs;
    if (msg.op === "load") CPythonSession.loads++;
    this.port.postMessage(JSON.stringify(msg));
    for (;;) {
      const m = this.next(deadline, what);
      if ("line" in m) {
        const parsed = JSON.parse(m.line as string) as Record<string, unknown>;
        if ("cb" in parsed) {
          const reply = onCallback
            ? onCallback(parsed as unknown as Callback)
            : { exc: { type: "RuntimeError", message: "no callbacks here" } };
          this.port.postMessage(JSON.stringify(reply));
          continue;
        }
        return parsed as Answer;
      }
      if ("exit" in m || "fatal" in m) {
        this.dead = "exit" in m ? `it exited (${String(m.signal ?? m.exit)})` : String(m.fatal);
        throw new TantalusError(`CPython (${this.interpreter}) stopped while ${what}: ${this.dead}`);
      }
    }
  }

  private next(deadline: number, what: string | undefined): Record<string, unknown> {
    for (;;) {
      const seen = Atomics.load(this.counter, 0);
      const got = receiveMessageOnPort(this.port);
      if (got) return got.message as Record<string, unknown>;
      const left = deadline - Date.now();
      if (left <= 0 || Atomics.wait(this.counter, 0, seen, left) === "timed-out") {
        if (Date.now() < deadline) continue;
        this.close();
        this.dead = `it took longer than ${this.timeoutMs / 1000} s`;
        throw new TantalusError(
          what
            ? `CPython (${this.interpreter}) took longer than ${this.timeoutMs / 1000} s ${what}, and was stopped`
            : `CPython (${this.interpreter}) did not start within ${this.timeoutMs / 1000} s`,
        );
      }
    }
  }

  private startError(m: Record<string, unknown>): Error {
    this.dead = String(m.fatal);
    if (m.code === "ENOENT")
      // An absolute `interpreter:` is not looked up on PATH: saying so would send the user to the wrong place.
      return new InputError(
        `the setting 'python: cpython' needs a Python 3 interpreter, and '${this.interpreter}' ` +
          (this.interpreter.includes("/") ? "does not exist (python.interpreter)" : "was not found on PATH"),
      );
    return new InputError(`the setting 'python: cpython' could not start '${this.interpreter}': ${String(m.fatal)}`);
  }
}
